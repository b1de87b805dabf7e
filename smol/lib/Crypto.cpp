//===- Crypto.cpp - per-tensor encryption of .smol columns ----------------===//
//
// Part of Tessera. See Crypto.h. All cryptography is libsodium's; this file
// only lays out the associated data and the key file.
//
//===----------------------------------------------------------------------===//

#include "tessera/Smol/Crypto.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace tessera {
namespace smol {

static_assert(kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
              "nonce size");
static_assert(kTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES,
              "tag size");
static_assert(kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
              "key size");

void initSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok)
    throw Error("libsodium: initialization failed");
}

Keyring::~Keyring() {
  for (auto &kv : keys)
    sodium_memzero(kv.second.data(), kv.second.size());
}

void Keyring::add(const std::string &id, const Key &key) { keys[id] = key; }

const Key *Keyring::find(const std::string &id) const {
  auto it = keys.find(id);
  return it == keys.end() ? nullptr : &it->second;
}

const std::string &Keyring::firstId() const {
  static const std::string none;
  return keys.empty() ? none : keys.begin()->first;
}

namespace {

bool parseHexKey(const std::string &text, Key &key) {
  if (text.size() != 2 * kKeyBytes)
    return false;
  size_t used = 0;
  return sodium_hex2bin(key.data(), key.size(), text.data(), text.size(),
                        nullptr, &used, nullptr) == 0 &&
         used == kKeyBytes;
}

} // namespace

Keyring Keyring::loadFile(const std::string &path) {
  std::string text;
  try {
    text = arch::readInputFile(path, arch::kMaxTextInputBytes, "key file");
  } catch (const arch::ContractError &e) {
    throw Error(e.what());
  }
  std::istringstream in(text);
  Keyring ring;
  std::string line;
  for (unsigned n = 1; std::getline(in, line); ++n) {
    size_t hash = line.find('#');
    if (hash != std::string::npos)
      line.resize(hash);
    std::istringstream words(line);
    std::string a, b, extra;
    if (!(words >> a))
      continue;
    words >> b >> extra;
    std::string id = b.empty() ? "default" : a;
    const std::string &hexKey = b.empty() ? a : b;
    Key key;
    if (!extra.empty() || !parseHexKey(hexKey, key))
      throw Error(path + ": line " + std::to_string(n) +
                  ": expected '<key-id> <64 hex digits>' or '<64 hex "
                  "digits>'");
    if (id.size() > 255)
      throw Error(path + ": line " + std::to_string(n) +
                  ": key id longer than 255 bytes");
    if (ring.find(id))
      throw Error(path + ": line " + std::to_string(n) + ": key id '" + id +
                  "' given twice");
    ring.add(id, key);
  }
  if (ring.empty())
    throw Error(path + ": no key in key file");
  return ring;
}

Key Keyring::generate() {
  initSodium();
  Key key;
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  return key;
}

void Keyring::saveNewFile(const std::string &path, const std::string &id,
                          const Key &key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw Error(path + ": cannot create key file: " + std::strerror(errno));
  std::string text = id + " " + hex(key.data(), key.size()) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) ==
            static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok)
    throw Error(path + ": cannot write key file");
}

std::array<uint8_t, kAssociatedDataBytes>
associatedData(const std::array<uint8_t, 16> &fileId, uint32_t column,
               int64_t timestamp) {
  std::array<uint8_t, kAssociatedDataBytes> ad{};
  std::memcpy(ad.data(), "TSMOLAD1", 8);
  std::memcpy(ad.data() + 8, fileId.data(), 16);
  le::put32(ad.data() + 24, column);
  le::put64(ad.data() + 28, static_cast<uint64_t>(timestamp));
  return ad;
}

void sealColumn(const Key &key, const std::array<uint8_t, 16> &fileId,
                uint32_t column, int64_t timestamp, const uint8_t *plain,
                size_t n, uint8_t *out) {
  initSodium();
  auto ad = associatedData(fileId, column, timestamp);
  randombytes_buf(out, kNonceBytes);
  unsigned long long tagBytes = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      out + kNonceBytes, out + kNonceBytes + n, &tagBytes, plain, n, ad.data(),
      ad.size(), nullptr, out, key.data());
}

bool openColumn(const Key &key, const std::array<uint8_t, 16> &fileId,
                uint32_t column, int64_t timestamp, uint8_t *stored, size_t n) {
  initSodium();
  auto ad = associatedData(fileId, column, timestamp);
  // In place: libsodium allows the message and ciphertext to coincide.
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
             stored + kNonceBytes, nullptr, stored + kNonceBytes, n,
             stored + kNonceBytes + n, ad.data(), ad.size(), stored,
             key.data()) == 0;
}

} // namespace smol
} // namespace tessera
