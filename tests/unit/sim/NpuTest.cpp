//===- NpuTest.cpp - Two NPUs sharing one DRAM ----------------------------===//
//
// Hand-built programs on two NPUs against hand-computed timings
// (docs/timing-model.md, "Two NPUs"): the shared DRAM bus and who waited for
// whom, the cross-NPU token and its npu_sync_cycles, each NPU's own SRAM;
// functional results equal to the same program on one NPU, timing-only
// cycles equal to functional ones, and the program format (version 3) with
// its errors.
//
//===----------------------------------------------------------------------===//

#include "TestPrograms.h"

#include "tessera/Sim/Report.h"
#include "tessera/Sim/Simulator.h"
#include "tessera/Sim/Timing.h"
#include "tessera/arch/Error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>

using namespace tessera;
using namespace tessera::simtest;
namespace timing = tessera::sim::timing;
using arch::DType;
using arch::Opcode;
using arch::TensorKind;

namespace {

arch::ChipConfig twoNpus() {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  chip.npus = 2;
  return chip;
}

sim::SimResult run(const arch::Program &p, const arch::ChipConfig &chip,
                   bool functional,
                   const std::map<std::string, std::vector<float>> &in = {}) {
  sim::SimOptions o;
  o.functional = functional;
  return sim::simulateFrame(p, chip, in, o);
}

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "";
}

} // namespace

// NPU 0 loads A (64 x 2048 bytes, D = 3856 data cycles) and B (32 x 2048,
// D = 1928) at cycle 0; NPU 1 runs a vec.add of 8 x 64 (16 + 8 = 24 cycles)
// and then loads C (32 x 2048, D = 1928) at cycle 24, to the same SRAM
// address as A (its own SRAM). L = 300. The bus: A [300, 4156), B [4156,
// 6084) (B waited 3856 cycles for its own NPU's A), C ready at 324, starts
// at 6084: it waited 6084 - 324 = 5760 cycles, all for NPU 0's data
// (3832 of A's, 1928 of B's), and ends at 8012.
TEST(TwoNpus, SharedDramContentionIsHandComputed) {
  ProgramBuilder b;
  uint64_t x = b.tensor("x", TensorKind::Input, DType::F16, {128, 1024});
  b.prog.npus = 2;
  uint32_t la = b.load(x, 0, 64, 2048);
  uint32_t lb = b.load(x + 131072, 0x20000, 32, 2048);
  uint32_t v = b.vec(Opcode::VecAdd, DType::F16, DType::F16, 8, 64, 0x40000,
                     0x40400, 0x40800);
  uint32_t lc = b.load(x + 196608, 0, 32, 2048, {});
  b.prog.instrs[v].npu = 1;
  b.prog.instrs[lc].npu = 1;
  b.prog.instrs[lc].deps = {v};
  arch::ChipConfig chip = twoNpus();
  ASSERT_EQ(timing::vectorCycles(chip, Opcode::VecAdd, 8, 64), 24u);
  ASSERT_EQ(chip.dramLatencyCycles(), 300u);
  ASSERT_EQ(timing::dramDataCycles(chip, 131072), 3856u);
  ASSERT_EQ(timing::dramDataCycles(chip, 65536), 1928u);

  sim::SimResult r = run(b.prog, chip, false);
  EXPECT_EQ(r.instrTimings[la].endCycle, 4156u);
  EXPECT_EQ(r.instrTimings[lb].endCycle, 6084u);
  EXPECT_EQ(r.instrTimings[lc].startCycle, 24u);
  EXPECT_EQ(r.instrTimings[lc].endCycle, 8012u);
  EXPECT_EQ(r.totalCycles, 8012u);
  ASSERT_EQ(r.npuCount, 2u);
  ASSERT_EQ(r.npus.size(), 2u);
  EXPECT_EQ(r.npus[0].dramWaitOtherNpuCycles, 0u);
  EXPECT_EQ(r.npus[0].dramWaitOwnCycles, 3856u);
  EXPECT_EQ(r.npus[1].dramWaitOtherNpuCycles, 5760u);
  EXPECT_EQ(r.npus[1].dramWaitOwnCycles, 0u);
  EXPECT_EQ(r.npus[0].dramBytesRead, 196608u);
  EXPECT_EQ(r.npus[1].dramBytesRead, 65536u);
  EXPECT_EQ(r.npus[1].vectorBusyCycles, 24u);
  EXPECT_EQ(r.npus[0].instructions, 2u);
  EXPECT_EQ(r.npus[1].endCycle, 8012u);
  // Both NPUs leak static_power_w (1 W at 2 GHz: 500 pJ per cycle each).
  EXPECT_DOUBLE_EQ(r.energy.staticPj, 8012.0 * 2 * 500);
  EXPECT_NEAR(r.wattsAtBudgetFps -
                  r.energy.dynamicPj() * 1e-12 * 1000.0 / chip.frame_budget_ms,
              2.0, 1e-9);

  // The report and the JSON show both NPUs and the contention.
  std::string text = sim::formatReport(r, chip, {});
  EXPECT_NE(text.find("2 sharing one DRAM"), std::string::npos) << text;
  EXPECT_NE(text.find("transfers waited 5760 cycles for the bus while it "
                      "moved another NPU's data (npu0 0, npu1 5760) and 3856 "
                      "for their own NPU's"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("npu1 compute queue"), std::string::npos) << text;
  nlohmann::json doc = nlohmann::json::parse(sim::reportJson(r, chip, {}));
  EXPECT_EQ(doc["dram"]["wait_other_npu_cycles"], 5760);
  EXPECT_EQ(doc["npus"][1]["dram_wait_other_npu_cycles"], 5760);
  EXPECT_EQ(doc["npus"][0]["dram_wait_own_npu_cycles"], 3856);

  // The same instructions on one NPU: C queues behind A and B on the load
  // queue (4 descriptors) and waits for its own NPU only.
  for (arch::Instr &in : b.prog.instrs)
    in.npu = 0;
  b.prog.npus = 1;
  sim::SimResult one = run(b.prog, chip, false);
  EXPECT_EQ(one.npuCount, 1u);
  EXPECT_EQ(one.npus[0].dramWaitOtherNpuCycles, 0u);
  EXPECT_EQ(one.npus[0].dramWaitOwnCycles, 3856u + 5760u);
  EXPECT_EQ(one.totalCycles, 8012u);
  EXPECT_DOUBLE_EQ(one.energy.staticPj, 8012.0 * 500);
}

// A token crossing NPUs takes npu_sync_cycles: NPU 1's vec.add waits for
// NPU 0's (24 cycles) and starts at 24 + S.
TEST(TwoNpus, CrossNpuDependencyWaitsTheSyncCycles) {
  ProgramBuilder b;
  b.tensor("x", TensorKind::Input, DType::F16, {64});
  b.prog.npus = 2;
  uint32_t v0 =
      b.vec(Opcode::VecAdd, DType::F16, DType::F16, 8, 64, 0, 0x400, 0x800);
  uint32_t v1 = b.vec(Opcode::VecAdd, DType::F16, DType::F16, 8, 64, 0x800,
                      0x400, 0xc00, {v0});
  b.prog.instrs[v1].npu = 1;
  for (uint32_t sync : {0u, 32u, 1000u}) {
    arch::ChipConfig chip = twoNpus();
    chip.npu_sync_cycles = sync;
    sim::SimResult r = run(b.prog, chip, false);
    EXPECT_EQ(r.instrTimings[v1].startCycle, 24u + sync) << sync;
    EXPECT_EQ(r.totalCycles, 48u + sync) << sync;
    // The frame bound charges every instruction a token's trip.
    EXPECT_EQ(timing::frameCycleBound(chip, b.prog), 48u + 2 * sync) << sync;
  }
  // On one NPU the token is local: no sync.
  b.prog.instrs[v1].npu = 0;
  b.prog.npus = 1;
  EXPECT_EQ(run(b.prog, twoNpus(), false).totalCycles, 48u);
}

// A pipeline split across the NPUs through DRAM computes what it computes
// on one NPU, with the same cycles timing-only and functional, twice.
TEST(TwoNpus, SplitProgramMatchesOneNpu) {
  ProgramBuilder b;
  uint64_t x = b.tensor("x", TensorKind::Input, DType::F16, {32, 1024});
  uint64_t t = b.tensor("t", TensorKind::Scratch, DType::F16, {32, 1024});
  uint64_t y = b.tensor("y", TensorKind::Output, DType::F16, {32, 1024});
  // NPU 0: gelu of the first 16 rows; NPU 1: of the last 16; each stores
  // its half of t. Then NPU 1 reads all of t (both halves: a cross-NPU
  // dependency through DRAM), scales it and stores y.
  uint32_t l0 = b.load(x, 0, 16, 2048);
  uint32_t g0 = b.vec(Opcode::VecGelu, DType::F16, DType::F16, 16, 1024, 0, 0,
                      0x8000, {l0});
  uint32_t s0 = b.store(t, 0x8000, 16, 2048, {g0});
  uint32_t l1 = b.load(x + 32768, 0, 16, 2048);
  uint32_t g1 = b.vec(Opcode::VecGelu, DType::F16, DType::F16, 16, 1024, 0, 0,
                      0x8000, {l1});
  uint32_t s1 = b.store(t + 32768, 0x8000, 16, 2048, {g1});
  uint32_t l2 = b.load(t, 0x10000, 32, 2048, {s0, s1});
  arch::Instr scale;
  scale.op = Opcode::VecScale;
  scale.dims[0] = 32;
  scale.dims[1] = 1024;
  scale.addr[0] = 0x10000;
  scale.addr[2] = 0x20000;
  scale.strides[0] = scale.strides[2] = 1024;
  scale.imm = 0.5f;
  scale.deps = {l2};
  uint32_t sc = b.add(scale);
  b.store(y, 0x20000, 32, 2048, {sc});
  std::map<std::string, std::vector<float>> in{
      {"x", flat(randomMat(1, 32 * 1024, 3))}};

  arch::ChipConfig chip = twoNpus();
  sim::SimResult one = run(b.prog, chip, true, in);
  b.prog.npus = 2;
  for (uint32_t i : {l1, g1, s1, l2, sc, sc + 1})
    b.prog.instrs[i].npu = 1;
  sim::SimResult two = run(b.prog, chip, true, in);
  ASSERT_EQ(two.outputs.at("y").size(), 32u * 1024);
  EXPECT_EQ(two.outputs.at("y"), one.outputs.at("y"));
  EXPECT_LT(two.totalCycles, one.totalCycles);
  EXPECT_EQ(run(b.prog, chip, false).totalCycles, two.totalCycles);
  sim::SimResult again = run(b.prog, chip, true, in);
  EXPECT_EQ(again.totalCycles, two.totalCycles);
  EXPECT_EQ(again.outputs.at("y"), two.outputs.at("y"));
  // The unit breakdowns still add up to the frame on every NPU, and each
  // layer's compute-queue columns to its cycles.
  EXPECT_EQ(two.units.size(), 2u * 5 + 1);
  for (const sim::UnitStalls &u : two.units)
    EXPECT_EQ(u.stalls.total(), two.totalCycles) << u.name;
  for (const sim::LayerStats &l : two.layers)
    EXPECT_EQ(l.windowMatrixBusy + l.windowVectorBusy + l.windowDepWait +
                  l.windowDramWait + l.windowIdle,
              l.attributedCycles)
        << l.name;
}

TEST(TwoNpus, ProgramFormatVersion3) {
  ProgramBuilder b;
  uint64_t x = b.tensor("x", TensorKind::Input, DType::F16, {64});
  b.load(x, 0, 1, 128);
  uint32_t v =
      b.vec(Opcode::VecAdd, DType::F16, DType::F16, 1, 64, 0, 0, 0x80, {0});
  // One NPU: version 2, as before version 3 existed.
  std::vector<uint8_t> one = b.prog.serialize();
  EXPECT_EQ(one[8], 2);
  EXPECT_EQ(b.prog.listing().find("npus:"), std::string::npos);
  EXPECT_EQ(b.prog.listing().find(" n0 "), std::string::npos);
  b.prog.npus = 2;
  b.prog.instrs[v].npu = 1;
  std::vector<uint8_t> two = b.prog.serialize();
  EXPECT_EQ(two[8], 3);
  EXPECT_EQ(two.size(), one.size() + 4 + 2); // npu count + one byte each
  arch::Program back = arch::Program::deserialize(two.data(), two.size(), "p");
  EXPECT_EQ(back.npus, 2u);
  EXPECT_EQ(back.instrs[0].npu, 0);
  EXPECT_EQ(back.instrs[1].npu, 1);
  EXPECT_EQ(back.serialize(), two);
  std::string listing = back.listing();
  EXPECT_NE(listing.find("format version 3"), std::string::npos);
  EXPECT_NE(listing.find("     1 n1 C  vec.add"), std::string::npos) << listing;

  // The NPU table names an NPU the program does not have.
  std::vector<uint8_t> bad = two;
  bad.back() = 2;
  EXPECT_NE(
      errorOf([&] { arch::Program::deserialize(bad.data(), bad.size(), "p"); })
          .find("p: instruction 1: npu 2 is not below the program's 2 "
                "NPUs"),
      std::string::npos);
  // An NPU count out of range.
  bad = two;
  bad[bad.size() - 6] = 9;
  EXPECT_NE(errorOf([&] {
              arch::Program::deserialize(bad.data(), bad.size(), "p");
            }).find("npu count 9 is not in 2 .. 4"),
            std::string::npos);
  // A version-2 file cannot carry the NPU flag.
  bad = two;
  bad[8] = 2;
  EXPECT_NE(errorOf([&] {
              arch::Program::deserialize(bad.data(), bad.size(), "p");
            }).find("unknown flags 2 in version 2"),
            std::string::npos)
      << errorOf(
             [&] { arch::Program::deserialize(bad.data(), bad.size(), "p"); });
  bad = two;
  bad[8] = 4;
  EXPECT_NE(
      errorOf([&] { arch::Program::deserialize(bad.data(), bad.size(), "p"); })
          .find("unsupported program format version 4 (this build reads "
                "versions 1 to 3)"),
      std::string::npos);
  // In memory: an instruction on an NPU past the count.
  b.prog.npus = 1;
  EXPECT_NE(errorOf([&] { b.prog.verify("p"); })
                .find("instruction 1 (vec.add): npu 1 is not below the "
                      "program's 1 NPU"),
            std::string::npos);
  // A program for two NPUs on a chip with one.
  b.prog.npus = 2;
  EXPECT_NE(
      errorOf([&] { b.prog.checkFits(arch::ChipConfig::reference(), "p"); })
          .find("p: the program runs on 2 NPUs, the chip 'reference' "
                "has 1 (npus)"),
      std::string::npos);
  EXPECT_THROW(run(b.prog, arch::ChipConfig::reference(), false),
               arch::ContractError);
}
