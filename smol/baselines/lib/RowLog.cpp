//===- RowLog.cpp - the row-wise binary log baseline ----------------------===//
//
// Part of Tessera. See RowLog.h for the layout.
//
//===----------------------------------------------------------------------===//

#include "RowLog.h"
#include "Encoding.h"
#include "Formats.h"

namespace tessera {
namespace baselines {

static const char kRowMagic[8] = {'T', 'S', 'R', 'R', 'O', 'W', 'S', '1'};
static constexpr size_t kFixedHeader = 8 + 4 + 4 + 8 + 8 + 4;

void writeRowLog(const ContentSource &source, const Schema &schema,
                 const std::vector<size_t> &fieldMap, bool staticPerRow,
                 const std::string &path, const Progress &progress) {
  std::string schemaText = schema.serialize();
  Values stat = source.staticValues();
  uint64_t rowBytes =
      schema.recordBytes() + (staticPerRow ? schema.staticBytes() : 0) + 4;
  std::vector<uint8_t> header(kRowMagic, kRowMagic + 8);
  uint64_t headerBytes = kFixedHeader + schemaText.size() +
                         (staticPerRow ? 0 : schema.staticBytes());
  putU32(header, static_cast<uint32_t>(headerBytes));
  putU32(header, staticPerRow ? 1 : 0);
  putU64(header, source.size());
  putU64(header, rowBytes);
  putU32(header, static_cast<uint32_t>(schemaText.size()));
  header.insert(header.end(), schemaText.begin(), schemaText.end());
  if (!staticPerRow)
    for (const std::vector<uint8_t> &v : stat)
      header.insert(header.end(), v.begin(), v.end());
  OutFile out(path);
  out.write(header);
  std::vector<uint8_t> row;
  row.reserve(rowBytes);
  for (uint64_t r = 0; r < source.size(); ++r) {
    Values rec = source.record(r);
    row.clear();
    for (size_t k = 0; k < schema.fields.size(); ++k)
      row.insert(row.end(), rec[fieldMap[k]].begin(), rec[fieldMap[k]].end());
    if (staticPerRow)
      for (const std::vector<uint8_t> &v : stat)
        row.insert(row.end(), v.begin(), v.end());
    putU32(row, crc32c(row.data(), row.size()));
    out.write(row);
    if (progress)
      progress(r + 1, source.size());
  }
  out.close();
}

RowLogFile::RowLogFile(const std::string &path, IoCounter &counter)
    : file(path, counter) {}

void RowLogFile::open() {
  const std::string &path = file.path();
  if (file.size() < kFixedHeader)
    throw BaselineError(path + ": truncated: " + std::to_string(file.size()) +
                        " bytes is shorter than the row-log header");
  std::vector<uint8_t> head(std::min<uint64_t>(4096, file.size()));
  file.readExact(head.data(), head.size(), 0);
  if (std::memcmp(head.data(), kRowMagic, 8) != 0)
    throw BaselineError(path + ": not a row log (bad magic)");
  headerBytes = getU32(&head[8]);
  staticPerRow = getU32(&head[12]) & 1;
  rowCount = getU64(&head[16]);
  rowBytes = getU64(&head[24]);
  uint32_t schemaLen = getU32(&head[32]);
  if (headerBytes > file.size() || schemaLen > headerBytes - kFixedHeader)
    throw BaselineError(path + ": truncated: header of " +
                        std::to_string(headerBytes) + " bytes");
  if (headerBytes > head.size()) {
    head.resize(headerBytes);
    file.readExact(head.data() + 4096, headerBytes - 4096, 4096);
  }
  fileSchema =
      Schema::parse(std::string(head.begin() + kFixedHeader,
                                head.begin() + kFixedHeader + schemaLen),
                    path);
  uint64_t expectRow = fileSchema.recordBytes() +
                       (staticPerRow ? fileSchema.staticBytes() : 0) + 4;
  if (rowBytes != expectRow)
    throw BaselineError(path + ": row_bytes " + std::to_string(rowBytes) +
                        " does not match the schema (" +
                        std::to_string(expectRow) + ")");
  if (headerBytes !=
      kFixedHeader + schemaLen + (staticPerRow ? 0 : fileSchema.staticBytes()))
    throw BaselineError(path + ": header_bytes does not match the schema");
  if (rowCount > (file.size() - headerBytes) / rowBytes ||
      headerBytes + rowCount * rowBytes != file.size())
    throw BaselineError(path + ": truncated: " + std::to_string(rowCount) +
                        " rows of " + std::to_string(rowBytes) +
                        " bytes need " +
                        std::to_string(headerBytes + rowCount * rowBytes) +
                        " bytes, file has " + std::to_string(file.size()));
  headerStatic.clear();
  uint64_t at = kFixedHeader + schemaLen;
  if (!staticPerRow)
    for (const Field &f : fileSchema.staticFields) {
      headerStatic.emplace_back(head.begin() + at,
                                head.begin() + at + f.bytes());
      at += f.bytes();
    }
  fieldOffsets.clear();
  uint64_t off = 0;
  for (const Field &f : fileSchema.fields) {
    fieldOffsets.push_back(off);
    off += f.bytes();
  }
}

Values RowLogFile::read(uint64_t index, Values *rowStatic) {
  if (index >= rowCount)
    throw BaselineError(file.path() + ": record " + std::to_string(index) +
                        " out of range (" + std::to_string(rowCount) +
                        " records)");
  std::vector<uint8_t> row =
      file.readExact(rowBytes, headerBytes + index * rowBytes);
  if (crc32c(row.data(), rowBytes - 4) != getU32(&row[rowBytes - 4]))
    throw BaselineError(file.path() + ": record " + std::to_string(index) +
                        ": checksum mismatch (corrupted row)");
  Values out;
  uint64_t at = 0;
  for (const Field &f : fileSchema.fields) {
    out.emplace_back(row.begin() + at, row.begin() + at + f.bytes());
    at += f.bytes();
  }
  if (rowStatic) {
    rowStatic->clear();
    if (staticPerRow)
      for (const Field &f : fileSchema.staticFields) {
        rowStatic->emplace_back(row.begin() + at, row.begin() + at + f.bytes());
        at += f.bytes();
      }
  }
  return out;
}

Values RowLogFile::readLabels(uint64_t index) {
  if (index >= rowCount)
    throw BaselineError(file.path() + ": record " + std::to_string(index) +
                        " out of range (" + std::to_string(rowCount) +
                        " records)");
  Values out(fileSchema.fields.size());
  uint64_t lo = UINT64_MAX, hi = 0;
  for (size_t k = 0; k < fileSchema.fields.size(); ++k)
    if (fileSchema.fields[k].role == FieldRole::Label) {
      lo = std::min(lo, fieldOffsets[k]);
      hi = std::max(hi, fieldOffsets[k] + fileSchema.fields[k].bytes());
    }
  if (lo >= hi)
    return out;
  std::vector<uint8_t> span =
      file.readExact(hi - lo, headerBytes + index * rowBytes + lo);
  for (size_t k = 0; k < fileSchema.fields.size(); ++k)
    if (fileSchema.fields[k].role == FieldRole::Label)
      out[k].assign(span.begin() + (fieldOffsets[k] - lo),
                    span.begin() + (fieldOffsets[k] - lo) +
                        fileSchema.fields[k].bytes());
  return out;
}

namespace {

class RowLogReader : public Reader {
public:
  RowLogReader(const std::string &dir, IoCounter &counter)
      : log(dir + "/log.rows", counter) {}
  void open() override {
    log.open();
    Values s;
    if (log.rows())
      log.read(0, &s); // static data is in every row: take the first
    firstStatic = s;
  }
  Values staticValues() override { return firstStatic; }
  Values read(uint64_t index, bool labelsOnly, Values *rowStatic) override {
    if (labelsOnly) {
      if (rowStatic)
        rowStatic->clear();
      return log.readLabels(index);
    }
    return log.read(index, rowStatic);
  }
  uint64_t size() const override { return log.rows(); }

private:
  RowLogFile log;
  Values firstStatic;
};

class RowLogBaseline : public Baseline {
public:
  std::string name() const override { return "rowbin"; }
  std::string description() const override {
    return "row-wise binary log, fixed-size rows with every field and the "
           "static data repeated, CRC per row";
  }
  void write(const ContentSource &source, const std::string &dir,
             const Progress &progress) const override {
    makeDirectories(dir);
    std::vector<size_t> all(source.schema().fields.size());
    for (size_t k = 0; k < all.size(); ++k)
      all[k] = k;
    writeRowLog(source, source.schema(), all, /*staticPerRow=*/true,
                dir + "/log.rows", progress);
  }
  std::unique_ptr<Reader> reader(const std::string &dir,
                                 IoCounter &counter) const override {
    return std::make_unique<RowLogReader>(dir, counter);
  }
};

} // namespace

std::unique_ptr<Baseline> makeRowLogBaseline() {
  return std::make_unique<RowLogBaseline>();
}

} // namespace baselines
} // namespace tessera
