//===- FuzzSeeds.h - seed inputs and the fuzzed key for the reader -*- C++ -*-//
//
// Part of Tessera. Small valid .smol files (every dtype, a pre-transposed
// layout, an encrypted column, an empty file) that start the reader's fuzzing
// from deep inside the format, and the fixed key the fuzz target reads them
// with, so that decryption is fuzzed too.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_SMOL_FUZZ_FUZZSEEDS_H
#define TESSERA_SMOL_FUZZ_FUZZSEEDS_H

#include "tessera/Smol/Crypto.h"

#include <string>
#include <vector>

namespace tessera {
namespace smol {

/// The key "fuzz" (32 bytes 0x01..0x20) the seeds are encrypted with.
Keyring fuzzKeyring();

/// Writes the seed files into `dir` (which must exist) and returns their
/// contents. Rows are 64-byte aligned to keep the seeds small.
std::vector<std::vector<uint8_t>> makeFuzzSeeds(const std::string &dir);

} // namespace smol
} // namespace tessera

#endif // TESSERA_SMOL_FUZZ_FUZZSEEDS_H
