//===- RowLog.h - fixed-size binary rows, shared by two baselines -*- C++
//-*-===//
//
// Part of Tessera (internal to TesseraBaselines). A row-wise binary log: a
// header (magic, schema text, counts), then one fixed-size row per timestamp
// holding the raw field bytes and a CRC-32C. The "rowbin" baseline repeats
// the static data in every row; the MP4 baseline keeps its non-camera fields
// in one of these (static data once, in the header).
//
// Layout (little-endian):
//   "TSRROWS1" | u32 header_bytes | u32 flags (bit0: static in every row)
//   | u64 rows | u64 row_bytes | u32 schema_len | schema text
//   | [static bytes when flag bit0 is 0] | rows...
//   row = dynamic fields (schema order, cameras skipped when the schema has
//         none) | [static fields when bit0] | u32 crc32c(row without crc)
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BASELINES_LIB_ROWLOG_H
#define TESSERA_BASELINES_LIB_ROWLOG_H

#include "tessera/Baselines/Baseline.h"

namespace tessera {
namespace baselines {

/// Writes a row log of the fields of `schema` (which may be a subset of the
/// source's dynamic fields: `fieldMap[k]` is the source field index of
/// schema field k).
void writeRowLog(const ContentSource &source, const Schema &schema,
                 const std::vector<size_t> &fieldMap, bool staticPerRow,
                 const std::string &path, const Progress &progress);

/// Reads a row log.
class RowLogFile {
public:
  RowLogFile(const std::string &path, IoCounter &counter);
  /// Reads and checks the header (one read, two when it exceeds 4 KiB).
  void open();
  const Schema &schema() const { return fileSchema; }
  uint64_t rows() const { return rowCount; }
  Values staticValues() const { return headerStatic; }
  /// Row `index`, checking its CRC; static fields into `rowStatic` when
  /// stored per row.
  Values read(uint64_t index, Values *rowStatic);
  /// Only the label fields, in one read of the bytes that span them.
  Values readLabels(uint64_t index);

private:
  CountedFile file;
  Schema fileSchema;
  uint64_t rowCount = 0, rowBytes = 0, headerBytes = 0;
  bool staticPerRow = false;
  Values headerStatic;
  std::vector<uint64_t> fieldOffsets;
};

} // namespace baselines
} // namespace tessera

#endif // TESSERA_BASELINES_LIB_ROWLOG_H
