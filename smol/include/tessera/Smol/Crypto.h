//===- Crypto.h - per-tensor encryption of .smol columns --------*- C++ -*-===//
//
// Part of Tessera. Encrypted columns are sealed per row with libsodium's
// crypto_aead_xchacha20poly1305_ietf: a random 24-byte nonce, the ciphertext,
// a 16-byte tag. The associated data binds the file id, the column's schema
// index and the row's timestamp, so a sealed tensor cannot be moved to another
// file, column or row without failing authentication.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_SMOL_CRYPTO_H
#define TESSERA_SMOL_CRYPTO_H

#include "tessera/Smol/Format.h"

#include <array>
#include <map>
#include <string>

namespace tessera {
namespace smol {

using Key = std::array<uint8_t, kKeyBytes>;

/// Keys by key id (the id is stored in the schema; the key never is).
class Keyring {
public:
  Keyring() = default;
  Keyring(const Keyring &) = default;
  Keyring &operator=(const Keyring &) = default;
  Keyring(Keyring &&) = default;
  Keyring &operator=(Keyring &&) = default;
  /// Wipes the keys (sodium_memzero) before the memory is released.
  ~Keyring();
  void add(const std::string &id, const Key &key);
  /// The key of `id`, or null.
  const Key *find(const std::string &id) const;
  bool empty() const { return keys.empty(); }
  /// The first key id (by name), for writers given one key file.
  const std::string &firstId() const;

  /// Reads a key file: lines "<key-id> <64 hex digits>", '#' comments, or a
  /// single line of 64 hex digits (key id "default"). Throws Error
  /// "<path>: line N: ..." on malformed input.
  static Keyring loadFile(const std::string &path);
  /// A fresh random key (libsodium randombytes).
  static Key generate();
  /// Writes "<id> <hex>\n" to a new file with mode 0600; throws Error if
  /// the file exists.
  static void saveNewFile(const std::string &path, const std::string &id,
                          const Key &key);

private:
  std::map<std::string, Key> keys;
};

/// Bytes of associated data: "TSMOLAD1" | file id (16) | u32 column schema
/// index | i64 timestamp, little-endian.
constexpr size_t kAssociatedDataBytes = 8 + 16 + 4 + 8;
std::array<uint8_t, kAssociatedDataBytes>
associatedData(const std::array<uint8_t, 16> &fileId, uint32_t column,
               int64_t timestamp);

/// Seals `plain` (n bytes) into `out` (n + 40 bytes: nonce, ciphertext, tag).
void sealColumn(const Key &key, const std::array<uint8_t, 16> &fileId,
                uint32_t column, int64_t timestamp, const uint8_t *plain,
                size_t n, uint8_t *out);
/// Opens a sealed column in place: `stored` holds n + 40 bytes; on success
/// the n plaintext bytes are at stored + 24 and true is returned; false when
/// the tag does not verify.
bool openColumn(const Key &key, const std::array<uint8_t, 16> &fileId,
                uint32_t column, int64_t timestamp, uint8_t *stored, size_t n);

/// Initializes libsodium once; throws Error if it cannot.
void initSodium();

} // namespace smol
} // namespace tessera

#endif // TESSERA_SMOL_CRYPTO_H
