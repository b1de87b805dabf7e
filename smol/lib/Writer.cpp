//===- Writer.cpp - the streaming, atomically publishing .smol writer -----===//
//
// Part of Tessera. See Writer.h and docs/smol-format.md. Rows go to their
// final offsets in a temporary file as they arrive; the header, static
// segment and index are written last, then the file is synced, made
// read-only and renamed into place.
//
//===----------------------------------------------------------------------===//

#include "tessera/Smol/Writer.h"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <numeric>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tessera {
namespace smol {

namespace {

std::string errnoText() { return std::strerror(errno); }

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool isPowerOfTwo(uint64_t v) { return v && !(v & (v - 1)); }

} // namespace

void permuteTensor(const uint8_t *in, uint8_t *out,
                   const std::vector<uint32_t> &shape,
                   const std::vector<uint8_t> &perm, uint32_t elementBytes,
                   bool inverse) {
  size_t rank = shape.size();
  uint64_t elements = 1;
  for (uint32_t d : shape)
    elements *= d;
  if (perm.empty() || elements == 0) {
    std::memcpy(out, in, elements * elementBytes);
    return;
  }
  // Logical strides (in elements), then the stride of each stored dimension.
  std::vector<uint64_t> logicalStride(rank, 1), storedStride(rank);
  for (size_t d = rank - 1; d > 0; --d)
    logicalStride[d - 1] = logicalStride[d] * shape[d];
  std::vector<uint32_t> storedShape(rank);
  for (size_t i = 0; i < rank; ++i) {
    storedShape[i] = shape[perm[i]];
    storedStride[i] = logicalStride[perm[i]];
  }
  std::vector<uint32_t> counter(rank, 0);
  uint64_t logical = 0;
  for (uint64_t s = 0; s < elements; ++s) {
    const uint8_t *src =
        inverse ? in + s * elementBytes : in + logical * elementBytes;
    uint8_t *dst =
        inverse ? out + logical * elementBytes : out + s * elementBytes;
    std::memcpy(dst, src, elementBytes);
    for (size_t i = rank; i-- > 0;) {
      logical += storedStride[i];
      if (++counter[i] < storedShape[i])
        break;
      logical -= storedStride[i] * storedShape[i];
      counter[i] = 0;
    }
  }
}

std::string Writer::fail(const std::string &what) const {
  return path + ": " + what;
}

Writer::Writer(std::string pathIn, std::vector<ColumnSpec> specs,
               WriterOptions opts)
    : path(std::move(pathIn)), options(std::move(opts)) {
  initSodium();
  if (!isPowerOfTwo(options.rowAlignment) || options.rowAlignment > (1u << 20))
    throw Error(fail("row alignment must be a power of two <= 1 MiB"));
  if (!isPowerOfTwo(options.columnAlignment) || options.columnAlignment < 8 ||
      options.columnAlignment > 4096)
    throw Error(fail("column alignment must be a power of two in 8..4096"));
  if (options.extraFlags & 0xffffu)
    throw Error(fail("extra flags must be informational bits 16-31"));
  if (specs.size() > kMaxColumns)
    throw Error(fail("more than " + std::to_string(kMaxColumns) + " columns"));

  std::set<std::string> names;
  std::vector<Column> dynamicCols, staticCols;
  for (ColumnSpec &s : specs) {
    std::string where = "column '" + s.name + "': ";
    if (s.name.empty() || s.name.size() > 255)
      throw Error(fail("column names must be 1..255 bytes"));
    if (!names.insert(s.name).second)
      throw Error(fail(where + "duplicate column name"));
    if (dtypeSize(s.dtype) == 0)
      throw Error(fail(where + "unknown dtype"));
    if (s.shape.size() > kMaxRank)
      throw Error(fail(where + "rank above " + std::to_string(kMaxRank)));
    uint64_t elements = 1;
    for (uint32_t d : s.shape)
      if (mulOverflows(elements, d, elements) || elements > (1ull << 40))
        throw Error(fail(where + "shape too large"));
    if (!s.perm.empty()) {
      std::vector<bool> seen(s.shape.size());
      bool ok = s.perm.size() == s.shape.size();
      for (uint8_t q : s.perm)
        if (!ok || q >= s.shape.size() || seen[q])
          ok = false;
        else
          seen[q] = true;
      if (!ok)
        throw Error(fail(where + "layout is not a permutation of its " +
                         std::to_string(s.shape.size()) + " dimensions"));
      // The identity permutation is row-major.
      bool identity = true;
      for (size_t i = 0; i < s.perm.size(); ++i)
        identity = identity && s.perm[i] == i;
      if (identity)
        s.perm.clear();
    }
    Column c;
    c.spec = s;
    if (!s.keyId.empty()) {
      if (s.isStatic)
        throw Error(fail(where + "static columns cannot be encrypted"));
      if (s.keyId.size() > 255)
        throw Error(fail(where + "key id longer than 255 bytes"));
      if (!options.keys.find(s.keyId))
        throw Error(fail(where + "no key with id '" + s.keyId + "'"));
      c.cipher = Cipher::XChaCha20Poly1305;
    }
    c.storedBytes =
        c.spec.plainBytes() + (c.encrypted() ? kNonceBytes + kTagBytes : 0);
    if (s.isStatic) {
      c.logicalIndex = static_cast<uint32_t>(staticCols.size());
      staticCols.push_back(std::move(c));
    } else {
      c.logicalIndex = static_cast<uint32_t>(dynamicCols.size());
      dynamicCols.push_back(std::move(c));
    }
  }
  // Rows hold their columns by size ascending: the scalars an early-
  // rejecting reader needs come first, the camera bundle last.
  std::stable_sort(dynamicCols.begin(), dynamicCols.end(),
                   [](const Column &a, const Column &b) {
                     return a.storedBytes < b.storedBytes;
                   });
  stored = std::move(dynamicCols);
  stored.insert(stored.end(), staticCols.begin(), staticCols.end());
  dynamicOf.resize(stored.size() - staticCols.size());
  staticOf.resize(staticCols.size());
  for (uint32_t i = 0; i < stored.size(); ++i) {
    stored[i].storedIndex = i;
    (stored[i].spec.isStatic ? staticOf : dynamicOf)[stored[i].logicalIndex] =
        i;
  }
  staticValues.resize(staticOf.size());
  staticSet.assign(staticOf.size(), false);
  layout();

  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode))
    throw Error(fail("exists and is not a regular file (a .smol file only "
                     "replaces a regular file, even with --force)"));
  if (!options.overwrite && exists)
    throw Error(fail("already exists (.smol files are immutable; remove it "
                     "first)"));
  tmpPath = directoryOf(path) + "/." + baseOf(path) + ".tmp.XXXXXX";
  std::vector<char> name(tmpPath.begin(), tmpPath.end());
  name.push_back('\0');
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0)
    throw Error(fail("cannot create a temporary file in " + directoryOf(path) +
                     ": " + errnoText()));
  tmpPath = name.data();
  // Held until the file is published or abandoned (or the writer dies):
  // `tessera-smol clean` removes only temporary files nobody holds.
  ::flock(fd, LOCK_EX | LOCK_NB);
}

void Writer::layout() {
  uint64_t colAlign = options.columnAlignment;
  // Row: header, then the dynamic columns at aligned offsets.
  uint64_t at = alignUp(rowHeaderBytes(dynamicOf.size()), colAlign);
  uint64_t staticAt = 0;
  for (Column &c : stored) {
    uint64_t &cursor = c.spec.isStatic ? staticAt : at;
    cursor = alignUp(cursor, colAlign);
    c.offset = cursor;
    cursor += c.storedBytes;
  }
  pre.rowAlignment = options.rowAlignment;
  pre.columnAlignment = options.columnAlignment;
  pre.flags = options.extraFlags;
  for (const Column &c : stored)
    if (c.encrypted())
      pre.flags |= kFlagEncrypted;
  pre.rowBytes = at;
  randombytes_buf(pre.fileId.data(), pre.fileId.size());
  schemaBytes = encodeSchema(stored);
  pre.schemaOffset = kPreambleBytes;
  pre.schemaBytes = schemaBytes.size();
  pre.staticOffset = alignUp(pre.schemaOffset + pre.schemaBytes, colAlign);
  pre.staticBytes = staticAt;
  pre.indexOffset = alignUp(pre.staticOffset + pre.staticBytes, 8);
  reservedRows = options.expectedRows;
  pre.dataOffset = alignUp(pre.indexOffset + reservedRows * kIndexEntryBytes,
                           options.rowAlignment);
  rowBuffer.assign(pre.rowStride(), 0);
}

Writer::~Writer() {
  if (fd >= 0)
    ::close(fd);
  if (!finished && !tmpPath.empty())
    ::unlink(tmpPath.c_str());
}

void Writer::writeAll(const void *data, size_t n, uint64_t offset) {
  const char *p = static_cast<const char *>(data);
  while (n > 0) {
    ssize_t put = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0)
      throw Error(fail("write failed at offset " + std::to_string(offset) +
                       ": " + (put < 0 ? errnoText() : "no progress")));
    p += put;
    n -= static_cast<size_t>(put);
    offset += static_cast<uint64_t>(put);
  }
}

void Writer::setStatic(const std::string &name, ConstBytes value) {
  if (finished)
    throw Error(fail("setStatic after finish"));
  for (uint32_t k = 0; k < staticOf.size(); ++k) {
    const Column &c = stored[staticOf[k]];
    if (c.spec.name != name)
      continue;
    if (value.bytes != c.spec.plainBytes())
      throw Error(fail("static column '" + name + "': got " +
                       std::to_string(value.bytes) + " bytes, expected " +
                       std::to_string(c.spec.plainBytes())));
    staticValues[k].assign(value.data, value.data + value.bytes);
    staticSet[k] = true;
    return;
  }
  throw Error(fail("no static column '" + name + "'"));
}

void Writer::append(int64_t timestamp, const std::vector<ConstBytes> &values) {
  if (finished || fd < 0)
    throw Error(fail("append after finish"));
  if (!index.empty() && timestamp <= index.back().timestamp)
    throw Error(fail("timestamp " + std::to_string(timestamp) +
                     " does not increase (previous " +
                     std::to_string(index.back().timestamp) + ")"));
  if (values.size() != dynamicOf.size())
    throw Error(fail("row has " + std::to_string(values.size()) +
                     " values, the schema " + std::to_string(dynamicOf.size()) +
                     " dynamic columns"));
  std::fill(rowBuffer.begin(), rowBuffer.end(), 0);
  uint8_t *row = rowBuffer.data();
  le::put64(row, static_cast<uint64_t>(timestamp));
  le::put32(row + 8, static_cast<uint32_t>(dynamicOf.size()));
  for (uint32_t k = 0; k < dynamicOf.size(); ++k) {
    const Column &c = stored[dynamicOf[k]];
    const ColumnSpec &s = c.spec;
    uint64_t n = s.plainBytes();
    if (values[k].bytes != n || (n && !values[k].data))
      throw Error(fail("column '" + s.name + "': got " +
                       std::to_string(values[k].bytes) + " bytes, expected " +
                       std::to_string(n)));
    uint8_t *dst = row + c.offset + c.payloadOffset();
    permuteTensor(values[k].data, dst, s.shape, s.perm, dtypeSize(s.dtype));
    if (c.encrypted()) {
      // Seal from a copy: libsodium's encryption is not in place here
      // because the nonce precedes the ciphertext.
      std::vector<uint8_t> plain(dst, dst + n);
      sealColumn(*options.keys.find(s.keyId), pre.fileId, c.storedIndex,
                 timestamp, plain.data(), n, row + c.offset);
      sodium_memzero(plain.data(), plain.size());
    }
    auto d = digest(row + c.offset, c.storedBytes);
    std::memcpy(row + kRowHeaderFixedBytes + kDigestBytes * c.storedIndex,
                d.data(), kDigestBytes);
  }
  uint64_t stride = pre.rowStride();
  uint64_t offset = pre.dataOffset + index.size() * stride;
  writeAll(row, stride, offset);
  index.push_back({timestamp, offset, pre.rowBytes});
}

void Writer::finish() {
  if (finished || fd < 0)
    throw Error(fail("finish called twice"));
  for (uint32_t k = 0; k < staticOf.size(); ++k)
    if (!staticSet[k])
      throw Error(fail("static column '" + stored[staticOf[k]].spec.name +
                       "' was never set"));
  uint64_t stride = pre.rowStride();
  if (index.size() > reservedRows) {
    // More rows than the index reserved room for: copy the rows once into
    // a second temporary file behind an index of the right size.
    uint64_t oldData = pre.dataOffset;
    reservedRows = index.size();
    pre.dataOffset = alignUp(pre.indexOffset + reservedRows * kIndexEntryBytes,
                             options.rowAlignment);
    std::string oldTmp = tmpPath;
    int oldFd = fd;
    tmpPath = directoryOf(path) + "/." + baseOf(path) + ".tmp.XXXXXX";
    std::vector<char> name(tmpPath.begin(), tmpPath.end());
    name.push_back('\0');
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) {
      fd = oldFd;
      tmpPath = oldTmp;
      throw Error(fail("cannot create a temporary file: " + errnoText()));
    }
    tmpPath = name.data();
    ::flock(fd, LOCK_EX | LOCK_NB);
    std::vector<uint8_t> chunk(std::max<uint64_t>(stride, 1 << 20) / stride *
                               stride);
    uint64_t total = index.size() * stride;
    for (uint64_t done = 0; done < total;) {
      size_t want =
          static_cast<size_t>(std::min<uint64_t>(chunk.size(), total - done));
      ssize_t got = ::pread(oldFd, chunk.data(), want,
                            static_cast<off_t>(oldData + done));
      if (got <= 0) {
        ::close(oldFd);
        ::unlink(oldTmp.c_str());
        throw Error(fail("cannot read back the temporary file: " +
                         std::string(got < 0 ? errnoText() : "truncated")));
      }
      writeAll(chunk.data(), static_cast<size_t>(got), pre.dataOffset + done);
      done += static_cast<uint64_t>(got);
    }
    ::close(oldFd);
    ::unlink(oldTmp.c_str());
    for (uint64_t i = 0; i < index.size(); ++i)
      index[i].offset = pre.dataOffset + i * stride;
  }
  pre.rowCount = index.size();
  pre.fileBytes = pre.dataOffset + index.size() * stride;

  std::vector<uint8_t> indexBytes(index.size() * kIndexEntryBytes);
  for (size_t i = 0; i < index.size(); ++i) {
    uint8_t *e = indexBytes.data() + i * kIndexEntryBytes;
    le::put64(e, static_cast<uint64_t>(index[i].timestamp));
    le::put64(e + 8, index[i].offset);
    le::put64(e + 16, index[i].length);
  }
  pre.indexDigest = digest(indexBytes.data(), indexBytes.size());

  std::vector<uint8_t> staticBytes(pre.staticBytes, 0);
  for (uint32_t k = 0; k < staticOf.size(); ++k) {
    const Column &c = stored[staticOf[k]];
    permuteTensor(staticValues[k].data(), staticBytes.data() + c.offset,
                  c.spec.shape, c.spec.perm, dtypeSize(c.spec.dtype));
  }
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kDigestBytes);
  crypto_generichash_update(&state, schemaBytes.data(), schemaBytes.size());
  crypto_generichash_update(&state, staticBytes.data(), staticBytes.size());
  crypto_generichash_final(&state, pre.headerDigest.data(), kDigestBytes);

  // Header: preamble, schema, static segment, index, padding up to the rows.
  std::vector<uint8_t> header(pre.dataOffset, 0);
  encodePreamble(pre, header.data());
  std::memcpy(header.data() + pre.schemaOffset, schemaBytes.data(),
              schemaBytes.size());
  if (!staticBytes.empty())
    std::memcpy(header.data() + pre.staticOffset, staticBytes.data(),
                staticBytes.size());
  if (!indexBytes.empty())
    std::memcpy(header.data() + pre.indexOffset, indexBytes.data(),
                indexBytes.size());
  writeAll(header.data(), header.size(), 0);
  if (::ftruncate(fd, static_cast<off_t>(pre.fileBytes)) != 0)
    throw Error(fail("cannot size the temporary file: " + errnoText()));
  if (::fsync(fd) != 0)
    throw Error(fail("fsync failed: " + errnoText()));
  if (::fchmod(fd, 0444) != 0)
    throw Error(fail("cannot make the file read-only: " + errnoText()));
  int closeResult = ::close(fd);
  fd = -1;
  if (closeResult != 0)
    throw Error(fail("close failed: " + errnoText()));

  int renamed;
  if (options.overwrite) {
    renamed = ::rename(tmpPath.c_str(), path.c_str());
  } else {
    renamed = ::renameat2(AT_FDCWD, tmpPath.c_str(), AT_FDCWD, path.c_str(),
                          RENAME_NOREPLACE);
    if (renamed != 0 && (errno == EINVAL || errno == ENOSYS)) {
      // File systems without RENAME_NOREPLACE: link fails if the name
      // exists, which is the same guarantee.
      renamed = ::link(tmpPath.c_str(), path.c_str());
      if (renamed == 0)
        ::unlink(tmpPath.c_str());
    }
  }
  if (renamed != 0)
    throw Error(fail(errno == EEXIST ? std::string("already exists (.smol "
                                                   "files are immutable)")
                                     : "cannot publish: " + errnoText()));
  finished = true;
  int dirFd =
      ::open(directoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
}

} // namespace smol
} // namespace tessera
