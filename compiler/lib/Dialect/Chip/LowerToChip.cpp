//===- LowerToChip.cpp - tsr-lower-to-chip --------------------------------===//
//
// Part of Tessera. The last rung of the lowering ladder (docs/lowering.md):
// the decided tsr module becomes one chip.program.
//
/// Algorithm: expand the remaining tsr.attention ops (tsr-expand-attention,
/// as code generation always did), extract the graph (one node per op or
/// fused group, carrying the group's recorded tiling and SRAM plan), and run
/// the code generator on it with a chip::ProgramBuilder as its sink: each
/// layer it begins becomes a chip.kernel, each buffer it allocates a
/// chip.buffer, each instruction (with its final dependencies) one op whose
/// operands are the tokens of the instructions it waits for; every field is
/// checked to survive the op it becomes. Then the builder adds the tensor
/// table (each weight's FP16 bytes moved into a resource blob) and makes
/// each kernel pass on the tokens later kernels wait for. The chip.program
/// replaces the module's contents.
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Chip/Passes.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/Compiler/Compile.h"
#include "tessera/Dialect/Tsr/Tsr.h"

#include "../../Transforms/PassChip.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <optional>

namespace tessera::chip {
#define GEN_PASS_DEF_TSRLOWERTOCHIP
#define GEN_PASS_REGISTRATION
#include "tessera/Dialect/Chip/Passes.h.inc"
} // namespace tessera::chip

using namespace mlir;
using namespace tessera;

namespace {

struct LowerToChipPass
    : tessera::chip::impl::TsrLowerToChipBase<LowerToChipPass> {
  using TsrLowerToChipBase::TsrLowerToChipBase;
  LowerToChipPass(const arch::ChipConfig &chip, codegen::Graph *graphOut,
                  std::vector<cost::Kernel> *plans)
      : chip(chip), graphOut(graphOut), plans(plans) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!chip && !(chip = tsr::loadPassChip(module, chipConfig)))
      return signalPassFailure();
    if (sramBytes)
      chip->sram_bytes = sramBytes;
    // Code generation has no kernel for an unfused tsr.attention.
    OpPassManager expand(ModuleOp::getOperationName());
    expand.addPass(tsr::createExpandAttentionPass());
    if (failed(runPipeline(expand, module)))
      return signalPassFailure();
    llvm::Expected<codegen::Graph> graph = compiler::extractGraph(module);
    if (!graph) {
      module.emitError(llvm::toString(graph.takeError()));
      return signalPassFailure();
    }
    // The code generator emits straight into chip ops (its ProgramSink);
    // the chip.program replaces the tsr IR it is generated from.
    module.getBody()->clear();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    chip::ProgramBuilder builder(b, module.getLoc(), graph->name);
    try {
      arch::Program prog =
          codegen::generateProgram(*graph, *chip, plans, builder);
      builder.finish(std::move(prog));
    } catch (const codegen::CodegenError &e) {
      builder.program.erase();
      module.emitError(e.what());
      return signalPassFailure();
    }
    if (graphOut)
      *graphOut = std::move(*graph);
  }

  std::optional<arch::ChipConfig> chip;
  codegen::Graph *graphOut = nullptr;
  std::vector<cost::Kernel> *plans = nullptr;
};

} // namespace

std::unique_ptr<Pass>
tessera::chip::createLowerToChipPass(const arch::ChipConfig &chip,
                                     codegen::Graph *graph,
                                     std::vector<cost::Kernel> *plans) {
  return std::make_unique<LowerToChipPass>(chip, graph, plans);
}

void tessera::chip::registerPasses() { registerChipPasses(); }
