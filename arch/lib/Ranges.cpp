//===- Ranges.cpp - the numeric options' ranges ---------------------------===//

#include "tessera/arch/Ranges.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

using namespace tessera::arch;

const std::vector<NumericOption> &tessera::arch::numericOptions() {
  auto in = FieldRange::between;
  static const std::vector<NumericOption> all = {
      {"tolerance", "tessera run/simulate/reference, tessera-sim", in(0, 1000),
       false, "times the reference output's RMS"},
      {"workers", "tessera run --clip", in(1, 256), true, "loader threads"},
      {"prefetch", "tessera run --clip", in(1, 4096), true, "frames"},
      {"fps", "tessera run --clip", in(0.01, 1000), false, "frames per second"},
      {"frames", "tessera run --clip", in(0, 1000000), true, "frames (0: all)"},
      {"jobs", "tessera sweep", in(0, 1024), true,
       "worker processes (0: one per core)"},
      {"shards", "tessera sweep --slurm", in(1, 100000), true, "array tasks"},
  };
  return all;
}

std::string tessera::arch::optionRangeError(const std::string &name,
                                            double value) {
  for (const NumericOption &o : numericOptions()) {
    if (name != o.name)
      continue;
    if (o.range.contains(value) && (!o.whole || value == std::floor(value)))
      return "";
    char got[64];
    std::snprintf(got, sizeof got, "%g", value);
    bool fraction = o.range.contains(value);
    return "--" + name + " must be " + (fraction ? "a whole number in " : "") +
           rangeText(o.range) + ", got " + got;
  }
  throw std::logic_error("no numeric option --" + name);
}
