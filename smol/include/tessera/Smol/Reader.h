//===- Reader.h - the .smol reader: open, index, rows, views ----*- C++ -*-===//
//
// Part of Tessera. Opens a .smol file (docs/smol-format.md) with one read of
// a prefix that normally covers preamble, schema, static segment and index
// (a second read only when the header is larger), then fetches any row with
// one positioned read. Tensors are views into the row buffer (no copy);
// encrypted columns are decrypted in place when first asked for, and every
// column's checksum is checked when first asked for, so a damaged or
// unauthenticated tensor fails alone. Every size and offset taken from the
// file is bounds-checked first; malformed input throws smol::Error naming
// the file and the field.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_SMOL_READER_H
#define TESSERA_SMOL_READER_H

#include "tessera/Smol/Crypto.h"
#include "tessera/Smol/Format.h"
#include "tessera/Smol/Io.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tessera {
namespace smol {

/// A read-only typed view of contiguous elements (C++17 has no std::span).
template <typename T> struct Span {
  const T *ptr = nullptr;
  size_t count = 0;
  const T *data() const { return ptr; }
  size_t size() const { return count; }
  const T *begin() const { return ptr; }
  const T *end() const { return ptr + count; }
  const T &operator[](size_t i) const { return ptr[i]; }
};

/// One tensor of a row or of the static segment, in its stored layout.
struct TensorView {
  const Column *column = nullptr;
  const uint8_t *data = nullptr; ///< the plaintext payload
  size_t bytes = 0;

  const std::string &name() const { return column->spec.name; }
  DType dtype() const { return column->spec.dtype; }
  /// Dimensions as stored (the logical shape permuted by the layout).
  std::vector<uint32_t> storedShape() const { return column->storedShape(); }
  /// Elements as T; throws Error if T's size is not the dtype's.
  template <typename T> Span<T> as() const {
    if (sizeof(T) != dtypeSize(dtype()))
      throw Error("column '" + name() + "': viewed with an element of " +
                  std::to_string(sizeof(T)) + " bytes, its dtype " +
                  dtypeName(dtype()) + " has " +
                  std::to_string(dtypeSize(dtype())));
    return {reinterpret_cast<const T *>(data), bytes / sizeof(T)};
  }
  /// A copy in logical row-major order (undoes a pre-transposed layout).
  std::vector<uint8_t> logicalCopy() const;
};

class Reader;

/// One row (or the leading part of one, after a prefix read). Holds the row
/// buffer that the views point into; movable, not copyable.
class Row {
public:
  int64_t timestamp() const { return ts; }
  uint64_t index() const { return rowIndex; }
  /// True when column `name` lies in the bytes that were read.
  bool has(const std::string &name) const;
  /// The column's view: checksum verified (plaintext columns) or decrypted
  /// and authenticated (encrypted ones) on first use. Throws IntegrityError
  /// / AuthError for this column only, MissingKeyError without its key, and
  /// Error for an unknown column or one not in a prefix read.
  TensorView column(const std::string &name);
  TensorView column(uint32_t storedIndex);
  /// Bytes of the row that were read.
  uint64_t bytesRead() const { return buffer.size(); }

private:
  friend class Reader;
  Reader *reader = nullptr;
  int64_t ts = 0;
  uint64_t rowIndex = 0;
  std::vector<uint8_t> buffer;
  std::vector<uint8_t> state; ///< per dynamic column: 0 unchecked, 1 ok
};

/// An early-rejection predicate on a scalar column: "<column> <op> <number>"
/// with op one of < <= > >= == !=.
struct Predicate {
  enum class Op { Lt, Le, Gt, Ge, Eq, Ne };
  std::string column;
  Op op = Op::Gt;
  double value = 0;

  /// Parses "speed > 25"; throws Error("predicate '...': ...").
  static Predicate parse(const std::string &text);
  bool holds(double x) const;
  std::string str() const;
};

/// Totals of early rejection.
struct RejectStats {
  uint64_t rowsTested = 0, rowsRejected = 0;
  uint64_t bytesRead = 0;  ///< by the filtered reads
  uint64_t bytesSaved = 0; ///< row bytes a full read would have taken more
  uint64_t ops = 0;
};

struct ReaderOptions {
  /// Bytes read at open in one operation; a second read fetches the rest of
  /// the header only when it is larger.
  uint64_t openPrefixBytes = 64 * 1024;
  /// Keys for encrypted columns (may be empty: those columns then throw
  /// MissingKeyError, the rest of the file reads normally).
  Keyring keys;
};

/// What verify() found.
struct VerifyReport {
  uint64_t rowsChecked = 0, columnsChecked = 0, columnsAuthenticated = 0;
  /// Encrypted tensors whose tag could not be checked: no key for their key
  /// id (their stored bytes' checksum was still checked).
  uint64_t columnsUnauthenticated = 0;
  std::vector<std::string> missingKeyIds; ///< sorted, unique
  /// Row bytes between the header and the columns and between columns (the
  /// alignment padding no checksum covers) that were checked to be zero.
  uint64_t paddingBytesChecked = 0;
  uint64_t bytesRead = 0;
  std::vector<std::string> problems; ///< one line each; empty = good
};

class Reader {
public:
  /// Opens and validates preamble, schema, static segment and index (their
  /// checksums included). Throws Error naming the file and field.
  explicit Reader(std::unique_ptr<RandomAccessFile> file,
                  ReaderOptions options = {});
  /// Opens `path` with a PosixFile.
  static std::unique_ptr<Reader> open(const std::string &path,
                                      ReaderOptions options = {});

  const Preamble &preamble() const { return pre; }
  /// Schema order: dynamic columns by size ascending, then static ones.
  const std::vector<Column> &columns() const { return cols; }
  uint32_t dynamicColumns() const { return dynamicCount; }
  /// The column named `name`, or null.
  const Column *find(const std::string &name) const;
  const std::string &name() const { return file->name(); }
  RandomAccessFile &source() { return *file; }

  uint64_t size() const { return index.size(); }
  const std::vector<IndexEntry> &entries() const { return index; }
  /// Row index of `timestamp` by binary search; nullopt when absent.
  std::optional<uint64_t> findTimestamp(int64_t timestamp) const;

  /// A static column's view (verified at open).
  TensorView staticColumn(const std::string &name) const;

  /// Row `rowIndex`: one positioned read of the whole row.
  Row readRow(uint64_t rowIndex);
  /// The row at `timestamp`; throws Error when the index has no such row.
  Row readTimestamp(int64_t timestamp);
  /// The first `bytes` bytes of row `rowIndex` (rounded up to whole columns
  /// is the caller's business: only columns entirely inside are usable).
  Row readPrefix(uint64_t rowIndex, uint64_t bytes);
  /// Bytes of the row prefix that holds every column up to and including
  /// `name`, rounded up to the row alignment (a direct-I/O-sized read).
  uint64_t prefixFor(const std::string &name) const;

  /// Early rejection: reads the prefix holding the predicate's column,
  /// evaluates it and returns nullopt when it does not hold (the rest of the
  /// row is never read); otherwise reads the rest and returns the row.
  /// Throws Error if the column is not a plaintext dynamic scalar.
  std::optional<Row> readIf(uint64_t rowIndex, const Predicate &predicate,
                            RejectStats *stats = nullptr);
  /// Throws the Error readIf would throw for an unusable predicate column.
  void checkPredicate(const Predicate &predicate) const {
    predicateColumn(predicate);
  }

  /// Reads every row and checks every checksum (and, with keys, every
  /// encrypted column's tag). Never throws for damaged rows: they are
  /// listed in the report.
  VerifyReport verify();

  /// Reads made at open.
  const IoStats &openStats() const { return opened; }

private:
  friend class Row;
  void checkColumn(Row &row, const Column &c);
  const Column &predicateColumn(const Predicate &p) const;
  std::string fail(const std::string &what) const;
  void readInto(std::vector<uint8_t> &buf, uint64_t offset, uint64_t n,
                const std::string &what);
  void checkRowHeader(const Row &row, const IndexEntry &e) const;

  std::unique_ptr<RandomAccessFile> file;
  ReaderOptions options;
  Preamble pre;
  std::vector<Column> cols;
  uint32_t dynamicCount = 0;
  std::vector<uint8_t> staticSegment;
  std::vector<IndexEntry> index;
  IoStats opened;
};

} // namespace smol
} // namespace tessera

#endif // TESSERA_SMOL_READER_H
