//===- Encoding.cpp - byte and text encodings shared by baselines ---------===//
//
// Part of Tessera. See Encoding.h.
//
//===----------------------------------------------------------------------===//

#include "Encoding.h"

#include <isa-l/crc.h>
#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <sys/stat.h>

namespace tessera {
namespace baselines {

void base64Encode(const uint8_t *d, size_t n, std::string &out) {
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  size_t at = out.size();
  size_t room = sodium_base64_ENCODED_LEN(n, variant); // with the NUL
  out.resize(at + room);
  sodium_bin2base64(out.data() + at, room, d, n, variant);
  out.resize(at + room - 1);
}

bool base64Decode(const char *t, size_t n, std::vector<uint8_t> &out) {
  out.resize(n / 4 * 3 + 3);
  size_t got = 0;
  const char *stop = nullptr;
  if (sodium_base642bin(out.data(), out.size(), t, n, nullptr, &got, &stop,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      stop != t + n) {
    out.clear();
    return false;
  }
  out.resize(got);
  return true;
}

uint32_t crc32c(const void *data, size_t n, uint32_t crc) {
  // ISA-L's crc32_iscsi neither inverts the seed nor the result; CRC-32C as
  // TFRecord (and RFC 3720) defines it does both.
  auto *p = static_cast<unsigned char *>(const_cast<void *>(data));
  crc = ~crc;
  while (n > 0) {
    int chunk = int(std::min<size_t>(n, 1u << 30)); // ISA-L takes an int
    crc = crc32_iscsi(p, chunk, crc);
    p += chunk;
    n -= size_t(chunk);
  }
  return ~crc;
}

template <typename T> static T load(const uint8_t *bytes, uint64_t i) {
  T v;
  std::memcpy(&v, bytes + i * sizeof(T), sizeof(T));
  return v;
}
template <typename T> static void store(uint8_t *bytes, uint64_t i, T v) {
  std::memcpy(bytes + i * sizeof(T), &v, sizeof(T));
}

void appendElementText(std::string &out, DType type, const uint8_t *bytes,
                       uint64_t i) {
  char buf[64];
  std::to_chars_result r;
  switch (type) {
  case DType::U8:
    r = std::to_chars(buf, buf + sizeof buf, bytes[i]);
    break;
  case DType::I32:
    r = std::to_chars(buf, buf + sizeof buf, load<int32_t>(bytes, i));
    break;
  case DType::I64:
    r = std::to_chars(buf, buf + sizeof buf, load<int64_t>(bytes, i));
    break;
  case DType::F32:
    r = std::to_chars(buf, buf + sizeof buf, load<float>(bytes, i));
    break;
  case DType::F64:
    r = std::to_chars(buf, buf + sizeof buf, load<double>(bytes, i));
    break;
  }
  out.append(buf, r.ptr);
}

bool parseElementText(const char *&p, const char *end, DType type, uint8_t *dst,
                      uint64_t i) {
  std::from_chars_result r;
  switch (type) {
  case DType::U8: {
    unsigned v = 0;
    r = std::from_chars(p, end, v);
    if (r.ec != std::errc() || v > 255)
      return false;
    dst[i] = static_cast<uint8_t>(v);
    break;
  }
  case DType::I32: {
    int32_t v = 0;
    r = std::from_chars(p, end, v);
    if (r.ec != std::errc())
      return false;
    store(dst, i, v);
    break;
  }
  case DType::I64: {
    int64_t v = 0;
    r = std::from_chars(p, end, v);
    if (r.ec != std::errc())
      return false;
    store(dst, i, v);
    break;
  }
  case DType::F32: {
    float v = 0;
    r = std::from_chars(p, end, v);
    if (r.ec != std::errc())
      return false;
    store(dst, i, v);
    break;
  }
  case DType::F64: {
    double v = 0;
    r = std::from_chars(p, end, v);
    if (r.ec != std::errc())
      return false;
    store(dst, i, v);
    break;
  }
  }
  p = r.ptr;
  return true;
}

double elementAsDouble(DType type, const uint8_t *bytes, uint64_t i) {
  switch (type) {
  case DType::U8:
    return bytes[i];
  case DType::I32:
    return load<int32_t>(bytes, i);
  case DType::I64:
    return static_cast<double>(load<int64_t>(bytes, i));
  case DType::F32:
    return load<float>(bytes, i);
  case DType::F64:
    return load<double>(bytes, i);
  }
  return 0;
}

int64_t elementAsInt(DType type, const uint8_t *bytes, uint64_t i) {
  switch (type) {
  case DType::U8:
    return bytes[i];
  case DType::I32:
    return load<int32_t>(bytes, i);
  case DType::I64:
    return load<int64_t>(bytes, i);
  default:
    return static_cast<int64_t>(elementAsDouble(type, bytes, i));
  }
}

void setElementFromInt(DType type, uint8_t *bytes, uint64_t i, int64_t v) {
  switch (type) {
  case DType::U8:
    bytes[i] = static_cast<uint8_t>(v);
    break;
  case DType::I32:
    store(bytes, i, static_cast<int32_t>(v));
    break;
  case DType::I64:
    store(bytes, i, v);
    break;
  case DType::F32:
    store(bytes, i, static_cast<float>(v));
    break;
  case DType::F64:
    store(bytes, i, static_cast<double>(v));
    break;
  }
}

void setElementFromFloat(DType type, uint8_t *bytes, uint64_t i, double v) {
  if (type == DType::F32)
    store(bytes, i, static_cast<float>(v));
  else if (type == DType::F64)
    store(bytes, i, v);
  else
    setElementFromInt(type, bytes, i, static_cast<int64_t>(v));
}

void writeWholeFile(const std::string &path, const void *data, size_t n) {
  OutFile out(path);
  out.write(data, n);
  out.close();
}

void makeDirectories(const std::string &dir) {
  std::string partial;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!partial.empty() && mkdir(partial.c_str(), 0755) != 0 &&
          errno != EEXIST)
        throw BaselineError(
            partial + ": cannot create directory: " + std::strerror(errno));
    }
    if (i < dir.size())
      partial.push_back(dir[i]);
  }
}

OutFile::OutFile(const std::string &path) : path(path) {
  file = std::fopen(path.c_str(), "wb");
  if (!file)
    throw BaselineError(path + ": cannot create: " + std::strerror(errno));
  std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
}

OutFile::~OutFile() {
  if (file)
    std::fclose(file);
}

void OutFile::write(const void *data, size_t n) {
  if (n && std::fwrite(data, 1, n, file) != n)
    throw BaselineError(path + ": write failed: " + std::strerror(errno));
  written += n;
}

void OutFile::close() {
  if (file && std::fclose(file) != 0) {
    file = nullptr;
    throw BaselineError(path + ": close failed: " + std::strerror(errno));
  }
  file = nullptr;
}

} // namespace baselines
} // namespace tessera
