//===- Reader.cpp - the .smol reader: open, index, rows, views ------------===//
//
// Part of Tessera. See Reader.h and docs/smol-format.md ("Reading", and
// "Adversarial input" for the list of checks).
//
//===----------------------------------------------------------------------===//

#include "tessera/Smol/Reader.h"
#include "tessera/Smol/Writer.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

namespace tessera {
namespace smol {

//===----------------------------------------------------------------------===//
// Views and rows
//===----------------------------------------------------------------------===//

std::vector<uint8_t> TensorView::logicalCopy() const {
  std::vector<uint8_t> out(bytes);
  if (bytes)
    permuteTensor(data, out.data(), column->spec.shape, column->spec.perm,
                  dtypeSize(dtype()), /*inverse=*/true);
  return out;
}

bool Row::has(const std::string &name) const {
  const Column *c = reader ? reader->find(name) : nullptr;
  return c && !c->spec.isStatic && c->offset + c->storedBytes <= buffer.size();
}

TensorView Row::column(const std::string &name) {
  const Column *c = reader->find(name);
  if (!c || c->spec.isStatic)
    throw Error(reader->fail("no dynamic column '" + name + "'"));
  return column(c->storedIndex);
}

TensorView Row::column(uint32_t storedIndex) {
  if (storedIndex >= reader->dynamicCount)
    throw Error(reader->fail("dynamic column " + std::to_string(storedIndex) +
                             " out of range"));
  const Column &c = reader->cols[storedIndex];
  if (c.offset + c.storedBytes > buffer.size())
    throw Error(reader->fail("row " + std::to_string(rowIndex) + ": column '" +
                             c.spec.name +
                             "' is not in the bytes read (a prefix read)"));
  reader->checkColumn(*this, c);
  TensorView v;
  v.column = &c;
  v.data = buffer.data() + c.offset + c.payloadOffset();
  v.bytes = c.payloadBytes();
  return v;
}

//===----------------------------------------------------------------------===//
// Predicates
//===----------------------------------------------------------------------===//

Predicate Predicate::parse(const std::string &text) {
  auto fail = [&](const std::string &why) {
    throw Error("predicate '" + text + "': " + why +
                " (expected '<column> <op> <number>', op one of < <= > >= "
                "== !=)");
  };
  size_t opAt = text.find_first_of("<>=!");
  if (opAt == std::string::npos)
    fail("no comparison operator");
  auto trim = [](std::string s) {
    size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  };
  Predicate p;
  p.column = trim(text.substr(0, opAt));
  if (p.column.empty() || p.column.find_first_of(" \t") != std::string::npos)
    fail("bad column name");
  size_t opEnd = opAt + 1;
  if (opEnd < text.size() && text[opEnd] == '=')
    ++opEnd;
  std::string op = text.substr(opAt, opEnd - opAt);
  if (op == "<")
    p.op = Op::Lt;
  else if (op == "<=")
    p.op = Op::Le;
  else if (op == ">")
    p.op = Op::Gt;
  else if (op == ">=")
    p.op = Op::Ge;
  else if (op == "==")
    p.op = Op::Eq;
  else if (op == "!=")
    p.op = Op::Ne;
  else
    fail("unknown operator '" + op + "'");
  std::string number = trim(text.substr(opEnd));
  char *end = nullptr;
  p.value = std::strtod(number.c_str(), &end);
  if (number.empty() || *end || !std::isfinite(p.value))
    fail("'" + number + "' is not a finite number");
  return p;
}

bool Predicate::holds(double x) const {
  switch (op) {
  case Op::Lt:
    return x < value;
  case Op::Le:
    return x <= value;
  case Op::Gt:
    return x > value;
  case Op::Ge:
    return x >= value;
  case Op::Eq:
    return x == value;
  case Op::Ne:
    return x != value;
  }
  return false;
}

std::string Predicate::str() const {
  static const char *ops[] = {"<", "<=", ">", ">=", "==", "!="};
  char num[32];
  std::snprintf(num, sizeof num, "%g", value);
  return column + " " + ops[static_cast<int>(op)] + " " + num;
}

//===----------------------------------------------------------------------===//
// Opening
//===----------------------------------------------------------------------===//

std::string Reader::fail(const std::string &what) const {
  return file->name() + ": " + what;
}

void Reader::readInto(std::vector<uint8_t> &buf, uint64_t offset, uint64_t n,
                      const std::string &what) {
  size_t at = buf.size();
  buf.resize(at + n);
  size_t got = file->pread(buf.data() + at, n, offset);
  if (got != n)
    throw Error(fail("truncated: " + what + " needs " + std::to_string(n) +
                     " bytes at offset " + std::to_string(offset) + ", got " +
                     std::to_string(got)));
}

std::unique_ptr<Reader> Reader::open(const std::string &path,
                                     ReaderOptions options) {
  return std::make_unique<Reader>(std::make_unique<PosixFile>(path),
                                  std::move(options));
}

Reader::Reader(std::unique_ptr<RandomAccessFile> f, ReaderOptions opts)
    : file(std::move(f)), options(std::move(opts)) {
  initSodium();
  uint64_t fileBytes = file->size();
  // One read of the prefix: preamble, schema, static segment and index of a
  // typical file.
  uint64_t prefix = std::min<uint64_t>(
      std::max<uint64_t>(options.openPrefixBytes, kPreambleBytes), fileBytes);
  std::vector<uint8_t> head(prefix);
  size_t got = prefix ? file->pread(head.data(), prefix, 0) : 0;
  opened.ops += 1;
  opened.bytes += got;
  head.resize(got);
  pre = decodePreamble(head.data(), head.size(), fileBytes, file->name());
  uint64_t headerEnd = pre.headerEnd(); // <= fileBytes, checked above
  if (headerEnd > head.size()) {
    uint64_t from = head.size();
    readInto(head, from, headerEnd - from, "header (schema, static, index)");
    opened.ops += 1;
    opened.bytes += headerEnd - from;
  }

  cols = decodeSchema(head.data() + pre.schemaOffset, pre.schemaBytes, pre,
                      file->name());
  for (const Column &c : cols)
    dynamicCount += !c.spec.isStatic;

  std::array<uint8_t, kDigestBytes> want;
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kDigestBytes);
  crypto_generichash_update(&state, head.data() + pre.schemaOffset,
                            pre.schemaBytes);
  crypto_generichash_update(&state, head.data() + pre.staticOffset,
                            pre.staticBytes);
  crypto_generichash_final(&state, want.data(), kDigestBytes);
  if (kCheckDigests && want != pre.headerDigest)
    throw IntegrityError(fail("header checksum mismatch (schema or static "
                              "segment damaged)"),
                         "", 0);
  staticSegment.assign(head.data() + pre.staticOffset,
                       head.data() + pre.staticOffset + pre.staticBytes);

  const uint8_t *in = head.data() + pre.indexOffset;
  if (kCheckDigests &&
      digest(in, pre.rowCount * kIndexEntryBytes) != pre.indexDigest)
    throw IntegrityError(fail("index checksum mismatch"), "", 0);
  index.resize(pre.rowCount);
  uint64_t stride = pre.rowStride();
  for (uint64_t i = 0; i < pre.rowCount; ++i) {
    const uint8_t *e = in + i * kIndexEntryBytes;
    IndexEntry &x = index[i];
    x.timestamp = static_cast<int64_t>(le::get64(e));
    x.offset = le::get64(e + 8);
    x.length = le::get64(e + 16);
    std::string where = "index entry " + std::to_string(i) + ": ";
    uint64_t end;
    if (i > 0 && x.timestamp <= index[i - 1].timestamp)
      throw Error(fail(where + "timestamp " + std::to_string(x.timestamp) +
                       " does not increase (previous " +
                       std::to_string(index[i - 1].timestamp) + ")"));
    if (x.length != pre.rowBytes)
      throw Error(fail(where + "length " + std::to_string(x.length) +
                       ", every row has " + std::to_string(pre.rowBytes)));
    if (x.offset < pre.dataOffset || x.offset % pre.rowAlignment ||
        addOverflows(x.offset, stride, end) || end > pre.fileBytes)
      throw Error(fail(where + "offset " + std::to_string(x.offset) +
                       " is outside the data segment [" +
                       std::to_string(pre.dataOffset) + ", " +
                       std::to_string(pre.fileBytes) + ") or not aligned to " +
                       std::to_string(pre.rowAlignment)));
    if (i > 0 && x.offset < index[i - 1].offset + stride)
      throw Error(fail(where + "offset " + std::to_string(x.offset) +
                       " overlaps the previous row"));
  }
}

const Column *Reader::find(const std::string &name) const {
  for (const Column &c : cols)
    if (c.spec.name == name)
      return &c;
  return nullptr;
}

std::optional<uint64_t> Reader::findTimestamp(int64_t timestamp) const {
  auto it = std::lower_bound(
      index.begin(), index.end(), timestamp,
      [](const IndexEntry &e, int64_t t) { return e.timestamp < t; });
  if (it == index.end() || it->timestamp != timestamp)
    return std::nullopt;
  return static_cast<uint64_t>(it - index.begin());
}

TensorView Reader::staticColumn(const std::string &name) const {
  const Column *c = find(name);
  if (!c || !c->spec.isStatic)
    throw Error(fail("no static column '" + name + "'"));
  TensorView v;
  v.column = c;
  v.data = staticSegment.data() + c->offset;
  v.bytes = c->payloadBytes();
  return v;
}

//===----------------------------------------------------------------------===//
// Rows
//===----------------------------------------------------------------------===//

void Reader::checkRowHeader(const Row &row, const IndexEntry &e) const {
  const uint8_t *h = row.buffer.data();
  std::string where = "row " + std::to_string(row.rowIndex) + " (timestamp " +
                      std::to_string(e.timestamp) + "): ";
  if (static_cast<int64_t>(le::get64(h)) != e.timestamp)
    throw IntegrityError(fail(where + "row header has timestamp " +
                              std::to_string(int64_t(le::get64(h))) +
                              ", the index says " +
                              std::to_string(e.timestamp)),
                         "", e.timestamp);
  if (le::get32(h + 8) != dynamicCount || le::get32(h + 12) != 0)
    throw IntegrityError(
        fail(where + "row header has " + std::to_string(le::get32(h + 8)) +
             " columns, the schema " + std::to_string(dynamicCount)),
        "", e.timestamp);
}

Row Reader::readPrefix(uint64_t rowIndex, uint64_t bytes) {
  if (rowIndex >= index.size())
    throw Error(fail("row " + std::to_string(rowIndex) + " out of range (" +
                     std::to_string(index.size()) + " rows)"));
  const IndexEntry &e = index[rowIndex];
  uint64_t header = rowHeaderBytes(dynamicCount);
  bytes = std::min(std::max(bytes, header), e.length);
  Row row;
  row.reader = this;
  row.ts = e.timestamp;
  row.rowIndex = rowIndex;
  row.buffer.reserve(e.length);
  readInto(row.buffer, e.offset, bytes, "row " + std::to_string(rowIndex));
  row.state.assign(dynamicCount, 0);
  checkRowHeader(row, e);
  return row;
}

Row Reader::readRow(uint64_t rowIndex) {
  return readPrefix(rowIndex, UINT64_MAX);
}

Row Reader::readTimestamp(int64_t timestamp) {
  std::optional<uint64_t> i = findTimestamp(timestamp);
  if (!i)
    throw Error(fail("no row with timestamp " + std::to_string(timestamp)));
  return readRow(*i);
}

uint64_t Reader::prefixFor(const std::string &name) const {
  const Column *c = find(name);
  if (!c || c->spec.isStatic)
    throw Error(fail("no dynamic column '" + name + "'"));
  return std::min(alignUp(c->offset + c->storedBytes, pre.rowAlignment),
                  pre.rowBytes);
}

void Reader::checkColumn(Row &row, const Column &c) {
  uint8_t &state = row.state[c.storedIndex];
  std::string where = "row " + std::to_string(row.rowIndex) + " (timestamp " +
                      std::to_string(row.ts) + "): column '" + c.spec.name +
                      "': ";
  if (state == 1)
    return;
  if (state == 2)
    throw AuthError(fail(where + "authentication failed (wrong key, or the "
                                 "tensor was tampered with or moved)"),
                    c.spec.name, row.ts);
  uint8_t *stored = row.buffer.data() + c.offset;
  if (!c.encrypted()) {
    auto d = digest(stored, c.storedBytes);
    if (kCheckDigests && std::memcmp(d.data(),
                                     row.buffer.data() + kRowHeaderFixedBytes +
                                         kDigestBytes * c.storedIndex,
                                     kDigestBytes) != 0)
      throw IntegrityError(fail(where + "checksum mismatch"), c.spec.name,
                           row.ts);
    state = 1;
    return;
  }
  // Encrypted: the AEAD tag authenticates the tensor (and its position).
  const Key *key = options.keys.find(c.spec.keyId);
  if (!key)
    throw MissingKeyError(fail(where + "encrypted with key '" + c.spec.keyId +
                               "', which was not given"));
  if (!openColumn(*key, pre.fileId, c.storedIndex, row.ts, stored,
                  c.payloadBytes())) {
    state = 2;
    throw AuthError(fail(where + "authentication failed (wrong key, or the "
                                 "tensor was tampered with or moved)"),
                    c.spec.name, row.ts);
  }
  state = 1;
}

const Column &Reader::predicateColumn(const Predicate &p) const {
  const Column *c = find(p.column);
  if (!c || c->spec.isStatic)
    throw Error(fail("predicate '" + p.str() + "': no dynamic column '" +
                     p.column + "'"));
  if (c->spec.elements() != 1 || c->encrypted())
    throw Error(fail("predicate '" + p.str() + "': column '" + p.column +
                     "' is not a plaintext scalar"));
  return *c;
}

std::optional<Row> Reader::readIf(uint64_t rowIndex, const Predicate &predicate,
                                  RejectStats *stats) {
  const Column &c = predicateColumn(predicate);
  Row row = readPrefix(rowIndex, prefixFor(c.spec.name));
  uint64_t prefixBytes = row.buffer.size();
  TensorView v = row.column(c.storedIndex);
  bool keep = predicate.holds(elementAsDouble(c.spec.dtype, v.data));
  if (stats) {
    stats->rowsTested += 1;
    stats->ops += 1;
    stats->bytesRead += prefixBytes;
  }
  const IndexEntry &e = index[rowIndex];
  if (!keep) {
    if (stats) {
      stats->rowsRejected += 1;
      stats->bytesSaved += e.length - prefixBytes;
    }
    return std::nullopt;
  }
  if (prefixBytes < e.length) {
    readInto(row.buffer, e.offset + prefixBytes, e.length - prefixBytes,
             "row " + std::to_string(rowIndex));
    if (stats) {
      stats->ops += 1;
      stats->bytesRead += e.length - prefixBytes;
    }
  }
  return row;
}

VerifyReport Reader::verify() {
  VerifyReport r;
  std::set<std::string> missing;
  // The alignment gaps of a row, in stored order: [header end, first column)
  // and [end of a column, start of the next). No checksum covers them; the
  // writer zeroes them, so verify checks that they still are.
  std::vector<std::pair<uint64_t, uint64_t>> gaps;
  uint64_t at = rowHeaderBytes(dynamicCount);
  for (uint32_t k = 0; k < dynamicCount; ++k) {
    if (cols[k].offset > at)
      gaps.push_back({at, cols[k].offset});
    at = std::max(at, cols[k].offset + cols[k].storedBytes);
  }
  for (uint64_t i = 0; i < index.size(); ++i) {
    Row row;
    try {
      row = readRow(i);
    } catch (const Error &e) {
      r.problems.push_back(e.what());
      continue;
    }
    r.rowsChecked += 1;
    r.bytesRead += row.buffer.size();
    for (const auto &[begin, end] : gaps) {
      if (end > row.buffer.size())
        continue; // Open already rejected such a layout.
      r.paddingBytesChecked += end - begin;
      for (uint64_t b = begin; b < end; ++b)
        if (row.buffer[b] != 0) {
          r.problems.push_back(fail(
              "row " + std::to_string(i) + " (timestamp " +
              std::to_string(row.ts) + "): padding byte " + std::to_string(b) +
              " of the row is not zero (bytes " + std::to_string(begin) + ".." +
              std::to_string(end - 1) + " lie between columns)"));
          break;
        }
    }
    for (uint32_t k = 0; k < dynamicCount; ++k) {
      const Column &c = cols[k];
      const uint8_t *stored = row.buffer.data() + c.offset;
      auto d = digest(stored, c.storedBytes);
      r.columnsChecked += 1;
      if (kCheckDigests &&
          std::memcmp(d.data(),
                      row.buffer.data() + kRowHeaderFixedBytes +
                          kDigestBytes * k,
                      kDigestBytes) != 0) {
        r.problems.push_back(fail("row " + std::to_string(i) + " (timestamp " +
                                  std::to_string(row.ts) + "): column '" +
                                  c.spec.name + "': checksum mismatch"));
        continue;
      }
      if (c.encrypted() && options.keys.find(c.spec.keyId)) {
        try {
          checkColumn(row, c);
          r.columnsAuthenticated += 1;
        } catch (const Error &e) {
          r.problems.push_back(e.what());
        }
      } else if (c.encrypted()) {
        r.columnsUnauthenticated += 1;
        missing.insert(c.spec.keyId);
      }
    }
  }
  r.missingKeyIds.assign(missing.begin(), missing.end());
  return r;
}

} // namespace smol
} // namespace tessera
