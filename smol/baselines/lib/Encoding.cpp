//===- Encoding.cpp - byte and text encodings shared by baselines ---------===//
//
// Part of Tessera. See Encoding.h.
//
//===----------------------------------------------------------------------===//

#include "Encoding.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <sys/stat.h>

namespace tessera {
namespace baselines {

static const char kB64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64Encode(const uint8_t *d, size_t n, std::string &out) {
  out.reserve(out.size() + (n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  if (i < n) {
    uint32_t v = d[i] << 16;
    if (i + 1 < n)
      v |= d[i + 1] << 8;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

bool base64Decode(const char *t, size_t n, std::vector<uint8_t> &out) {
  static int8_t table[256];
  static bool init = [] {
    for (int i = 0; i < 256; ++i)
      table[i] = -1;
    for (int i = 0; i < 64; ++i)
      table[static_cast<uint8_t>(kB64[i])] = static_cast<int8_t>(i);
    return true;
  }();
  (void)init;
  if (n % 4)
    return false;
  out.clear();
  out.reserve(n / 4 * 3);
  for (size_t i = 0; i < n; i += 4) {
    int pad = 0;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = t[i + k];
      int8_t x;
      if (c == '=' && i + 4 == n && k >= 2) {
        ++pad;
        x = 0;
      } else {
        x = table[static_cast<uint8_t>(c)];
        if (x < 0 || pad)
          return false;
      }
      v = (v << 6) | static_cast<uint32_t>(x);
    }
    out.push_back(static_cast<uint8_t>(v >> 16));
    if (pad < 2)
      out.push_back(static_cast<uint8_t>(v >> 8));
    if (pad < 1)
      out.push_back(static_cast<uint8_t>(v));
  }
  return true;
}

uint32_t crc32c(const void *data, size_t n, uint32_t crc) {
  static uint32_t table[256];
  static bool init = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      table[i] = c;
    }
    return true;
  }();
  (void)init;
  const uint8_t *p = static_cast<const uint8_t *>(data);
  crc = ~crc;
  for (size_t i = 0; i < n; ++i)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
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
