//===- EncoderLayerTest.cpp - The bundled layer through compiler and chip -===//
//
// Compiles models/encoder_layer/encoder_layer.onnx for a chip, simulates one
// frame, and compares the chip's outputs with PyTorch's FP32 outputs saved by
// make_model.py. The tolerance is derived in docs/accuracy.md.
//
//===----------------------------------------------------------------------===//

#include "tessera/Compiler/Compile.h"
#include "tessera/Sim/Simulator.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Program.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

using namespace tessera;

namespace {

const std::string kModelDir =
    std::string(TESSERA_MODELS_DIR) + "/encoder_layer";

/// docs/accuracy.md: FP16 storage of every activation through ~10 rounding
/// stages of an encoder layer bounds the worst element's error at 2% of the
/// output's RMS; the RMS error at 0.4%.
constexpr double kMaxAbsErrorOverRms = 0.02;
constexpr double kRmsErrorOverRms = 0.004;

std::vector<float> readF32(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  EXPECT_TRUE(in) << path;
  std::vector<float> v(size_t(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char *>(v.data()), std::streamsize(v.size() * 4));
  return v;
}

arch::Program compileFor(const arch::ChipConfig &chip) {
  llvm::Expected<arch::Program> prog = compiler::compileOnnxFile(
      kModelDir + "/encoder_layer.onnx", chip, compiler::CompileOptions());
  if (!prog) {
    ADD_FAILURE() << llvm::toString(prog.takeError());
    return arch::Program();
  }
  return std::move(*prog);
}

void expectMatchesPyTorch(const sim::SimResult &result) {
  std::vector<float> expected = readF32(kModelDir + "/expected_y.f32");
  ASSERT_EQ(result.outputs.count("y"), 1u);
  const std::vector<float> &actual = result.outputs.at("y");
  ASSERT_EQ(actual.size(), expected.size());
  double maxErr = 0, sumSq = 0, refSq = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_TRUE(std::isfinite(actual[i])) << "element " << i;
    double e = std::fabs(double(actual[i]) - expected[i]);
    maxErr = std::max(maxErr, e);
    sumSq += e * e;
    refSq += double(expected[i]) * expected[i];
  }
  double rms = std::sqrt(refSq / actual.size());
  double rmsErr = std::sqrt(sumSq / actual.size());
  ::testing::Test::RecordProperty("max_abs_error", std::to_string(maxErr));
  ::testing::Test::RecordProperty("rms_error", std::to_string(rmsErr));
  EXPECT_LE(maxErr, kMaxAbsErrorOverRms * rms) << "reference RMS " << rms;
  EXPECT_LE(rmsErr, kRmsErrorOverRms * rms) << "reference RMS " << rms;
}

std::map<std::string, std::vector<float>> inputs() {
  return {{"x", readF32(kModelDir + "/input_x.f32")}};
}

TEST(EncoderLayer, ReferenceChipMatchesPyTorch) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  arch::Program prog = compileFor(chip);
  ASSERT_FALSE(prog.instrs.empty());
  EXPECT_LE(prog.sramBytesUsed, chip.sram_bytes);
  sim::SimResult result = sim::simulateFrame(prog, chip, inputs(), {});
  EXPECT_GT(result.totalCycles, 0u);
  expectMatchesPyTorch(result);
}

TEST(EncoderLayer, TimingOnlyModeGivesTheSameCycles) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  arch::Program prog = compileFor(chip);
  sim::SimResult functional = sim::simulateFrame(prog, chip, inputs(), {});
  sim::SimOptions timing;
  timing.functional = false;
  sim::SimResult timed = sim::simulateFrame(prog, chip, inputs(), timing);
  EXPECT_EQ(functional.totalCycles, timed.totalCycles);
  EXPECT_EQ(functional.dramBytesRead, timed.dramBytesRead);
  // And a second functional frame in the same process repeats the first.
  sim::SimResult again = sim::simulateFrame(prog, chip, inputs(), {});
  EXPECT_EQ(again.totalCycles, functional.totalCycles);
  EXPECT_EQ(again.outputs.at("y"), functional.outputs.at("y"));
}

TEST(EncoderLayer, CompilationIsDeterministic) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  EXPECT_EQ(compileFor(chip).serialize(), compileFor(chip).serialize());
}

TEST(EncoderLayer, TinySramIsTiledAndStillMatches) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  chip.name = "tiny-sram";
  chip.sram_bytes = 64 * 1024;
  arch::Program prog = compileFor(chip);
  EXPECT_LE(prog.sramBytesUsed, chip.sram_bytes);
  sim::SimResult result = sim::simulateFrame(prog, chip, inputs(), {});
  expectMatchesPyTorch(result);
  ::testing::Test::RecordProperty("tiny_sram_cycles",
                                  std::to_string(result.totalCycles));
}

} // namespace

namespace {

sim::SimResult timeOnly(const arch::Program &prog,
                        const arch::ChipConfig &chip) {
  sim::SimOptions o;
  o.functional = false;
  return sim::simulateFrame(prog, chip, {}, o);
}

TEST(EncoderLayer, FourOutstandingTransfersHideDramLatency) {
  // docs/timing-model.md, "Sequencer": with 4 descriptors in flight the
  // loads' DRAM latencies overlap; the compute queue waits less on DRAM.
  arch::ChipConfig one = arch::ChipConfig::reference(), four = one;
  one.dma_outstanding_transfers = 1;
  four.dma_outstanding_transfers = 4;
  arch::Program prog = compileFor(four);
  sim::SimResult r1 = timeOnly(prog, one), r4 = timeOnly(prog, four);
  EXPECT_LT(r4.totalCycles, r1.totalCycles);
  EXPECT_EQ(r1.loadOverlapCycles, 0u);
  EXPECT_GT(r4.loadOverlapCycles, 0u);
  // units[1] is the compute queue.
  EXPECT_LT(r4.units[1].stalls.dramWait, r1.units[1].stalls.dramWait);
  ::testing::Test::RecordProperty("cycles_1_outstanding",
                                  std::to_string(r1.totalCycles));
  ::testing::Test::RecordProperty("cycles_4_outstanding",
                                  std::to_string(r4.totalCycles));
}

TEST(EncoderLayer, StallColumnsAddUpToTheFrame) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  sim::SimResult r = timeOnly(compileFor(chip), chip);
  uint64_t sum = 0;
  for (const sim::LayerStats &l : r.layers) {
    EXPECT_EQ(l.windowMatrixBusy + l.windowVectorBusy + l.windowDepWait +
                  l.windowDramWait + l.windowIdle,
              l.attributedCycles)
        << l.name;
    sum += l.attributedCycles;
  }
  EXPECT_EQ(sum, r.totalCycles);
  ASSERT_EQ(r.units.size(), 6u);
  for (const sim::UnitStalls &u : r.units)
    EXPECT_EQ(u.stalls.total(), r.totalCycles) << u.name;
  // The compute queue's busy time is the two units' busy time.
  EXPECT_EQ(r.units[1].stalls.busy, r.matrixBusyCycles + r.vectorBusyCycles);
  EXPECT_EQ(r.units[5].stalls.busy, r.dramBusyCycles);
}

TEST(EncoderLayer, EnergyIsReproducedByHandFromTheConstants) {
  // docs/chip-config.md, "Energy", recomputed from the program and the
  // reference constants without the simulator's helpers.
  arch::ChipConfig chip = arch::ChipConfig::reference();
  arch::Program prog = compileFor(chip);
  sim::SimResult r = timeOnly(prog, chip);
  double macF16 = 0, macI8 = 0, macF32 = 0, elemPasses = 0, sramBytes = 0,
         dramBytes = 0;
  for (const arch::Instr &in : prog.instrs) {
    for (const arch::Operand &o : arch::operandsOf(in))
      if (!o.inDram)
        sramBytes += double(o.rows * o.rowBytes);
    double rows = in.dims[0], cols = in.dims[1];
    switch (in.op) {
    case arch::Opcode::DmaLoad:
    case arch::Opcode::DmaStore: {
      double burst = chip.dram_burst_bytes, rowBytes = cols;
      uint32_t dramStride = in.strides[0];
      dramBytes += (rows == 1 || dramStride == in.dims[1])
                       ? std::ceil(rows * rowBytes / burst) * burst
                       : rows * std::ceil(rowBytes / burst) * burst;
      break;
    }
    case arch::Opcode::MatMul: {
      double macs = rows * cols * double(in.dims[2]);
      (in.dtype == arch::DType::F16  ? macF16
       : in.dtype == arch::DType::I8 ? macI8
                                     : macF32) += macs;
      break;
    }
    case arch::Opcode::VecLayerNorm:
    case arch::Opcode::VecSoftmax:
      elemPasses += 3 * rows * cols;
      break;
    case arch::Opcode::VecGelu:
      elemPasses += 4 * rows * cols;
      break;
    case arch::Opcode::VecTranspose:
      elemPasses += 2 * rows * cols;
      break;
    default:
      elemPasses += rows * cols;
    }
  }
  double macPj = macF16 * 1.5 + macI8 * 0.23 + macF32 * 4.6;
  double dynamicPj =
      macPj + elemPasses * 4.6 + sramBytes * 12.5 + dramBytes * 162.5;
  double staticPj = 1.0 * double(r.totalCycles) / 2.0 * 1e3; // 1 W, 2 GHz
  EXPECT_NEAR(r.energy.macPj, macPj, 1e-9 * macPj);
  EXPECT_NEAR(r.energy.dynamicPj(), dynamicPj, 1e-9 * dynamicPj);
  EXPECT_NEAR(r.energy.staticPj, staticPj, 1e-9 * staticPj);
  double joules = (dynamicPj + staticPj) * 1e-12;
  EXPECT_NEAR(r.energyJ, joules, 1e-9 * joules);
  double watts = dynamicPj * 1e-12 * 36.0 + 1.0; // 1000 / 27.78 = 36.0 fps
  EXPECT_NEAR(r.wattsAtBudgetFps, watts, 1e-3 * watts);
  double layerSum = 0;
  for (const sim::LayerStats &l : r.layers)
    layerSum += l.energy.totalPj();
  EXPECT_NEAR(layerSum * 1e-12, r.energyJ, 1e-9 * r.energyJ);
  ::testing::Test::RecordProperty("joules_per_frame", std::to_string(joules));
  ::testing::Test::RecordProperty("watts_at_36_fps", std::to_string(watts));
}

TEST(EncoderLayer, EveryDataflowAndModeStillMatchesPyTorch) {
  for (const char *flow : {"weight_stationary", "output_stationary"})
    for (bool compatible : {true, false}) {
      arch::ChipConfig chip = arch::ChipConfig::reference();
      chip.matrix_dataflow = flow;
      chip.scale_sim_compatible = compatible;
      arch::Program prog = compileFor(chip);
      sim::SimResult r = sim::simulateFrame(prog, chip, inputs(), {});
      expectMatchesPyTorch(r);
      sim::SimResult t = timeOnly(prog, chip);
      EXPECT_EQ(t.totalCycles, r.totalCycles) << flow << " " << compatible;
    }
}

} // namespace

namespace {

TEST(EncoderLayer, CompilerTilesMToTheAccumulator) {
  // docs/timing-model.md, "Accumulators": the GEMM planner never streams
  // more rows than matrix_accumulator_rows; the simulator would stop on it.
  arch::ChipConfig chip = arch::ChipConfig::reference();
  chip.matrix_accumulator_rows = 16;
  arch::Program prog = compileFor(chip);
  unsigned matmuls = 0;
  for (const arch::Instr &in : prog.instrs)
    if (in.op == arch::Opcode::MatMul) {
      EXPECT_LE(in.dims[0], 16u);
      ++matmuls;
    }
  EXPECT_GT(matmuls, 0u);
  expectMatchesPyTorch(sim::simulateFrame(prog, chip, inputs(), {}));
}

} // namespace

namespace {

TEST(EncoderLayer, DetailedDramCountsRowsAndStillMatches) {
  // docs/timing-model.md, "DRAM (detailed)": every burst is a row hit or a
  // miss; the frame cannot be faster than with the simple model's pure
  // bandwidth on the same bursts, and the values do not change.
  arch::ChipConfig chip = arch::ChipConfig::reference();
  chip.dram_model = "detailed";
  arch::Program prog = compileFor(chip);
  sim::SimResult r = sim::simulateFrame(prog, chip, inputs(), {});
  expectMatchesPyTorch(r);
  EXPECT_EQ(r.dramRowHits + r.dramRowMisses,
            r.dramBurstBytes / chip.dram_burst_bytes);
  EXPECT_GT(r.dramRowHits, 0u);
  EXPECT_GT(r.dramRowMisses, 0u);
  EXPECT_GT(r.dramTurnarounds, 0u);
  ::testing::Test::RecordProperty("row_hit_rate",
                                  std::to_string(double(r.dramRowHits) /
                                                 double(r.dramRowHits +
                                                        r.dramRowMisses)));
}

} // namespace
