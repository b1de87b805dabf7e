//===- SequencerTest.cpp - Queues, dependency tokens, DRAM contention
//------===//
//
// Whole-frame timing on small programs, against the closed forms of
// docs/timing-model.md: independent instructions on different queues
// overlap (the frame takes the max), dependencies serialize (the sum), a
// queue runs in order, load and store contend for the one DRAM channel.
// Also: timing-only gives the same cycles, repeated frames are identical,
// and bad inputs are clear errors.
//
//===----------------------------------------------------------------------===//

#include "TestPrograms.h"

#include "tessera/Sim/Simulator.h"
#include "tessera/Sim/Timing.h"
#include "tessera/arch/Error.h"

#include <gtest/gtest.h>

using namespace tessera;
using namespace tessera::simtest;
namespace timing = tessera::sim::timing;
using arch::DType;
using arch::Opcode;
using arch::TensorKind;

namespace {

arch::ChipConfig ref() { return arch::ChipConfig::reference(); }

sim::SimResult simulate(const arch::Program &p,
                        const arch::ChipConfig &chip = ref(),
                        bool functional = false) {
  sim::SimOptions o;
  o.functional = functional;
  std::map<std::string, std::vector<float>> inputs;
  if (functional)
    for (const arch::TensorInfo &t : p.tensors)
      if (t.kind == TensorKind::Input)
        inputs[t.name] = flat(randomMat(1, t.numElements(), 7));
  return sim::simulateFrame(p, chip, inputs, o);
}

/// A 64 x 2048-byte input, a 96 x 96 F16 weight area and an output.
struct Fixture {
  ProgramBuilder b;
  uint64_t in, out;
  Fixture() {
    in = b.tensor("x", TensorKind::Input, DType::F16, {64, 1024});
    out = b.tensor("y", TensorKind::Output, DType::F16, {64, 1024});
  }
};

TEST(Sequencer, OneLoadTakesTheDmaFormula) {
  Fixture f;
  uint32_t l = f.b.load(f.in, 0, 64, 2048);
  sim::SimResult r = simulate(f.b.prog);
  // 131072 bytes: 300 + ceil(131072 / 34) = 300 + 3856.
  EXPECT_EQ(r.totalCycles, 4156u);
  EXPECT_EQ(r.totalCycles, timing::instrCycles(ref(), f.b.prog.instrs[l]));
  EXPECT_EQ(r.dramBytesRead, 131072u);
  EXPECT_EQ(r.dramBytesWritten, 0u);
}

TEST(Sequencer, IndependentLoadAndComputeOverlap) {
  Fixture f;
  f.b.load(f.in, 0, 64, 2048);
  f.b.matmul(DType::F16, DType::F16, 64, 96, 96, 0x40000, 0x50000, 0x60000);
  sim::SimResult r = simulate(f.b.prog);
  uint64_t load = timing::instrCycles(ref(), f.b.prog.instrs[0]);
  uint64_t mm = timing::instrCycles(ref(), f.b.prog.instrs[1]);
  EXPECT_EQ(mm, 2u * 96 + 96 + 64 * 4 - 2);
  EXPECT_EQ(r.totalCycles, std::max(load, mm));
  EXPECT_EQ(r.instrTimings[1].startCycle, 0u);
}

TEST(Sequencer, DependenciesSerialize) {
  Fixture f;
  uint32_t l = f.b.load(f.in, 0, 64, 2048);
  uint32_t m =
      f.b.matmul(DType::F16, DType::F16, 64, 96, 96, 0, 0x50000, 0x60000, {l});
  uint32_t v = f.b.vec(Opcode::VecGelu, DType::F16, DType::F16, 64, 96, 0x60000,
                       0, 0x70000, {m});
  f.b.store(f.out, 0x70000, 64, 192, {v});
  sim::SimResult r = simulate(f.b.prog);
  uint64_t sum = 0;
  for (const arch::Instr &in : f.b.prog.instrs)
    sum += timing::instrCycles(ref(), in);
  EXPECT_EQ(r.totalCycles, sum);
  EXPECT_EQ(r.instrTimings[m].startCycle, r.instrTimings[l].endCycle);
  EXPECT_EQ(r.instrTimings[v].startCycle, r.instrTimings[m].endCycle);
  // The matmul reached the head of the compute queue at 0 and waited for the
  // load's token.
  EXPECT_EQ(r.instrTimings[m].headCycle, 0u);
}

TEST(Sequencer, AQueueRunsInOrderOneAtATime) {
  Fixture f;
  // Two independent compute instructions still run back to back.
  f.b.matmul(DType::I8, DType::F16, 10, 96, 96, 0, 0x10000, 0x20000);
  f.b.vec(Opcode::VecAdd, DType::F16, DType::F16, 8, 64, 0x30000, 0x31000,
          0x32000);
  sim::SimResult r = simulate(f.b.prog);
  EXPECT_EQ(r.totalCycles,
            timing::matmulCycles(ref(), 10, 96, 96, DType::I8) +
                timing::vectorCycles(ref(), Opcode::VecAdd, 8, 64));
  EXPECT_EQ(r.matrixBusyCycles, 2u * 96 + 96 + 10 - 2);
  EXPECT_EQ(r.vectorBusyCycles, 16u + 8);
}

TEST(Sequencer, LoadAndStoreContendForTheDramChannel) {
  Fixture f;
  // Issued together: both wait the latency, then one holds the data bus
  // while the other waits for it: L + D(load) + D(store).
  f.b.load(f.in, 0, 64, 2048);
  f.b.store(f.out, 0x40000, 32, 2048);
  sim::SimResult r = simulate(f.b.prog);
  uint64_t L = ref().dramLatencyCycles();
  uint64_t dLoad = timing::dramDataCycles(ref(), 131072);
  uint64_t dStore = timing::dramDataCycles(ref(), 65536);
  EXPECT_EQ(r.totalCycles, L + dLoad + dStore);
  EXPECT_EQ(r.dramBusyCycles, dLoad + dStore);
  EXPECT_EQ(r.dramBytesWritten, 65536u);
  // Two loads in the same queue: with one transfer in flight they do not
  // overlap at all; with the reference chip's 4 their latencies overlap and
  // only the data phases serialize on the bus.
  Fixture g;
  g.b.load(g.in, 0, 32, 2048);
  g.b.load(g.in + 65536, 0x10000, 32, 2048);
  arch::ChipConfig one = ref();
  one.dma_outstanding_transfers = 1;
  EXPECT_EQ(simulate(g.b.prog, one).totalCycles, 2 * (L + dStore));
  EXPECT_EQ(simulate(g.b.prog).totalCycles, L + 2 * dStore);
}

TEST(Sequencer, OutstandingTransfersFollowTheDescriptorRing) {
  // Six independent 64 KiB loads (D = 1928 data cycles, L = 300). N = 4:
  // 0-3 issue at 0 and finish at L + (i+1)D; 4 takes 0's slot when it ends
  // (L + D) and 5 takes 1's (L + 2D); their data waits for the bus, which
  // is never idle after L: the frame is L + 6D. N = 1: 6 (L + D). N = 2:
  // 2 issues at end[0] = L + D, its data at max(2L + D, L + 2D) = L + 2D:
  // the bus stays busy (D > L), so again L + 6D. Transfers issued in the
  // same cycle reach the DRAM in issue order: end[i] = L + (i+1)D.
  Fixture f;
  for (uint32_t i = 0; i < 6; ++i)
    f.b.load(f.in, 0x10000 * i, 32, 2048);
  uint64_t L = ref().dramLatencyCycles();
  uint64_t D = timing::dramDataCycles(ref(), 65536);
  for (uint32_t n : {1u, 2u, 4u, 6u}) {
    arch::ChipConfig chip = ref();
    chip.dma_outstanding_transfers = n;
    sim::SimResult r = simulate(f.b.prog, chip);
    EXPECT_EQ(r.totalCycles, n == 1 ? 6 * (L + D) : L + 6 * D) << n;
    // Issue follows the recurrence of docs/timing-model.md.
    for (uint32_t i = 0; i < 6; ++i) {
      uint64_t expectStart = i < n ? 0 : r.instrTimings[i - n].endCycle;
      if (i > 0)
        expectStart = std::max(expectStart, r.instrTimings[i - 1].startCycle);
      EXPECT_EQ(r.instrTimings[i].startCycle, expectStart) << n << " " << i;
      if (n > 1)
        EXPECT_EQ(r.instrTimings[i].endCycle, L + (i + 1) * D) << n << " " << i;
    }
    // Overlap = sum of transfer cycles - cycles with one in flight.
    uint64_t sum = 0;
    for (const sim::InstrTiming &t : r.instrTimings)
      sum += t.endCycle - t.startCycle;
    EXPECT_EQ(r.loadBusyCycles, sum);
    EXPECT_EQ(r.loadOverlapCycles, sum - r.totalCycles) << n;
    EXPECT_EQ(r.loadOverlapCycles == 0, n == 1);
  }
}

TEST(Sequencer, StallsAreAttributedCycleByCycle) {
  // load -> matmul -> store, each in its own layer. Load: L + D. The compute
  // queue waits on DRAM (the load) until then, runs the matmul, then idles;
  // the store queue waits on the matmul (a dependency), then on DRAM (L),
  // then moves its data.
  Fixture f;
  f.b.prog.layers = {"load", "matmul", "store"};
  uint32_t l = f.b.load(f.in, 0, 96, 192, {}, 0, 0, 0);
  uint32_t m =
      f.b.matmul(DType::F16, DType::F16, 96, 96, 96, 0, 0, 0x8000, {l});
  f.b.prog.instrs[m].layer = 1;
  f.b.store(f.out, 0x8000, 96, 192, {m}, 0, 0, 2);
  sim::SimResult r = simulate(f.b.prog);
  uint64_t L = ref().dramLatencyCycles();
  uint64_t D = timing::dramDataCycles(ref(), 96 * 192);
  uint64_t mm = timing::matmulCycles(ref(), 96, 96, 96, DType::F16);
  uint64_t T = L + D + mm + L + D;
  ASSERT_EQ(r.totalCycles, T);
  ASSERT_EQ(r.units.size(), 6u);
  auto expectStalls = [&](size_t u, uint64_t busy, uint64_t dep, uint64_t dram,
                          uint64_t idle) {
    const sim::StallBreakdown &s = r.units[u].stalls;
    EXPECT_EQ(s.busy, busy) << r.units[u].name;
    EXPECT_EQ(s.depWait, dep) << r.units[u].name;
    EXPECT_EQ(s.dramWait, dram) << r.units[u].name;
    EXPECT_EQ(s.idle, idle) << r.units[u].name;
    EXPECT_EQ(s.total(), T) << r.units[u].name;
  };
  expectStalls(0, D, 0, L, T - L - D);      // load queue
  expectStalls(1, mm, 0, L + D, L + D);     // compute queue
  expectStalls(2, D, L + D + mm, L, 0);     // store queue
  expectStalls(3, mm, 0, L + D, L + D);     // matrix unit
  expectStalls(4, 0, 0, L + D, mm + L + D); // vector unit
  expectStalls(5, 2 * D, 0, 0, T - 2 * D);  // DRAM bus
  EXPECT_EQ(r.units[2].stalls.topBlocker, int64_t(m));
  EXPECT_EQ(r.units[2].stalls.topBlockerCycles, L + D + mm);
  EXPECT_EQ(r.instrTimings[m].blocker, int64_t(l));
  // Per layer: the compute queue inside each attributed window.
  ASSERT_EQ(r.layers.size(), 3u);
  EXPECT_EQ(r.layers[0].attributedCycles, L + D);
  EXPECT_EQ(r.layers[0].windowDramWait, L + D);
  EXPECT_EQ(r.layers[1].windowMatrixBusy, mm);
  EXPECT_EQ(r.layers[2].windowIdle, L + D);
  for (const sim::LayerStats &ls : r.layers)
    EXPECT_EQ(ls.windowMatrixBusy + ls.windowVectorBusy + ls.windowDepWait +
                  ls.windowDramWait + ls.windowIdle,
              ls.attributedCycles)
        << ls.name;
}

TEST(Sequencer, EnergyFollowsTheConstants) {
  // One load, one FP16 matmul, one gelu, one store, on constants chosen so
  // each term is easy to see.
  arch::ChipConfig chip = ref();
  chip.energy_mac_fp16_pj = 2;
  chip.energy_vector_op_pj = 3;
  chip.energy_sram_pj_per_byte = 5;
  chip.energy_dram_pj_per_byte = 7;
  chip.static_power_w = 0.5;
  Fixture f;
  uint32_t l = f.b.load(f.in, 0, 96, 192);
  uint32_t m =
      f.b.matmul(DType::F16, DType::F16, 96, 96, 96, 0, 0, 0x8000, {l});
  uint32_t g = f.b.vec(Opcode::VecGelu, DType::F16, DType::F16, 96, 96, 0x8000,
                       0, 0x10000, {m});
  f.b.store(f.out, 0x10000, 96, 192, {g});
  sim::SimResult r = simulate(f.b.prog, chip);
  double macs = 96.0 * 96 * 96;
  double sramBytes = 18432.0        // load: SRAM side
                     + 3 * 18432.0  // matmul: a, b, out (FP16)
                     + 2 * 18432.0  // gelu: a, out
                     + 18432.0;     // store: SRAM side
  double dramBytes = 2 * 18432.0;   // already whole 64-byte bursts
  double vectorOps = 4.0 * 96 * 96; // gelu: 4 passes
  EXPECT_DOUBLE_EQ(r.energy.macPj, macs * 2);
  EXPECT_DOUBLE_EQ(r.energy.sramPj, sramBytes * 5);
  EXPECT_DOUBLE_EQ(r.energy.dramPj, dramBytes * 7);
  EXPECT_DOUBLE_EQ(r.energy.vectorPj, vectorOps * 3);
  // 0.5 W over totalCycles at 2 GHz: 0.25 pJ... 0.5e12 pJ/s / 2e9 = 250 pJ
  // per cycle.
  EXPECT_DOUBLE_EQ(r.energy.staticPj, 250.0 * r.totalCycles);
  EXPECT_DOUBLE_EQ(r.energyJ, r.energy.totalPj() * 1e-12);
  EXPECT_DOUBLE_EQ(r.wattsAtBudgetFps,
                   r.energy.dynamicPj() * 1e-12 * (1000 / 27.78) + 0.5);
}

TEST(Sequencer, LayersAttributeTheFrame) {
  Fixture f;
  f.b.prog.layers = {"first", "second"};
  uint32_t l = f.b.load(f.in, 0, 64, 2048, {}, 0, 0, 0);
  uint32_t v = f.b.vec(Opcode::VecGelu, DType::F16, DType::F16, 64, 1024, 0, 0,
                       0x20000, {l}, 0, 0, 0, 1);
  f.b.store(f.out, 0x20000, 64, 2048, {v}, 0, 0, 1);
  sim::SimResult r = simulate(f.b.prog);
  ASSERT_EQ(r.layers.size(), 2u);
  EXPECT_EQ(r.layers[0].name, "first");
  EXPECT_EQ(r.layers[0].endCycle, r.instrTimings[l].endCycle);
  EXPECT_EQ(r.layers[0].attributedCycles + r.layers[1].attributedCycles,
            r.totalCycles);
  EXPECT_EQ(r.layers[0].dramBytesRead, 131072u);
  EXPECT_EQ(r.layers[1].dramBytesWritten, 131072u);
  EXPECT_EQ(r.layers[1].vectorCycles,
            timing::vectorCycles(ref(), Opcode::VecGelu, 64, 1024));
  EXPECT_EQ(r.layers[1].instructions, 2u);
}

/// A mixed program: loads, matmuls with accumulation, vector ops, stores.
arch::Program mixedProgram() {
  ProgramBuilder b;
  uint64_t x = b.tensor("x", TensorKind::Input, DType::F16, {64, 128});
  uint64_t w = b.tensor("w", TensorKind::Weight, DType::F16, {128, 128},
                        flat(randomMat(128, 128, 3, 0.1f)));
  uint64_t y = b.tensor("y", TensorKind::Output, DType::F16, {64, 128});
  uint32_t lx = b.load(x, 0, 64, 256);
  uint32_t lw = b.load(w, 0x10000, 128, 256);
  uint32_t m0 = b.matmul(DType::F16, DType::F32, 64, 128, 128, 0, 0x10000,
                         0x20000, {lx, lw});
  uint32_t g = b.vec(Opcode::VecGelu, DType::F32, DType::F16, 64, 128, 0x20000,
                     0, 0x30000, {m0});
  uint32_t n = b.vec(Opcode::VecSoftmax, DType::F16, DType::F16, 64, 128,
                     0x30000, 0, 0x40000, {g});
  b.store(y, 0x40000, 64, 256, {n});
  return b.prog;
}

TEST(Sequencer, TimingOnlyGivesTheSameCycles) {
  arch::Program p = mixedProgram();
  sim::SimResult functional = simulate(p, ref(), true);
  sim::SimResult timed = simulate(p, ref(), false);
  EXPECT_EQ(functional.totalCycles, timed.totalCycles);
  EXPECT_EQ(functional.dramBusyCycles, timed.dramBusyCycles);
  EXPECT_EQ(functional.matrixBusyCycles, timed.matrixBusyCycles);
  for (size_t i = 0; i < p.instrs.size(); ++i)
    EXPECT_EQ(functional.instrTimings[i].endCycle,
              timed.instrTimings[i].endCycle);
  EXPECT_EQ(functional.outputs.size(), 1u);
  EXPECT_TRUE(timed.outputs.empty());
}

TEST(Sequencer, RepeatedFramesInOneProcessAreIdentical) {
  arch::Program p = mixedProgram();
  sim::SimResult first = simulate(p, ref(), true);
  sim::SimResult second = simulate(p, ref(), true);
  EXPECT_EQ(first.totalCycles, second.totalCycles);
  EXPECT_EQ(first.outputs.at("y"), second.outputs.at("y"));
  // A different chip in between, then the first again.
  arch::ChipConfig slow = ref();
  slow.clock_ghz = 1.0;
  slow.dram_bandwidth_gbps = 17;
  sim::SimResult other = simulate(p, slow, true);
  EXPECT_NE(other.totalCycles, first.totalCycles);
  EXPECT_EQ(other.outputs.at("y"), first.outputs.at("y"));
  EXPECT_EQ(simulate(p, ref(), true).totalCycles, first.totalCycles);
}

TEST(Sequencer, FrameMsFollowsTheClock) {
  arch::Program p = mixedProgram();
  sim::SimResult r = simulate(p);
  EXPECT_DOUBLE_EQ(r.frameMs, double(r.totalCycles) / 2e6);
  EXPECT_DOUBLE_EQ(r.matrixUtilization,
                   double(r.macs) / (double(r.totalCycles) * 96 * 96));
  EXPECT_EQ(r.macs, 64u * 128 * 128);
}

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SimErrors, MissingUnknownAndWrongSizedInputs) {
  arch::Program p = mixedProgram();
  auto run = [&](std::map<std::string, std::vector<float>> in) {
    return [&p, in] { sim::simulateFrame(p, ref(), in); };
  };
  EXPECT_EQ(errorOf(run({})), "no value for input 'x' (8192 float32 values)");
  EXPECT_EQ(errorOf(run({{"x", std::vector<float>(10)}})),
            "input 'x' has 10 values, expected 8192");
  EXPECT_EQ(errorOf(run({{"x", std::vector<float>(8192)},
                         {"z", std::vector<float>(1)}})),
            "unknown input 'z': the program's inputs are 'x'");
  EXPECT_THROW(run({})(), sim::SimError);
  // Timing-only frames do not need the values.
  sim::SimOptions timingOnly;
  timingOnly.functional = false;
  EXPECT_NO_THROW(sim::simulateFrame(p, ref(), {}, timingOnly));
}

TEST(SimErrors, SramAccessPastCapacityNamesTheInstruction) {
  // The program uses 0x50000 bytes of SRAM; the chip has 256 KiB (0x40000).
  Fixture f;
  uint32_t l = f.b.load(f.in, 0, 16, 2048);
  f.b.load(f.in, 0x48000, 16, 2048, {l});
  arch::ChipConfig small = ref();
  small.sram_bytes = 0x40000;
  for (bool functional : {true, false}) {
    std::string err = errorOf([&] { simulate(f.b.prog, small, functional); });
    EXPECT_NE(err.find("instruction 1 (dma.load)"), std::string::npos) << err;
    EXPECT_NE(err.find("SRAM write of 16 x 2048 bytes at 0x48000"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("outside the 262144-byte SRAM"), std::string::npos)
        << err;
    // Issued when the first load completed.
    std::string at =
        "at cycle " +
        std::to_string(timing::instrCycles(small, f.b.prog.instrs[0]));
    EXPECT_NE(err.find(at), std::string::npos) << err;
  }
  // The model recovers: the next frame runs normally.
  EXPECT_EQ(simulate(f.b.prog).totalCycles,
            2 * timing::instrCycles(ref(), f.b.prog.instrs[0]));
}

TEST(SimErrors, ComputeOperandPastCapacity) {
  Fixture f;
  f.b.vec(Opcode::VecAdd, DType::F16, DType::F16, 4, 64, 0, 0x100, 0x3ff00);
  arch::ChipConfig small = ref();
  small.sram_bytes = 0x40000;
  std::string err = errorOf([&] { simulate(f.b.prog, small, true); });
  EXPECT_NE(err.find("instruction 0 (vec.add) on the vector unit at cycle 0: "
                     "operand out: SRAM write"),
            std::string::npos)
      << err;
}

TEST(SimErrors, MalformedProgramAndChip) {
  Fixture f;
  uint32_t l = f.b.load(f.in, 0, 1, 64);
  f.b.prog.instrs[l].deps = {5};
  EXPECT_THROW(simulate(f.b.prog), arch::ContractError);
  f.b.prog.instrs[l].deps = {};
  arch::ChipConfig bad = ref();
  bad.dram_bandwidth_gbps = 0;
  std::string err = errorOf([&] { simulate(f.b.prog, bad); });
  EXPECT_NE(err.find("dram_bandwidth_gbps"), std::string::npos) << err;
}

} // namespace
