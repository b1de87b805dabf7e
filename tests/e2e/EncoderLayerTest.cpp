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

const std::string kModelDir = std::string(TESSERA_MODELS_DIR) + "/encoder_layer";

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
  ::testing::Test::RecordProperty("tiny_sram_cycles", std::to_string(result.totalCycles));
}

} // namespace
