//===- FusedKernelsTest.cpp - the fused groups' kernels on the chip -------===//
//
// Part of Tessera. The fused attention kernel (FusedKernels.cpp,
// docs/fusion.md) compiled for several chips, simulated functionally and
// compared with the FP32 reference executor; its DRAM traffic counted
// against the closed form (scores and probabilities never leave SRAM); its
// cost-model description against the simulated cycles; and the error when
// not even one tile fits.
//
//===----------------------------------------------------------------------===//
#include "CodegenCheck.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/Sim/Simulator.h"

#include <gtest/gtest.h>

using namespace tessera;
using namespace tessera::codegen;
using namespace tessera::codegen::testing;

namespace {

/// Attention over a packed sequence-first projection [S, B, 3D] (as
/// nn.MultiheadAttention exports it): q, k, v are column thirds.
int packedAttention(GraphBuilder &b, int64_t s, int64_t batch, int64_t d,
                    int64_t heads) {
  int x = b.input("qkv", {s, batch, 3 * d});
  int o = b.node(NodeKind::Attention, "attn", {x, x, x}, {batch, s, d});
  GraphNode &n = b.last();
  n.heads = heads;
  n.seqK = s;
  n.scale = 1.0f / std::sqrt(float(d / heads));
  for (int64_t part = 0; part < 3; ++part)
    n.qkvLayout.push_back({part * d, 3 * d, batch * 3 * d});
  return o;
}

class FusedAttention : public ::testing::TestWithParam<arch::ChipConfig> {};

TEST_P(FusedAttention, PackedSequenceFirstMatchesReference) {
  GraphBuilder b;
  b.output(packedAttention(b, 40, 2, 64, 4), "out");
  checkAgainstReference(b, GetParam());
}

TEST_P(FusedAttention, SeparateBatchFirstMatchesReference) {
  // Sq != Sk, batch-first q [B, Sq, D], k and v [B, Sk, D].
  GraphBuilder b;
  int q = b.input("q", {2, 24, 32}), k = b.input("k", {2, 40, 32}),
      v = b.input("v", {2, 40, 32});
  int o = b.node(NodeKind::Attention, "attn", {q, k, v}, {2, 24, 32});
  GraphNode &n = b.last();
  n.heads = 2;
  n.seqK = 40;
  n.scale = 0.25f;
  n.qkvLayout = {{0, 24 * 32, 32}, {0, 40 * 32, 32}, {0, 40 * 32, 32}};
  b.output(o, "out");
  checkAgainstReference(b, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Chips, FusedAttention,
                         ::testing::ValuesIn(testChips()),
                         [](const auto &info) { return info.param.name; });

TEST(FusedAttentionTraffic, ScoresNeverLeaveSram) {
  // DRAM traffic: each head loads its K and V once and its Q rows once;
  // the output is stored once. No scratch tensor exists.
  GraphBuilder b;
  const int64_t s = 96, batch = 1, d = 448, heads = 7, hd = 64;
  b.output(packedAttention(b, s, batch, d, heads), "out");
  arch::ChipConfig chip = arch::ChipConfig::reference();
  arch::Program prog = generateProgram(b.g, chip);
  uint64_t loaded = 0, stored = 0;
  for (const arch::Instr &in : prog.instrs) {
    if (in.op == arch::Opcode::DmaLoad)
      loaded += in.dmaBytes();
    if (in.op == arch::Opcode::DmaStore)
      stored += in.dmaBytes();
  }
  EXPECT_EQ(loaded, uint64_t(batch * heads * 3 * s * hd * 2));
  EXPECT_EQ(stored, uint64_t(batch * s * d * 2));
  for (const arch::TensorInfo &t : prog.tensors)
    EXPECT_NE(t.kind, arch::TensorKind::Scratch) << t.name;
  EXPECT_EQ(countOp(prog, arch::Opcode::VecSoftmax), size_t(heads));
}

TEST(FusedAttentionTraffic, CostModelMatchesSimulator) {
  // The cost model's kernel (cost::attentionKernel) against the simulated
  // cycles, on the reference chip, 8 MiB and 2 MiB of SRAM (several query
  // tiles per head), perception-sized heads. Less SRAM: smaller query
  // tiles, never fewer cycles.
  uint64_t lastCycles = 0, lastSram = ~uint64_t(0);
  for (uint64_t sram :
       {uint64_t(32) << 20, uint64_t(8) << 20, uint64_t(2) << 20}) {
    GraphBuilder b;
    b.output(packedAttention(b, 768, 1, 448, 7), "out");
    arch::ChipConfig chip = chipWithSram(sram);
    std::vector<cost::Kernel> plans;
    arch::Program prog = generateProgram(b.g, chip, &plans);
    ASSERT_EQ(plans.size(), 1u);
    EXPECT_EQ(plans[0].kind, "attention");
    sim::SimOptions so;
    so.functional = false;
    sim::SimResult r = sim::simulateFrame(prog, chip, {}, so);
    cost::SequenceCost est = cost::evaluateSequence(chip, plans);
    double err = double(est.latencyCycles) / double(r.totalCycles) - 1;
    std::printf("fused attention 768x768, 7 heads, SRAM %llu: simulated %llu, "
                "model %llu (%+.2f%%), SRAM used %llu\n",
                (unsigned long long)sram, (unsigned long long)r.totalCycles,
                (unsigned long long)est.latencyCycles, 100 * err,
                (unsigned long long)prog.sramBytesUsed);
    EXPECT_LT(std::fabs(err), 0.05);
    EXPECT_EQ(plans[0].sramBytes, prog.sramBytesUsed);
    EXPECT_GE(r.totalCycles, lastCycles);
    EXPECT_LE(prog.sramBytesUsed, lastSram);
    lastCycles = r.totalCycles;
    lastSram = prog.sramBytesUsed;
  }
}

TEST(FusedAttentionErrors, NoTileFitsNamesTheNodeAndBytes) {
  GraphBuilder b;
  b.output(packedAttention(b, 40, 1, 64, 4), "out");
  try {
    generateProgram(b.g, chipWithSram(2048));
    FAIL() << "expected a CodegenError";
  } catch (const CodegenError &e) {
    EXPECT_STREQ(e.what(),
                 "attention 'attn': the fused attention needs 8320 bytes of "
                 "SRAM for 8 query rows (K and V of one head, 40 score "
                 "columns), the chip has 2048");
  }
}

} // namespace
