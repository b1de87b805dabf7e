//===- Error.h - Errors raised by the compiler/simulator contract -*- C++ -*-===//
//
// The contract library (chip config, ISA, program file) is shared by the
// compiler and the simulator and depends on neither LLVM nor SystemC. It
// reports bad input by throwing ContractError with a one-line message that
// names the file, the field or instruction, and what was expected. Tools catch
// it at their top level, print "error: <message>" and exit non-zero.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_ARCH_ERROR_H
#define TESSERA_ARCH_ERROR_H

#include <stdexcept>
#include <string>

namespace tessera::arch {

/// Bad input to the contract: a config file, a program file, an instruction.
class ContractError : public std::runtime_error {
public:
  explicit ContractError(const std::string &message)
      : std::runtime_error(message) {}
};

} // namespace tessera::arch

#endif // TESSERA_ARCH_ERROR_H
