//===- ChipConfigTest.cpp - Chip config parsing and its errors ------------===//

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"

#include <gtest/gtest.h>

#include <regex>

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
  EXPECT_EQ(c.dramLatencyCycles(), 201u);        // rounded up
  EXPECT_DOUBLE_EQ(c.cyclesToMs(2000000), 1.0);
}

TEST(ChipConfig, MissingFieldIsNamed) {
  EXPECT_EQ(parseError(withLine("sram_bytes", "")),
            "chip.cfg: missing field 'sram_bytes'");
}

TEST(ChipConfig, NegativeFieldIsNamedWithLine) {
  std::string err = parseError(withLine("dram_bandwidth_gbps",
                                        "dram_bandwidth_gbps = -4"));
  EXPECT_NE(err.find("chip.cfg:"), std::string::npos) << err;
  EXPECT_NE(err.find("'dram_bandwidth_gbps' must not be negative"),
            std::string::npos)
      << err;
}

TEST(ChipConfig, ZeroSizeIsRejectedButZeroLatencyIsAllowed) {
  EXPECT_NE(parseError(withLine("matrix_rows", "matrix_rows = 0"))
                .find("'matrix_rows' must be positive"),
            std::string::npos);
  EXPECT_EQ(parseError(withLine("dram_latency_ns", "dram_latency_ns = 0")),
            "");
}

TEST(ChipConfig, MalformedValues) {
  EXPECT_NE(parseError(withLine("clock_ghz", "clock_ghz = fast"))
                .find("expects a number, got 'fast'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine("matrix_rows", "matrix_rows = 9.5"))
                .find("expects a whole number"),
            std::string::npos);
  EXPECT_NE(parseError(withLine("clock_ghz", "clock_ghz"))
                .find("expected 'field = value'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine("clock_ghz", "clock_ghz = "))
                .find("has no value"),
            std::string::npos);
  EXPECT_NE(parseError(withLine("matrix_rows", "matrix_rows = 1e30"))
                .find("too large"),
            std::string::npos);
}

TEST(ChipConfig, UnknownAndDuplicateFields) {
  std::string text = ChipConfig::reference().toText();
  EXPECT_NE(parseError(text + "warp_drive = 1\n").find("unknown field"),
            std::string::npos);
  std::string err = parseError(text + "clock_ghz = 1.0\n");
  EXPECT_NE(err.find("'clock_ghz' given twice (first on line 2)"),
            std::string::npos)
      << err;
}

TEST(ChipConfig, MissingFileIsAClearError) {
  try {
    ChipConfig::load("/nonexistent/chip.cfg");
    FAIL() << "expected an error";
  } catch (const ContractError &e) {
    EXPECT_STREQ(e.what(), "/nonexistent/chip.cfg: cannot open chip config");
  }
}

} // namespace

namespace {

TEST(ChipConfig, EnumeratedAndBooleanFieldsNameTheirChoices) {
  std::string err = parseError(
      withLine("matrix_dataflow", "matrix_dataflow = row_stationary"));
  EXPECT_NE(err.find("field 'matrix_dataflow' expects weight_stationary or "
                     "output_stationary, got 'row_stationary'"),
            std::string::npos)
      << err;
  err = parseError(withLine("dram_model", "dram_model = fancy"));
  EXPECT_NE(err.find("field 'dram_model' expects simple or detailed"),
            std::string::npos)
      << err;
  err = parseError(
      withLine("scale_sim_compatible", "scale_sim_compatible = yes"));
  EXPECT_NE(err.find("field 'scale_sim_compatible' expects true or false"),
            std::string::npos)
      << err;
  ChipConfig c = ChipConfig::parse(
      withLine("matrix_dataflow", "matrix_dataflow = output_stationary"), "x");
  EXPECT_TRUE(c.outputStationary());
  c = ChipConfig::parse(
      withLine("scale_sim_compatible", "scale_sim_compatible = true"), "x");
  EXPECT_TRUE(c.scale_sim_compatible);
  EXPECT_NE(parseError(withLine("dma_outstanding_transfers",
                                "dma_outstanding_transfers = 0"))
                .find("must be positive"),
            std::string::npos);
  // Energies may be zero (that term is then left out).
  EXPECT_NO_THROW(ChipConfig::parse(
      withLine("static_power_w", "static_power_w = 0"), "x"));
}

} // namespace
