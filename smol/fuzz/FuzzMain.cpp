//===- FuzzMain.cpp - seeded mutation driver for the reader's fuzz target -===//
//
// Part of Tessera. Runs LLVMFuzzerTestOneInput (ReaderFuzz.cpp) without
// libFuzzer: starting from the seed files, applies a seeded sequence of
// mutations (bit flips, interesting bytes and 32/64-bit little-endian values,
// truncation, extension, copied chunks) for a bounded count or time. Also
// writes the seed corpus for libFuzzer (--write-seeds DIR).
//
//===----------------------------------------------------------------------===//

#include "FuzzSeeds.h"

#include <algorithm>
#include <cerrno>
#include <sys/stat.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

const uint64_t kInteresting[] = {0,
                                 1,
                                 7,
                                 8,
                                 63,
                                 64,
                                 191,
                                 192,
                                 4095,
                                 4096,
                                 0x7f,
                                 0x80,
                                 0xff,
                                 0x7fff,
                                 0xffff,
                                 0x7fffffff,
                                 0x80000000,
                                 0xffffffff,
                                 0x100000000ull,
                                 0x7fffffffffffffffull,
                                 0x8000000000000000ull,
                                 0xfffffffffffffff0ull,
                                 0xffffffffffffffffull};

void mutate(std::vector<uint8_t> &f, std::mt19937_64 &rng) {
  auto pos = [&](size_t width) -> size_t {
    if (f.size() < width)
      return SIZE_MAX;
    // Half of the edits land in the header, where the sizes live.
    size_t limit = f.size() - width + 1;
    if (rng() & 1)
      limit = std::min<size_t>(limit, 512);
    return rng() % limit;
  };
  switch (rng() % 8) {
  case 0: { // flip a bit
    size_t p = pos(1);
    if (p != SIZE_MAX)
      f[p] ^= uint8_t(1u << (rng() % 8));
    break;
  }
  case 1: { // interesting byte
    size_t p = pos(1);
    if (p != SIZE_MAX)
      f[p] = uint8_t(kInteresting[rng() % std::size(kInteresting)]);
    break;
  }
  case 2:
  case 3: { // interesting 64-bit value, 8-aligned, or relative to the size
    size_t p = pos(8);
    if (p == SIZE_MAX)
      break;
    p &= ~size_t(7);
    uint64_t v = rng() % 3 ? kInteresting[rng() % std::size(kInteresting)]
                           : f.size() + (rng() % 9) - 4;
    for (int i = 0; i < 8; ++i)
      f[p + i] = uint8_t(v >> (8 * i));
    break;
  }
  case 4: { // interesting 32-bit value
    size_t p = pos(4);
    if (p == SIZE_MAX)
      break;
    uint32_t v = uint32_t(kInteresting[rng() % std::size(kInteresting)]);
    for (int i = 0; i < 4; ++i)
      f[p + i] = uint8_t(v >> (8 * i));
    break;
  }
  case 5: // truncate
    if (!f.empty())
      f.resize(rng() % f.size());
    break;
  case 6: // extend
    f.resize(f.size() + 1 + rng() % 5000, uint8_t(rng()));
    break;
  case 7: { // copy a chunk elsewhere
    if (f.size() < 2)
      break;
    size_t n = 1 + rng() % std::min<size_t>(f.size() / 2, 64);
    size_t a = rng() % (f.size() - n + 1), b = rng() % (f.size() - n + 1);
    std::memmove(&f[b], &f[a], n);
    break;
  }
  }
}

} // namespace

int main(int argc, char **argv) {
  uint64_t iterations = 20000, seed = 1;
  double seconds = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--write-seeds" && i + 1 < argc) {
      // The directory is created if it does not exist (its parent must).
      std::string dir = argv[++i];
      if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
        std::fprintf(stderr, "smol-fuzz-driver: error: %s: cannot create "
                             "directory: %s\n",
                     dir.c_str(), std::strerror(errno));
        return 1;
      }
      try {
        tessera::smol::makeFuzzSeeds(dir);
      } catch (const std::exception &e) {
        std::fprintf(stderr, "smol-fuzz-driver: error: %s\n", e.what());
        return 1;
      }
      return 0;
    }
    if (a == "--iterations" && i + 1 < argc)
      iterations = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--seconds" && i + 1 < argc)
      seconds = std::strtod(argv[++i], nullptr);
    else if (a == "--seed" && i + 1 < argc)
      seed = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr,
                   "usage: smol-fuzz-driver [--iterations N] [--seconds S] "
                   "[--seed K] | --write-seeds DIR\n");
      return 2;
    }
  }
  char tmpl[] = "/tmp/smol-fuzz-seeds.XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  auto seeds = tessera::smol::makeFuzzSeeds(tmpl);
  if (std::system(
          ("chmod -R u+w '" + std::string(tmpl) + "' && rm -rf '" + tmpl + "'")
              .c_str()) != 0)
    std::fprintf(stderr, "warning: cannot remove %s\n", tmpl);
  for (const auto &s : seeds)
    LLVMFuzzerTestOneInput(s.data(), s.size());
  std::mt19937_64 rng(seed);
  auto start = std::chrono::steady_clock::now();
  uint64_t done = 0;
  for (; done < iterations; ++done) {
    if ((done & 63) == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                .count() > seconds)
      break;
    std::vector<uint8_t> f = seeds[rng() % seeds.size()];
    unsigned edits = 1 + rng() % 6;
    for (unsigned e = 0; e < edits; ++e)
      mutate(f, rng);
    LLVMFuzzerTestOneInput(f.data(), f.size());
  }
  std::printf("smol-fuzz-driver: %llu mutated inputs (seed %llu), no crash\n",
              static_cast<unsigned long long>(done),
              static_cast<unsigned long long>(seed));
  return 0;
}
