//===- HazardTest.cpp - the code generator's dependency rule --------------===//
#include "tessera/Compiler/Codegen.h"

#include <gtest/gtest.h>

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
