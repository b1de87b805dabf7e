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
  // modelled latency). The model follows the DRAM bus in issue order, both
  // queues on one bus (docs/cost-model.md, "Latency"), so the tilings the
  // search favours are priced as the simulator runs them. Measured: exact
  // on 14 of 15, worst +1.1% (1000x300x500 with 256 KiB of SRAM); before
  // the one bus clock (per-queue clocks), -18.6% (1000x300x500 on the
  // reference chip, in 768x96x384 tiles the search no longer picks).
  EXPECT_LE(worst, 0.02);
}

TEST(CostModelAccuracy, StoreAndLoadShareTheBusInIssueOrder) {
  // docs/cost-model.md, "Latency", worked example: 96x96x288 in 96x96x96
  // tiles on the reference chip (A loaded once, three B tiles; every
  // transfer 18 432 bytes, D = 543; each product 670). A, B0 and B1 issue
  // at 0 (data 300-843, 843-1386, 1386-1929); product 0 runs 1386-2056;
  // its store and B2 (whose slot product 0 read) issue at 2056, the store
  // first: 2356-2899, B2 2899-3442. Product 1 runs 2056-2726, its store
  // 3442-3985; product 2 waits for B2: 3442-4112, its store 4412-4955.
  // The model with a bus clock per queue gave 5071 (B1 behind store 0).
  GraphBuilder b;
  int x = b.input("x", {96, 96});
  int w = b.weight("w", {96, 288});
  b.output(b.node(NodeKind::MatMul, "mm", {x, w}, {96, 288}), "y");
  b.last().tileM = b.last().tileK = b.last().tileN = 96;
  uint64_t simT, modelT;
  std::vector<Row> rows =
      measure(b.g, arch::ChipConfig::reference(), simT, modelT);
  print(rows);
  EXPECT_EQ(modelT, 4955u);
  EXPECT_EQ(simT, 4955u);
}

TEST(CostModelAccuracy, EncoderLayer) {
  // The unfused pipeline's kernels (the table of docs/cost-model.md,
  // "Accuracy against the simulator"), then the default fused pipeline's
  // (its five to seven fused kernels, each held).
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
      // Large unfused kernels are priced within 6% (measured: within 5.0%,
      // the 256 KiB chip's 128x256x1024 MLP product; 5 of 8 exact), every
      // fused kernel within 5% (measured: 3.9%, the reference chip's V
      // projection); kernels of a few thousand cycles are dominated by how
      // they overlap their neighbours (docs/cost-model.md, "Accuracy": up
      // to 54% off), so beyond those only the frame is held, to 3%
      // (measured: -0.2% to +1.9%).
      double worst = 0;
      for (const Row &r : rows) {
        worst = std::max(worst, std::fabs(r.error()));
        if (pipeline == compiler::Pipeline::Unfused && r.simulated >= 30000)
          EXPECT_LE(std::fabs(r.error()), 0.06) << r.chip << " " << r.layer;
        if (pipeline == compiler::Pipeline::Fused)
          EXPECT_LE(std::fabs(r.error()), 0.05) << r.chip << " " << r.layer;
      }
      std::printf("%s encoder layer, %s pipeline: simulated %llu, model %llu "
                  "(%+.1f%%), worst kernel %.1f%%\n",
                  chip.name.c_str(), compiler::pipelineName(pipeline),
                  (unsigned long long)simT, (unsigned long long)modelT,
                  100 * frameError(simT, modelT), 100 * worst);
      EXPECT_LE(std::fabs(frameError(simT, modelT)), 0.03);
    }
}

} // namespace
