//===- RangesTest.cpp - documented ranges: code, errors and docs agree ----===//
//
// Issue 12, item 5: every chip-config field and numeric option has a
// physical range in one table; a value outside it is an error naming the
// range, and docs/chip-config.md and docs/limits-and-errors.md print the
// same tables (checked here, so they cannot drift).
//
//===----------------------------------------------------------------------===//
#include "tessera/arch/Ranges.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

using namespace tessera::arch;

namespace {

std::string readDoc(const std::string &name) {
  std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/docs/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The rows of every markdown table in `doc` whose first cell is `code`:
/// first cell (backticks stripped) -> the cells.
std::map<std::string, std::vector<std::string>>
tableRows(const std::string &doc, const std::string &firstCellPrefix = "") {
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream in(doc);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `" + firstCellPrefix, 0) != 0)
      continue;
    std::vector<std::string> cells;
    size_t pos = 1;
    while (pos < line.size()) {
      size_t bar = line.find(" |", pos);
      if (bar == std::string::npos)
        break;
      std::string cell = line.substr(pos, bar - pos);
      cell.erase(0, cell.find_first_not_of(' '));
      cells.push_back(cell);
      pos = bar + 2;
    }
    std::string key = cells.at(0);
    if (key.size() > 2 && key.front() == '`' && key.back() == '`')
      key = key.substr(1, key.size() - 2);
    rows.emplace(key, cells);
  }
  return rows;
}

std::string parseError(const std::string &text) {
  try {
    ChipConfig::parse(text, "chip.cfg");
  } catch (const ContractError &e) {
    return e.what();
  }
  return "";
}

/// The reference config with `field`'s line replaced by `field = value`.
std::string withValue(const std::string &field, const std::string &value) {
  std::istringstream in(ChipConfig::reference().toText());
  std::string line, out;
  while (std::getline(in, line))
    out += (line.rfind(field + " = ", 0) == 0 ? field + " = " + value : line) +
           "\n";
  return out;
}

/// The value as the docs and TOML write it.
std::string text(double v) {
  std::ostringstream os;
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    os << int64_t(v);
  else
    os << std::setprecision(15) << v;
  return os.str();
}

TEST(Ranges, EveryNumericFieldHasAFinitePhysicalRange) {
  for (const ConfigField &f : chipConfigFields()) {
    if (f.member.index() == 0 || f.member.index() == 4)
      continue; // text, true/false
    EXPECT_TRUE(std::isfinite(f.range.min) && std::isfinite(f.range.max))
        << f.name;
    EXPECT_TRUE(f.range.minInclusive && f.range.maxInclusive) << f.name;
    // The reference chip is inside every range.
    ChipConfig ref = ChipConfig::reference();
    EXPECT_NO_THROW(ChipConfig::parse(ref.toText(), "ref"));
  }
}

TEST(Ranges, ValuesPastEitherEndAreAnErrorNamingTheRange) {
  for (const ConfigField &f : chipConfigFields()) {
    if (f.member.index() == 0 || f.member.index() == 4)
      continue;
    bool whole = f.member.index() != 1;
    // The ends themselves are accepted...
    for (double end : {f.range.min, f.range.max})
      EXPECT_EQ(parseError(withValue(f.name, text(end))), "")
          << f.name << " = " << end;
    // ... one step past them is not, with the range in the message.
    double below = f.range.min - (whole ? 1 : f.range.min / 2 + 0.5);
    double above = f.range.max * 2;
    for (double v : {below, above}) {
      std::string err = parseError(withValue(f.name, text(v)));
      EXPECT_NE(err.find("field '" + std::string(f.name) + "'"),
                std::string::npos)
          << err;
      EXPECT_NE(err.find(rangeText(f.range)), std::string::npos)
          << f.name << " = " << v << ": " << err;
      EXPECT_EQ(err.rfind("chip.cfg:", 0), 0u) << err;
    }
  }
}

TEST(Ranges, TheIssuesValues) {
  EXPECT_EQ(parseError(withValue("dram_latency_ns", "1e19")),
            "chip.cfg:22: field 'dram_latency_ns' must be in its range "
            "0 .. 10000, got 1e+19");
  EXPECT_EQ(parseError(withValue("dram_bandwidth_gbps", "1e-20")),
            "chip.cfg:21: field 'dram_bandwidth_gbps' must be in its range "
            "0.1 .. 10000, got 1e-20");
  EXPECT_EQ(parseError(withValue("clock_ghz", "1e20")),
            "chip.cfg:2: field 'clock_ghz' must be in its range 0.01 .. 100, "
            "got 1e+20");
  EXPECT_EQ(parseError(withValue("clock_ghz", "0x10")),
            "chip.cfg:2: field 'clock_ghz' expects a decimal number, got 0x10");
  EXPECT_EQ(parseError(withValue("sram_bytes", "0")),
            "chip.cfg:16: field 'sram_bytes' must be positive (its range is "
            "1024 .. 1073741824), got 0");
}

TEST(Ranges, ChipConfigDocListsEveryFieldWithItsRange) {
  auto rows = tableRows(readDoc("chip-config.md"));
  for (const ConfigField &f : chipConfigFields()) {
    auto it = rows.find(f.name);
    ASSERT_NE(it, rows.end())
        << "docs/chip-config.md has no row for " << f.name;
    ASSERT_GE(it->second.size(), 5u) << f.name;
    std::string want;
    switch (f.member.index()) {
    case 0:
      if (f.choices.empty()) {
        want = "any text";
      } else {
        for (const std::string &c : f.choices)
          want += (want.empty() ? "`" : " or `") + c + "`";
      }
      break;
    case 4:
      want = "`true` or `false`";
      break;
    default:
      want = rangeText(f.range);
    }
    EXPECT_EQ(it->second[2], want)
        << "docs/chip-config.md: the range of " << f.name;
  }
}

TEST(Ranges, LimitsDocListsEveryOptionWithItsRange) {
  auto rows = tableRows(readDoc("limits-and-errors.md"), "--");
  for (const NumericOption &o : numericOptions()) {
    auto it = rows.find(std::string("--") + o.name);
    ASSERT_NE(it, rows.end())
        << "docs/limits-and-errors.md has no row for --" << o.name;
    ASSERT_GE(it->second.size(), 3u);
    EXPECT_EQ(it->second[1], rangeText(o.range)) << "--" << o.name;
    EXPECT_EQ(it->second[2], o.unit) << "--" << o.name;
  }
}

TEST(Ranges, OptionErrors) {
  EXPECT_EQ(optionRangeError("workers", 4), "");
  EXPECT_EQ(optionRangeError("workers", 100000),
            "--workers must be 1 .. 256, got 100000");
  EXPECT_EQ(optionRangeError("tolerance", -1),
            "--tolerance must be 0 .. 1000, got -1");
  EXPECT_EQ(optionRangeError("tolerance", std::nan("")),
            "--tolerance must be 0 .. 1000, got nan");
  EXPECT_EQ(optionRangeError("frames", 2.5),
            "--frames must be a whole number in 0 .. 1000000, got 2.5");
  EXPECT_THROW(optionRangeError("warp", 1), std::logic_error);
}

} // namespace
