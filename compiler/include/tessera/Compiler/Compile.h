//===- Compile.h - the compiler driver ---------------------------*- C++
//-*-===//
//
// Part of Tessera. ONNX file -> tsr module (importer) -> tsr passes ->
// chip.program (tsr-lower-to-chip: flat graph, code generator) -> program
// file (chip::emitProgram). docs/compiler.md walks through it.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_COMPILER_COMPILE_H
#define TESSERA_COMPILER_COMPILE_H

#include "tessera/Compiler/Graph.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Program.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace mlir {
class BlockArgument;
class ModuleOp;
class Operation;
class OpPassManager;
} // namespace mlir

namespace tessera::compiler {

/// Which fusions the pass pipeline applies (docs/fusion.md).
enum class Pipeline {
  Unfused,  ///< Every graph op its own kernel, inputs and outputs in DRAM.
  Standard, ///< tsr-fuse-layernorm: layernorm into its projection (the
            ///< exported QKV projection is already one packed matmul).
  Fused,    ///< tsr-fuse-attention, tsr-fuse-epilogue, tsr-fuse-layernorm.
};
/// "unfused", "standard", "fused".
const char *pipelineName(Pipeline p);
/// Parses a pipeline name; false when unknown.
bool parsePipeline(const std::string &name, Pipeline &out);

struct CompileOptions {
  /// The fusion passes to run after raising (docs/fusion.md): fused by
  /// default.
  Pipeline pipeline = Pipeline::Fused;
  /// Print the module after every pass to stderr (--print-ir-after-all).
  bool printIrAfterAll = false;
  /// The chip the fusion passes decide for (compileOnnxFile sets it; null:
  /// the reference chip).
  const arch::ChipConfig *chip = nullptr;
  /// Run `tsr-raise-gelu` (one vector instruction per GELU instead of five).
  bool raiseGelu = true;
  /// Run `tsr-raise-layernorm` (the decomposed chain of opsets < 17 as one
  /// tsr.layernorm).
  bool raiseLayerNorm = true;
  /// Run `tsr-raise-attention` (multi-head attention as one tsr.attention;
  /// code generation expands it again until a fused kernel exists).
  bool raiseAttention = true;
  /// Run `tsr-fold-bias` in the fused pipeline (each matmul group's bias
  /// added by the matrix unit where the cost model finds it faster).
  bool foldBias = true;
  /// When set, receives the kernel the code generator emitted for each
  /// program layer, for the cost model (docs/cost-model.md).
  std::vector<cost::Kernel> *plans = nullptr;
};

/// How many ops of each name (e.g. "tsr.attention", "tsr.layernorm") the
/// module's functions hold after the pass pipeline: what raising produced.
using OpCounts = std::map<std::string, int64_t>;

/// Compiles an ONNX model for `chip`. Errors are one line and start with the
/// file's path: unreadable or invalid ONNX, unsupported ops, shapes the chip
/// cannot run. When `graph` is given it receives the graph the program was
/// generated from (for the FP32 reference executor); `opCounts` the ops after
/// the pass pipeline.
llvm::Expected<arch::Program> compileOnnxFile(const std::string &path,
                                              const arch::ChipConfig &chip,
                                              const CompileOptions &opts,
                                              codegen::Graph *graph = nullptr,
                                              OpCounts *opCounts = nullptr);

/// Imports an ONNX model and runs the pass pipeline, without code generation:
/// the flat graph the FP32 reference executor runs (`tessera reference`).
/// Errors as compileOnnxFile's.
llvm::Expected<codegen::Graph> importOnnxGraph(const std::string &path,
                                               const CompileOptions &opts,
                                               OpCounts *opCounts = nullptr);

/// Runs `tsr-expand-attention` on `module` in place: what code generation
/// (and the reference executor's graph) need until attention has a kernel.
llvm::Error expandForChip(mlir::ModuleOp module);

/// Adds the graph passes of `opts.pipeline` to `pm`: raising (as `opts`
/// says), then the pipeline's fusions (docs/fusion.md), deciding for `chip`.
void addGraphPasses(mlir::OpPassManager &pm, const CompileOptions &opts,
                    const arch::ChipConfig &chip);
/// Adds the kernels' decisions to `pm`: tsr-expand-attention,
/// tsr-select-tiling, tsr-verify-tiling, tsr-allocate-sram and
/// tsr-verify-sram, deciding for `chip`.
void addKernelPasses(mlir::OpPassManager &pm, const arch::ChipConfig &chip);
/// Registers `tsr-pipeline{pipeline=P chip-config=F sram-bytes=N}` (the
/// graph and kernel passes above; tessera-opt), the pass list
/// `tessera compile` runs before tsr-lower-to-chip.
void registerPipelines();

/// Runs the tsr pass pipeline on `module` in place: the graph passes
/// (raising, the pipeline's fusions), then the kernels' decisions
/// (tsr-expand-attention, tsr-select-tiling, tsr-verify-tiling,
/// tsr-allocate-sram and tsr-verify-sram). With `counts`: the ops
/// after the graph passes, by name.
llvm::Error runPipeline(mlir::ModuleOp module, const CompileOptions &opts,
                        OpCounts *counts = nullptr);

/// The flat graph of the module's `main` function (or its only function):
/// arguments are inputs, `tsr.weight`s are weights, returned values outputs
/// (named by the `tsr.name` argument/result attributes), every other op a
/// node named by its location.
llvm::Expected<codegen::Graph> extractGraph(mlir::ModuleOp module);

/// The graph of one tsr op outside any group, as the passes that decide
/// its kernel see it (tsr-select-tiling, tsr-allocate-sram and their
/// verifiers; KernelDecisions.h): its operands as values (function
/// arguments are inputs, `tsr.weight`s weights, with their data when they
/// are scalars), the op as the one node with the decisions recorded on it
/// (`tsr.tiling`, `tsr.sram`), its result. An error when the op has no
/// lowering to the chip or a recorded plan is malformed.
llvm::Expected<codegen::Graph> opGraph(mlir::Operation *op);
/// The graph of an integer input's FP16 conversion kernel, as the passes
/// that decide it see it: function argument `arg` as the integer input,
/// with the decisions recorded on the argument (its `tsr.tiling` and
/// `tsr.sram` attributes), and its Convert node (codegen::conversionNode).
/// nullopt when the argument is not an integer input (`tsr.dtype`) some op
/// reads as data (codegen::readsAsData); an error when a recorded plan is
/// malformed.
llvm::Expected<std::optional<codegen::Graph>>
conversionGraph(mlir::BlockArgument arg);
/// Code generation for an already imported (and optimized) module: the
/// module is lowered in place to one chip.program (tsr-lower-to-chip) and
/// the program is emitted from it (chip::emitProgram); `plans` as
/// CompileOptions::plans. With `printIrAfterAll` the chip IR is printed to
/// stderr after the lowering (weights elided).
llvm::Expected<arch::Program>
generate(mlir::ModuleOp module, const arch::ChipConfig &chip,
         const std::string &source, codegen::Graph *graph = nullptr,
         std::vector<cost::Kernel> *plans = nullptr,
         bool printIrAfterAll = false);

} // namespace tessera::compiler

#endif // TESSERA_COMPILER_COMPILE_H
