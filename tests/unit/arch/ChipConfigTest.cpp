//===- ChipConfigTest.cpp - Chip config parsing and its errors ------------===//

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/Toml.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

using namespace tessera::arch;

namespace {

/// The reference config's text with `field`'s line replaced by `line`
/// (or dropped when `line` is empty).
std::string withLine(const std::string &field, const std::string &line) {
  std::string text = ChipConfig::reference().toText();
  std::regex re("(^|\n)" + field + " = [^\n]*");
  return std::regex_replace(text, re, line.empty() ? "$1" : "$1" + line);
}

std::string parseError(const std::string &text) {
  try {
    ChipConfig::parse(text, "chip.cfg");
  } catch (const ContractError &e) {
    return e.what();
  }
  return "";
}

TEST(ChipConfig, BundledReferenceFileMatchesBuiltIn) {
  ChipConfig fromFile = ChipConfig::load(TESSERA_REFERENCE_CONFIG);
  EXPECT_EQ(fromFile.toText(), ChipConfig::reference().toText());
}

TEST(ChipConfig, RoundTripsThroughText) {
  ChipConfig c = ChipConfig::reference();
  c.name = "small";
  c.sram_bytes = 65536;
  c.dram_bandwidth_gbps = 12.5;
  ChipConfig back = ChipConfig::parse(c.toText(), "mem");
  EXPECT_EQ(back.toText(), c.toText());
  EXPECT_EQ(back.sram_bytes, 65536u);
  EXPECT_DOUBLE_EQ(back.dram_bandwidth_gbps, 12.5);
}

TEST(ChipConfig, CommentsAndBlankLinesAreIgnored) {
  std::string text = "# a chip\n\n" + ChipConfig::reference().toText() +
                     "   # trailing comment\n";
  EXPECT_EQ(ChipConfig::parse(text, "x").toText(),
            ChipConfig::reference().toText());
}

TEST(ChipConfig, DerivedQuantities) {
  ChipConfig c = ChipConfig::reference();
  EXPECT_EQ(c.sramBytesPerCycle(), 32u * 64u);
  EXPECT_DOUBLE_EQ(c.dramBytesPerCycle(), 34.0); // 68 GB/s at 2 GHz
  EXPECT_EQ(c.dramLatencyCycles(), 300u);        // 150 ns at 2 GHz
  c.dram_latency_ns = 100.1;
  EXPECT_EQ(c.dramLatencyCycles(), 201u); // rounded up
  EXPECT_DOUBLE_EQ(c.cyclesToMs(2000000), 1.0);
}

TEST(ChipConfig, MissingFieldIsNamed) {
  EXPECT_EQ(parseError(withLine("sram_bytes", "")),
            "chip.cfg: missing field 'sram_bytes'");
}

TEST(ChipConfig, NegativeFieldIsNamedWithLine) {
  std::string err =
      parseError(withLine("dram_bandwidth_gbps", "dram_bandwidth_gbps = -4"));
  EXPECT_NE(err.find("chip.cfg:"), std::string::npos) << err;
  EXPECT_NE(err.find("'dram_bandwidth_gbps' must not be negative"),
            std::string::npos)
      << err;
}

TEST(ChipConfig, ZeroSizeIsRejectedButZeroLatencyIsAllowed) {
  EXPECT_NE(parseError(withLine("matrix_rows", "matrix_rows = 0"))
                .find("'matrix_rows' must be positive"),
            std::string::npos);
  EXPECT_EQ(parseError(withLine("dram_latency_ns", "dram_latency_ns = 0")), "");
}

TEST(ChipConfig, MalformedValues) {
  // Type errors found after parsing: the field's line and what it expects.
  EXPECT_EQ(parseError(withLine("clock_ghz", "clock_ghz = \"fast\"")),
            "chip.cfg:2: field 'clock_ghz' expects a number, got 'fast'");
  EXPECT_EQ(parseError(withLine("matrix_rows", "matrix_rows = 9.5")),
            "chip.cfg:3: field 'matrix_rows' expects a whole number, got 9.5");
  EXPECT_EQ(parseError(withLine("matrix_rows", "matrix_rows = 1e30")),
            "chip.cfg:3: field 'matrix_rows' must be in its range 1 .. 4096, "
            "got 1e+30");
  EXPECT_EQ(parseError(withLine("name", "name = 3")),
            "chip.cfg:1: field 'name' expects quoted text, got 3");
  EXPECT_EQ(parseError(withLine("clock_ghz", "clock_ghz = 0x10")),
            "chip.cfg:2: field 'clock_ghz' expects a decimal number, got 0x10");
  EXPECT_EQ(parseError(withLine("clock_ghz", "clock_ghz = inf")),
            "chip.cfg:2: field 'clock_ghz' expects a finite number, got inf");
  EXPECT_EQ(parseError(withLine("clock_ghz", "clock_ghz = [1, 2]")),
            "chip.cfg:2: field 'clock_ghz' expects a number, got [ 1, 2 ]");
  // Syntax errors, reported by toml++ with line and column; the field of the
  // line is named.
  EXPECT_EQ(parseError(withLine("clock_ghz", "clock_ghz = fast"))
                .rfind("chip.cfg:2:", 0),
            0u);
  EXPECT_NE(parseError(withLine("clock_ghz", "clock_ghz = fast"))
                .find("field 'clock_ghz': "),
            std::string::npos);
  EXPECT_NE(parseError(withLine("clock_ghz", "clock_ghz"))
                .find("chip.cfg:2:10: field 'clock_ghz': "),
            std::string::npos);
  EXPECT_NE(parseError(withLine("clock_ghz", "clock_ghz = "))
                .find("chip.cfg:2:13: field 'clock_ghz': "),
            std::string::npos);
  // The plain files of old wrote text unquoted; the error says what changed.
  std::string err = parseError(withLine("name", "name = reference"));
  EXPECT_EQ(err.rfind("chip.cfg:1:8: field 'name': ", 0), 0u) << err;
  EXPECT_NE(err.find("(text values are quoted in TOML: name = \"...\")"),
            std::string::npos)
      << err;
  // ... but only for a text field.
  EXPECT_EQ(
      parseError(withLine("clock_ghz", "clock_ghz = fast")).find("quoted"),
      std::string::npos);
}

TEST(ChipConfig, UnknownAndDuplicateFields) {
  std::string text = ChipConfig::reference().toText();
  // The appended line is the one after the last line of `text`.
  std::string next =
      std::to_string(std::count(text.begin(), text.end(), '\n') + 1);
  std::string after = std::to_string(std::stoi(next) + 1);
  std::string sramLine;
  {
    std::istringstream in(text);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
      if (line.rfind("sram_bytes", 0) == 0)
        sramLine = std::to_string(n);
  }
  EXPECT_EQ(parseError(text + "warp_drive = 1\n"),
            "chip.cfg:" + next + ": unknown field 'warp_drive'");
  EXPECT_EQ(parseError(text + "clock_ghz = 1.0\n"),
            "chip.cfg:" + next +
                ":13: field 'clock_ghz' given twice (first on line 2)");
  // A flat name and the same field in a section.
  EXPECT_EQ(parseError(text + "[sram]\nbytes = 1024\n"),
            "chip.cfg:" + after +
                ": field 'sram_bytes' given twice (first on line " + sramLine +
                ")");
  EXPECT_EQ(parseError(text + "[warp]\ndrive = 1\n"),
            "chip.cfg:" + after + ": unknown field 'warp_drive'");
}

TEST(ChipConfig, SectionsNameFieldsByPrefix) {
  std::string flat = ChipConfig::reference().toText();
  std::regex sram("(^|\n)sram_[^\n]*");
  std::regex dram("(^|\n)dram_[^\n]*");
  std::string sectioned = std::regex_replace(flat, sram, "$1");
  sectioned = std::regex_replace(sectioned, dram, "$1");
  sectioned += "[sram]\nbytes = 65536\nbanks = 32\nbank_width_bytes = 64\n"
               "access_cycles = 3\n"
               "[dram]\nbandwidth_gbps = 68.0\nlatency_ns = 150\n"
               "burst_bytes = 64\nmodel = \"simple\"\nchannels = 4\n"
               "banks = 8\nrow_bytes = 2048\ntrcd_ns = 18\ntrp_ns = 18\n"
               "twtr_ns = 10\ntrtw_ns = 10\n";
  ChipConfig c = ChipConfig::parse(sectioned, "s.cfg");
  EXPECT_EQ(c.sram_bytes, 65536u);
  ChipConfig expected = ChipConfig::reference();
  expected.sram_bytes = 65536;
  EXPECT_EQ(c.toText(), expected.toText());
  // Dotted keys are the same thing.
  std::string dotted = std::regex_replace(
      flat, std::regex("(^|\n)sram_bytes = [^\n]*"), "$1sram.bytes = 4096");
  EXPECT_EQ(ChipConfig::parse(dotted, "d.cfg").sram_bytes, 4096u);
  EXPECT_EQ(
      parseError(withLine("sram_bytes", "[sram]\nbytes = -1")),
      "chip.cfg:17: field 'sram_bytes' must not be negative (its range is "
      "1024 .. 1073741824), got -1");
}

TEST(ChipConfig, ChoicesAndFlags) {
  EXPECT_EQ(parseError(withLine("matrix_dataflow",
                                "matrix_dataflow = \"row_stationary\"")),
            "chip.cfg:6: field 'matrix_dataflow' expects weight_stationary or "
            "output_stationary, got 'row_stationary'");
  EXPECT_EQ(
      parseError(withLine("scale_sim_compatible", "scale_sim_compatible = 1")),
      "chip.cfg:7: field 'scale_sim_compatible' expects true or false, "
      "got 1");
  ChipConfig c = ChipConfig::parse(
      withLine("scale_sim_compatible", "scale_sim_compatible = true"), "x");
  EXPECT_TRUE(c.scale_sim_compatible);
}

TEST(ChipConfig, FieldTableDescribesEveryField) {
  std::vector<std::string> names = ChipConfig::fieldNames();
  ASSERT_EQ(names.size(), chipConfigFields().size());
  EXPECT_EQ(names.front(), "name");
  const ConfigField *f = findConfigField("sram_access_cycles");
  ASSERT_NE(f, nullptr);
  EXPECT_STREQ(f->kindName(), "whole number");
  EXPECT_TRUE(f->range.contains(0));
  EXPECT_FALSE(findConfigField("sram_bytes")->range.contains(0));
  EXPECT_EQ(findConfigField("warp"), nullptr);
}

TEST(ChipConfig, SetFieldFromTomlValue) {
  ChipConfig c = ChipConfig::reference();
  setConfigField(c, *findConfigField("dram_bandwidth_gbps"),
                 toml::value<double>(12.5), "sweep.toml:4");
  EXPECT_DOUBLE_EQ(c.dram_bandwidth_gbps, 12.5);
  try {
    setConfigField(c, *findConfigField("sram_bytes"), toml::value<int64_t>(0),
                   "sweep.toml:5");
    FAIL() << "expected an error";
  } catch (const ContractError &e) {
    EXPECT_STREQ(e.what(), "sweep.toml:5: field 'sram_bytes' must be positive "
                           "(its range is 1024 .. 1073741824), got 0");
  }
}

TEST(Toml, SyntaxErrorsHaveLineAndColumn) {
  try {
    parseToml("a = 1\nb = [1,\n", "x.toml");
    FAIL() << "expected an error";
  } catch (const ContractError &e) {
    EXPECT_EQ(std::string(e.what()).rfind("x.toml:", 0), 0u) << e.what();
  }
  toml::table t = parseToml("[sweep]\nmodel = \"m.onnx\"\n", "s.toml");
  EXPECT_EQ(tomlWhere("s.toml", *t["sweep"]["model"].node()), "s.toml:2");
  EXPECT_EQ(tomlDouble(2.0), "2.0");
  EXPECT_EQ(tomlString("a\"b"), "\"a\\\"b\"");
  EXPECT_NE(ChipConfig::reference().toText().find("name = \"reference\"\n"),
            std::string::npos);
  EXPECT_EQ(tomlDouble(27.78), "27.78");
}

TEST(ChipConfig, MissingFileIsAClearError) {
  try {
    ChipConfig::load("/nonexistent/chip.cfg");
    FAIL() << "expected an error";
  } catch (const ContractError &e) {
    EXPECT_STREQ(e.what(), "/nonexistent/chip.cfg: cannot open chip config: "
                           "No such file or directory");
  }
}

} // namespace

namespace {

TEST(ChipConfig, EnumeratedAndBooleanFieldsNameTheirChoices) {
  std::string err = parseError(
      withLine("matrix_dataflow", "matrix_dataflow = \"row_stationary\""));
  EXPECT_NE(err.find("field 'matrix_dataflow' expects weight_stationary or "
                     "output_stationary, got 'row_stationary'"),
            std::string::npos)
      << err;
  err = parseError(withLine("dram_model", "dram_model = \"fancy\""));
  EXPECT_NE(err.find("field 'dram_model' expects simple or detailed"),
            std::string::npos)
      << err;
  err = parseError(
      withLine("scale_sim_compatible", "scale_sim_compatible = \"yes\""));
  EXPECT_NE(err.find("field 'scale_sim_compatible' expects true or false"),
            std::string::npos)
      << err;
  ChipConfig c = ChipConfig::parse(
      withLine("matrix_dataflow", "matrix_dataflow = \"output_stationary\""),
      "x");
  EXPECT_TRUE(c.outputStationary());
  c = ChipConfig::parse(
      withLine("scale_sim_compatible", "scale_sim_compatible = true"), "x");
  EXPECT_TRUE(c.scale_sim_compatible);
  EXPECT_NE(parseError(withLine("dma_outstanding_transfers",
                                "dma_outstanding_transfers = 0"))
                .find("must be positive"),
            std::string::npos);
  // Energies may be zero (that term is then left out).
  EXPECT_NO_THROW(
      ChipConfig::parse(withLine("static_power_w", "static_power_w = 0"), "x"));
}

} // namespace
