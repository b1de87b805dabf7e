//===- SweepSpecTest.cpp - Sweep files: parsing, planning, errors ---------===//
//
// Part of Tessera. The sweep-file parser and planner (tools/tessera/
// SweepSpec.h): grids, ranges, constraints, seeded random sampling, and the
// `file:line` errors for unknown fields, empty axes, type errors and
// impossible configs. Also checks simulatorOnlyFields() against the compiler:
// changing such a field must not change the compiled program.
//
//===----------------------------------------------------------------------===//

#include "SweepSpec.h"

#include "tessera/Compiler/Compile.h"
#include "tessera/arch/Error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

using namespace tessera;
using namespace tessera::tools;

namespace {

const std::string kModel =
    std::string(TESSERA_MODELS_DIR) + "/encoder_layer/encoder_layer.onnx";

SweepSpec parse(const std::string &body) {
  return parseSweep("[sweep]\nmodel = \"" + kModel + "\"\n" + body, "test.toml",
                    ".");
}

/// The message of the ContractError that parsing (and planning) `body`
/// throws; empty if none.
std::string errorOf(const std::string &body) {
  try {
    planSweep(parse(body));
  } catch (const arch::ContractError &e) {
    return e.what();
  }
  return "";
}

TEST(SweepSpec, MinimalFileFromTheIssue) {
  SweepSpec spec = parseSweep(
      "[sweep]\nmodel = \"models/encoder_layer/encoder_layer.onnx\"\n"
      "[axes]\nsram_bytes = [262144, 1048576, 4194304, 33554432]\n",
      "min.toml", TESSERA_SOURCE_DIR);
  std::vector<SweepPoint> points = planSweep(spec);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[0].chip.sram_bytes, 262144u);
  EXPECT_EQ(points[3].chip.sram_bytes, 33554432u);
  // Every other field is the reference chip's.
  EXPECT_EQ(points[0].chip.matrix_rows, arch::ChipConfig().matrix_rows);
  EXPECT_EQ(points[2].options.at("raise_gelu").b, true);
}

TEST(SweepSpec, GridOrderLastAxisFastest) {
  std::vector<SweepPoint> p = planSweep(
      parse("[axes]\nmatrix_rows = [32, 64]\nvector_lanes = [16, 32, 64]\n"));
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].chip.matrix_rows, 32u);
  EXPECT_EQ(p[0].chip.vector_lanes, 16u);
  EXPECT_EQ(p[1].chip.vector_lanes, 32u);
  EXPECT_EQ(p[3].chip.matrix_rows, 64u);
  EXPECT_EQ(p[3].chip.vector_lanes, 16u);
  EXPECT_EQ(p[5].index, 5u);
}

TEST(SweepSpec, RangesByStepAndFactor) {
  std::vector<SweepPoint> p = planSweep(
      parse("[axes]\nsram_bytes = {from = 1048576, to = 8388608, factor = 2}\n"
            "dram_bandwidth_gbps = {from = 25.6, to = 102.4, step = 25.6}\n"));
  ASSERT_EQ(p.size(), 4u * 4u);
  EXPECT_EQ(p[0].chip.sram_bytes, 1048576u);
  EXPECT_EQ(p[15].chip.sram_bytes, 8388608u);
  EXPECT_DOUBLE_EQ(p[0].chip.dram_bandwidth_gbps, 25.6);
  EXPECT_NEAR(p[3].chip.dram_bandwidth_gbps, 102.4, 1e-9);
}

TEST(SweepSpec, Constraints) {
  std::vector<SweepPoint> p = planSweep(
      parse("constraints = [\"matrix_rows == matrix_cols\", "
            "\"matrix_rows * matrix_cols * 2 <= sram_bytes / 1024\"]\n"
            "[axes]\nmatrix_rows = [32, 64, 128]\nmatrix_cols = [32, 64, 128]\n"
            "sram_bytes = [8388608, 33554432]\n"));
  // Square arrays only; 128x128x2 = 32768 > 8388608/1024 = 8192 drops one.
  // 32: both SRAMs; 64: 8192 <= 8192 and 32768, both; 128: only 32 MiB.
  ASSERT_EQ(p.size(), 5u);
  for (const SweepPoint &x : p)
    EXPECT_EQ(x.chip.matrix_rows, x.chip.matrix_cols);
  EXPECT_EQ(p.back().chip.matrix_rows, 128u);
  EXPECT_EQ(p.back().chip.sram_bytes, 33554432u);
}

TEST(SweepSpec, RandomSamplingIsSeededAndInGridOrder) {
  std::string body = "sampling = \"random\"\nsamples = 7\nseed = 42\n"
                     "[axes]\nmatrix_rows = [16, 32, 64, 96, 128]\n"
                     "vector_lanes = [8, 16, 32, 64]\n";
  std::vector<SweepPoint> a = planSweep(parse(body));
  std::vector<SweepPoint> b = planSweep(parse(body));
  ASSERT_EQ(a.size(), 7u);
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].canonicalText(), b[i].canonicalText());
  std::vector<SweepPoint> other =
      planSweep(parse("sampling = \"random\"\nsamples = 7\nseed = 43\n"
                      "[axes]\nmatrix_rows = [16, 32, 64, 96, 128]\n"
                      "vector_lanes = [8, 16, 32, 64]\n"));
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i)
    differs = differs || a[i].canonicalText() != other[i].canonicalText();
  EXPECT_TRUE(differs);
  // Grid order: rows ascending, then lanes ascending.
  for (size_t i = 1; i < a.size(); ++i) {
    auto key = [](const SweepPoint &p) {
      return std::make_pair(p.chip.matrix_rows, p.chip.vector_lanes);
    };
    EXPECT_LT(key(a[i - 1]), key(a[i]));
  }
  // More samples than points: the whole grid.
  EXPECT_EQ(planSweep(parse("sampling = \"random\"\nsamples = 100\n"
                            "[axes]\nmatrix_rows = [16, 32]\n"))
                .size(),
            2u);
}

TEST(SweepSpec, CompilerOptionAxis) {
  std::vector<SweepPoint> p =
      planSweep(parse("[axes]\nraise_gelu = [true, false]\n"));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(p[0].options.at("raise_gelu").b);
  EXPECT_FALSE(p[1].options.at("raise_gelu").b);
  EXPECT_NE(p[0].compileText(), p[1].compileText());
}

TEST(SweepSpec, CompileTextIgnoresSimulatorOnlyFields) {
  std::vector<SweepPoint> p = planSweep(
      parse("[axes]\nframe_budget_ms = [20.0, 30.0]\nsram_bytes = [1048576, "
            "2097152]\n"));
  ASSERT_EQ(p.size(), 4u);
  EXPECT_NE(p[0].canonicalText(), p[2].canonicalText());
  EXPECT_EQ(p[0].compileText(), p[2].compileText()); // budget differs only
  EXPECT_NE(p[0].compileText(), p[1].compileText()); // SRAM differs
}

TEST(SweepSpec, Errors) {
  // Unknown field, with the line of the axis.
  EXPECT_NE(errorOf("[axes]\nsram_byte = [1]\n")
                .find("test.toml:4: unknown axis 'sram_byte'"),
            std::string::npos);
  // Empty axis.
  EXPECT_NE(errorOf("[axes]\nsram_bytes = []\n")
                .find("test.toml:4: axis 'sram_bytes' is empty"),
            std::string::npos);
  // Type errors: a string for a number, a fraction for a count, a number
  // for a boolean option, a table of the wrong shape.
  EXPECT_NE(errorOf("[axes]\nsram_bytes = [1048576,\n \"big\"]\n")
                .find("test.toml:5: axis 'sram_bytes' value \"big\""),
            std::string::npos);
  EXPECT_NE(errorOf("[axes]\nmatrix_rows = [1.5]\n")
                .find("test.toml:4: axis 'matrix_rows' value 1.5: field "
                      "'matrix_rows' expects a whole number"),
            std::string::npos);
  EXPECT_NE(errorOf("[axes]\nraise_gelu = [1]\n").find("test.toml:4:"),
            std::string::npos);
  EXPECT_NE(errorOf("[axes]\nsram_bytes = {from = 1}\n").find("test.toml:4:"),
            std::string::npos);
  // Impossible configs.
  EXPECT_NE(errorOf("[axes]\nsram_bytes = [0]\n")
                .find("test.toml:4: axis 'sram_bytes' value 0: field "
                      "'sram_bytes' must be positive"),
            std::string::npos);
  EXPECT_NE(errorOf("[axes]\nclock_ghz = [-1.0]\n").find("test.toml:4:"),
            std::string::npos);
  // Constraints.
  EXPECT_NE(errorOf("constraints = [\"matrix_rows = 3\"]\n[axes]\n"
                    "matrix_rows = [32]\n")
                .find("test.toml:3: constraint \"matrix_rows = 3\": expected "
                      "a comparison"),
            std::string::npos);
  EXPECT_NE(errorOf("constraints = [\"rows == 3\"]\n")
                .find("test.toml:3: constraint \"rows == 3\": unknown name "
                      "'rows'"),
            std::string::npos);
  EXPECT_NE(errorOf("constraints = [\"matrix_rows > 1000\"]\n[axes]\n"
                    "matrix_rows = [32, 64]\n")
                .find("the constraints leave no point"),
            std::string::npos);
  // TOML syntax, unknown keys and sections, a missing model.
  EXPECT_NE(errorOf("[axes\n").find("test.toml:3:"), std::string::npos);
  // Headers that make toml++ 3.3.0 assert (marzer/tomlplusplus#301).
  EXPECT_NE(errorOf("[*x\n").find("test.toml:3: malformed table header"),
            std::string::npos);
  EXPECT_NE(errorOf("[[[1]]]\n").find("test.toml:3: malformed table header"),
            std::string::npos);
  EXPECT_NE(errorOf("[[=\n").find("test.toml:3: malformed table header"),
            std::string::npos);
  EXPECT_NE(errorOf("[axes]\nclock_ghz = [1.0, 2.\xd0\xa2]\n")
                .find("test.toml:4: unexpected non-ASCII character"),
            std::string::npos);
  // Sweep files are ASCII (as chip configs are): toml++ 3.3.0 reaches
  // __builtin_unreachable() on some non-ASCII characters in strings too
  // (found by the 1M-run campaign, tests/sweep/errors/
  // toml_non_ascii_string.toml), so comments and strings are no exception.
  EXPECT_EQ(errorOf("# \xc3\xa9t\xc3\xa9\n[axes]\n"),
            "test.toml:3: unexpected non-ASCII character (byte 195; sweep "
            "files must be ASCII)");
  EXPECT_NE(errorOf("[axes]\nname = [\"\xc3\xa9\"]\n")
                .find("test.toml:4: unexpected non-ASCII character"),
            std::string::npos);
  EXPECT_NE(errorOf("[sweep]\nmodel = \"encoder\xef\xba\xbf\\")
                .find("test.toml:4: unexpected non-ASCII character"),
            std::string::npos);
  EXPECT_NE(errorOf("sample = 3\n").find("test.toml:3: unknown key 'sample'"),
            std::string::npos);
  EXPECT_NE(errorOf("[chip]\nx = 1\n").find("unknown section 'chip'"),
            std::string::npos);
  EXPECT_NE(errorOf("sampling = \"random\"\n").find("needs 'samples'"),
            std::string::npos);
  try {
    parseSweep("[sweep]\nmodel = \"nope.onnx\"\n", "m.toml", ".");
    FAIL() << "no error for a missing model";
  } catch (const arch::ContractError &e) {
    EXPECT_NE(std::string(e.what()).find("m.toml:2: model 'nope.onnx' not "
                                         "found"),
              std::string::npos);
  }
  // Duplicate values and a grid that is too large.
  EXPECT_NE(errorOf("[axes]\nmatrix_rows = [32, 32]\n").find("given twice"),
            std::string::npos);
  EXPECT_NE(errorOf("[axes]\nsram_bytes = {from = 1024, to = 2023, step = 1}\n"
                    "vector_lanes = {from = 1, to = 1000, step = 1}\n"
                    "matrix_rows = {from = 1, to = 10, step = 1}\n")
                .find("more than 1000000 points"),
            std::string::npos);
}

/// Changing a field listed in simulatorOnlyFields() must leave the compiled
/// program byte for byte the same (the sweep reuses it across such points).
TEST(SweepSpec, SimulatorOnlyFieldsDoNotChangeTheProgram) {
  auto compileWith = [](const arch::ChipConfig &chip) {
    llvm::Expected<arch::Program> prog =
        compiler::compileOnnxFile(kModel, chip, compiler::CompileOptions());
    EXPECT_TRUE(bool(prog));
    if (!prog) {
      llvm::consumeError(prog.takeError());
      return std::vector<uint8_t>();
    }
    return prog->serialize();
  };
  std::vector<uint8_t> reference = compileWith(arch::ChipConfig());
  std::map<std::string, std::string> base =
      configFieldValues(arch::ChipConfig());
  for (const std::string &field : simulatorOnlyFields()) {
    ASSERT_TRUE(base.count(field)) << field << " is not a chip-config field";
    // Another valid value: the other boolean or dataflow, or twice the
    // number.
    std::ostringstream value;
    if (base[field] == "true" || base[field] == "false") {
      value << (base[field] == "true" ? "false" : "true");
    } else if (field == "matrix_dataflow") {
      value << (base[field] == "weight_stationary" ? "\"output_stationary\""
                                                   : "\"weight_stationary\"");
    } else {
      double doubled = 2 * std::strtod(base[field].c_str(), nullptr);
      value << (doubled == 0 ? 1 : doubled);
    }
    std::vector<SweepPoint> p =
        planSweep(parse("[axes]\n" + field + " = [" + value.str() + "]\n"));
    ASSERT_EQ(p.size(), 1u);
    SweepPoint unchanged;
    unchanged.options = p[0].options;
    EXPECT_NE(p[0].canonicalText(), unchanged.canonicalText()) << field;
    EXPECT_EQ(compileWith(p[0].chip), reference)
        << "the compiler reads " << field
        << ": remove it from simulatorOnlyFields()";
  }
  // And a field the compiler does read changes the program.
  std::vector<SweepPoint> small =
      planSweep(parse("[axes]\nsram_bytes = [262144]\n"));
  EXPECT_NE(compileWith(small[0].chip), reference);
}

} // namespace
