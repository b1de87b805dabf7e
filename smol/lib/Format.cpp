//===- Format.cpp - .smol preamble and schema encoding --------------------===//
//
// Part of Tessera. Encodes and validates the preamble and the schema segment
// (docs/smol-format.md). Every size read from a file is checked with
// overflow-checked arithmetic before it is used.
//
//===----------------------------------------------------------------------===//

#include "tessera/Smol/Format.h"

#include <sodium.h>

#include <cmath>
#include <cstring>
#include <set>

namespace tessera {
namespace smol {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              ".smol tensor views assume a little-endian host");

namespace {

struct DTypeInfo {
  DType type;
  const char *name;
  uint32_t size;
};

const DTypeInfo kDTypes[] = {
    {DType::U8, "u8", 1},     {DType::I8, "i8", 1},   {DType::U16, "u16", 2},
    {DType::I16, "i16", 2},   {DType::U32, "u32", 4}, {DType::I32, "i32", 4},
    {DType::U64, "u64", 8},   {DType::I64, "i64", 8}, {DType::F16, "f16", 2},
    {DType::BF16, "bf16", 2}, {DType::F32, "f32", 4}, {DType::F64, "f64", 8},
};

const DTypeInfo *info(DType t) {
  for (const DTypeInfo &i : kDTypes)
    if (i.type == t)
      return &i;
  return nullptr;
}

bool isPowerOfTwo(uint64_t v) { return v && !(v & (v - 1)); }

} // namespace

uint32_t dtypeSize(DType type) {
  const DTypeInfo *i = info(type);
  return i ? i->size : 0;
}

const char *dtypeName(DType type) {
  const DTypeInfo *i = info(type);
  return i ? i->name : "?";
}

bool parseDType(const std::string &name, DType &out) {
  for (const DTypeInfo &i : kDTypes)
    if (name == i.name) {
      out = i.type;
      return true;
    }
  return false;
}

bool validDType(uint8_t code) { return info(static_cast<DType>(code)); }

const char *roleName(Role role) {
  switch (role) {
  case Role::Data:
    return "data";
  case Role::Label:
    return "label";
  case Role::Camera:
    return "camera";
  case Role::Proprio:
    return "proprio";
  }
  return "?";
}

uint64_t ColumnSpec::elements() const {
  uint64_t n = 1;
  for (uint32_t d : shape)
    n *= d;
  return n;
}

std::vector<uint32_t> Column::storedShape() const {
  if (spec.perm.empty())
    return spec.shape;
  std::vector<uint32_t> s(spec.shape.size());
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = spec.shape[spec.perm[i]];
  return s;
}

std::array<uint8_t, kDigestBytes> digest(const void *data, size_t bytes) {
  std::array<uint8_t, kDigestBytes> out;
  crypto_generichash(out.data(), out.size(),
                     static_cast<const unsigned char *>(data), bytes, nullptr,
                     0);
  return out;
}

std::string hex(const void *data, size_t bytes) {
  static const char *digits = "0123456789abcdef";
  std::string s;
  const uint8_t *p = static_cast<const uint8_t *>(data);
  for (size_t i = 0; i < bytes; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

bool addOverflows(uint64_t a, uint64_t b, uint64_t &out) {
  return __builtin_add_overflow(a, b, &out);
}

bool mulOverflows(uint64_t a, uint64_t b, uint64_t &out) {
  return __builtin_mul_overflow(a, b, &out);
}

//===----------------------------------------------------------------------===//
// Preamble
//===----------------------------------------------------------------------===//

void encodePreamble(Preamble &p, uint8_t *out) {
  std::memset(out, 0, kPreambleBytes);
  std::memcpy(out, kMagic.data(), kMagic.size());
  le::put16(out + 8, p.versionMajor);
  le::put16(out + 10, p.versionMinor);
  le::put32(out + 12, p.flags);
  std::memcpy(out + 16, p.fileId.data(), 16);
  le::put32(out + 32, kPreambleBytes);
  le::put32(out + 36, p.rowAlignment);
  le::put32(out + 40, p.columnAlignment);
  le::put64(out + 48, p.schemaOffset);
  le::put64(out + 56, p.schemaBytes);
  le::put64(out + 64, p.staticOffset);
  le::put64(out + 72, p.staticBytes);
  le::put64(out + 80, p.indexOffset);
  le::put64(out + 88, p.rowCount);
  le::put64(out + 96, p.dataOffset);
  le::put64(out + 104, p.fileBytes);
  le::put64(out + 112, p.rowBytes);
  std::memcpy(out + 128, p.headerDigest.data(), kDigestBytes);
  std::memcpy(out + 144, p.indexDigest.data(), kDigestBytes);
  p.preambleDigest = digest(out, 176);
  std::memcpy(out + 176, p.preambleDigest.data(), kDigestBytes);
}

Preamble decodePreamble(const uint8_t *in, size_t available,
                        uint64_t actualFileBytes, const std::string &what) {
  auto fail = [&](const std::string &msg) { throw Error(what + ": " + msg); };
  if (available < kPreambleBytes)
    fail("truncated: the preamble needs " + std::to_string(kPreambleBytes) +
         " bytes, the file has " + std::to_string(available));
  if (std::memcmp(in, kMagic.data(), kMagic.size()) != 0)
    fail("not a .smol file (bad magic)");
  Preamble p;
  p.versionMajor = le::get16(in + 8);
  p.versionMinor = le::get16(in + 10);
  if (p.versionMajor != kVersionMajor)
    fail("unsupported version " + std::to_string(p.versionMajor) + "." +
         std::to_string(p.versionMinor) + " (this reader reads " +
         std::to_string(kVersionMajor) + ".x)");
  auto want = digest(in, 176);
  if (kCheckDigests && std::memcmp(want.data(), in + 176, kDigestBytes) != 0)
    fail("preamble checksum mismatch");
  p.flags = le::get32(in + 12);
  std::memcpy(p.fileId.data(), in + 16, 16);
  uint32_t preambleBytes = le::get32(in + 32);
  p.rowAlignment = le::get32(in + 36);
  p.columnAlignment = le::get32(in + 40);
  p.schemaOffset = le::get64(in + 48);
  p.schemaBytes = le::get64(in + 56);
  p.staticOffset = le::get64(in + 64);
  p.staticBytes = le::get64(in + 72);
  p.indexOffset = le::get64(in + 80);
  p.rowCount = le::get64(in + 88);
  p.dataOffset = le::get64(in + 96);
  p.fileBytes = le::get64(in + 104);
  p.rowBytes = le::get64(in + 112);
  std::memcpy(p.headerDigest.data(), in + 128, kDigestBytes);
  std::memcpy(p.indexDigest.data(), in + 144, kDigestBytes);
  std::memcpy(p.preambleDigest.data(), in + 176, kDigestBytes);

  uint32_t unknownRequired = p.flags & 0xffffu & ~uint32_t(kFlagKnownRequired);
  if (unknownRequired)
    fail("unknown required feature flags 0x" + hex(&unknownRequired, 4) +
         " (file written by a newer writer)");
  if (preambleBytes < kPreambleBytes)
    fail("preamble size " + std::to_string(preambleBytes) +
         ", expected >= " + std::to_string(kPreambleBytes));
  if (!isPowerOfTwo(p.rowAlignment) || p.rowAlignment > (1u << 20))
    fail("row alignment " + std::to_string(p.rowAlignment) +
         " is not a power of two <= 1 MiB");
  if (!isPowerOfTwo(p.columnAlignment) || p.columnAlignment < 8 ||
      p.columnAlignment > 4096)
    fail("column alignment " + std::to_string(p.columnAlignment) +
         " is not a power of two in 8..4096");
  if (p.fileBytes != actualFileBytes)
    fail(p.fileBytes > actualFileBytes
             ? "truncated: the preamble says " + std::to_string(p.fileBytes) +
                   " bytes, the file has " + std::to_string(actualFileBytes)
             : "file has " + std::to_string(actualFileBytes) +
                   " bytes, the preamble says " + std::to_string(p.fileBytes) +
                   " (trailing data)");
  // Segment order: preamble <= schema <= static <= index <= rows <= end.
  uint64_t schemaEnd, staticEnd, indexBytes, indexEnd;
  if (p.schemaOffset < preambleBytes ||
      addOverflows(p.schemaOffset, p.schemaBytes, schemaEnd) ||
      schemaEnd > p.fileBytes)
    fail("schema segment [" + std::to_string(p.schemaOffset) + ", +" +
         std::to_string(p.schemaBytes) + ") is outside the file");
  if (p.schemaBytes > (16u << 20))
    fail("schema segment of " + std::to_string(p.schemaBytes) +
         " bytes is larger than 16 MiB");
  if (p.staticOffset < schemaEnd ||
      addOverflows(p.staticOffset, p.staticBytes, staticEnd) ||
      staticEnd > p.fileBytes)
    fail("static segment [" + std::to_string(p.staticOffset) + ", +" +
         std::to_string(p.staticBytes) + ") is outside the file");
  if (p.indexOffset < staticEnd ||
      mulOverflows(p.rowCount, kIndexEntryBytes, indexBytes) ||
      addOverflows(p.indexOffset, indexBytes, indexEnd) ||
      indexEnd > p.fileBytes)
    fail("index of " + std::to_string(p.rowCount) + " rows at offset " +
         std::to_string(p.indexOffset) + " is outside the file");
  if (p.dataOffset < indexEnd || p.dataOffset > p.fileBytes)
    fail("data offset " + std::to_string(p.dataOffset) +
         " is before the end of the index or past the end of the file");
  if (p.rowCount > 0 && (p.rowBytes < kRowHeaderFixedBytes ||
                         p.rowBytes > p.fileBytes - p.dataOffset))
    fail("row size " + std::to_string(p.rowBytes) +
         " does not fit in the data segment");
  if (p.rowBytes > (uint64_t(1) << 32))
    fail("row size " + std::to_string(p.rowBytes) + " is larger than 4 GiB");
  return p;
}

//===----------------------------------------------------------------------===//
// Schema
//===----------------------------------------------------------------------===//

std::vector<uint8_t> encodeSchema(const std::vector<Column> &columns) {
  std::vector<uint8_t> out(16, 0);
  uint32_t dynamicCount = 0;
  for (const Column &c : columns)
    dynamicCount += !c.spec.isStatic;
  le::put32(out.data(), static_cast<uint32_t>(columns.size()));
  le::put32(out.data() + 4, dynamicCount);
  le::put32(out.data() + 8,
            static_cast<uint32_t>(columns.size()) - dynamicCount);
  for (const Column &c : columns) {
    const ColumnSpec &s = c.spec;
    size_t at = out.size();
    out.resize(at + 32, 0);
    uint8_t *e = out.data() + at;
    e[0] = s.isStatic ? 1 : 0;
    e[1] = static_cast<uint8_t>(s.dtype);
    e[2] = static_cast<uint8_t>(s.role);
    e[3] = static_cast<uint8_t>(s.shape.size());
    e[4] = static_cast<uint8_t>(s.perm.empty() ? Layout::RowMajor
                                               : Layout::Permuted);
    e[5] = static_cast<uint8_t>(c.cipher);
    le::put16(e + 6, static_cast<uint16_t>(s.name.size()));
    le::put32(e + 8, c.logicalIndex);
    le::put64(e + 16, c.offset);
    le::put64(e + 24, c.storedBytes);
    for (uint32_t d : s.shape) {
      uint8_t b[4];
      le::put32(b, d);
      out.insert(out.end(), b, b + 4);
    }
    out.insert(out.end(), s.perm.begin(), s.perm.end());
    uint8_t k[2];
    le::put16(k, static_cast<uint16_t>(s.keyId.size()));
    out.insert(out.end(), k, k + 2);
    out.insert(out.end(), s.keyId.begin(), s.keyId.end());
    out.insert(out.end(), s.name.begin(), s.name.end());
    out.resize(alignUp(out.size(), 8), 0);
  }
  return out;
}

std::vector<Column> decodeSchema(const uint8_t *in, size_t bytes,
                                 const Preamble &p, const std::string &what) {
  auto fail = [&](const std::string &msg) {
    throw Error(what + ": schema: " + msg);
  };
  if (bytes < 16)
    fail("truncated: " + std::to_string(bytes) + " bytes, expected >= 16");
  uint32_t count = le::get32(in), dynamicCount = le::get32(in + 4),
           staticCount = le::get32(in + 8);
  if (count > kMaxColumns || uint64_t(dynamicCount) + staticCount != count)
    fail("column counts " + std::to_string(count) + " = " +
         std::to_string(dynamicCount) + " dynamic + " +
         std::to_string(staticCount) + " static do not add up (at most " +
         std::to_string(kMaxColumns) + " columns)");
  std::vector<Column> columns;
  std::set<std::string> names;
  std::vector<bool> seenDynamic(dynamicCount), seenStatic(staticCount);
  uint64_t rowEnd = rowHeaderBytes(dynamicCount), staticEnd = 0;
  size_t at = 16;
  for (uint32_t i = 0; i < count; ++i) {
    std::string where = "column " + std::to_string(i);
    if (bytes - at < 32)
      fail(where + ": truncated entry");
    const uint8_t *e = in + at;
    Column c;
    c.storedIndex = i;
    ColumnSpec &s = c.spec;
    if (e[0] > 1)
      fail(where + ": kind " + std::to_string(e[0]) + ", expected 0 or 1");
    s.isStatic = e[0] == 1;
    if (s.isStatic != (i >= dynamicCount))
      fail(where + ": dynamic columns must come before static ones");
    if (!validDType(e[1]))
      fail(where + ": unknown dtype code " + std::to_string(e[1]));
    s.dtype = static_cast<DType>(e[1]);
    if (e[2] > 3)
      fail(where + ": unknown role code " + std::to_string(e[2]));
    s.role = static_cast<Role>(e[2]);
    uint32_t rank = e[3];
    if (rank > kMaxRank)
      fail(where + ": rank " + std::to_string(rank) + " above " +
           std::to_string(kMaxRank));
    if (e[4] > 1)
      fail(where + ": unknown layout code " + std::to_string(e[4]));
    bool permuted = e[4] == 1;
    if (e[5] > 1)
      fail(where + ": unknown cipher code " + std::to_string(e[5]));
    c.cipher = static_cast<Cipher>(e[5]);
    uint16_t nameBytes = le::get16(e + 6);
    c.logicalIndex = le::get32(e + 8);
    c.offset = le::get64(e + 16);
    c.storedBytes = le::get64(e + 24);
    at += 32;
    uint64_t need = uint64_t(rank) * 4 + (permuted ? rank : 0) + 2;
    if (bytes - at < need)
      fail(where + ": truncated shape");
    for (uint32_t d = 0; d < rank; ++d)
      s.shape.push_back(le::get32(in + at + 4 * d));
    at += 4 * rank;
    if (permuted) {
      s.perm.assign(in + at, in + at + rank);
      at += rank;
      std::vector<bool> seen(rank);
      for (uint8_t q : s.perm) {
        if (q >= rank || seen[q])
          fail(where + ": layout permutation is not a permutation of 0.." +
               std::to_string(rank ? rank - 1 : 0));
        seen[q] = true;
      }
    }
    uint16_t keyBytes = le::get16(in + at);
    at += 2;
    if (bytes - at < uint64_t(keyBytes) + nameBytes)
      fail(where + ": truncated key id or name");
    s.keyId.assign(reinterpret_cast<const char *>(in + at), keyBytes);
    at += keyBytes;
    s.name.assign(reinterpret_cast<const char *>(in + at), nameBytes);
    at += nameBytes;
    at = alignUp(at, 8);
    if (at > bytes)
      at = bytes;
    where = "column '" + s.name + "'";
    if (nameBytes == 0 || nameBytes > 255)
      fail("column " + std::to_string(i) + ": name of " +
           std::to_string(nameBytes) + " bytes, expected 1..255");
    if (!names.insert(s.name).second)
      fail(where + ": duplicate column name");
    if (c.encrypted() != !s.keyId.empty() || s.keyId.size() > 255)
      fail(where + ": key id must be 1..255 bytes exactly when encrypted");
    if (s.isStatic && c.encrypted())
      fail(where + ": static columns cannot be encrypted");
    std::vector<bool> &seen = s.isStatic ? seenStatic : seenDynamic;
    if (c.logicalIndex >= seen.size() || seen[c.logicalIndex])
      fail(where + ": logical index " + std::to_string(c.logicalIndex) +
           " is out of range or repeated");
    seen[c.logicalIndex] = true;
    uint64_t elements = 1, plain, stored;
    for (uint32_t d : s.shape)
      if (mulOverflows(elements, d, elements))
        fail(where + ": shape overflows");
    if (mulOverflows(elements, dtypeSize(s.dtype), plain) ||
        addOverflows(plain, c.encrypted() ? kNonceBytes + kTagBytes : 0,
                     stored))
      fail(where + ": size overflows");
    if (c.storedBytes != stored)
      fail(where + ": stored size " + std::to_string(c.storedBytes) +
           ", expected " + std::to_string(stored) + " for its shape");
    if (c.offset % p.columnAlignment)
      fail(where + ": offset " + std::to_string(c.offset) +
           " is not aligned to " + std::to_string(p.columnAlignment));
    uint64_t end;
    uint64_t &prevEnd = s.isStatic ? staticEnd : rowEnd;
    uint64_t limit = s.isStatic ? p.staticBytes : p.rowBytes;
    if (c.offset < prevEnd || addOverflows(c.offset, c.storedBytes, end) ||
        end > limit)
      fail(where + ": bytes [" + std::to_string(c.offset) + ", +" +
           std::to_string(c.storedBytes) +
           ") overlap the previous column or "
           "pass the end of the " +
           (s.isStatic ? "static segment" : "row") + " (" +
           std::to_string(limit) + " bytes)");
    prevEnd = end;
    columns.push_back(std::move(c));
  }
  if (dynamicCount == 0 && p.rowCount > 0)
    fail("rows present but no dynamic columns");
  if (p.rowCount > 0 && rowEnd > p.rowBytes)
    fail("row header does not fit in a row");
  return columns;
}

//===----------------------------------------------------------------------===//
// Elements
//===----------------------------------------------------------------------===//

namespace {

float halfToFloat(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
  float v;
  if (exp == 0)
    v = std::ldexp(float(mant), -24);
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = std::ldexp(float(mant | 1024), exp - 25);
  return sign ? -v : v;
}

} // namespace

double elementAsDouble(DType type, const uint8_t *p) {
  switch (type) {
  case DType::U8:
    return p[0];
  case DType::I8:
    return static_cast<int8_t>(p[0]);
  case DType::U16:
    return le::get16(p);
  case DType::I16:
    return static_cast<int16_t>(le::get16(p));
  case DType::U32:
    return le::get32(p);
  case DType::I32:
    return static_cast<int32_t>(le::get32(p));
  case DType::U64:
    return static_cast<double>(le::get64(p));
  case DType::I64:
    return static_cast<double>(static_cast<int64_t>(le::get64(p)));
  case DType::F16:
    return halfToFloat(le::get16(p));
  case DType::BF16: {
    uint32_t bits = uint32_t(le::get16(p)) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case DType::F32: {
    uint32_t bits = le::get32(p);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case DType::F64: {
    uint64_t bits = le::get64(p);
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  }
  return NAN;
}

} // namespace smol
} // namespace tessera
