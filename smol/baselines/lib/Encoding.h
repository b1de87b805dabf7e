//===- Encoding.h - byte and text encodings shared by baselines -*- C++ -*-===//
//
// Part of Tessera (internal to TesseraBaselines). Little-endian integers,
// base64 (libsodium), CRC-32C (ISA-L; TFRecord's and the row log's
// checksum), number text.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BASELINES_LIB_ENCODING_H
#define TESSERA_BASELINES_LIB_ENCODING_H

#include "tessera/Baselines/Content.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace tessera {
namespace baselines {

inline void putU32(std::vector<uint8_t> &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void putU64(std::vector<uint8_t> &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline uint32_t getU32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}
inline uint64_t getU64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

/// Standard base64 with padding (RFC 4648), appended to `out`; libsodium's
/// sodium_bin2base64.
void base64Encode(const uint8_t *data, size_t n, std::string &out);
/// Decodes exactly `n` characters with sodium_base642bin; false on a bad
/// character or length.
bool base64Decode(const char *text, size_t n, std::vector<uint8_t> &out);

/// CRC-32C (Castagnoli), as TFRecord uses it, by ISA-L's crc32_iscsi;
/// `crc` continues an earlier value (crc32c(ab) == crc32c(b, crc32c(a))).
uint32_t crc32c(const void *data, size_t n, uint32_t crc = 0);
/// TFRecord's masked CRC: rotate right 15, add 0xa282ead8.
inline uint32_t maskCrc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

/// Appends element `i` of a field's raw bytes as shortest round-trip text.
void appendElementText(std::string &out, DType type, const uint8_t *bytes,
                       uint64_t i);
/// Parses one number from [p, end) into element `i` of `dst`; advances p.
/// False when no number of that type is there.
bool parseElementText(const char *&p, const char *end, DType type, uint8_t *dst,
                      uint64_t i);

/// Element `i` of raw bytes as a double (for comparisons and protobuf).
double elementAsDouble(DType type, const uint8_t *bytes, uint64_t i);
int64_t elementAsInt(DType type, const uint8_t *bytes, uint64_t i);
void setElementFromInt(DType type, uint8_t *bytes, uint64_t i, int64_t v);
void setElementFromFloat(DType type, uint8_t *bytes, uint64_t i, double v);
inline bool isIntegral(DType t) {
  return t == DType::U8 || t == DType::I32 || t == DType::I64;
}

/// Writes `data` to `path` (creating or truncating); throws BaselineError.
void writeWholeFile(const std::string &path, const void *data, size_t n);
/// Creates directory `dir` (and parents); throws BaselineError.
void makeDirectories(const std::string &dir);

/// A buffered output file that throws BaselineError on failure and knows
/// how many bytes it wrote.
class OutFile {
public:
  explicit OutFile(const std::string &path);
  ~OutFile();
  void write(const void *data, size_t n);
  void write(const std::string &s) { write(s.data(), s.size()); }
  void write(const std::vector<uint8_t> &v) { write(v.data(), v.size()); }
  uint64_t offset() const { return written; }
  void close();

private:
  std::string path;
  FILE *file = nullptr;
  uint64_t written = 0;
};

} // namespace baselines
} // namespace tessera

#endif // TESSERA_BASELINES_LIB_ENCODING_H
