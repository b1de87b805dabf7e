//===- SweepFuzz.cpp - libFuzzer target for the sweep-file parser ---------===//
//
// Part of Tessera. Parses arbitrary bytes as a sweep file and, when the grid
// is small enough to expand quickly, plans it (constraints, sampling, every
// point's chip config). arch::ContractError (a `file:line: message`) is the
// only acceptable failure (and, in this build, a violated toml++ 3.3.0
// precondition: TomlFuzzAsserts.h); any other exception, a crash, a hang or
// a sanitizer report is a bug. Seeds: tests/sweep/errors/*.toml and the sweep
// files under sweeps/.
//
//===----------------------------------------------------------------------===//

#include "SweepSpec.h"

#include "tessera/arch/Error.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace tessera;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  try {
    tools::SweepSpec spec =
        tools::parseSweep(text, "fuzz.toml", TESSERA_FUZZ_BASE_DIR);
    uint64_t points = 1;
    for (const tools::Axis &a : spec.axes)
      points = points > 4096 ? points : points * a.values.size();
    if (points <= 4096)
      (void)tools::planSweep(spec);
  } catch (const arch::ContractError &) {
#ifdef TESSERA_TOML_FUZZ_ASSERTS
  } catch (const fuzz::TomlPrecondition &) {
    // A toml++ 3.3.0 precondition (TomlFuzzAsserts.h): a parse error in the
    // release build.
#endif
  }
  return 0;
}
