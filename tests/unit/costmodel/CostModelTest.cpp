//===- CostModelTest.cpp - The cost model's formulas ----------------------===//
//
// docs/cost-model.md, checked formula by formula: worked examples computed
// by hand on the reference chip, the closed-form tile classes against a
// tile-by-tile walk of the code generator's loops over many shapes, the
// fused-group rules and the tiling search.
//
//===----------------------------------------------------------------------===//

#include "tessera/CostModel/CostModel.h"

#include <gtest/gtest.h>

#include <map>

using namespace tessera;
using namespace tessera::cost;
using arch::Opcode;

namespace {

arch::ChipConfig ref() { return arch::ChipConfig::reference(); }

uint64_t ceilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

TEST(CostModel, GemmTwoKStepsByHand) {
  // 96 x 192 x 96 in 96 x 96 x 96 tiles: two K steps, one output tile.
  Kernel k = gemmKernel({1, 96, 192, 96}, {96, 96, 96});
  Cost c = evaluate(ref(), k);
  // Two slots each of A, B, out (18432 bytes) and the FP32 accumulator.
  EXPECT_EQ(c.sramBytes, 6u * 18432 + 2u * 36864);
  // A(0,0), A(0,1), B(0,0), B(1,0) once each; one store.
  EXPECT_EQ(c.loads, 4u);
  EXPECT_EQ(c.stores, 1u);
  EXPECT_EQ(c.dramBytesRead, 4u * 18432);
  EXPECT_EQ(c.dramBytesWritten, 18432u);
  // Each 18432-byte DMA: 300 + ceil(18432 / 34) = 843 (timing-model.md).
  EXPECT_EQ(c.loadQueueCycles, 4u * 843);
  EXPECT_EQ(c.storeQueueCycles, 843u);
  EXPECT_EQ(c.dramBusCycles, 5u * 543);
  // Each product: one fold of 2*96 + 96 + 96*4 - 2 = 670.
  EXPECT_EQ(c.matrixCycles, 2u * 670);
  EXPECT_EQ(c.macs, 96u * 192 * 96);
  // Four descriptors in flight: all four loads issue at 0 (no slot is
  // reused), their latencies overlap and their data phases serialize on the
  // bus: A00 300-843, B00 843-1386, A01 1386-1929, B10 1929-2472. Products
  // 1386-2056 and 2472-3142; the store issues at 3142, data 3442-3985.
  EXPECT_EQ(c.latencyCycles, 3985u);
  EXPECT_EQ(c.bottleneck, Bottleneck::Load);
  // Roofline: 96*192*96 MACs * 4 / 9216 PEs = 768 cycles; 92160 unavoidable
  // bytes / 34 = 2710.6 cycles.
  EXPECT_DOUBLE_EQ(c.roofline.computeCycles, 768.0);
  EXPECT_EQ(c.roofline.unavoidableBytes, 92160u);
  EXPECT_DOUBLE_EQ(c.roofline.memoryCycles, 92160.0 / 34.0);
  EXPECT_DOUBLE_EQ(c.roofline.boundCycles(), 92160.0 / 34.0);
}

TEST(CostModel, LayerNormOneTileByHand) {
  VectorOp op;
  op.op = Opcode::VecLayerNorm;
  op.rows = 8;
  op.cols = 100;
  Cost c = evaluate(ref(), vectorKernel(op, {8, 100}));
  // gamma, beta: 2 x 256 aligned; in and out rings: 4 x 1600.
  EXPECT_EQ(c.sramBytes, 512u + 6400u);
  // gamma and beta: 200 bytes -> 256 bus bytes -> 8 cycles + 300; the tile:
  // 1600 bytes -> 1600 bus bytes -> 48 cycles + 300.
  EXPECT_EQ(c.loadQueueCycles, 308u + 308u + 348u);
  EXPECT_EQ(c.storeQueueCycles, 348u);
  // 16 + 3 * ceil(800 / 64) = 55 (timing-model.md's example).
  EXPECT_EQ(c.vectorCycles, 55u);
  // gamma, beta and the tile issue together: data 300-308, 308-316,
  // 316-364; layernorm 364-419; the store 419 + 300 + 48 = 767.
  EXPECT_EQ(c.latencyCycles, 767u);
}

TEST(CostModel, OneDescriptorInFlight) {
  // dma_outstanding_transfers = 1: every DMA waits for the one before, so the
  // 96 x 192 x 96 product takes loads 4 x 843 = 3372, then its last product
  // (670) and the store (843): 4885.
  arch::ChipConfig chip = ref();
  chip.dma_outstanding_transfers = 1;
  Cost c = evaluate(chip, gemmKernel({1, 96, 192, 96}, {96, 96, 96}));
  EXPECT_EQ(c.latencyCycles, 4885u);
  VectorOp op;
  op.op = Opcode::VecLayerNorm;
  op.rows = 8;
  op.cols = 100;
  // 308 + 308 + 348 of loads, 55, 348.
  EXPECT_EQ(evaluate(chip, vectorKernel(op, {8, 100})).latencyCycles, 1367u);
}

TEST(CostModel, StridedTransferRoundsEachRow) {
  // A 4 x 50 column block of a [4, 128] tensor: each 100-byte row becomes
  // 128 bus bytes (timing-model.md's 316-cycle example).
  VectorOp op;
  op.op = Opcode::VecErf;
  op.rows = 4;
  op.cols = 128;
  Kernel k = vectorKernel(op, {4, 50});
  Cost c = evaluate(ref(), k);
  // Column tiles 50, 50, 28: loads 4 x 100 (strided), 4 x 100, 4 x 56.
  EXPECT_EQ(c.loads, 3u);
  EXPECT_EQ(c.dramBusBytes, 2u * (512 + 512) + 2u * 256);
  EXPECT_EQ(c.loadQueueCycles, 316u + 316u + 308u);
}

TEST(CostModel, ExpIsOneElementwisePass) {
  // vec.exp (the online softmax's probabilities) over one 8 x 100 tile:
  // 16 + 1 x ceil(800 / 64) = 29 vector cycles (timing-model.md), the same
  // as vec.erf; a softmax over it is three passes.
  VectorOp op;
  op.op = Opcode::VecExp;
  op.rows = 8;
  op.cols = 100;
  Cost c = evaluate(ref(), vectorKernel(op, {8, 100}));
  EXPECT_EQ(c.vectorCycles, 29u);
  op.op = Opcode::VecErf;
  EXPECT_EQ(evaluate(ref(), vectorKernel(op, {8, 100})).vectorCycles, 29u);
  op.op = Opcode::VecSoftmax;
  EXPECT_EQ(evaluate(ref(), vectorKernel(op, {8, 100})).vectorCycles,
            16u + 3 * 13);
}

/// The code generator's two-slot LRU tile cache (Codegen.cpp TileCache).
struct Lru {
  int64_t key[2] = {-1, -1};
  int next = 0;
  bool hit(int64_t k) {
    for (int s = 0; s < 2; ++s)
      if (key[s] == k) {
        next = 1 - s;
        return true;
      }
    key[next] = k;
    next = 1 - next;
    return false;
  }
};

TEST(CostModel, GatherKernelByHand) {
  // BERT's word lookup on the reference chip: 32 ids, rows of 128 bytes,
  // one tile. The ids load: 300 + ceil(128 / 34) = 304. The gather waits
  // for it, reads its indices (3 + 1 = 4), and its rows take 32 whole bursts
  // (4096 bytes, D = 121): 304 + 4 + 300 + 121 = 729. The store of the rows
  // waits for the gather: 729 + 300 + 121 = 1150, the simulator's cycles for
  // the layer (tests/budget/baseline.json, bert's /words/Gather).
  Kernel k = gatherKernel(32, 32, 128, "ids", "table", "out");
  Cost c = evaluate(ref(), k);
  EXPECT_EQ(c.loads, 2u);
  EXPECT_EQ(c.stores, 1u);
  EXPECT_EQ(c.dramBytesRead, 128u + 4096u);
  EXPECT_EQ(c.loadQueueCycles, 304u + 425u);
  EXPECT_EQ(c.latencyCycles, 1150u);
  EXPECT_EQ(c.sramBytes, 2u * 128 + 2u * 4096);
  // Rows of 100 bytes each take two bursts when gathered (32 x 128), the
  // contiguous store of them 3200 bytes.
  EXPECT_EQ(
      evaluate(ref(), gatherKernel(32, 32, 100, "i", "t", "o")).dramBusBytes,
      128u + 4096u + 3200u);
}

TEST(CostModel, ChainKernelRunsEveryInstructionPerTile) {
  // hardsigmoid on 1024 x 64 in tiles of 256 x 64: four vector instructions
  // per tile, each 16 + ceil(16384 / 64) = 272 cycles.
  ChainOp op;
  op.rows = 1024;
  op.cols = 64;
  op.inputs = {"x"};
  op.inputBytes = {2};
  op.chain = {Opcode::VecScale, Opcode::VecAddImm, Opcode::VecMaxImm,
              Opcode::VecMinImm};
  op.workBytes = 4;
  Cost c = evaluate(ref(), chainKernel(op, {256, 64}));
  EXPECT_EQ(c.vectorCycles, 4u * 4 * 272);
  EXPECT_EQ(c.loads, 4u);
  EXPECT_EQ(c.stores, 4u);
  EXPECT_EQ(c.sramBytes, 2u * 32768 + 2u * 65536);
  // The int32 conversion reads 4-byte elements and writes 2-byte ones.
  ChainOp cv;
  cv.rows = 1;
  cv.cols = 32;
  cv.inputs = {"mask"};
  cv.inputBytes = {4};
  cv.chain = {Opcode::VecCopy};
  Cost cc = evaluate(ref(), chainKernel(cv, {1, 32}));
  EXPECT_EQ(cc.dramBytesRead, 128u);
  EXPECT_EQ(cc.dramBytesWritten, 64u);
}

TEST(CostModel, ReduceKernelStoresOneElementPerRow) {
  Kernel k = reduceKernel(Opcode::VecReduceSum, 100, 64, 40, "x", "y");
  Cost c = evaluate(ref(), k);
  // Tiles of 40, 40 and 20 rows.
  EXPECT_EQ(c.loads, 3u);
  EXPECT_EQ(c.dramBytesRead, 100u * 64 * 2);
  EXPECT_EQ(c.dramBytesWritten, 200u);
  EXPECT_EQ(c.vectorCycles, 2u * (16 + 40) + (16 + 20));
}

TEST(CostModel, PartsAreTheirSequence) {
  // A layer of two kernels (a concat of two inputs) costs what the two cost
  // in sequence, and its attributed cycles are theirs summed.
  Kernel a = moveKernel({1, 64, 64, 128, 256, false, "x0", "y"}, {64, 64});
  Kernel b = moveKernel({1, 64, 64, 128, 256, false, "x1", "y"}, {64, 64});
  Kernel layer;
  appendPart(layer, a);
  appendPart(layer, b);
  EXPECT_EQ(layer.parts.size(), 2u);
  SequenceCost flat = evaluateSequence(ref(), {a, b});
  SequenceCost one = evaluateSequence(ref(), {layer});
  EXPECT_EQ(one.latencyCycles, flat.latencyCycles);
  ASSERT_EQ(one.attributedCycles.size(), 1u);
  EXPECT_EQ(one.attributedCycles[0],
            flat.attributedCycles[0] + flat.attributedCycles[1]);
  EXPECT_EQ(evaluate(ref(), layer).latencyCycles, flat.latencyCycles);
  EXPECT_EQ(evaluate(ref(), layer).loads, 2u);
}

TEST(CostModel, GemmClassesMatchTileWalk) {
  // The closed form counts what the emitter's loops do tile by tile.
  for (uint64_t m : {1, 37, 96, 200})
    for (uint64_t k : {8, 96, 150, 300})
      for (uint64_t n : {5, 96, 250})
        for (GemmTiling t : {GemmTiling{32, 96, 96}, GemmTiling{64, 48, 100},
                             GemmTiling{200, 300, 250}}) {
          uint64_t batch = 2;
          Kernel kern = gemmKernel({batch, m, k, n}, t);
          Cost c = evaluate(ref(), kern);
          uint64_t tm = std::min(t.tm, m), tk = std::min(t.tk, k),
                   tn = std::min(t.tn, n);
          uint64_t nm = ceilDiv(m, tm), nk = ceilDiv(k, tk),
                   nn = ceilDiv(n, tn);
          uint64_t loads = 0, read = 0, stores = 0, mm = 0, macs = 0;
          for (uint64_t bt = 0; bt < batch; ++bt) {
            Lru ca, cb;
            for (uint64_t i = 0; i < nm; ++i)
              for (uint64_t j = 0; j < nn; ++j) {
                uint64_t xm = std::min(tm, m - i * tm),
                         xn = std::min(tn, n - j * tn);
                for (uint64_t l = 0; l < nk; ++l) {
                  uint64_t xk = std::min(tk, k - l * tk);
                  if (!ca.hit(int64_t(i * nk + l))) {
                    ++loads;
                    read += xm * xk * 2;
                  }
                  if (!cb.hit(int64_t(l * nn + j))) {
                    ++loads;
                    read += xk * xn * 2;
                  }
                  ++mm;
                  macs += xm * xk * xn;
                }
                ++stores;
              }
          }
          SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(k) + "x" +
                       std::to_string(n));
          EXPECT_EQ(c.loads, loads);
          EXPECT_EQ(c.dramBytesRead, read);
          EXPECT_EQ(c.stores, stores);
          EXPECT_EQ(c.dramBytesWritten, batch * m * n * 2);
          EXPECT_EQ(c.macs, macs);
          uint64_t products = 0;
          for (const ComputeClass &cc : kern.compute)
            products += cc.count;
          EXPECT_EQ(products, mm);
        }
}

TEST(CostModel, VectorClassesMatchTileWalk) {
  for (uint64_t rows : {1, 7, 64, 130})
    for (uint64_t cols : {3, 64, 100})
      for (RowTiling t : {RowTiling{8, 32}, RowTiling{64, 100}}) {
        VectorOp op;
        op.op = Opcode::VecAdd;
        op.second = Operand2::Col;
        op.rows = rows;
        op.cols = cols;
        Cost c = evaluate(ref(), vectorKernel(op, t));
        uint64_t tr = std::min(t.tr, rows), tc = std::min(t.tc, cols);
        uint64_t tiles = 0, vec = 0, colBytes = 0;
        for (uint64_t r = 0; r < rows; r += tr)
          for (uint64_t cc = 0; cc < cols; cc += tc) {
            ++tiles;
            uint64_t nr = std::min(tr, rows - r), nc = std::min(tc, cols - cc);
            vec += 16 + ceilDiv(nr * nc, 64);
            colBytes += nr * 2;
          }
        EXPECT_EQ(c.loads, 2 * tiles);
        EXPECT_EQ(c.stores, tiles);
        EXPECT_EQ(c.vectorCycles, vec);
        EXPECT_EQ(c.dramBytesRead, rows * cols * 2 + colBytes);
      }
}

TEST(CostModel, TransposeStoresColumnsAsRows) {
  // [64, 32] -> [32, 64] in one tile: the store writes 32 rows of 128 bytes
  // 128 bytes apart (contiguous).
  MoveOp op{1, 64, 32, 64, 128, true};
  Kernel k = moveKernel(op, {64, 32});
  ASSERT_EQ(k.streams.size(), 2u);
  ASSERT_EQ(k.streams[1].classes.size(), 1u);
  EXPECT_EQ(k.streams[1].classes[0].shape.rows, 32u);
  EXPECT_EQ(k.streams[1].classes[0].shape.rowBytes, 128u);
  Cost c = evaluate(ref(), k);
  // 16 + 2 * ceil(2048 / 64) = 80.
  EXPECT_EQ(c.vectorCycles, 80u);
  EXPECT_EQ(c.sramBytes, 4u * 4096);
}

TEST(CostModel, FusedGroupKeepsTensorOnChip) {
  // LayerNorm [128, 256] feeding a 128 x 256 x 256 product: with the
  // normalized tensor kept, neither its store nor its load reaches DRAM.
  VectorOp ln;
  ln.op = Opcode::VecLayerNorm;
  ln.rows = 128;
  ln.cols = 256;
  ln.out = "xn";
  GemmOp mm{1, 128, 256, 256, "xn", "w", "y"};
  Kernel a = vectorKernel(ln, {32, 256});
  Kernel b = gemmKernel(mm, {128, 256, 96});
  Cost ca = evaluate(ref(), a), cb = evaluate(ref(), b);
  FusedGroup unfused{{a, b}, {}};
  FusedGroup fused{{a, b}, {"xn"}};
  Cost u = evaluate(ref(), unfused), f = evaluate(ref(), fused);
  uint64_t xn = 128 * 256 * 2;
  EXPECT_EQ(u.dramBytes(), ca.dramBytes() + cb.dramBytes());
  // B is 3 column tiles with one K step: A(0,0) is loaded once.
  EXPECT_EQ(f.dramBytes(), u.dramBytes() - 2 * xn);
  EXPECT_EQ(f.loads + f.stores, u.loads + u.stores - 5);
  EXPECT_EQ(f.sramBytes, u.sramBytes + xn);
  EXPECT_LT(f.latencyCycles, u.latencyCycles);
  EXPECT_EQ(f.roofline.unavoidableBytes, u.roofline.unavoidableBytes - 2 * xn);
  // Run alone, each member pays its own fill and drain; in the group only
  // the first fills and only the last drains.
  EXPECT_LE(u.latencyCycles, ca.latencyCycles + cb.latencyCycles);
}

TEST(CostModel, CheckFitsNamesTheBytes) {
  Kernel k = gemmKernel({1, 96, 192, 96}, {96, 96, 96});
  Constraints c;
  c.sramBytes = 100000;
  std::optional<std::string> why = checkFits(ref(), k, c);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "needs 184320 bytes of SRAM, the budget is 100000");
  c.sramBytes = 184320;
  EXPECT_FALSE(checkFits(ref(), k, c));
}

TEST(CostModel, TileCandidates) {
  EXPECT_EQ(tileCandidates(100, 32),
            (std::vector<uint64_t>{8, 16, 32, 64, 96, 100}));
  EXPECT_EQ(tileCandidates(96, 96), (std::vector<uint64_t>{12, 24, 48, 96}));
  // Long dimensions: every multiple up to 16, then a geometric ladder.
  std::vector<uint64_t> v = tileCandidates(96 * 100, 96);
  EXPECT_LT(v.size(), 40u);
  EXPECT_EQ(v.back(), 9600u);
}

TEST(CostModel, SearchPicksTheLowestLatencyThatFits) {
  GemmOp op{1, 300, 500, 400};
  for (uint64_t sram :
       {uint64_t(32) << 20, uint64_t(256) << 10, uint64_t(48) << 10}) {
    Constraints c;
    c.sramBytes = sram;
    std::optional<Choice<GemmTiling>> best = searchGemm(ref(), op, c);
    ASSERT_TRUE(best) << sram;
    EXPECT_LE(best->cost.sramBytes, sram);
    EXPECT_GT(best->candidates, 100u);
    // No fitting candidate is faster.
    for (uint64_t tm : tileCandidates(300, 32))
      for (uint64_t tk : tileCandidates(500, 96))
        for (uint64_t tn : tileCandidates(400, 96)) {
          Kernel k = gemmKernel(op, {tm, tk, tn});
          if (k.sramBytes > sram)
            continue;
          EXPECT_GE(evaluate(ref(), k).latencyCycles, best->cost.latencyCycles);
        }
    // Deterministic.
    EXPECT_EQ(searchGemm(ref(), op, c)->tiling, best->tiling);
  }
  // Less SRAM never makes the best tiling faster.
  Constraints big, small;
  small.sramBytes = 48 << 10;
  EXPECT_LE(searchGemm(ref(), op, big)->cost.latencyCycles,
            searchGemm(ref(), op, small)->cost.latencyCycles);
}

TEST(CostModel, SearchFailsWhenNothingFits) {
  Constraints c;
  c.sramBytes = 1024;
  EXPECT_FALSE(searchGemm(ref(), {1, 300, 500, 400}, c));
  VectorOp ln;
  ln.op = Opcode::VecLayerNorm;
  ln.rows = 4;
  ln.cols = 4096;
  EXPECT_FALSE(searchVector(ref(), ln, c));
  // Row-wise ops keep whole rows.
  std::optional<Choice<RowTiling>> r = searchVector(ref(), ln);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tiling.tc, 4096u);
}

TEST(CostModel, SearchCostDoesNotGrowWithTiles) {
  // Pricing a tiling is by class: a 64x larger problem prices the same
  // number of classes.
  Kernel small = gemmKernel({1, 1000, 1000, 1000}, {96, 96, 96});
  Kernel large = gemmKernel({64, 1000, 1000, 1000}, {96, 96, 96});
  EXPECT_EQ(small.compute.size(), large.compute.size());
  EXPECT_EQ(large.tiles, 64 * small.tiles);
}

} // namespace
