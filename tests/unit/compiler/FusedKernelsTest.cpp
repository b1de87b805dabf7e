//===- FusedKernelsTest.cpp - the fused groups' kernels on the chip -------===//
//
// Part of Tessera. The fused attention kernel (FusedKernels.cpp,
// docs/fusion.md) compiled for several chips, simulated functionally and
// compared with the FP32 reference executor; its DRAM traffic counted
// against the closed form (scores and probabilities never leave SRAM); its
// cost-model description against the simulated cycles; and the error when
// not even one tile fits. The same for the fused matmul kernel (a
// layernorm prologue, a bias/GELU/residual epilogue). And the two kernels
// linked by tsr-keep-kv: K and V of the first heads kept in SRAM from the
// projection into the attention (the DRAM bytes removed, the cycles, the
// outputs, the dependencies through the resident region).
//
//===----------------------------------------------------------------------===//
#include "CodegenCheck.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/CostModel/SramPlan.h"
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
                 "attention 'attn': the fused attention needs 8064 bytes of "
                 "SRAM for 8 query rows (K and V of one head, 40 score "
                 "columns), the online form 2688 for 8x8 tiles, the chip "
                 "has 2048");
  }
}

/// The plan tsr-allocate-sram records for packedAttention(b, 40, 1, 64, 4)
/// with 40-row query tiles.
cost::SramPlan recordedAttentionPlan() {
  cost::AttentionOp op;
  op.sq = op.sk = 40;
  op.heads = 4;
  op.headDim = 16;
  return cost::attentionSramPlan(op, {40});
}

TEST(FusedAttentionSramPlan, RecordedOffsetsAreUsed) {
  // The scaled Q moved from the probabilities' bytes to its own, past the
  // plan's end: the kernel writes and reads it there, the buffer table
  // holds it there, and the result still matches the reference.
  GraphBuilder b;
  b.output(packedAttention(b, 40, 1, 64, 4), "out");
  cost::SramPlan plan = recordedAttentionPlan();
  uint64_t moved = plan.total;
  for (cost::SramBuffer &x : plan.buffers)
    if (x.name == "qs")
      x.offset = moved;
  plan.total += 2048;
  GraphNode &n = b.g.nodes.back();
  n.tileRows = 40;
  n.sram = plan;
  arch::Program prog = checkAgainstReference(b, arch::ChipConfig::reference());
  size_t scales = 0;
  for (const arch::Instr &in : prog.instrs)
    if (in.op == arch::Opcode::VecScale) {
      ++scales;
      EXPECT_EQ(in.addr[2], moved);
    }
  EXPECT_EQ(scales, 4u);
  bool listed = false;
  for (const arch::SramBuffer &buf : prog.sramBuffers)
    listed |= buf.addr == moved && buf.bytes == 40 * 16 * 2;
  EXPECT_TRUE(listed);
}

TEST(FusedAttentionSramPlan, StaleOrOverlappingPlanIsAnError) {
  GraphBuilder b;
  b.output(packedAttention(b, 40, 1, 64, 4), "out");
  GraphNode &n = b.g.nodes.back();
  n.tileRows = 40;
  n.sram = recordedAttentionPlan();
  for (cost::SramBuffer &x : n.sram.buffers)
    if (x.name == "s")
      x.bytes = 40 * 40 * 2; // A plan for FP16 scores.
  try {
    generateProgram(b.g, arch::ChipConfig::reference());
    FAIL() << "expected a CodegenError";
  } catch (const CodegenError &e) {
    EXPECT_STREQ(e.what(), "attention 'attn': the SRAM plan recorded in the "
                           "IR (tsr.sram) gives buffer 's' 3200 bytes, the "
                           "kernel needs 6400");
  }
  n.sram = recordedAttentionPlan();
  uint64_t sAt = n.sram.find("s")->offset;
  for (cost::SramBuffer &x : n.sram.buffers)
    if (x.name == "qs")
      x.offset = sAt; // Live together in the "scores" phase.
  try {
    generateProgram(b.g, arch::ChipConfig::reference());
    FAIL() << "expected a CodegenError";
  } catch (const CodegenError &e) {
    std::string want = "attention 'attn': the SRAM plan recorded in the IR "
                       "(tsr.sram): buffers 'qs' [" +
                       std::to_string(sAt) + ", " + std::to_string(sAt + 1280) +
                       ") and 's' [" + std::to_string(sAt) + ", " +
                       std::to_string(sAt + 6400) +
                       ") overlap while both are live (phase 'scores')";
    EXPECT_EQ(e.what(), want);
  }
}

//===----------------------------------------------------------------------===//
// The online (streaming) softmax form (softmax = "online")
//===----------------------------------------------------------------------===//

/// The cost model's workload of packedAttention(b, s, batch, d, heads).
cost::AttentionOp packedOp(int64_t s, int64_t batch, int64_t d, int64_t heads) {
  cost::AttentionOp op;
  op.batch = uint64_t(batch);
  op.sq = op.sk = uint64_t(s);
  op.heads = uint64_t(heads);
  op.headDim = uint64_t(d / heads);
  op.qOffset = 0;
  op.kOffset = uint64_t(d);
  op.vOffset = uint64_t(2 * d);
  op.qBatchStride = op.kBatchStride = op.vBatchStride = uint64_t(3 * d);
  op.qRowStride = op.kRowStride = op.vRowStride = uint64_t(batch * 3 * d);
  op.outRowStride = uint64_t(d);
  op.outBatchStride = uint64_t(s * d);
  return op;
}

/// Marks the attention node (the graph's last) as the online form with the
/// recorded tile tq x tk.
void markOnline(GraphBuilder &b, int64_t tq, int64_t tk) {
  GraphNode &n = b.g.nodes.back();
  n.onlineSoftmax = true;
  n.tileRows = tq;
  n.tileKeys = tk;
}

TEST_P(FusedAttention, OnlinePackedSequenceFirstMatchesReference) {
  // 40 keys in tiles of 12 (three full, an edge of 4) and 40 query rows in
  // tiles of 16 (an edge of 8): every step class of the kernel, m rescaled
  // whenever a later tile holds a larger score.
  GraphBuilder b;
  b.output(packedAttention(b, 40, 2, 64, 4), "out");
  markOnline(b, 16, 12);
  arch::Program p = checkAgainstReference(b, GetParam());
  EXPECT_GT(countOp(p, arch::Opcode::VecExp), 0u);
  EXPECT_EQ(countOp(p, arch::Opcode::VecSoftmax), 0u);
}

TEST_P(FusedAttention, OnlineSeparateBatchFirstMatchesReference) {
  // Sq != Sk; one K tile (tk = Sk: the first step is also the last) and
  // tiles of 7 (ragged).
  for (int64_t tk : {40, 7}) {
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
    markOnline(b, 24, tk);
    checkAgainstReference(b, GetParam());
  }
}

TEST(FusedAttentionOnline, LargeLogitsAreRescaled) {
  // Scores of several hundred (scale 4 on inputs of +-2 x 64 dims): exp
  // without the running maximum would overflow FP32, and a later tile's
  // larger maximum must rescale l and O exactly.
  GraphBuilder b;
  b.output(packedAttention(b, 40, 1, 64, 4), "out");
  b.g.nodes.back().scale = 4.0f;
  markOnline(b, 8, 8);
  checkAgainstReference(b, arch::ChipConfig::reference());
}

TEST(FusedAttentionOnline, WholeRowsDoNotFitSoTheKernelStreams) {
  // A graph built without the fusion pass (no recorded form): the row form
  // needs 4 x 40 x 16 x 2 B of K and V plus whole score rows; at 4 KiB
  // only the online form fits, and the code generator takes it.
  GraphBuilder b;
  b.output(packedAttention(b, 40, 1, 64, 4), "out");
  arch::ChipConfig chip = chipWithSram(4096);
  cost::AttentionOp op = packedOp(40, 1, 64, 4);
  ASSERT_FALSE(cost::searchAttention(chip, op));
  ASSERT_TRUE(cost::searchOnlineAttention(chip, op));
  arch::Program p = checkAgainstReference(b, chip);
  EXPECT_GT(countOp(p, arch::Opcode::VecExp), 0u);
  EXPECT_LE(p.sramBytesUsed, 4096u);
}

TEST(FusedAttentionOnline, TrafficAndCostModelOnPerceptionHeads) {
  // The perception network's attention (768 tokens, 7 heads of 64) at
  // 128 KiB of SRAM, where whole score rows do not fit: DRAM traffic is
  // Q once, K and V once per query tile, the context once; no scratch
  // tensor. The cost model's kernel against the simulated cycles.
  GraphBuilder b;
  const uint64_t s = 768, d = 448, heads = 7, hd = 64;
  b.output(packedAttention(b, int64_t(s), 1, int64_t(d), int64_t(heads)),
           "out");
  arch::ChipConfig chip = chipWithSram(128 << 10);
  cost::AttentionOp op = packedOp(int64_t(s), 1, int64_t(d), int64_t(heads));
  ASSERT_FALSE(cost::searchAttention(chip, op));
  auto best = cost::searchOnlineAttention(chip, op);
  ASSERT_TRUE(best);
  uint64_t tq = best->tiling.tq, tk = best->tiling.tk;
  markOnline(b, int64_t(tq), int64_t(tk));
  std::vector<cost::Kernel> plans;
  arch::Program prog = generateProgram(b.g, chip, &plans);
  ASSERT_EQ(plans.size(), 1u);
  uint64_t loaded = 0, stored = 0;
  for (const arch::Instr &in : prog.instrs) {
    if (in.op == arch::Opcode::DmaLoad)
      loaded += in.dmaBytes();
    if (in.op == arch::Opcode::DmaStore)
      stored += in.dmaBytes();
  }
  uint64_t nq = (s + tq - 1) / tq;
  EXPECT_EQ(loaded, heads * (s + 2 * nq * s) * hd * 2);
  EXPECT_EQ(stored, s * d * 2);
  for (const arch::TensorInfo &t : prog.tensors)
    EXPECT_NE(t.kind, arch::TensorKind::Scratch) << t.name;
  EXPECT_EQ(plans[0].sramBytes, prog.sramBytesUsed);
  EXPECT_EQ(prog.sramBytesUsed,
            cost::onlineAttentionSramBytes(op, best->tiling));
  sim::SimOptions so;
  so.functional = false;
  sim::SimResult r = sim::simulateFrame(prog, chip, {}, so);
  cost::SequenceCost est = cost::evaluateSequence(chip, plans);
  double err = double(est.latencyCycles) / double(r.totalCycles) - 1;
  std::printf("online attention 768x768, 7 heads, SRAM 128 KiB, tile "
              "%llux%llu: simulated %llu, model %llu (%+.2f%%), SRAM used "
              "%llu\n",
              (unsigned long long)tq, (unsigned long long)tk,
              (unsigned long long)r.totalCycles,
              (unsigned long long)est.latencyCycles, 100 * err,
              (unsigned long long)prog.sramBytesUsed);
  EXPECT_LT(std::fabs(err), 0.02);
}

TEST(FusedAttentionOnline, SramPlanLivenessAndFormula) {
  // The plan's total is the documented formula (docs/fusion.md): the
  // carried buffers, then the scores, the probabilities and the row sums;
  // alpha shares the scores' bytes (the scores are dead by then).
  cost::AttentionOp op;
  op.sq = op.sk = 768;
  op.heads = 7;
  op.headDim = 64;
  auto al = [](uint64_t x) { return (x + 63) / 64 * 64; };
  for (auto [tq, tk] : {std::pair<uint64_t, uint64_t>{64, 96}, {40, 24}}) {
    cost::SramPlan p = cost::onlineAttentionSramPlan(op, {tq, tk});
    uint64_t want = 4 * al(tk * 64 * 2) + 2 * al(tq * 64 * 2) +
                    al(tq * 64 * 4) + 3 * al(tq * 4) + al(tq * tk * 4) +
                    al(tq * tk * 2) + al(tq * 4);
    EXPECT_EQ(p.total, want) << tq << "x" << tk;
    EXPECT_EQ(p.find("alpha")->offset, p.find("s")->offset);
    EXPECT_FALSE(cost::checkSramPlan(p, p.total));
  }
}

TEST(FusedAttentionOnline, IllegalRecordedTileIsChosenAgain) {
  // tk above Sk (a stale tile): checkOnlineAttention says why, and the
  // code generator searches instead of emitting it.
  cost::AttentionOp op;
  op.sq = op.sk = 40;
  op.heads = 4;
  op.headDim = 16;
  arch::ChipConfig chip = arch::ChipConfig::reference();
  EXPECT_EQ(*cost::checkOnlineAttention(chip, op, {16, 41}),
            "tk = 41 is not a tile of the 40 key rows");
  EXPECT_EQ(*cost::checkOnlineAttention(chip, op, {0, 8}),
            "tq = 0 is not a tile of the 40 query rows");
  EXPECT_FALSE(cost::checkOnlineAttention(chip, op, {16, 8}));
  GraphBuilder b;
  b.output(packedAttention(b, 40, 1, 64, 4), "out");
  markOnline(b, 16, 41);
  arch::Program p = checkAgainstReference(b, chip);
  EXPECT_GT(countOp(p, arch::Opcode::VecExp), 0u);
}

//===----------------------------------------------------------------------===//
// The fused matmul (tsr.group kind "matmul")
//===----------------------------------------------------------------------===//

struct MatMulGroupShape {
  int64_t batch = 1, m = 0, k = 0, n = 0;
  bool layernorm = false, bias = false, gelu = false, tanhGelu = false,
       residual = false;
  int64_t tm = 0, tk = 0, tn = 0; ///< The recorded tile (0: search).
};

/// out = epilogue(prologue(x) W), x [batch, m, k], W [k, n].
int matmulGroup(GraphBuilder &b, const MatMulGroupShape &s) {
  std::vector<int> in{b.input("x", {s.batch, s.m, s.k}),
                      b.weight("w", {s.k, s.n})};
  if (s.layernorm) {
    in.push_back(b.weight("gamma", {s.k}));
    in.push_back(b.weight("beta", {s.k}));
  }
  if (s.bias)
    in.push_back(b.weight("bias", {s.n}));
  if (s.residual)
    in.push_back(b.input("res", {s.batch, s.m, s.n}));
  int o = b.node(NodeKind::FusedMatMul, "proj", in, {s.batch, s.m, s.n});
  GraphNode &n = b.last();
  n.layerNormPrologue = s.layernorm;
  n.biasEpilogue = s.bias;
  n.geluEpilogue = s.gelu;
  n.tanhGelu = s.tanhGelu;
  n.residualEpilogue = s.residual;
  n.tileM = s.tm;
  n.tileK = s.tk;
  n.tileN = s.tn;
  return o;
}

class FusedMatMul : public ::testing::TestWithParam<arch::ChipConfig> {};

TEST_P(FusedMatMul, BiasGeluMatchesReference) {
  GraphBuilder b;
  b.output(matmulGroup(b, {2, 40, 200, 136, false, true, true}), "out");
  checkAgainstReference(b, GetParam());
}

TEST_P(FusedMatMul, BiasResidualMatchesReference) {
  GraphBuilder b;
  b.output(matmulGroup(b, {1, 72, 96, 100, false, true, false, false, true}),
           "out");
  checkAgainstReference(b, GetParam());
}

TEST_P(FusedMatMul, LayerNormBiasTanhGeluResidualMatchesReference) {
  // Every part at once; the recorded 32x160x64 tile is used where it is
  // legal, the search takes over where it does not fit.
  GraphBuilder b;
  b.output(matmulGroup(
               b, {1, 50, 160, 88, true, true, true, true, true, 32, 160, 64}),
           "out");
  checkAgainstReference(b, GetParam());
}

TEST_P(FusedMatMul, LayerNormOnlyMatchesReference) {
  GraphBuilder b;
  b.output(matmulGroup(b, {3, 16, 96, 40, true}), "out");
  checkAgainstReference(b, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Chips, FusedMatMul, ::testing::ValuesIn(testChips()),
                         [](const auto &info) { return info.param.name; });

TEST(FusedMatMulTraffic, IntermediatesNeverLeaveSram) {
  // The product, its bias, GELU and residual, and the layernorm of A: one
  // store of the result, no scratch tensor, every A row loaded once (whole
  // K rows), bias/gamma/beta loaded once.
  GraphBuilder b;
  const int64_t m = 128, k = 256, n = 192;
  b.output(matmulGroup(b, {1, m, k, n, true, true, true, false, true}), "out");
  arch::ChipConfig chip = arch::ChipConfig::reference();
  arch::Program prog = generateProgram(b.g, chip);
  uint64_t stored = 0;
  for (const arch::Instr &in : prog.instrs)
    if (in.op == arch::Opcode::DmaStore)
      stored += in.dmaBytes();
  EXPECT_EQ(stored, uint64_t(m * n * 2));
  for (const arch::TensorInfo &t : prog.tensors)
    EXPECT_NE(t.kind, arch::TensorKind::Scratch) << t.name;
  // Every row of A normalized exactly once, every output element through
  // GELU exactly once.
  uint64_t lnRows = 0, geluElems = 0;
  for (const arch::Instr &in : prog.instrs) {
    if (in.op == arch::Opcode::VecLayerNorm) {
      lnRows += in.dims[0];
      EXPECT_EQ(in.dims[1], uint32_t(k));
    }
    if (in.op == arch::Opcode::VecGelu)
      geluElems += uint64_t(in.dims[0]) * in.dims[1];
  }
  EXPECT_EQ(lnRows, uint64_t(m));
  EXPECT_EQ(geluElems, uint64_t(m * n));
}

TEST(FusedMatMulTraffic, CostModelMatchesSimulator) {
  // cost::matmulGroupKernel against the simulated cycles on the perception
  // network's products (768 tokens, width 448, MLP 1792): the layernorm +
  // QKV projection + bias, LN2 + MLP1 + bias + GELU, and MLP2 + bias +
  // residual, at 32, 8 and 2 MiB of SRAM. Less SRAM never helps.
  struct Case {
    const char *name;
    MatMulGroupShape s;
  };
  for (const Case &c :
       {Case{"ln+qkv+bias", {1, 768, 448, 1344, true, true}},
        Case{"ln+mlp1+bias+gelu", {1, 768, 448, 1792, true, true, true}},
        Case{"mlp2+bias+residual",
             {1, 768, 1792, 448, false, true, false, false, true}}}) {
    uint64_t lastCycles = 0;
    for (uint64_t sram :
         {uint64_t(32) << 20, uint64_t(8) << 20, uint64_t(2) << 20}) {
      GraphBuilder b;
      b.output(matmulGroup(b, c.s), "out");
      arch::ChipConfig chip = chipWithSram(sram);
      std::vector<cost::Kernel> plans;
      arch::Program prog = generateProgram(b.g, chip, &plans);
      ASSERT_EQ(plans.size(), 1u);
      EXPECT_EQ(plans[0].kind, "matmul-group");
      sim::SimOptions so;
      so.functional = false;
      sim::SimResult r = sim::simulateFrame(prog, chip, {}, so);
      cost::SequenceCost est = cost::evaluateSequence(chip, plans);
      double err = double(est.latencyCycles) / double(r.totalCycles) - 1;
      std::printf("fused matmul %s, SRAM %llu: simulated %llu, model %llu "
                  "(%+.2f%%), SRAM used %llu\n",
                  c.name, (unsigned long long)sram,
                  (unsigned long long)r.totalCycles,
                  (unsigned long long)est.latencyCycles, 100 * err,
                  (unsigned long long)prog.sramBytesUsed);
      EXPECT_LT(std::fabs(err), 0.05) << c.name << " " << sram;
      EXPECT_EQ(plans[0].sramBytes, prog.sramBytesUsed);
      EXPECT_GE(r.totalCycles, lastCycles);
      lastCycles = r.totalCycles;
    }
  }
}

TEST(FusedMatMulGate, UnfusedKernelsAreTheEmittersOwn) {
  // codegen::unfusedMatMulKernels, the unfused side of the fusion passes'
  // cost comparison (docs/fusion.md), must be the kernels the code
  // generator emits for the unfused ops: same kinds, tiles (SRAM
  // footprints) and modelled costs as the plans generateProgram records,
  // on the perception products at 32 MiB, 128 KiB and 64 KiB of SRAM.
  for (const MatMulGroupShape &s :
       {MatMulGroupShape{1, 768, 448, 1344, true, true},
        MatMulGroupShape{1, 768, 448, 1792, true, true, true},
        MatMulGroupShape{1, 768, 1792, 448, false, true, false, false, true},
        MatMulGroupShape{1, 64, 96, 128, true, false, true, true, true}}) {
    for (uint64_t sram :
         {uint64_t(32) << 20, uint64_t(128) << 10, uint64_t(64) << 10}) {
      GraphBuilder b;
      int v = b.input("x", {s.m, s.k});
      if (s.layernorm) {
        v = b.node(NodeKind::LayerNorm, "ln",
                   {v, b.weight("gamma", {s.k}), b.weight("beta", {s.k})},
                   {s.m, s.k});
        b.last().axis = 1;
      }
      v = b.node(NodeKind::MatMul, "mm", {v, b.weight("w", {s.k, s.n})},
                 {s.m, s.n});
      if (s.bias)
        v = b.node(NodeKind::Add, "bias", {v, b.weight("bias", {s.n})},
                   {s.m, s.n});
      if (s.gelu) {
        v = b.node(NodeKind::Gelu, "gelu", {v}, {s.m, s.n});
        b.last().tanhGelu = s.tanhGelu;
      }
      if (s.residual)
        v = b.node(NodeKind::Add, "res", {v, b.input("r", {s.m, s.n})},
                   {s.m, s.n});
      b.output(v, "out");
      arch::ChipConfig chip = chipWithSram(sram);
      std::vector<cost::Kernel> plans;
      generateProgram(b.g, chip, &plans);
      cost::MatMulGroupOp op;
      op.m = uint64_t(s.m);
      op.k = uint64_t(s.k);
      op.n = uint64_t(s.n);
      op.layernorm = s.layernorm;
      op.bias = s.bias;
      op.gelu = s.gelu;
      op.tanhGelu = s.tanhGelu;
      op.residual = s.residual;
      std::vector<cost::Kernel> ours = unfusedMatMulKernels(chip, sram, op);
      ASSERT_EQ(ours.size(), plans.size()) << s.m << "x" << s.k << "x" << s.n;
      for (size_t i = 0; i < ours.size(); ++i) {
        EXPECT_EQ(ours[i].kind, plans[i].kind) << i;
        EXPECT_EQ(ours[i].sramBytes, plans[i].sramBytes) << i << " " << sram;
        EXPECT_EQ(ours[i].tiles, plans[i].tiles) << i << " " << sram;
        EXPECT_EQ(cost::evaluate(chip, ours[i]).latencyCycles,
                  cost::evaluate(chip, plans[i]).latencyCycles)
            << i << " " << sram;
      }
    }
  }
}

TEST(FusedMatMulErrors, NoTileFitsNamesTheNodeAndBytes) {
  // A layernorm prologue keeps whole K rows: 8 rows of K = 4096 (two A
  // slots of 64 KiB, two B slots of 4096 x 12) do not fit 64 KiB.
  GraphBuilder b;
  b.output(matmulGroup(b, {1, 64, 4096, 64, true, true}), "out");
  try {
    generateProgram(b.g, chipWithSram(64 << 10));
    FAIL() << "expected a CodegenError";
  } catch (const CodegenError &e) {
    EXPECT_STREQ(e.what(),
                 "fused matmul 'proj': no tiling of the fused 64x4096x64 "
                 "product fits 65536 bytes of SRAM; the smallest needs 344576");
  }
}

//===----------------------------------------------------------------------===//
// K and V kept in SRAM across the projection -> attention boundary
//===----------------------------------------------------------------------===//

/// The resident region of `kept` heads for a packed [s, 1, 3d] projection,
/// at the top of `sram` bytes (where tsr-keep-kv puts it).
cost::ResidentKv residentKv(uint64_t kept, int64_t s, int64_t d, int64_t heads,
                            uint64_t sram) {
  cost::ResidentKv kv;
  kv.heads = kept;
  kv.headDim = uint64_t(d / heads);
  kv.rows = uint64_t(s);
  kv.kColumn = uint64_t(d);
  kv.vColumn = uint64_t(2 * d);
  kv.offset = sram - kv.bytes();
  return kv;
}

/// A packed QKV projection (layernorm prologue, bias epilogue when `bias`)
/// of x [s, 1, d] feeding the attention, with K and V of the first `kept`
/// heads in SRAM between them.
int projectionAndAttention(GraphBuilder &b, int64_t s, int64_t d, int64_t heads,
                           uint64_t kept, uint64_t sram, bool bias = true) {
  // x as [s, 1, d] (sequence-first, batch 1): m = s rows.
  std::vector<int> in{b.input("x", {s, 1, d}), b.weight("w", {d, 3 * d}),
                      b.weight("gamma", {d}), b.weight("beta", {d})};
  if (bias)
    in.push_back(b.weight("bias", {3 * d}));
  int qkv = b.node(NodeKind::FusedMatMul, "proj", in, {s, 1, 3 * d});
  GraphNode &p = b.last();
  p.layerNormPrologue = true;
  p.biasEpilogue = bias;
  p.kv = residentKv(kept, s, d, heads, sram);
  int o = b.node(NodeKind::Attention, "attn", {qkv, qkv, qkv}, {1, s, d});
  GraphNode &n = b.last();
  n.heads = heads;
  n.seqK = s;
  n.scale = 1.0f / std::sqrt(float(d / heads));
  for (int64_t part = 0; part < 3; ++part)
    n.qkvLayout.push_back({part * d, 3 * d, 3 * d});
  n.kv = residentKv(kept, s, d, heads, sram);
  return o;
}

class KeepKv : public ::testing::TestWithParam<arch::ChipConfig> {};

TEST_P(KeepKv, ResidentHeadsMatchReference) {
  // Some heads resident, every head resident, and no epilogue (the kept
  // columns copied by vec.copy): the outputs match the FP32 reference as
  // closely as with no head resident (a layernorm projection into a
  // softmax over 40 keys with random weights: about 0.9% of the output's
  // rms in FP16 with or without the split, hence 1e-2), are bit-identical
  // to the no-split program's where the tiles are the same (32 MiB), and
  // only the heads not kept load K and V.
  const arch::ChipConfig &chip = GetParam();
  for (bool bias : {true, false}) {
    GraphBuilder b0;
    b0.output(projectionAndAttention(b0, 40, 64, 4, 0, chip.sram_bytes, bias),
              "out");
    checkAgainstReference(b0, chip, 1e-2);
    sim::SimResult r0 =
        sim::simulateFrame(generateProgram(b0.g, chip), chip, b0.inputs());
    for (uint64_t kept : {1, 2, 4}) {
      SCOPED_TRACE("kept " + std::to_string(kept) + (bias ? " bias" : ""));
      GraphBuilder b;
      b.output(
          projectionAndAttention(b, 40, 64, 4, kept, chip.sram_bytes, bias),
          "out");
      arch::Program prog = checkAgainstReference(b, chip, 1e-2);
      if (chip.sram_bytes == arch::ChipConfig::reference().sram_bytes) {
        sim::SimResult r = sim::simulateFrame(prog, chip, b.inputs());
        EXPECT_EQ(r.outputs.at("out"), r0.outputs.at("out"));
      }
      // The attention (layer 1) loads K and V (columns >= d of the packed
      // rows) of the 4 - kept other heads only.
      uint64_t base = ~uint64_t(0), kvLoads = 0;
      for (const arch::Instr &in : prog.instrs)
        if (in.layer == 1 && in.op == arch::Opcode::DmaLoad)
          base = std::min(base, in.addr[0]);
      for (const arch::Instr &in : prog.instrs)
        kvLoads += in.layer == 1 && in.op == arch::Opcode::DmaLoad &&
                   (in.addr[0] - base) / 2 % (3 * 64) >= 64;
      EXPECT_EQ(kvLoads, 2 * (4 - kept));
    }
  }
}

/// The one-NPU test chips: on a chip of several NPUs tsr-keep-kv refuses
/// (the resident region is one NPU's SRAM; lit Transforms/keep-kv.mlir,
/// NPUS).
std::vector<arch::ChipConfig> oneNpuChips() {
  std::vector<arch::ChipConfig> chips;
  for (const arch::ChipConfig &c : testChips())
    if (c.npus == 1)
      chips.push_back(c);
  return chips;
}

INSTANTIATE_TEST_SUITE_P(Chips, KeepKv, ::testing::ValuesIn(oneNpuChips()),
                         [](const auto &info) { return info.param.name; });

TEST(KeepKvTraffic, BytesRemovedAreTheFormula) {
  // The perception layer's projection and attention (768 tokens, width
  // 448, 7 heads of 64): with k heads resident, the projection stores and
  // the attention loads exactly B k 2 Sk hd e fewer bytes (B = 1, e = 2),
  // in the cost model and in the program; and the cost model prices the two
  // kernels within 5% of the simulated cycles.
  const int64_t s = 768, d = 448, heads = 7, hd = 64;
  arch::ChipConfig chip = arch::ChipConfig::reference();
  uint64_t stored0 = 0, loaded0 = 0, model0 = 0;
  for (uint64_t kept : {0, 3, 7}) {
    GraphBuilder b;
    b.output(projectionAndAttention(b, s, d, heads, kept, chip.sram_bytes),
             "out");
    std::vector<cost::Kernel> plans;
    arch::Program prog = generateProgram(b.g, chip, &plans);
    ASSERT_EQ(plans.size(), 2u);
    uint64_t stored = 0, loaded = 0;
    for (const arch::Instr &in : prog.instrs) {
      if (in.op == arch::Opcode::DmaStore)
        stored += in.dmaBytes();
      if (in.op == arch::Opcode::DmaLoad)
        loaded += in.dmaBytes();
    }
    cost::Cost proj = cost::evaluate(chip, plans[0]),
               att = cost::evaluate(chip, plans[1]);
    uint64_t removed = kept * 2 * s * hd * 2;
    if (!kept) {
      stored0 = stored;
      loaded0 = loaded;
      model0 = proj.dramBytesWritten + att.dramBytesRead;
    }
    EXPECT_EQ(stored0 - stored, removed);
    EXPECT_EQ(loaded0 - loaded, removed);
    EXPECT_EQ(model0 - (proj.dramBytesWritten + att.dramBytesRead),
              2 * removed);
    sim::SimOptions so;
    so.functional = false;
    sim::SimResult r = sim::simulateFrame(prog, chip, {}, so);
    cost::SequenceCost est = cost::evaluateSequence(chip, plans);
    double err = double(est.latencyCycles) / double(r.totalCycles) - 1;
    std::printf("projection + attention, %llu of 7 heads resident: %llu B "
                "stored, %llu B loaded, simulated %llu cycles, model %llu "
                "(%+.2f%%)\n",
                (unsigned long long)kept, (unsigned long long)stored,
                (unsigned long long)loaded, (unsigned long long)r.totalCycles,
                (unsigned long long)est.latencyCycles, 100 * err);
    EXPECT_LT(std::fabs(err), 0.05) << kept;
  }
}

TEST(KeepKvHazards, AttentionReadsTheRegionAfterTheProjectionWrites) {
  // Every read of the resident region in the attention's kernel comes after
  // the projection's write of those bytes: the writer is on the same queue
  // (in order) or a dependency the hazard tracker derived from the SRAM
  // ranges; nothing but the projection writes the region.
  const int64_t s = 40, d = 64, heads = 4;
  for (bool bias : {true, false}) {
    arch::ChipConfig chip = chipWithSram(64 << 10);
    GraphBuilder b;
    b.output(projectionAndAttention(b, s, d, heads, 3, chip.sram_bytes, bias),
             "out");
    arch::Program prog = generateProgram(b.g, chip);
    cost::ResidentKv kv = residentKv(3, s, d, heads, chip.sram_bytes);
    uint64_t lo = kv.offset, hi = kv.offset + kv.bytes();
    size_t checked = 0;
    for (size_t i = 0; i < prog.instrs.size(); ++i) {
      const arch::Instr &r = prog.instrs[i];
      for (const arch::Operand &o : arch::operandsOf(r)) {
        if (o.inDram || o.addr >= hi)
          continue;
        uint64_t end =
            o.addr + (o.rows ? (o.rows - 1) * o.strideBytes : 0) + o.rowBytes;
        if (end <= lo)
          continue;
        if (o.isWrite) {
          // Only the projection (layer 0), on the compute queue, writes it.
          EXPECT_EQ(r.layer, 0u) << i;
          EXPECT_EQ(r.queue(), arch::Queue::Compute) << i;
          continue;
        }
        if (r.layer != 1)
          continue;
        // The latest earlier write of any of these bytes.
        size_t w = i;
        while (w-- > 0) {
          bool hit = false;
          for (const arch::Operand &x : arch::operandsOf(prog.instrs[w]))
            if (x.isWrite && !x.inDram && x.addr < end &&
                o.addr < x.addr + (x.rows ? (x.rows - 1) * x.strideBytes : 0) +
                             x.rowBytes)
              hit = true;
          if (hit)
            break;
        }
        ASSERT_LT(w, i) << "instruction " << i << " reads the region unwritten";
        const arch::Instr &wi = prog.instrs[w];
        EXPECT_EQ(wi.layer, 0u) << "instruction " << i;
        bool ordered = wi.queue() == r.queue() && wi.npu == r.npu;
        for (uint32_t dep : r.deps)
          ordered |= dep >= w && prog.instrs[dep].queue() == wi.queue();
        EXPECT_TRUE(ordered) << "instruction " << i << " reads bytes "
                             << "instruction " << w << " writes, unordered";
        ++checked;
      }
    }
    // Scores and context of the 3 resident heads read K_h and V_h there.
    EXPECT_GE(checked, size_t(3 * 2)) << bias;
    EXPECT_EQ(checked % 6, 0u) << bias;
  }
}

} // namespace
