//===- MovementKernelsTest.cpp - Movement and CNN kernels' model ----------===//
//
// docs/cost-model.md ("Movement and CNN kernels") and docs/lowering.md
// ("Kernels"): the views the code generator and the passes share, the band
// kernels by tile class against a step-by-step walk of the emitter's loops,
// the SRAM plans' documented byte figures, and the searches (every one at
// least as fast by the model as the tile the code generator's heuristic
// chose before it, and failing with the smallest footprint when nothing
// fits).
//
//===----------------------------------------------------------------------===//

#include "tessera/CostModel/MovementKernels.h"

#include <gtest/gtest.h>

using namespace tessera;
using namespace tessera::cost;
using arch::Opcode;

namespace {

arch::ChipConfig ref() { return arch::ChipConfig::reference(); }

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

TEST(MovementKernels, CopyViewMergesContiguousAxes) {
  // A [4, 2, 16] window of a [4, 8, 16] tensor into a [4, 2, 16] one: the
  // last two axes are contiguous on both sides, so the copy is 4 rows of 32
  // elements, 128 and 32 elements apart.
  CopyView v = copyView({4, 2, 16}, {128, 16, 1}, {32, 16, 1});
  EXPECT_TRUE(v.outer.empty());
  EXPECT_EQ(v.rows, 4);
  EXPECT_EQ(v.cols, 32);
  EXPECT_EQ(v.rowSrc, 128);
  EXPECT_EQ(v.rowDst, 32);
  MoveOp m = v.move("x", "y");
  EXPECT_EQ(m.batch, 1u);
  EXPECT_EQ(m.srcStrideBytes, 256u);
  EXPECT_EQ(m.dstStrideBytes, 64u);
  // A step on the last axis: rows of one element.
  CopyView s = copyView({8}, {2}, {1});
  EXPECT_EQ(s.rows, 8);
  EXPECT_EQ(s.cols, 1);
  EXPECT_EQ(s.rowSrc, 2);
  EXPECT_EQ(s.rowDst, 1);
  // An iterated outer axis: [3, 4, 5] of a [3, 8, 10] tensor.
  CopyView o = copyView({3, 4, 5}, {80, 10, 1}, {20, 5, 1});
  ASSERT_EQ(o.outer, std::vector<int64_t>{3});
  EXPECT_EQ(o.outerSrc, std::vector<int64_t>{80});
  EXPECT_EQ(o.outerDst, std::vector<int64_t>{20});
  EXPECT_EQ(o.batch(), 3u);
  EXPECT_EQ(o.rows, 4);
  EXPECT_EQ(o.cols, 5);
  // A contiguous tensor: rows of 64 when 64 divides it.
  EXPECT_EQ(contiguousView(256).rows, 4);
  EXPECT_EQ(contiguousView(100).cols, 100);
}

TEST(MovementKernels, TransposeViews) {
  // (1, 0, 2) on [2, 3, 4]: rows of 4 move; the DMA walks result axis 0
  // (3 rows, 4 elements apart in the input, 8 in the result), axis 1 (2)
  // is iterated.
  TransposeView a = transposeView({2, 3, 4}, {1, 0, 2});
  EXPECT_FALSE(a.identity);
  EXPECT_FALSE(a.transpose);
  EXPECT_EQ(a.view.rows, 3);
  EXPECT_EQ(a.view.cols, 4);
  EXPECT_EQ(a.view.rowSrc, 4);
  EXPECT_EQ(a.view.rowDst, 8);
  EXPECT_EQ(a.view.outer, std::vector<int64_t>{2});
  EXPECT_EQ(a.view.outerSrc, std::vector<int64_t>{12});
  EXPECT_EQ(a.view.outerDst, std::vector<int64_t>{4});
  // (0, 2, 1): [3, 4] slices transposed; the input's last axis lands on
  // result axis 1 (rows 3 elements apart).
  TransposeView b = transposeView({2, 3, 4}, {0, 2, 1});
  EXPECT_TRUE(b.transpose);
  EXPECT_EQ(b.q, 1);
  EXPECT_EQ(b.j, 1);
  EXPECT_EQ(b.view.rows, 3);
  EXPECT_EQ(b.view.cols, 4);
  EXPECT_EQ(b.view.rowSrc, 4);
  EXPECT_EQ(b.view.rowDst, 3);
  EXPECT_EQ(b.view.outer, std::vector<int64_t>{2});
  // Only axes of extent 1 move: no kernel.
  EXPECT_TRUE(transposeView({1, 5, 4}, {1, 0, 2}).identity);
}

//===----------------------------------------------------------------------===//
// Band kernels against a step-by-step walk
//===----------------------------------------------------------------------===//

/// The im2col kernel one step per (band, group, channel block), instruction
/// by instruction, as the code generator emits it.
Kernel walkIm2col(const ConvOp &op, const BandTiling &t) {
  uint64_t e = 2;
  int64_t H = op.height, W = op.width, OH = op.outH, OW = op.outW,
          KH = op.kernelH, KW = op.kernelW;
  int64_t sh = op.strideH, sw = op.strideW, dh = op.dilationH,
          dw = op.dilationW, pt = op.padTop, pl = op.padLeft;
  int64_t Cg = op.channelsPerGroup(), P = OH * OW;
  Kernel k;
  k.kind = "im2col";
  k.streams.resize(2);
  k.streams[0].tensor = op.x;
  k.streams[1].tensor = op.im2col;
  k.streams[1].store = true;
  auto instr = [](Step &s, Opcode o, uint64_t a, uint64_t b) {
    ComputeClass c;
    c.op = o;
    c.dims[0] = a;
    c.dims[1] = b;
    c.count = 1;
    s.compute.push_back(c);
  };
  auto xf = [](uint64_t rows, uint64_t bytes, uint64_t stride) {
    return Transfer{rows, bytes, rows > 1 ? stride : bytes};
  };
  Step first;
  int64_t ones = std::min<int64_t>(P, 65536);
  instr(first, Opcode::VecFill, 1, ones);
  for (uint64_t g = 0; g < op.groups; ++g)
    for (int64_t p = 0; p < P; p += ones)
      first.stores.push_back({1, xf(1, std::min(ones, P - p) * e, P * e)});
  k.loop.add(first);
  for (int64_t oh0 = 0; oh0 < OH; oh0 += int64_t(t.toh)) {
    int64_t toh = std::min<int64_t>(t.toh, OH - oh0);
    int64_t ihLo = std::max<int64_t>(0, oh0 * sh - pt);
    int64_t ihHi = std::min(H, (oh0 + toh - 1) * sh - pt + (KH - 1) * dh + 1);
    int64_t nih = std::max<int64_t>(ihHi - ihLo, 0);
    for (uint64_t g = 0; g < op.groups; ++g)
      for (int64_t c0 = 0; c0 < Cg; c0 += int64_t(t.cb)) {
        int64_t cb = std::min<int64_t>(t.cb, Cg - c0);
        Step s;
        if (nih > 0)
          s.loads.push_back({0, xf(cb, nih * W * e, H * W * e)});
        bool padded = false;
        for (int64_t ky = 0; ky < KH; ++ky)
          for (int64_t kx = 0; kx < KW; ++kx) {
            auto [a0, a1] = windowRange(oh0, oh0 + toh, sh, pt, ky * dh, H);
            auto [b0, b1] = windowRange(0, OW, sw, pl, kx * dw, W);
            padded |= a0 != oh0 || a1 != oh0 + toh || b0 != 0 || b1 != OW;
          }
        if (padded)
          instr(s, Opcode::VecFill, cb * KH * KW, toh * OW);
        for (int64_t c = 0; c < cb; ++c)
          for (int64_t ky = 0; ky < KH; ++ky)
            for (int64_t kx = 0; kx < KW; ++kx) {
              auto [a0, a1] = windowRange(oh0, oh0 + toh, sh, pt, ky * dh, H);
              auto [b0, b1] = windowRange(0, OW, sw, pl, kx * dw, W);
              if (a0 < a1 && b0 < b1)
                instr(s, Opcode::VecGather, a1 - a0, b1 - b0);
            }
        s.stores.push_back({1, xf(cb * KH * KW, toh * OW * e, P * e)});
        k.loop.add(s);
      }
  }
  Kernel byClass = im2colKernel(op, t);
  k.sramBytes = byClass.sramBytes;
  k.firstLoadSramEnd = byClass.firstLoadSramEnd;
  k.storeSramBegin = byClass.storeSramBegin;
  finalizeKernel(k);
  return k;
}

void expectSameCost(const Kernel &a, const Kernel &b) {
  Cost x = evaluate(ref(), a), y = evaluate(ref(), b);
  EXPECT_EQ(x.loads, y.loads);
  EXPECT_EQ(x.stores, y.stores);
  EXPECT_EQ(x.dramBytesRead, y.dramBytesRead);
  EXPECT_EQ(x.dramBytesWritten, y.dramBytesWritten);
  EXPECT_EQ(x.dramBusBytes, y.dramBusBytes);
  EXPECT_EQ(x.vectorCycles, y.vectorCycles);
  EXPECT_EQ(x.latencyCycles, y.latencyCycles);
  EXPECT_EQ(a.tiles, b.tiles);
}

ConvOp conv(uint64_t c, uint64_t hw, uint64_t o, uint64_t k, int64_t s,
            int64_t pad, uint64_t groups = 1) {
  ConvOp op;
  op.channels = c;
  op.height = op.width = hw;
  op.outChannels = o;
  op.groups = groups;
  op.kernelH = op.kernelW = k;
  op.strideH = op.strideW = s;
  op.padTop = op.padLeft = pad;
  op.outH = op.outW = (hw + 2 * pad - k) / s + 1;
  return op;
}

TEST(MovementKernels, Im2colClassesMatchStepWalk) {
  // ResNet-18's stem and a 3x3 block conv, a strided 1x1, a grouped and a
  // depthwise one, each on several bands (ragged ones included).
  std::vector<ConvOp> ops = {conv(3, 32, 8, 7, 2, 3), conv(16, 14, 16, 3, 1, 1),
                             conv(16, 14, 32, 1, 2, 0),
                             conv(8, 10, 8, 3, 1, 1, 2),
                             conv(6, 9, 6, 3, 2, 1, 6)};
  for (const ConvOp &op : ops)
    for (BandTiling t : {BandTiling{1, 1}, BandTiling{2, 3}, BandTiling{3, 4},
                         BandTiling{op.channelsPerGroup(), op.outH}}) {
      SCOPED_TRACE("C " + std::to_string(op.channels) + " band " +
                   std::to_string(t.cb) + "x" + std::to_string(t.toh));
      Kernel k = im2colKernel(op, t);
      expectSameCost(k, walkIm2col(op, t));
      // Interior bands are one class: a handful of items, not one per band.
      EXPECT_LE(k.loop.items.size(), 6u);
    }
}

TEST(MovementKernels, Im2colByHand) {
  // One 4x4 channel, 3x3 window, padding 1: one band of 4 rows. Staged
  // rows 1 x 4 x 4 x 2 = 32 bytes, tile 9 x 16 x 2 = 288, ones 16 x 2 = 32:
  // stage 0 @0, stage 1 @64, tile 0 @128, tile 1 @448, ones @768; 832.
  ConvOp op = conv(1, 4, 2, 3, 1, 1);
  SramPlan p = im2colSramPlan(op, {1, 4});
  EXPECT_EQ(p.find("stage", 1)->offset, 64u);
  EXPECT_EQ(p.find("tile", 0)->offset, 128u);
  EXPECT_EQ(p.find("tile", 1)->offset, 448u);
  EXPECT_EQ(p.find("ones")->offset, 768u);
  EXPECT_EQ(p.total, 832u);
  EXPECT_FALSE(checkSramPlan(p, 832));
  Kernel k = im2colKernel(op, {1, 4});
  EXPECT_EQ(k.sramBytes, 832u);
  Cost c = evaluate(ref(), k);
  EXPECT_EQ(c.loads, 1u);
  EXPECT_EQ(c.stores, 2u); // The ones row, the tile.
  EXPECT_EQ(c.dramBytesRead, 32u);
  EXPECT_EQ(c.dramBytesWritten, 320u); // (9 + 1) rows x 16 x 2.
  // The fill of the ones, the fill of the padded tile, nine gathers.
  uint64_t fills = 0, gathers = 0;
  for (const ComputeClass &cc : k.compute)
    (cc.op == Opcode::VecFill ? fills : gathers) += cc.count;
  EXPECT_EQ(fills, 2u);
  EXPECT_EQ(gathers, 9u);
}

/// The pooling kernel one step per (band, plane block), instruction by
/// instruction, as the code generator emits it.
Kernel walkPool(const PoolOp &op, const BandTiling &t) {
  uint64_t e = 2;
  int64_t H = op.height, W = op.width, OH = op.outH, OW = op.outW,
          KH = op.kernelH, KW = op.kernelW, NC = op.planes;
  int64_t sh = op.strideH, sw = op.strideW, pt = op.padTop, pl = op.padLeft;
  Kernel k;
  k.kind = "pool";
  k.streams.resize(3);
  k.streams[0].tensor = op.x;
  k.streams[1].tensor = op.divisors;
  k.streams[2].tensor = op.out;
  k.streams[2].store = true;
  auto instr = [](Step &s, Opcode o, uint64_t a, uint64_t b) {
    ComputeClass c;
    c.op = o;
    c.dims[0] = a;
    c.dims[1] = b;
    c.count = 1;
    s.compute.push_back(c);
  };
  auto xf = [](uint64_t rows, uint64_t bytes, uint64_t stride) {
    return Transfer{rows, bytes, rows > 1 ? stride : bytes};
  };
  for (int64_t oh0 = 0; oh0 < OH; oh0 += int64_t(t.toh))
    for (int64_t c0 = 0; c0 < NC; c0 += int64_t(t.cb)) {
      int64_t toh = std::min<int64_t>(t.toh, OH - oh0),
              cb = std::min<int64_t>(t.cb, NC - c0), cols = toh * OW;
      int64_t ihLo = std::max<int64_t>(0, oh0 * sh - pt);
      int64_t ihHi = std::min(H, (oh0 + toh - 1) * sh - pt + KH);
      int64_t nih = std::max<int64_t>(ihHi - ihLo, 0);
      Step s;
      if (nih > 0)
        s.loads.push_back({0, xf(cb, nih * W * e, H * W * e)});
      bool first = true;
      for (int64_t ky = 0; ky < KH; ++ky)
        for (int64_t kx = 0; kx < KW; ++kx) {
          auto [a0, a1] = windowRange(oh0, oh0 + toh, sh, pt, ky, H);
          auto [b0, b1] = windowRange(0, OW, sw, pl, kx, W);
          if (!(a0 == oh0 && a1 == oh0 + toh && b0 == 0 && b1 == OW))
            instr(s, Opcode::VecFill, cb, cols);
          if (a0 < a1 && b0 < b1) {
            if (cb <= a1 - a0)
              for (int64_t c = 0; c < cb; ++c)
                instr(s, Opcode::VecGather, a1 - a0, b1 - b0);
            else
              for (int64_t r = 0; r < a1 - a0; ++r)
                instr(s, Opcode::VecGather, cb, b1 - b0);
          }
          instr(s,
                first ? Opcode::VecCopy
                      : (op.max ? Opcode::VecMax : Opcode::VecAdd),
                cb, cols);
          first = false;
        }
      instr(s,
            !op.max && op.countIncludePad ? Opcode::VecScale : Opcode::VecCopy,
            cb, cols);
      if (op.divides()) {
        s.loads.push_back({1, xf(1, cols * e, cols * e)});
        instr(s, Opcode::VecMul, cb, cols);
      }
      s.stores.push_back({2, xf(cb, cols * e, OH * OW * e)});
      k.loop.add(s);
    }
  Kernel byClass = poolKernel(op, t);
  k.sramBytes = byClass.sramBytes;
  k.firstLoadSramEnd = byClass.firstLoadSramEnd;
  k.storeSramBegin = byClass.storeSramBegin;
  finalizeKernel(k);
  return k;
}

TEST(MovementKernels, PoolClassesMatchStepWalk) {
  for (bool max : {true, false})
    for (bool inc : {false, true}) {
      PoolOp op;
      op.planes = 6;
      op.height = op.width = 11;
      op.kernelH = op.kernelW = 3;
      op.strideH = op.strideW = 2;
      op.padTop = op.padLeft = 1;
      op.outH = op.outW = 6;
      op.max = max;
      op.countIncludePad = inc;
      for (BandTiling t : {BandTiling{1, 1}, BandTiling{4, 2}, BandTiling{6, 6},
                           BandTiling{5, 4}}) {
        SCOPED_TRACE(std::to_string(max) + std::to_string(inc) + " band " +
                     std::to_string(t.cb) + "x" + std::to_string(t.toh));
        Kernel k = poolKernel(op, t);
        expectSameCost(k, walkPool(op, t));
        EXPECT_LE(k.loop.items.size(), 4u);
      }
    }
}

TEST(MovementKernels, PoolPlanByHand) {
  // 3x3 stride 2 padding 1 on 2 planes of 8x8: 4x4 outputs; band 2 x 4.
  // Staged rows 2 x 8 x 8 x 2 = 256 bytes; output tile 2 x 4 x 4 = 32
  // elements: out 64 bytes, tap and acc 128 (FP32).
  PoolOp op;
  op.planes = 2;
  op.height = op.width = 8;
  op.kernelH = op.kernelW = 3;
  op.strideH = op.strideW = 2;
  op.padTop = op.padLeft = 1;
  op.outH = op.outW = 4;
  SramPlan p = poolSramPlan(op, {2, 4});
  EXPECT_EQ(p.find("stage", 1)->offset, 256u);
  EXPECT_EQ(p.find("out", 0)->offset, 512u);
  EXPECT_EQ(p.find("out", 1)->offset, 576u);
  EXPECT_EQ(p.find("tap")->offset, 640u);
  EXPECT_EQ(p.find("acc")->offset, 768u);
  EXPECT_EQ(p.total, 896u);
  EXPECT_EQ(poolKernel(op, {2, 4}).sramBytes, 896u);
  EXPECT_FALSE(checkSramPlan(p, 896));
  // An average of the inside elements adds two divisor rows (4 x 4 x 2 =
  // 32 bytes each, 64 aligned) before the FP32 tiles.
  op.max = false;
  SramPlan d = poolSramPlan(op, {2, 4});
  EXPECT_EQ(d.find("div", 0)->offset, 640u);
  EXPECT_EQ(d.find("div", 1)->offset, 704u);
  EXPECT_EQ(d.total, 1024u);
}

TEST(MovementKernels, OtherPlansByHand) {
  // A copy of 8 x 100 in 4 x 64 tiles: two 512-byte slots.
  MoveOp m;
  m.rows = 8;
  m.cols = 100;
  m.srcStrideBytes = m.dstStrideBytes = 200;
  SramPlan c = moveSramPlan(m, {4, 64});
  EXPECT_EQ(c.phases.size(), 2u);
  EXPECT_EQ(c.find("buf", 1)->offset, 512u);
  EXPECT_EQ(c.total, 1024u);
  // The same as a transpose: in and out rings, four slots.
  m.transpose = true;
  SramPlan t = moveSramPlan(m, {4, 64});
  EXPECT_EQ(t.find("out", 0)->offset, 1024u);
  EXPECT_EQ(t.total, 2048u);
  EXPECT_EQ(t.total, moveKernel(m, {4, 64}).sramBytes);
  // A gather of 8 rows of 100 bytes: ids 32 bytes (64 aligned) x 2, rows
  // 800 (832 aligned) x 2.
  SramPlan g = gatherSramPlan(20, 8, 100);
  EXPECT_EQ(g.find("rows", 0)->offset, 128u);
  EXPECT_EQ(g.find("rows", 1)->offset, 960u);
  EXPECT_EQ(g.total, 1792u);
  EXPECT_EQ(g.total, gatherKernel(20, 8, 100, "i", "t", "o").sramBytes);
  // Where: three FP16 inputs and the result, 8 x 64 tiles of 1 KiB.
  ChainOp w;
  w.rows = 16;
  w.cols = 64;
  w.inputs = {"c", "x", "y"};
  w.inputBytes = {2, 2, 2};
  w.chain = {Opcode::VecSelect};
  SramPlan wp = chainSramPlan(w, {8, 64});
  EXPECT_EQ(wp.find("x2", 1)->offset, 5u * 1024);
  EXPECT_EQ(wp.find("work", 1)->offset, 7u * 1024);
  EXPECT_EQ(wp.total, 8u * 1024);
  EXPECT_EQ(wp.total, chainKernel(w, {8, 64}).sramBytes);
  for (const SramPlan *p : {&c, &t, &g, &wp})
    EXPECT_FALSE(checkSramPlan(*p, p->total));
}

//===----------------------------------------------------------------------===//
// Searches
//===----------------------------------------------------------------------===//

/// The band the code generator's heuristic chose before the search: halve
/// cb, then toh, until both rings fit (with nine alignment slacks) and each
/// buffer is under 256 KiB.
BandTiling heuristicIm2col(const ConvOp &op, uint64_t budget) {
  uint64_t e = 2, slack = 9 * 64, avail = budget > slack ? budget - slack : 0;
  BandTiling t{op.channelsPerGroup(), op.outH};
  for (;;) {
    uint64_t stage = t.cb * im2colStagedRows(op, t.toh) * op.width * e;
    uint64_t tile = t.cb * op.taps() * t.toh * op.outW * e;
    if (2 * stage + 2 * tile <= avail && stage <= 2 * kTileCapBytes &&
        tile <= 2 * kTileCapBytes)
      return t;
    if (t.cb > 1)
      t.cb = (t.cb + 1) / 2;
    else if (t.toh > 1)
      t.toh = (t.toh + 1) / 2;
    else
      return t;
  }
}

TEST(MovementKernels, Im2colSearchNeverSlowerThanTheHeuristic) {
  // ResNet-18's convolutions (224 x 224 input) on the reference chip.
  std::vector<ConvOp> ops = {
      conv(3, 224, 64, 7, 2, 3),  conv(64, 56, 64, 3, 1, 1),
      conv(64, 56, 128, 3, 2, 1), conv(128, 28, 128, 3, 1, 1),
      conv(64, 56, 128, 1, 2, 0), conv(256, 14, 512, 3, 2, 1),
      conv(512, 7, 512, 3, 1, 1)};
  for (const ConvOp &op : ops) {
    std::optional<Choice<BandTiling>> best = searchIm2col(ref(), op);
    ASSERT_TRUE(best);
    BandTiling h = heuristicIm2col(op, ref().sram_bytes);
    Cost hc = evaluate(ref(), im2colKernel(op, h));
    EXPECT_LE(best->cost.latencyCycles, hc.latencyCycles)
        << "C " << op.channels << " HW " << op.height;
    EXPECT_LE(best->cost.sramBytes, ref().sram_bytes);
    EXPECT_EQ(best->cost.latencyCycles,
              evaluate(ref(), im2colKernel(op, best->tiling)).latencyCycles);
  }
}

TEST(MovementKernels, SearchesFailWhenNothingFits) {
  ConvOp op = conv(3, 224, 64, 7, 2, 3);
  Constraints c;
  c.sramBytes = im2colSramPlan(op, {1, 1}, c).total - 1;
  EXPECT_FALSE(searchIm2col(ref(), op, c));
  c.sramBytes += 1;
  std::optional<Choice<BandTiling>> one = searchIm2col(ref(), op, c);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->tiling, (BandTiling{1, 1}));
  PoolOp p;
  p.planes = 64;
  p.height = p.width = 112;
  p.kernelH = p.kernelW = 3;
  p.strideH = p.strideW = 2;
  p.padTop = p.padLeft = 1;
  p.outH = p.outW = 56;
  c.sramBytes = poolSramPlan(p, {1, 1}, c).total - 1;
  EXPECT_FALSE(searchPool(ref(), p, c));
  c.sramBytes = gatherSramPlan(32, 1, 128, c).total - 1;
  EXPECT_FALSE(searchGather(ref(), 32, 128, c));
}

TEST(MovementKernels, PoolSearchNeverSlowerThanTheHeuristic) {
  // ResNet-18's max pooling: 64 planes of 112 x 112, 3x3 stride 2.
  PoolOp p;
  p.planes = 64;
  p.height = p.width = 112;
  p.kernelH = p.kernelW = 3;
  p.strideH = p.strideW = 2;
  p.padTop = p.padLeft = 1;
  p.outH = p.outW = 56;
  // The heuristic: halve planes, then rows, until everything fits (ten
  // alignment slacks, divisor rows counted) and the buffers are capped.
  uint64_t avail = ref().sram_bytes - 640;
  BandTiling h{64, 56};
  for (;;) {
    uint64_t stage = h.cb * std::min<uint64_t>(112, (h.toh - 1) * 2 + 3) * 224;
    uint64_t tile = h.cb * h.toh * 56;
    if (2 * stage + tile * 12 + 2 * h.toh * 56 * 2 <= avail &&
        stage <= 2 * kTileCapBytes && tile * 4 <= 2 * kTileCapBytes)
      break;
    if (h.cb > 1)
      h.cb = (h.cb + 1) / 2;
    else
      h.toh = (h.toh + 1) / 2;
  }
  std::optional<Choice<BandTiling>> best = searchPool(ref(), p);
  ASSERT_TRUE(best);
  EXPECT_LE(best->cost.latencyCycles,
            evaluate(ref(), poolKernel(p, h)).latencyCycles);
}

TEST(MovementKernels, MoveGatherChainSearchesNeverSlowerThanTheHeuristic) {
  Constraints c;
  uint64_t budget = ref().sram_bytes;
  // A BERT-like head split (rows of 64 elements), a K^T slice, a slice.
  std::vector<MoveOp> moves;
  MoveOp a;
  a.batch = 4;
  a.rows = 128;
  a.cols = 64;
  a.srcStrideBytes = 768 * 2;
  a.dstStrideBytes = 64 * 2;
  moves.push_back(a);
  MoveOp t = a;
  t.transpose = true;
  t.dstStrideBytes = 128 * 2;
  moves.push_back(t);
  MoveOp s;
  s.rows = 1024;
  s.cols = 768;
  s.srcStrideBytes = 2304 * 2;
  s.dstStrideBytes = 768 * 2;
  moves.push_back(s);
  for (const MoveOp &m : moves) {
    std::optional<RowTiling> h =
        m.transpose ? halvedTransposeTile(m.rows, m.cols, budget)
                    : cappedTile(m.rows, m.cols, 4, 0, budget);
    ASSERT_TRUE(h);
    std::optional<Choice<RowTiling>> best = searchMove(ref(), m, c);
    ASSERT_TRUE(best);
    EXPECT_LE(best->cost.latencyCycles,
              evaluate(ref(), moveKernel(m, *h)).latencyCycles);
  }
  std::optional<uint64_t> gh = cappedGatherTile(512, 1536, budget);
  ASSERT_TRUE(gh);
  std::optional<Choice<uint64_t>> g = searchGather(ref(), 512, 1536);
  ASSERT_TRUE(g);
  EXPECT_LE(g->cost.latencyCycles,
            evaluate(ref(), gatherKernel(512, *gh, 1536, "i", "t", "o"))
                .latencyCycles);
  ChainOp w;
  w.rows = 64;
  w.cols = 1024;
  w.inputs = {"c", "x", "y"};
  w.inputBytes = {2, 2, 2};
  w.chain = {Opcode::VecSelect};
  std::optional<RowTiling> wh = cappedTile(64, 1024, 16, 0, budget);
  ASSERT_TRUE(wh);
  std::optional<Choice<RowTiling>> wb = searchChain(ref(), w);
  ASSERT_TRUE(wb);
  EXPECT_LE(wb->cost.latencyCycles,
            evaluate(ref(), chainKernel(w, *wh)).latencyCycles);
}

TEST(MovementKernels, HeuristicTilesByHand) {
  // Whole rows of 768 elements under the 64 Ki-element cap: 85 rows.
  std::optional<RowTiling> r = cappedTile(1024, 768, 4, 0, 32 << 20);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tr, 85u);
  EXPECT_EQ(r->tc, 768u);
  // 4096 bytes of SRAM, 8 x 64 slack: (4096 - 512) / 4 = 896 elements, one
  // row of 768.
  r = cappedTile(1024, 768, 4, 0, 4096);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tr, 1u);
  // A row longer than the budget: 896 / 32 * 32 = 896 columns.
  r = cappedTile(4, 1000, 4, 0, 4096);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tc, 896u);
  // A transpose of 512 x 512 under 64 KiB: (65536 - 4 x 64) / 8 = 8160
  // elements; the longer side halves until 64 x 64 = 4096 fit.
  std::optional<RowTiling> tt = halvedTransposeTile(512, 512, 65536);
  ASSERT_TRUE(tt);
  EXPECT_EQ(tt->tr, 64u);
  EXPECT_EQ(tt->tc, 64u);
}

} // namespace
