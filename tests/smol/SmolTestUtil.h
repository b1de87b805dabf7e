//===- SmolTestUtil.h - helpers of the .smol tests --------------*- C++ -*-===//
//
// Part of Tessera. A temporary directory per test, whole-file reads, and
// "resealing": recomputing the checksums of a deliberately damaged file so
// that the reader's structural checks (not only its checksums) are tested
// against forged input.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_TESTS_SMOL_SMOLTESTUTIL_H
#define TESSERA_TESTS_SMOL_SMOLTESTUTIL_H

#include "tessera/Smol/Format.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace smoltest {

using namespace tessera::smol;

/// A fresh directory under $TMPDIR, removed with its files at the end.
class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string t = std::string(base ? base : "/tmp") + "/smoltest.XXXXXX";
    std::vector<char> name(t.begin(), t.end());
    name.push_back('\0');
    if (!::mkdtemp(name.data()))
      throw std::runtime_error("mkdtemp failed");
    dir = name.data();
  }
  ~TempDir() {
    std::string cmd = "chmod -R u+w '" + dir + "' && rm -rf '" + dir + "'";
    if (std::system(cmd.c_str()) != 0)
      std::fprintf(stderr, "cannot remove %s\n", dir.c_str());
  }
  std::string path(const std::string &name) const { return dir + "/" + name; }
  std::string dir;
};

inline std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline bool exists(const std::string &path) {
  return std::ifstream(path).good();
}

/// Field offsets of the preamble (docs/smol-format.md).
namespace off {
constexpr size_t flags = 12, rowAlignment = 36, schemaOffset = 48,
                 schemaBytes = 56, staticOffset = 64, staticBytes = 72,
                 indexOffset = 80, rowCount = 88, dataOffset = 96,
                 fileBytes = 104, rowBytes = 112, headerDigest = 128,
                 indexDigest = 144, preambleDigest = 176;
}

inline uint64_t field64(const std::vector<uint8_t> &f, size_t at) {
  return le::get64(f.data() + at);
}

/// Recomputes header, index and preamble checksums after an edit, as a
/// forger would (clamped to the file so that absurd values stay editable).
inline void reseal(std::vector<uint8_t> &f) {
  uint8_t *p = f.data();
  uint64_t so = field64(f, off::schemaOffset),
           sb = field64(f, off::schemaBytes);
  uint64_t to = field64(f, off::staticOffset),
           tb = field64(f, off::staticBytes);
  uint64_t io = field64(f, off::indexOffset), rc = field64(f, off::rowCount);
  if (so + sb <= f.size() && to + tb <= f.size() && so + sb >= so &&
      to + tb >= to) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, kDigestBytes);
    crypto_generichash_update(&st, p + so, sb);
    crypto_generichash_update(&st, p + to, tb);
    crypto_generichash_final(&st, p + off::headerDigest, kDigestBytes);
  }
  if (rc < (1ull << 40) && io + rc * kIndexEntryBytes <= f.size()) {
    auto d = digest(p + io, rc * kIndexEntryBytes);
    std::memcpy(p + off::indexDigest, d.data(), kDigestBytes);
  }
  auto d = digest(p, 176);
  std::memcpy(p + off::preambleDigest, d.data(), kDigestBytes);
}

/// Runs `f`, expecting an exception of type E whose message contains every
/// one of `parts`.
template <typename E, typename F>
void expectError(F &&f, const std::vector<std::string> &parts) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning '" << parts[0]
                  << "'";
  } catch (const E &e) {
    std::string m = e.what();
    for (const std::string &p : parts)
      EXPECT_NE(m.find(p), std::string::npos)
          << "message '" << m << "' does not mention '" << p << "'";
  }
}

} // namespace smoltest

#endif // TESSERA_TESTS_SMOL_SMOLTESTUTIL_H
