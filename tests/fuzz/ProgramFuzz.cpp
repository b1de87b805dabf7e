//===- ProgramFuzz.cpp - libFuzzer target for the program-file reader -----===//
//
// Part of Tessera. Arbitrary bytes through Program::deserialize (which also
// runs Program::verify), then everything a tool does with a program it
// accepted: the listing, serialization (which must round-trip exactly) and
// the fit check against the reference chip. ContractError is the only
// acceptable failure; any other exception, a crash or a sanitizer report is a
// bug. Seeds: programs compiled from the repo's models (tests/fuzz/seeds.sh).
//
//===----------------------------------------------------------------------===//

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/Program.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace tessera::arch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const ChipConfig chip = ChipConfig::reference();
  Program p;
  try {
    p = Program::deserialize(data, size, "fuzz.tsrp");
  } catch (const ContractError &) {
    return 0;
  }
  (void)p.listing();
  std::vector<uint8_t> again = p.serialize();
  if (again.size() != size || !std::equal(again.begin(), again.end(), data))
    std::abort(); // An accepted program must serialize to the same bytes.
  try {
    p.checkFits(chip, "fuzz.tsrp");
  } catch (const ContractError &) {
  }
  return 0;
}
