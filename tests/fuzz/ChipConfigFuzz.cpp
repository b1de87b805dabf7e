//===- ChipConfigFuzz.cpp - libFuzzer target for the chip-config parser ---===//
//
// Part of Tessera. Arbitrary text through ChipConfig::parse; an accepted
// config must print (toText) to text that parses to the same config again.
// ContractError is the only acceptable failure. Seeds: arch/configs/*.cfg
// and the bad configs of the tests.
//
//===----------------------------------------------------------------------===//

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

using namespace tessera::arch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  ChipConfig c;
  try {
    c = ChipConfig::parse(text, "fuzz.cfg");
  } catch (const ContractError &) {
    return 0;
#ifdef TESSERA_TOML_FUZZ_ASSERTS
  } catch (const tessera::fuzz::TomlPrecondition &) {
    // toml++ 3.3.0's own precondition on this input (a parse error in the
    // release build; tests/sweep/TomlFuzzAsserts.h).
    return 0;
#endif
  }
  std::string printed = c.toText();
  ChipConfig again;
  try {
    again = ChipConfig::parse(printed, "printed.cfg");
  } catch (const ContractError &) {
    std::abort(); // What toText prints must parse.
  }
  if (again.toText() != printed)
    std::abort(); // ... to the same config.
  return 0;
}
