//===- Chip.h - the chip dialect ---------------------------------*- C++
//-*-===//
//
// Part of Tessera. The chip-level dialect (ChipOps.td, docs/lowering.md "The
// chip dialect"): the program the chip runs as IR, built from the code
// generator's output by `tsr-lower-to-chip` and emitted into the program file
// by `emitProgram`, a translation of one instruction per op.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_DIALECT_CHIP_CHIP_H
#define TESSERA_DIALECT_CHIP_CHIP_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "tessera/Dialect/Chip/ChipDialect.h.inc"
#include "tessera/Dialect/Chip/ChipEnums.h.inc"

#define GET_TYPEDEF_CLASSES
#include "tessera/Dialect/Chip/ChipTypes.h.inc"

#define GET_OP_CLASSES
#include "tessera/Dialect/Chip/ChipOps.h.inc"

#include "tessera/arch/Program.h"

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace tessera::chip {

/// The opcode whose ISA name (arch::opcodeName) is `name`, or nullopt.
std::optional<arch::Opcode> parseOpcode(llvm::StringRef name);

/// The instruction `op` (a chip instruction op) stands for, without its
/// `layer` and `deps` (which come from where it sits and what it waits for).
arch::Instr instrOf(mlir::Operation *op);

/// The program `program` declares: its tensors, layers (one per kernel),
/// buffers and instructions, in the order the IR holds them, with each
/// token operand as the index of the instruction that produced it. No
/// decision is taken: the translation is one instruction per op. The
/// program must have verified. Without `weightData` the weights' bytes are
/// not copied (`weightDataElided`).
arch::Program emitProgram(ProgramOp program, bool weightData = true);

/// Builds `prog` as a chip.program named `name` at the builder's insertion
/// point: each weight's bytes move into a resource blob (not copied), each
/// layer becomes a kernel with its buffers and instructions. Fails with
/// `error` set when the program cannot be expressed (instructions not
/// grouped by layer, a field the op of its opcode does not carry).
mlir::FailureOr<ProgramOp> buildProgram(mlir::OpBuilder &b, mlir::Location loc,
                                        arch::Program &&prog,
                                        llvm::StringRef name,
                                        std::string &error);

} // namespace tessera::chip

#endif // TESSERA_DIALECT_CHIP_CHIP_H
