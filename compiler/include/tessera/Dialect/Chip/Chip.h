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

#include "tessera/Compiler/Codegen.h"
#include "tessera/arch/Program.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

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

/// Builds a chip.program op by op as the code generator emits it
/// (codegen::generateProgram's sink): a kernel per layer, its buffers first,
/// one op per instruction, each dependency the producer's token. finish()
/// adds the tensor table and the header, and makes each kernel pass the
/// tokens later kernels wait for out as its results. An instruction a
/// chip op cannot carry field for field throws codegen::CodegenError (an
/// internal error naming the instruction and the field).
class ProgramBuilder final : public codegen::ProgramSink {
public:
  ProgramBuilder(mlir::OpBuilder &b, mlir::Location loc, llvm::StringRef name);
  void layer(uint32_t index, const std::string &name) override;
  void buffer(uint64_t addr, uint64_t bytes) override;
  void instr(const arch::Instr &in, uint32_t index) override;
  /// Completes the program with `prog`'s header and tensors (the weights'
  /// bytes move into resource blobs, not copied).
  ProgramOp finish(arch::Program &&prog);

  ProgramOp program;

private:
  [[noreturn]] static void fail(const std::string &why);
  mlir::Location loc;
  std::vector<KernelOp> kernels;
  mlir::Operation *lastBuffer = nullptr;
  std::vector<mlir::Value> tokens; ///< Per instruction.
  std::vector<uint32_t> layerOf;   ///< Per instruction.
  /// Per layer: the instructions later layers wait for, in order of first
  /// use; exportIndex: their result number.
  std::vector<std::vector<uint32_t>> exported;
  llvm::DenseMap<uint32_t, uint32_t> exportIndex;
  llvm::SmallVector<mlir::Value, 8> deps;
};

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
