//===- Writer.h - the atomically publishing .smol writer --------*- C++ -*-===//
//
// Part of Tessera. Writes a .smol file (docs/smol-format.md) row by row into
// a temporary file in the destination directory, then publishes it: header
// and index written, fsync, mode 0444, rename to the final name, fsync of the
// directory. Until finish() returns, nothing exists under the final name; a
// writer killed at any point leaves at most a hidden temporary file.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_SMOL_WRITER_H
#define TESSERA_SMOL_WRITER_H

#include "tessera/Smol/Crypto.h"
#include "tessera/Smol/Format.h"

#include <functional>
#include <string>
#include <vector>

namespace tessera {
namespace smol {

struct WriterOptions {
  uint32_t rowAlignment = kDefaultRowAlignment;
  uint32_t columnAlignment = kDefaultColumnAlignment;
  /// Rows the index reserves room for, so rows go straight to their final
  /// offsets. Appending more is allowed: finish() then copies the rows once
  /// behind a larger index.
  uint64_t expectedRows = 0;
  /// Keys of the columns that have a key id.
  Keyring keys;
  /// Informational flag bits (16-31) to set in the preamble.
  uint32_t extraFlags = 0;
  /// Replace an existing file under the final name (default: refuse).
  bool overwrite = false;
};

/// A tensor handed to the writer: its bytes in logical row-major order.
struct ConstBytes {
  const uint8_t *data = nullptr;
  size_t bytes = 0;
  ConstBytes() = default;
  ConstBytes(const uint8_t *d, size_t n) : data(d), bytes(n) {}
  ConstBytes(const std::vector<uint8_t> &v) : data(v.data()), bytes(v.size()) {}
};

class Writer {
public:
  /// Validates the columns (names, shapes, permutations, keys) and creates
  /// the temporary file next to `path`. Throws Error naming the path or the
  /// column.
  Writer(std::string path, std::vector<ColumnSpec> columns,
         WriterOptions options = {});
  /// Removes the temporary file unless finish() succeeded.
  ~Writer();
  Writer(const Writer &) = delete;
  Writer &operator=(const Writer &) = delete;

  /// Sets a static column's value (logical row-major bytes).
  void setStatic(const std::string &name, ConstBytes value);
  /// Appends one row: `values` holds the dynamic columns in the order they
  /// were declared, each in logical row-major order. Timestamps must
  /// increase strictly.
  void append(int64_t timestamp, const std::vector<ConstBytes> &values);
  /// Writes header, static segment and index, and publishes the file.
  void finish();

  uint64_t rows() const { return index.size(); }
  /// The stored layout: dynamic columns by size ascending, then static ones.
  const std::vector<Column> &columns() const { return stored; }
  const Preamble &preamble() const { return pre; }
  const std::string &temporaryPath() const { return tmpPath; }

private:
  void layout();
  void writeAll(const void *data, size_t n, uint64_t offset);
  std::string fail(const std::string &what) const;

  std::string path, tmpPath;
  WriterOptions options;
  std::vector<Column> stored;      ///< schema order
  std::vector<uint32_t> dynamicOf; ///< declared dynamic index -> stored
  std::vector<uint32_t> staticOf;  ///< declared static index -> stored
  std::vector<std::vector<uint8_t>> staticValues; ///< by declared index
  std::vector<bool> staticSet;
  std::vector<uint8_t> schemaBytes;
  std::vector<IndexEntry> index;
  std::vector<uint8_t> rowBuffer;
  Preamble pre;
  uint64_t reservedRows = 0;
  int fd = -1;
  bool finished = false;
};

/// Copies a tensor of logical shape `shape` from row-major `in` to `out` in
/// the stored order of `perm` (stored dimension i = logical dimension
/// perm[i]); `inverse` goes back from stored to logical.
void permuteTensor(const uint8_t *in, uint8_t *out,
                   const std::vector<uint32_t> &shape,
                   const std::vector<uint8_t> &perm, uint32_t elementBytes,
                   bool inverse = false);

} // namespace smol
} // namespace tessera

#endif // TESSERA_SMOL_WRITER_H
