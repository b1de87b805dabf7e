//===- SramPlanTest.cpp - SRAM allocation of the fused kernels ------------===//
//
// docs/lowering.md, "SRAM allocation": the liveness allocator by hand, the
// checker's messages, and each group kernel's plan against the documented
// footprint formula over many shapes.
//
//===----------------------------------------------------------------------===//

#include "tessera/CostModel/SramPlan.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace tessera;
using namespace tessera::cost;

namespace {

uint64_t al(uint64_t v) { return (v + 63) / 64 * 64; }

/// A carried buffer and three temporaries over phases p0..p3.
SramPlan handPlan() {
  SramPlan p;
  p.phases = {"p0", "p1", "p2", "p3"};
  p.buffers = {{"a", 0, 100, 0, 0, 3, true},
               {"x", 0, 300, 0, 1, 1, false},
               {"y", 0, 200, 0, 2, 2, false},
               {"z", 0, 100, 0, 1, 2, false}};
  allocateSram(p, 64);
  return p;
}

TEST(SramPlan, FirstFitSharesDisjointLifetimes) {
  SramPlan p = handPlan();
  // a first (carried): [0, 100). Then by size: x [128, 428); y is not live
  // with x, so it takes x's bytes: [128, 328); z is live with a, x and y:
  // after x, at 448. Total: al(548) = 576.
  EXPECT_EQ(p.find("a")->offset, 0u);
  EXPECT_EQ(p.find("x")->offset, 128u);
  EXPECT_EQ(p.find("y")->offset, 128u);
  EXPECT_EQ(p.find("z")->offset, 448u);
  EXPECT_EQ(p.total, 576u);
  EXPECT_EQ(checkSramPlan(p, 576), std::nullopt);
}

TEST(SramPlan, CheckNamesBothOverlappingBuffers) {
  SramPlan p = handPlan();
  p.buffers[3].offset = 256; // z onto x's and y's bytes: x first.
  EXPECT_EQ(checkSramPlan(p, 1 << 20).value_or(""),
            "buffers 'x' [128, 428) and 'z' [256, 356) overlap while both "
            "are live (phase 'p1')");
  p.buffers[1].offset = 1024; // x moved away: y and z, live in p2.
  EXPECT_EQ(checkSramPlan(p, 1 << 20).value_or(""),
            "buffers 'y' [128, 328) and 'z' [256, 356) overlap while both "
            "are live (phase 'p2')");
  p.buffers[3].first = p.buffers[3].last = 1; // z only in p1: no conflict.
  EXPECT_EQ(checkSramPlan(p, 1 << 20), std::nullopt);
  p = handPlan();
  EXPECT_EQ(checkSramPlan(p, 512).value_or(""),
            "buffer 'z' at [448, 548) ends past the 512 bytes of SRAM");
  SramPlan twice = p;
  twice.buffers.push_back(twice.buffers[0]);
  twice.buffers.back().offset = 2048;
  EXPECT_EQ(checkSramPlan(twice, 1 << 20).value_or(""),
            "buffer 'a' is listed twice");
  p.buffers[1].last = 4;
  EXPECT_EQ(checkSramPlan(p, 1 << 20).value_or(""),
            "buffer 'x' is live over phases 1..4, the kernel has 4");
}

TEST(SramPlan, RingSlotsAreNamedBySlot) {
  AttentionOp op;
  op.sq = op.sk = 16;
  op.headDim = 16;
  op.heads = 2;
  SramPlan p = attentionSramPlan(op, {16});
  EXPECT_EQ(sramBufferName(*p.find("k", 1), p), "k[1]");
  EXPECT_EQ(sramBufferName(*p.find("s"), p), "s");
}

TEST(SramPlan, AttentionMatchesTheDocumentedFootprint) {
  for (uint64_t sk : {8, 40, 96, 768})
    for (uint64_t hd : {4, 16, 64})
      for (uint64_t tq : {8, 24, 100, 768}) {
        AttentionOp op;
        op.sq = 768;
        op.sk = sk;
        op.headDim = hd;
        op.heads = 7;
        SramPlan p = attentionSramPlan(op, {tq});
        uint64_t e = 2;
        uint64_t want = 4 * al(sk * hd * e) + 4 * al(tq * hd * e) +
                        al(4 * tq * sk) +
                        std::max(al(tq * sk * e), al(tq * hd * e));
        SCOPED_TRACE("sk " + std::to_string(sk) + " hd " + std::to_string(hd) +
                     " tq " + std::to_string(tq));
        EXPECT_EQ(p.total, want);
        EXPECT_EQ(attentionSramBytes(op, {tq}), want);
        EXPECT_EQ(checkSramPlan(p, want), std::nullopt);
        // The rings in the emitter's order: K, V, Q of slot 0, then 1.
        EXPECT_EQ(p.find("k", 0)->offset, 0u);
        EXPECT_EQ(p.find("v", 0)->offset, al(sk * hd * e));
        EXPECT_EQ(p.find("q", 0)->offset, 2 * al(sk * hd * e));
        EXPECT_EQ(p.find("o", 0)->offset,
                  4 * al(sk * hd * e) + 2 * al(tq * hd * e));
        // The scaled Q and the probabilities share bytes.
        EXPECT_EQ(p.find("qs")->offset, p.find("p")->offset);
      }
}

TEST(SramPlan, MatMulGroupMatchesTheDocumentedFootprint) {
  for (int flags = 0; flags < 8; ++flags)
    for (uint64_t tk : {32, 96, 448})
      for (uint64_t tm : {8, 96})
        for (uint64_t tn : {24, 96}) {
          MatMulGroupOp op;
          op.m = 768;
          op.k = 448;
          op.n = 1344;
          op.bias = flags & 1;
          op.layernorm = flags & 2;
          op.residual = flags & 4;
          uint64_t e = 2, nk = (op.k + tk - 1) / tk;
          SramPlan p = matmulGroupSramPlan(op, {tm, tk, tn});
          uint64_t want = (op.bias ? al(op.n * e) : 0) +
                          (op.layernorm ? 2 * al(op.k * e) : 0) +
                          2 * al(tm * tk * e) + 2 * al(tk * tn * e) +
                          2 * al(tm * tn * e) + (nk > 1 ? al(4 * tm * tn) : 0) +
                          (op.residual ? 2 * al(tm * tn * e) : 0);
          SCOPED_TRACE("flags " + std::to_string(flags) + " tile " +
                       std::to_string(tm) + "x" + std::to_string(tk) + "x" +
                       std::to_string(tn));
          EXPECT_EQ(p.total, want);
          EXPECT_EQ(matmulGroupSramBytes(op, {tm, tk, tn}), want);
          EXPECT_EQ(matmulGroupKernel(op, {tm, tk, tn}).sramBytes, want);
          EXPECT_EQ(checkSramPlan(p, want), std::nullopt);
          EXPECT_EQ(p.find("acc") != nullptr, nk > 1);
          EXPECT_EQ(p.find("acc", 1), nullptr); // One accumulator.
        }
}

TEST(SramPlan, ResidentKvRegionIsFixedAndTheRestFitsAround) {
  // tsr-keep-kv's region (docs/lowering.md, "SRAM allocation"): k x 2 x
  // al(Sk hd e) bytes at the offset given, live over every phase; the
  // kernel's own buffers keep the offsets they have without it when they
  // fit below it, and never overlap it. With every head resident the
  // attention has no K/V slots: 4 al(Sk hd e) less.
  const uint64_t sram = 32u << 20;
  for (uint64_t kept : {1, 4, 7}) {
    ResidentKv kv;
    kv.heads = kept;
    kv.headDim = 64;
    kv.rows = 768;
    kv.kColumn = 448;
    kv.vColumn = 896;
    EXPECT_EQ(kv.blockBytes(), 98304u);
    EXPECT_EQ(kv.bytes(), kept * 2 * 98304);
    kv.offset = sram - kv.bytes();
    EXPECT_EQ(kv.kAddr(1), kv.offset + 2 * 98304);
    EXPECT_EQ(kv.vAddr(1), kv.offset + 3 * 98304);
    AttentionOp att;
    att.heads = 7;
    att.headDim = 64;
    att.sq = att.sk = 768;
    att.kv = kv;
    MatMulGroupOp mm;
    mm.m = 768;
    mm.k = 448;
    mm.n = 1344;
    mm.layernorm = mm.bias = true;
    mm.kv = kv;
    for (SramPlan own : {attentionSramPlan(att, {768}),
                         matmulGroupSramPlan(mm, {768, 448, 96})}) {
      SramPlan p = withResidentKv(own, kv);
      const SramBuffer *r = p.find(kResidentKvBuffer);
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(r->offset, kv.offset);
      EXPECT_EQ(r->bytes, kv.bytes());
      EXPECT_EQ(r->first, 0u);
      EXPECT_EQ(r->last, p.phases.size() - 1);
      EXPECT_EQ(p.total, sram);
      EXPECT_EQ(checkSramPlan(p, sram), std::nullopt);
      for (const SramBuffer &b : own.buffers)
        EXPECT_EQ(p.find(b.name, b.slot)->offset, b.offset) << b.name;
    }
    AttentionOp all = att;
    all.kv.heads = 0;
    EXPECT_EQ(attentionSramPlan(all, {768}).total -
                  attentionSramPlan(att, {768}).total,
              kept == 7 ? 4 * 98304u : 0u);
    EXPECT_EQ(attentionSramPlan(att, {768}).find("k") == nullptr, kept == 7);
  }
  // A region where the kernel's buffers would be: they move around it.
  ResidentKv kv;
  kv.heads = 1;
  kv.headDim = 64;
  kv.rows = 768;
  kv.offset = 0;
  AttentionOp att;
  att.heads = 7;
  att.headDim = 64;
  att.sq = att.sk = 768;
  SramPlan p = withResidentKv(attentionSramPlan(att, {768}), kv);
  EXPECT_EQ(checkSramPlan(p, sram), std::nullopt);
  EXPECT_EQ(p.find("kv")->offset, 0u);
  EXPECT_GE(p.find("k")->offset, kv.bytes());
}

TEST(SramPlan, ColumnSegmentsCutAtTheKeptRanges) {
  // Columns [384, 480) of a row tile starting at row 96, 2 heads of 64
  // kept (K at columns 448.., V at 896..): [384, 448) stored, [448, 480)
  // into K_0's block at row 96, column 0.
  ResidentKv kv;
  kv.heads = 2;
  kv.headDim = 64;
  kv.rows = 768;
  kv.kColumn = 448;
  kv.vColumn = 896;
  kv.offset = 1 << 20;
  std::vector<ColumnSegment> s = columnSegments(kv, 96, 384, 96);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].col, 384u);
  EXPECT_EQ(s[0].cols, 64u);
  EXPECT_FALSE(s[0].kept);
  EXPECT_EQ(s[1].col, 448u);
  EXPECT_EQ(s[1].cols, 32u);
  EXPECT_TRUE(s[1].kept);
  EXPECT_EQ(s[1].sram, kv.kAddr(0) + 96 * 64 * 2);
  EXPECT_EQ(s[1].sramStride, 64u);
  // [480, 608): the rest of K_0 and all of K_1 (kept), then columns
  // 576..607 (head 2's K, not kept: stored).
  s = columnSegments(kv, 0, 480, 128);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].cols, 32u); // K_0 columns 32..63
  EXPECT_EQ(s[0].sram, kv.kAddr(0) + 32 * 2);
  EXPECT_EQ(s[1].cols, 64u); // K_1
  EXPECT_EQ(s[1].sram, kv.kAddr(1));
  EXPECT_FALSE(s[2].kept); // columns 576..607: head 2's K, stored
  EXPECT_EQ(s[2].cols, 32u);
  // Nothing kept: one stored segment.
  s = columnSegments(ResidentKv{}, 0, 0, 96);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_FALSE(s[0].kept);
  EXPECT_EQ(s[0].cols, 96u);
}

// The bare kernels' plans (docs/lowering.md, "Decisions of the unfused
// kernels"): every buffer carried, placed in listing order one after the
// other (the emitter's bump allocation), the total equal to the footprint
// the cost model prices, over many shapes and tiles.
TEST(SramPlan, BareKernelPlansMatchTheModelledFootprint) {
  for (uint64_t m : {1u, 7u, 64u, 200u})
    for (uint64_t k : {8u, 96u, 300u})
      for (uint64_t n : {16u, 128u})
        for (uint64_t t : {8u, 32u, 96u}) {
          GemmOp op{1, m, k, n};
          GemmTiling tile{std::min(t, m), std::min(t, k), std::min(t, n)};
          SramPlan p = gemmSramPlan(op, tile);
          EXPECT_EQ(p.total, gemmKernel(op, tile).sramBytes)
              << m << "x" << k << "x" << n << " tile " << t;
          EXPECT_EQ(checkSramPlan(p, p.total), std::nullopt);
          EXPECT_EQ(p.find("acc") != nullptr, k > tile.tk);
          uint64_t end = 0;
          for (const SramBuffer &b : p.buffers) {
            EXPECT_TRUE(b.carried);
            EXPECT_EQ(b.offset, al(end)) << b.name << b.slot;
            end = b.offset + b.bytes;
          }
        }
  for (arch::Opcode opc : {arch::Opcode::VecErf, arch::Opcode::VecLayerNorm,
                           arch::Opcode::VecSoftmax, arch::Opcode::VecAdd})
    for (Operand2 second : {Operand2::None, Operand2::Full, Operand2::Row,
                            Operand2::Col, Operand2::Scalar})
      for (uint64_t rows : {1u, 9u, 1024u})
        for (uint64_t cols : {5u, 64u, 768u})
          for (RowTiling t : {RowTiling{1, 8}, RowTiling{8, 64},
                              RowTiling{32, 768}}) {
            VectorOp op;
            op.op = opc;
            op.rows = rows;
            op.cols = cols;
            op.second = opc == arch::Opcode::VecAdd ? second : Operand2::None;
            SramPlan p = vectorSramPlan(op, t);
            EXPECT_EQ(p.total, vectorKernel(op, t).sramBytes)
                << rows << "x" << cols << " tile " << t.tr << "x" << t.tc;
            EXPECT_EQ(checkSramPlan(p, p.total), std::nullopt);
          }
  for (uint64_t rows : {1u, 33u, 4096u})
    for (uint64_t cols : {3u, 768u})
      for (uint64_t tr : {1u, 8u, 64u}) {
        SramPlan p = reduceSramPlan(rows, cols, tr);
        EXPECT_EQ(p.total, reduceKernel(arch::Opcode::VecReduceSum, rows, cols,
                                        tr, "x", "out")
                               .sramBytes);
      }
  ChainOp act;
  act.rows = 100;
  act.cols = 64;
  act.inputs = {"x"};
  act.inputBytes = {2};
  act.chain = {arch::Opcode::VecMaxImm};
  act.workBytes = 4;
  ChainOp where = act;
  where.inputs = {"c", "a", "b"};
  where.inputBytes = {2, 2, 2};
  where.workBytes = 2;
  for (const ChainOp &op : {act, where})
    for (RowTiling t : {RowTiling{1, 8}, RowTiling{16, 64}, RowTiling{100, 64}}) {
      SramPlan p = chainSramPlan(op, t);
      EXPECT_EQ(p.total, chainKernel(op, t).sramBytes);
      EXPECT_EQ(p.find("work", 1)->bytes, t.tr * t.tc * op.workBytes);
    }
}

// The searches of the reductions and chains keep the lowest modelled
// latency among the tiles that fit, and say nothing fits below the smallest
// tile's footprint.
TEST(SramPlan, ReduceAndChainSearchesRespectTheBudget) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  auto r = searchReduce(chip, arch::Opcode::VecReduceSum, 4096, 768);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tiling.tc, 768u);
  Constraints small;
  small.sramBytes =
      reduceKernel(arch::Opcode::VecReduceSum, 4096, 768, 1, "x", "out")
          .sramBytes -
      1;
  EXPECT_FALSE(searchReduce(chip, arch::Opcode::VecReduceSum, 4096, 768, small));
  ChainOp op;
  op.rows = 12288;
  op.cols = 64;
  op.inputs = {"x"};
  op.inputBytes = {2};
  op.chain = {arch::Opcode::VecMaxImm};
  op.workBytes = 4;
  auto c = searchChain(chip, op);
  ASSERT_TRUE(c);
  EXPECT_LE(c->cost.sramBytes, chip.sram_bytes);
  for (RowTiling t : {RowTiling{8, 64}, RowTiling{64, 64}, RowTiling{1024, 64}})
    EXPECT_LE(c->cost.latencyCycles,
              evaluate(chip, chainKernel(op, t)).latencyCycles);
  EXPECT_EQ(smallestRowTiling(9, 768, false), (RowTiling{1, 8}));
  EXPECT_EQ(smallestRowTiling(9, 768, true), (RowTiling{1, 768}));
}

} // namespace
