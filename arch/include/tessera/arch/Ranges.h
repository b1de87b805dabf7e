//===- Ranges.h - documented ranges of config fields and numeric options --===//
//
// Part of Tessera. Every number a user hands a tool has a documented range:
// the chip config's fields in chipConfigFields() (ChipConfig.h), the numeric
// command-line options here, in one table each. docs/chip-config.md and
// docs/limits-and-errors.md print the same tables; a unit test
// (ArchTests, Ranges.*) checks the docs against them so they cannot drift.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_ARCH_RANGES_H
#define TESSERA_ARCH_RANGES_H

#include "tessera/arch/ChipConfig.h"

#include <string>
#include <vector>

namespace tessera::arch {

/// A range as the docs and the errors write it: "0.01 .. 100" for a closed
/// range, "(0, inf]"-style otherwise.
std::string rangeText(const FieldRange &range);

/// A numeric command-line option: its name (without "--"), the tools that
/// take it, its range, whether it must be whole, and its unit.
struct NumericOption {
  const char *name;
  const char *tools;
  FieldRange range;
  bool whole;
  const char *unit;
};

/// Every numeric option of tessera, tessera-sim and tessera sweep.
const std::vector<NumericOption> &numericOptions();

/// Empty when `value` is in the range of option `name`; otherwise the error,
/// "--workers must be 1 .. 256, got 100000". `name` must be in the table.
std::string optionRangeError(const std::string &name, double value);

} // namespace tessera::arch

#endif // TESSERA_ARCH_RANGES_H
