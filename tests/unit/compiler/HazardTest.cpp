//===- HazardTest.cpp - the code generator's dependency rule --------------===//
#include "tessera/Compiler/Codegen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>

using namespace tessera;
using tessera::codegen::HazardTracker;

namespace {

arch::Instr load(uint64_t dram, uint64_t sram, uint32_t bytes) {
  arch::Instr in;
  in.op = arch::Opcode::DmaLoad;
  in.addr[0] = dram;
  in.addr[1] = sram;
  in.dims[0] = 1;
  in.dims[1] = bytes;
  in.strides[0] = in.strides[1] = bytes;
  return in;
}

arch::Instr store(uint64_t dram, uint64_t sram, uint32_t bytes) {
  arch::Instr in = load(dram, sram, bytes);
  in.op = arch::Opcode::DmaStore;
  return in;
}

/// FP16 copy of `elems` elements from SRAM `a` to SRAM `out`.
arch::Instr copy(uint64_t a, uint64_t out, uint32_t elems) {
  arch::Instr in;
  in.op = arch::Opcode::VecCopy;
  in.addr[0] = a;
  in.addr[2] = out;
  in.dims[0] = 1;
  in.dims[1] = elems;
  in.strides[0] = in.strides[2] = elems;
  return in;
}

using Deps = std::vector<uint32_t>;

TEST(Hazards, ReadAfterWriteInSram) {
  HazardTracker h;
  EXPECT_EQ(h.add(load(0, 0, 128), 0), Deps{});
  EXPECT_EQ(h.add(copy(0, 256, 64), 1), Deps{0});      // Reads what 0 wrote.
  EXPECT_EQ(h.add(store(4096, 256, 128), 2), Deps{1}); // Reads what 1 wrote.
}

TEST(Hazards, DisjointRangesAreIndependent) {
  HazardTracker h;
  h.add(load(0, 0, 128), 0);
  EXPECT_EQ(h.add(copy(512, 1024, 64), 1), Deps{});
  EXPECT_EQ(h.add(load(128, 128, 128), 2),
            Deps{}); // Adjacent, not overlapping.
}

TEST(Hazards, WriteAfterReadWaitsForTheReader) {
  HazardTracker h;
  h.add(load(0, 0, 128), 0);
  h.add(copy(0, 256, 64), 1);
  // Reloading the buffer copy 1 reads must wait for it (and for load 0 by
  // queue order, which needs no token).
  EXPECT_EQ(h.add(load(1024, 64, 64), 2), Deps{1});
}

// Each NPU has its own SRAM and queues; the DRAM is shared
// (docs/lowering.md, "Two NPUs").
TEST(Hazards, NpusHaveTheirOwnSramAndShareTheDram) {
  HazardTracker h;
  auto on = [](arch::Instr in, uint8_t npu) {
    in.npu = npu;
    return in;
  };
  EXPECT_EQ(h.add(on(load(0, 0, 128), 0), 0), Deps{});
  // The same SRAM bytes on NPU 1 are other bytes: no hazard.
  EXPECT_EQ(h.add(on(load(4096, 0, 128), 1), 1), Deps{});
  EXPECT_EQ(h.add(on(copy(0, 256, 64), 1), 2), Deps{1}); // NPU 1's load.
  EXPECT_EQ(h.add(on(store(8192, 256, 128), 1), 3), Deps{2});
  // NPU 0 reads what NPU 1 stored to DRAM: it waits for that store.
  EXPECT_EQ(h.add(on(load(8192, 512, 128), 0), 4), Deps{3});
  // A store on NPU 0 over the DRAM bytes NPU 1's load 1 read waits for
  // that load (WAR across NPUs) and for NPU 0's load 0 it reads (RAW).
  EXPECT_EQ(h.add(on(store(4096, 0, 128), 0), 5), (Deps{0, 1}));
  // Same queue, same NPU: ordered for free.
  EXPECT_EQ(h.add(on(load(8192, 1024, 128), 0), 6), Deps{3});
}

TEST(Hazards, WriteAfterWriteInDram) {
  HazardTracker h;
  h.add(load(0, 0, 128), 0);
  h.add(store(8192, 0, 128), 1);
  h.add(load(0, 512, 128), 2);
  // A later store to the same DRAM bytes waits for the earlier store (WAW)
  // and for load 2's SRAM write it reads (RAW).
  EXPECT_EQ(h.add(store(8192, 512, 128), 3), Deps{2});
  // Reading DRAM 8192 again waits for the last store only.
  EXPECT_EQ(h.add(load(8192, 2048, 64), 4), Deps{3});
}

TEST(Hazards, OneTokenPerQueue) {
  HazardTracker h;
  h.add(load(0, 0, 64), 0);
  h.add(load(64, 64, 64), 1);
  // Reads both loads' bytes: the latest load covers the earlier one.
  EXPECT_EQ(h.add(copy(0, 1024, 64), 2), Deps{1});
}

} // namespace

namespace {

TEST(Hazards, PartialOverwriteKeepsOnlyTheRest) {
  HazardTracker h;
  h.add(load(0, 0, 256), 0);   // SRAM [0, 256)
  h.add(copy(1024, 0, 64), 1); // overwrites [0, 128)
  // [0, 128) was last written by 1 only; [128, 256) still by load 0.
  EXPECT_EQ(h.add(store(8192, 0, 128), 2), Deps{1});
  EXPECT_EQ(h.add(store(8448, 128, 128), 3), Deps{0});
}

TEST(Hazards, StridedWriteForgetsNothing) {
  HazardTracker h;
  h.add(load(0, 0, 256), 0); // SRAM [0, 256)
  // A strided vector write of rows [0, 64) and [128, 192): the gap
  // [64, 128) still holds load 0's bytes, so a reader of the gap waits for
  // load 0 (and, conservatively, for the strided write's span).
  arch::Instr strided = copy(1024, 0, 32);
  strided.dims[0] = 2;
  strided.strides[0] = 32;
  strided.strides[2] = 64;
  h.add(strided, 1);
  EXPECT_EQ(h.add(store(8192, 64, 64), 2), (Deps{0, 1}));
}

} // namespace

//===----------------------------------------------------------------------===//
// The interval index against the scan it replaced
//===----------------------------------------------------------------------===//

namespace {

/// The code generator's dependency rule as it was before the interval index:
/// every earlier access of a space kept in a list and scanned by every new
/// instruction (quadratic in the instruction count), a dense write cutting
/// the bytes it overwrites out of the earlier accesses. Kept here as the
/// reference the index must agree with exactly.
class ScanHazardTracker {
public:
  std::vector<uint32_t> add(const arch::Instr &in, uint32_t index) {
    int64_t latest[arch::kNumQueues] = {-1, -1, -1};
    struct Range {
      uint64_t begin, end;
      bool write, dense;
      int space;
    };
    std::vector<Range> ranges;
    for (const arch::Operand &o : arch::operandsOf(in)) {
      uint64_t end =
          o.addr + (o.rows ? (o.rows - 1) * o.strideBytes : 0) + o.rowBytes;
      bool dense = o.rows <= 1 || o.strideBytes == o.rowBytes;
      ranges.push_back({o.addr, end, o.isWrite, dense, o.inDram ? 1 : 0});
    }
    for (const Range &r : ranges)
      for (const Access &a : spaces[r.space])
        if (a.begin < r.end && r.begin < a.end && (r.write || a.write)) {
          int64_t &l = latest[unsigned(a.queue)];
          l = std::max<int64_t>(l, a.instr);
        }
    std::vector<uint32_t> deps;
    for (unsigned q = 0; q < arch::kNumQueues; ++q)
      if (latest[q] >= 0 && q != unsigned(in.queue()))
        deps.push_back(uint32_t(latest[q]));
    std::sort(deps.begin(), deps.end());
    for (const Range &r : ranges) {
      std::vector<Access> &space = spaces[r.space];
      if (r.write && r.dense) {
        std::vector<Access> kept;
        for (const Access &a : space) {
          if (a.end <= r.begin || r.end <= a.begin) {
            kept.push_back(a);
            continue;
          }
          if (a.begin < r.begin)
            kept.push_back({a.begin, r.begin, a.instr, a.write, a.queue});
          if (r.end < a.end)
            kept.push_back({r.end, a.end, a.instr, a.write, a.queue});
        }
        space.swap(kept);
      }
      space.push_back({r.begin, r.end, index, r.write, in.queue()});
    }
    return deps;
  }

private:
  struct Access {
    uint64_t begin, end;
    uint32_t instr;
    bool write;
    arch::Queue queue;
  };
  std::vector<Access> spaces[2];
};

/// A random instruction of any opcode over small address spaces (so ranges
/// overlap often): dense and strided operands, broadcasts, accumulation.
arch::Instr randomInstr(std::mt19937_64 &rng, uint64_t space) {
  auto pick = [&](uint64_t n) { return uint64_t(rng() % n); };
  arch::Instr in;
  in.op = arch::Opcode(pick(arch::kNumOpcodes));
  in.dtype = arch::DType(pick(arch::kNumDTypes));
  in.outDtype = arch::DType(pick(arch::kNumDTypes));
  in.accDtype = arch::DType(pick(arch::kNumDTypes));
  static const uint32_t flagSets[] = {0,
                                      arch::kFlagAccumulate,
                                      arch::kFlagTransposeB,
                                      arch::kFlagBroadcastRow,
                                      arch::kFlagBroadcastCol,
                                      arch::kFlagBroadcastScalar,
                                      arch::kFlagAccumulate |
                                          arch::kFlagTransposeB};
  in.flags = flagSets[pick(std::size(flagSets))];
  for (uint64_t &a : in.addr)
    a = pick(space) & ~uint64_t(pick(2) ? 63 : 1);
  for (uint32_t &d : in.dims)
    d = uint32_t(1 + pick(pick(4) ? 4 : 40));
  bool dma = in.op == arch::Opcode::DmaLoad || in.op == arch::Opcode::DmaStore;
  for (unsigned s = 0; s < 4; ++s) {
    // Dense (stride = row) or strided by a few extra elements or bytes.
    uint32_t row = dma ? in.dims[1] : in.dims[1] + in.dims[2];
    in.strides[s] = uint32_t(row + (pick(3) ? 0 : pick(64)));
  }
  return in;
}

TEST(Hazards, IntervalIndexEqualsTheScanOnRandomPrograms) {
  size_t compared = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    std::mt19937_64 rng(seed);
    // Small spaces make most instructions overlap earlier ones; large ones
    // leave gaps and fragments.
    uint64_t space = seed % 3 == 0 ? 512 : seed % 3 == 1 ? 4096 : 1 << 16;
    HazardTracker index;
    ScanHazardTracker scan;
    for (uint32_t i = 0; i < 400; ++i) {
      arch::Instr in = randomInstr(rng, space);
      Deps want = scan.add(in, i);
      ASSERT_EQ(index.add(in, i), want)
          << "seed " << seed << ", instruction " << i << ": " << in.toString();
      ++compared;
    }
  }
  EXPECT_EQ(compared, 200u * 400u);
}

TEST(Hazards, DenseWritesKeepTheIndexSmall) {
  // A kernel's loop: load a tile, compute on it, store it, over and over
  // into the same double-buffered SRAM slots. The index keeps one segment
  // per live byte range, not one per access, whatever the loop count.
  HazardTracker h;
  uint32_t i = 0;
  for (uint64_t tile = 0; tile < 20000; ++tile) {
    uint64_t slot = (tile % 2) * 1024;
    h.add(load(tile * 512, slot, 512), i++);
    h.add(copy(slot, slot + 4096, 256), i++);
    h.add(store((1 << 24) + tile * 512, slot + 4096, 512), i++);
  }
  // SRAM: the two slots and their two copies; DRAM: every tile read and
  // written once (nothing merges disjoint DRAM ranges).
  EXPECT_EQ(h.segmentCount(), 4u + 2u * 20000u);
}

} // namespace
