//===- Format.h - the .smol drive-data format: types and constants -*- C++ -*-//
//
// Part of Tessera. The on-disk vocabulary of a .smol file
// (docs/smol-format.md): the preamble, the column descriptions of the schema
// (dtype, shape, stored layout, encryption), the master index entries, the row
// header, and the errors every reader and writer throws. Little-endian
// throughout.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_SMOL_FORMAT_H
#define TESSERA_SMOL_FORMAT_H

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tessera {
namespace smol {

/// The eight magic bytes at offset 0: 0x89 "SMOL" CR LF 0x1A (PNG-style: a
/// high bit and line endings that a text-mode transfer would damage).
constexpr std::array<uint8_t, 8> kMagic = {0x89, 'S',  'M',  'O',
                                           'L',  '\r', '\n', 0x1A};
constexpr uint16_t kVersionMajor = 1;
constexpr uint16_t kVersionMinor = 0;
constexpr uint32_t kPreambleBytes = 192;
constexpr uint32_t kIndexEntryBytes = 24;
constexpr uint32_t kDigestBytes = 16;
/// Row header: timestamp (8), column count (4), reserved (4), then one
/// digest per dynamic column.
constexpr uint32_t kRowHeaderFixedBytes = 16;
/// XChaCha20-Poly1305 (IETF): a 24-byte nonce before the ciphertext and a
/// 16-byte tag after it.
constexpr uint32_t kNonceBytes = 24;
constexpr uint32_t kTagBytes = 16;
constexpr uint32_t kKeyBytes = 32;
constexpr uint32_t kMaxRank = 8;
constexpr uint32_t kMaxColumns = 4096;
/// Rows start on 4096-byte boundaries (direct I/O, page cache pages, NVMe
/// LBAs); columns inside a row and the static segment on 64 bytes (a cache
/// line, the widest SIMD load).
constexpr uint32_t kDefaultRowAlignment = 4096;
constexpr uint32_t kDefaultColumnAlignment = 64;

inline uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/// Preamble flag bits. Bits 0-15 are "required": a reader that does not know
/// a set bit must refuse the file. Bits 16-31 are informational.
enum PreambleFlags : uint32_t {
  kFlagEncrypted = 1u << 0, ///< some column is AEAD-encrypted
  kFlagKnownRequired = kFlagEncrypted,
  kFlagProprioception = 1u << 16, ///< informational: robot-style columns
};

/// Element types. The numeric values are the on-disk codes.
enum class DType : uint8_t {
  U8 = 1,
  I8 = 2,
  U16 = 3,
  I16 = 4,
  U32 = 5,
  I32 = 6,
  U64 = 7,
  I64 = 8,
  F16 = 9,
  BF16 = 10,
  F32 = 11,
  F64 = 12,
};

/// Bytes per element; 0 for an unknown code.
uint32_t dtypeSize(DType type);
/// "u8", "i8", ..., "f16", "bf16", "f32", "f64"; "?" for an unknown code.
const char *dtypeName(DType type);
/// Inverse of dtypeName; false on an unknown name.
bool parseDType(const std::string &name, DType &out);
bool validDType(uint8_t code);

/// What a column is for (informational except for early rejection, which
/// reads label columns in the bench's labels-only mode).
enum class Role : uint8_t {
  Data = 0,
  Label = 1,
  Camera = 2,
  Proprio = 3,
};
const char *roleName(Role role);

/// How a column's bytes sit on disk relative to its logical shape.
enum class Layout : uint8_t {
  RowMajor = 0, ///< C order of the logical shape
  Permuted = 1, ///< C order of the shape permuted by `perm` (pre-transposed)
};

/// Column encryption on disk.
enum class Cipher : uint8_t {
  None = 0,
  XChaCha20Poly1305 = 1, ///< libsodium crypto_aead_xchacha20poly1305_ietf
};

/// A column as the writer's caller declares it.
struct ColumnSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<uint32_t> shape; ///< logical shape; empty = scalar
  Role role = Role::Data;
  bool isStatic = false; ///< stored once in the static segment
  /// Stored dimension i is logical dimension perm[i]; empty = row-major.
  std::vector<uint8_t> perm;
  /// Key id for encryption (dynamic columns only); empty = plaintext.
  std::string keyId;

  uint64_t elements() const;
  uint64_t plainBytes() const { return elements() * dtypeSize(dtype); }
};

/// A column as it is stored: the spec plus where it lives.
struct Column {
  ColumnSpec spec;
  uint32_t logicalIndex = 0; ///< position among the static or dynamic
                             ///< columns as declared
  uint32_t storedIndex = 0;  ///< position in the stored (schema) order
  uint64_t offset = 0;       ///< in the row (dynamic) or static segment
  uint64_t storedBytes = 0;  ///< on disk, incl. nonce and tag if encrypted
  Cipher cipher = Cipher::None;

  bool encrypted() const { return cipher != Cipher::None; }
  /// Offset of the plaintext/ciphertext payload inside the column.
  uint64_t payloadOffset() const { return encrypted() ? kNonceBytes : 0; }
  uint64_t payloadBytes() const { return spec.plainBytes(); }
  /// The stored (on-disk) dimensions: shape permuted by perm.
  std::vector<uint32_t> storedShape() const;
};

/// The decoded preamble (docs/smol-format.md, "Preamble").
struct Preamble {
  uint16_t versionMajor = kVersionMajor;
  uint16_t versionMinor = kVersionMinor;
  uint32_t flags = 0;
  std::array<uint8_t, 16> fileId{};
  uint32_t rowAlignment = kDefaultRowAlignment;
  uint32_t columnAlignment = kDefaultColumnAlignment;
  uint64_t schemaOffset = 0, schemaBytes = 0;
  uint64_t staticOffset = 0, staticBytes = 0;
  uint64_t indexOffset = 0, rowCount = 0;
  uint64_t dataOffset = 0;
  uint64_t fileBytes = 0;
  uint64_t rowBytes = 0;
  std::array<uint8_t, kDigestBytes> headerDigest{}; ///< schema + static
  std::array<uint8_t, kDigestBytes> indexDigest{};
  std::array<uint8_t, kDigestBytes> preambleDigest{};

  /// End of the index: what an opening reader must have in memory.
  uint64_t headerEnd() const {
    return indexOffset + rowCount * kIndexEntryBytes;
  }
  /// Distance between consecutive rows: rowBytes rounded up to rowAlignment.
  uint64_t rowStride() const { return alignUp(rowBytes, rowAlignment); }
};

/// One master-index entry.
struct IndexEntry {
  int64_t timestamp = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
};

/// Any malformed file, bad argument or I/O failure. The message names the
/// file and what was expected ("<file>: <what>").
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A column whose integrity or authenticity check failed: a checksum
/// mismatch or an AEAD tag that does not verify (wrong key, tampered bytes,
/// ciphertext moved from another row, file or column).
class IntegrityError : public Error {
public:
  IntegrityError(const std::string &message, std::string column,
                 int64_t timestamp)
      : Error(message), columnName(std::move(column)), ts(timestamp) {}
  const std::string &column() const { return columnName; }
  int64_t timestamp() const { return ts; }

private:
  std::string columnName;
  int64_t ts;
};

/// An encrypted column could not be decrypted: its tag does not verify.
class AuthError : public IntegrityError {
public:
  using IntegrityError::IntegrityError;
};

/// An encrypted column was asked for without its key.
class MissingKeyError : public Error {
public:
  using Error::Error;
};

/// Whether readers compare checksums. Fuzzing builds (the libFuzzer
/// convention FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) skip the comparison
/// so that mutated inputs reach the structural checks behind it; AEAD tags
/// are always checked.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kCheckDigests = false;
#else
constexpr bool kCheckDigests = true;
#endif

/// BLAKE2b with a 16-byte digest (libsodium crypto_generichash).
std::array<uint8_t, kDigestBytes> digest(const void *data, size_t bytes);
/// Lower-case hex of `bytes` bytes.
std::string hex(const void *data, size_t bytes);

/// Little-endian helpers (the format is little-endian; so are the hosts
/// Tessera supports, and a static_assert in Format.cpp says so).
namespace le {
inline void put16(uint8_t *p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}
inline void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = uint8_t(v >> (8 * i));
}
inline void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = uint8_t(v >> (8 * i));
}
inline uint16_t get16(const uint8_t *p) { return uint16_t(p[0] | p[1] << 8); }
inline uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}
inline uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}
} // namespace le

/// Overflow-checked arithmetic for sizes read from a file.
bool addOverflows(uint64_t a, uint64_t b, uint64_t &out);
bool mulOverflows(uint64_t a, uint64_t b, uint64_t &out);

/// Encodes the preamble into 192 bytes (computing its digest).
void encodePreamble(Preamble &p, uint8_t *out);
/// Decodes and validates a preamble against the actual file size; throws
/// Error("<what>: ...").
Preamble decodePreamble(const uint8_t *in, size_t available,
                        uint64_t actualFileBytes, const std::string &what);

/// Encodes the schema segment: columns in stored order.
std::vector<uint8_t> encodeSchema(const std::vector<Column> &columns);
/// Decodes and validates the schema segment against the preamble (offsets,
/// sizes, alignment, row bytes). Throws Error("<what>: schema: ...").
std::vector<Column> decodeSchema(const uint8_t *in, size_t bytes,
                                 const Preamble &p, const std::string &what);

/// Bytes of the row header for `dynamicColumns` columns.
inline uint64_t rowHeaderBytes(uint64_t dynamicColumns) {
  return kRowHeaderFixedBytes + kDigestBytes * dynamicColumns;
}

/// Parses a scalar element at `p` of type `type` as a double (f16/bf16
/// converted exactly).
double elementAsDouble(DType type, const uint8_t *p);

} // namespace smol
} // namespace tessera

#endif // TESSERA_SMOL_FORMAT_H
