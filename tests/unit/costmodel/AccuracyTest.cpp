//===- AccuracyTest.cpp - The cost model against the simulated cycles -----===//
//
// Every kernel the code generator emits today, priced by the cost model from
// the plan the generator recorded, against the cycles the SystemC model
// simulates for it: GEMM shapes and the bundled encoder layer on three chip
// configs. Prints the per-kernel table (docs/cost-model.md, "Accuracy")
// and asserts the tolerances that table justifies.
//
//===----------------------------------------------------------------------===//

#include "../compiler/GraphBuilder.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/Compiler/Compile.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/Sim/Simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace tessera;
using codegen::NodeKind;
using codegen::testing::GraphBuilder;

namespace {

/// The three chips: the reference; a small SRAM (kernels tile harder); a
/// slower, narrower chip (32 x 32 array at 1 GHz, 25.6 GB/s, 1 MiB SRAM).
std::vector<arch::ChipConfig> chips() {
  arch::ChipConfig ref = arch::ChipConfig::reference();
  arch::ChipConfig small = ref;
  small.name = "sram-256k";
  small.sram_bytes = 256 << 10;
  arch::ChipConfig narrow = ref;
  narrow.name = "narrow";
  narrow.clock_ghz = 1.0;
  narrow.matrix_rows = narrow.matrix_cols = 32;
  narrow.dram_bandwidth_gbps = 25.6;
  narrow.dram_latency_ns = 100;
  narrow.sram_bytes = 1 << 20;
  narrow.vector_lanes = 32;
  return {ref, small, narrow};
}

struct Row {
  std::string chip, layer, kind;
  uint64_t simulated, modelled;
  double error() const {
    return (double(modelled) - double(simulated)) / double(simulated);
  }
};

/// Compiles `g` for `chip`, simulates it (timing only) and pairs each
/// layer's attributed cycles with the model's latency of its kernel.
std::vector<Row> measure(const codegen::Graph &g, const arch::ChipConfig &chip,
                         uint64_t &simTotal, uint64_t &modelTotal) {
  std::vector<cost::Kernel> plans;
  arch::Program prog = codegen::generateProgram(g, chip, &plans);
  sim::SimOptions opts;
  opts.functional = false;
  sim::SimResult r = sim::simulateFrame(prog, chip, {}, opts);
  EXPECT_EQ(plans.size(), r.layers.size());
  std::vector<Row> rows;
  for (const cost::Kernel &k : plans)
    EXPECT_FALSE(k.kind.empty());
  cost::SequenceCost seq = cost::evaluateSequence(chip, plans);
  modelTotal = seq.latencyCycles;
  simTotal = r.totalCycles;
  for (size_t i = 0; i < r.layers.size() && i < plans.size(); ++i) {
    rows.push_back({chip.name, r.layers[i].name, plans[i].kind,
                    r.layers[i].attributedCycles, seq.attributedCycles[i]});
    if (getenv("COST_DEBUG")) {
      const cost::Cost &c = seq.kernels[i];
      std::printf(
          "    %s L=%llu C=%llu S=%llu bus=%llu tiles=%llu alone=%llu "
          "span=%llu\n",
          cost::bottleneckName(c.bottleneck),
          (unsigned long long)c.loadQueueCycles,
          (unsigned long long)c.computeQueueCycles,
          (unsigned long long)c.storeQueueCycles,
          (unsigned long long)c.dramBusCycles,
          (unsigned long long)plans[i].tiles,
          (unsigned long long)c.latencyCycles,
          (unsigned long long)(r.layers[i].endCycle - r.layers[i].startCycle));
    }
  }
  return rows;
}

void print(const std::vector<Row> &rows) {
  for (const Row &r : rows)
    std::printf("  %-10s %-28s %-9s sim %9llu  model %9llu  %+6.1f%%\n",
                r.chip.c_str(), r.layer.c_str(), r.kind.c_str(),
                (unsigned long long)r.simulated, (unsigned long long)r.modelled,
                100 * r.error());
}

double frameError(uint64_t sim, uint64_t model) {
  return (double(model) - double(sim)) / double(sim);
}

TEST(CostModelAccuracy, GemmShapes) {
  struct Shape {
    int64_t m, k, n;
  };
  double worst = 0;
  for (const arch::ChipConfig &chip : chips())
    for (Shape s :
         {Shape{128, 256, 256}, Shape{1024, 768, 768}, Shape{1024, 768, 3072},
          Shape{1000, 300, 500}, Shape{64, 64, 64}}) {
      GraphBuilder b;
      int x = b.input("x", {s.m, s.k});
      int w = b.weight("w", {s.k, s.n});
      b.output(b.node(NodeKind::MatMul, "mm", {x, w}, {s.m, s.n}), "y");
      uint64_t simT, modelT;
      std::vector<Row> rows = measure(b.g, chip, simT, modelT);
      print(rows);
      for (const Row &r : rows)
        worst = std::max(worst, std::fabs(r.error()));
    }
  std::printf("worst GEMM error: %.1f%%\n", 100 * worst);
  // Each product is tiled by the search (cost::searchGemm, the lowest
  // modelled latency), which favours the tilings the model prices lowest:
  // large output tiles whose stores share the DRAM bus with the next
  // tiles' loads in an order the model's per-queue bus clocks approximate
  // (docs/cost-model.md, "Accuracy"). Measured: 0.0% on 9 of 15, worst
  // -18.6% (1000x300x500 in 768x96x384 tiles on the reference chip); under
  // the earlier heuristic's tiles, which the search replaced, 4.9%.
  EXPECT_LE(worst, 0.20);
}

TEST(CostModelAccuracy, EncoderLayer) {
  // The unfused pipeline's kernels (the table of docs/cost-model.md,
  // "Accuracy against the simulator"), then the default fused pipeline's
  // (its five to seven fused kernels: only the frame is held; each kernel
  // printed).
  for (compiler::Pipeline pipeline :
       {compiler::Pipeline::Unfused, compiler::Pipeline::Fused})
    for (const arch::ChipConfig &chip : chips()) {
      codegen::Graph g;
      compiler::CompileOptions opts;
      opts.pipeline = pipeline;
      llvm::Expected<arch::Program> prog = compiler::compileOnnxFile(
          std::string(TESSERA_MODELS_DIR) + "/encoder_layer/encoder_layer.onnx",
          chip, opts, &g);
      ASSERT_TRUE(bool(prog)) << llvm::toString(prog.takeError());
      uint64_t simT, modelT;
      std::vector<Row> rows = measure(g, chip, simT, modelT);
      print(rows);
      // Large unfused kernels are priced within 10%, the per-layer
      // target (measured: within 3.8% on the reference and 256 KiB chips,
      // -7.3% on the narrow chip's 128x256x256 projections in the
      // search's tiles);
      // kernels of a few thousand cycles are dominated by how they overlap
      // their neighbours (docs/cost-model.md, "Accuracy": up to 34% off),
      // so beyond those only the frame is held, to 5% (measured: -2.4% to
      // +0.4% unfused, -1.1% to +3.6% fused).
      double worst = 0;
      for (const Row &r : rows) {
        worst = std::max(worst, std::fabs(r.error()));
        if (pipeline == compiler::Pipeline::Unfused && r.simulated >= 30000)
          EXPECT_LE(std::fabs(r.error()), 0.10) << r.chip << " " << r.layer;
      }
      std::printf("%s encoder layer, %s pipeline: simulated %llu, model %llu "
                  "(%+.1f%%), worst kernel %.1f%%\n",
                  chip.name.c_str(), compiler::pipelineName(pipeline),
                  (unsigned long long)simT, (unsigned long long)modelT,
                  100 * frameError(simT, modelT), 100 * worst);
      EXPECT_LE(std::fabs(frameError(simT, modelT)), 0.05);
    }
}

} // namespace
