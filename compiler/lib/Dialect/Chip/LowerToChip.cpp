//===- LowerToChip.cpp - tsr-lower-to-chip --------------------------------===//
//
// Part of Tessera. The last rung of the lowering ladder (docs/lowering.md):
// the decided tsr module becomes one chip.program.
//
/// Algorithm: expand the remaining tsr.attention ops (tsr-expand-attention,
/// as code generation always did), extract the graph (one node per op or
/// fused group, carrying the group's recorded tiling and SRAM plan), run the
/// code generator on it, then build the chip.program from its output
/// (chip::buildProgram: each weight's bytes move into a resource blob, each
/// layer becomes a kernel holding its buffers and one op per instruction,
/// each dependency an SSA token) and replace the module's contents with it.
/// The code generator's emitter still revises an instruction after emitting
/// it (the gather's dependency on its index load, an alias renaming its
/// tensor), so the program is built from its finished output; every field is
/// checked to survive the op it becomes.
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
    arch::Program prog;
    try {
      prog = codegen::generateProgram(*graph, *chip, plans);
    } catch (const codegen::CodegenError &e) {
      module.emitError(e.what());
      return signalPassFailure();
    }
    // The chip.program replaces the tsr IR it was generated from.
    module.getBody()->clear();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    std::string error;
    if (failed(chip::buildProgram(b, module.getLoc(), std::move(prog),
                                  graph->name, error))) {
      module.emitError("internal error: ") << error;
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
