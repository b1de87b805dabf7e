//===- TextFormats.cpp - CSV and JSON Lines baselines ---------------------===//
//
// Part of Tessera. Text logs as they are commonly written: one row (line) per
// timestamp holding every field, the static calibration repeated in every
// row, camera images as base64 text. Neither format has an index, so a reader
// that wants random access first scans the whole file for line starts (its
// open cost); each sample is then one positioned read of its line. The
// element types live in a small schema.txt beside the data, which a typed
// reader needs since CSV and JSON carry none.
//
//===----------------------------------------------------------------------===//

#include "Encoding.h"
#include "Formats.h"
#include "Json.h"

#include <unordered_map>

namespace tessera {
namespace baselines {

namespace {

constexpr size_t kScanChunk = 1 << 20;

/// Line starts of a text file, by reading it sequentially in 1 MiB reads.
std::vector<uint64_t> scanLines(CountedFile &file) {
  std::vector<uint64_t> starts{0};
  std::vector<char> buf(kScanChunk);
  for (uint64_t off = 0; off < file.size(); off += kScanChunk) {
    size_t got = file.pread(buf.data(), kScanChunk, off);
    for (size_t i = 0; i < got; ++i)
      if (buf[i] == '\n')
        starts.push_back(off + i + 1);
  }
  if (starts.back() != file.size())
    throw BaselineError(file.path() + ": truncated: last line has no newline");
  return starts;
}

Schema readSchemaFile(const std::string &path, IoCounter &counter) {
  CountedFile f(path, counter);
  std::vector<uint8_t> bytes = f.readExact(f.size(), 0);
  return Schema::parse(std::string(bytes.begin(), bytes.end()), path);
}

void writeSchemaFile(const std::string &path, const Schema &schema) {
  std::string text = schema.serialize();
  writeWholeFile(path, text.data(), text.size());
}

/// Common state of the two line-oriented readers.
class LineReader : public Reader {
public:
  LineReader(const std::string &dir, const std::string &dataName,
             IoCounter &counter)
      : dir(dir), dataName(dataName), counter(counter) {}

  void open() override {
    schema = readSchemaFile(dir + "/schema.txt", counter);
    file = std::make_unique<CountedFile>(dir + "/" + dataName, counter);
    starts = scanLines(*file);
    openLines();
  }
  uint64_t size() const override { return starts.size() - 1 - headerLines; }
  Values staticValues() override {
    if (staticCache.empty()) {
      // Static data lives in every row; take it from the first.
      Values s;
      readRow(0, &s);
      staticCache = s;
    }
    return staticCache;
  }
  Values read(uint64_t index, bool labelsOnly, Values *rowStatic) override {
    (void)labelsOnly; // a text row is read and parsed whole
    return readRow(index, rowStatic);
  }

protected:
  virtual void openLines() {}
  virtual void parseRow(const char *p, const char *end, uint64_t index,
                        Values &out, Values &stat) = 0;

  Values readRow(uint64_t index, Values *rowStatic) {
    if (index >= size())
      throw BaselineError(file->path() + ": record " + std::to_string(index) +
                          " out of range (" + std::to_string(size()) +
                          " records)");
    uint64_t line = index + headerLines;
    std::vector<uint8_t> bytes =
        file->readExact(starts[line + 1] - starts[line], starts[line]);
    Values out(schema.fields.size()), stat(schema.staticFields.size());
    for (size_t f = 0; f < schema.fields.size(); ++f)
      out[f].resize(schema.fields[f].bytes());
    for (size_t f = 0; f < schema.staticFields.size(); ++f)
      stat[f].resize(schema.staticFields[f].bytes());
    const char *p = reinterpret_cast<const char *>(bytes.data());
    parseRow(p, p + bytes.size() - 1, index, out, stat);
    if (rowStatic)
      *rowStatic = std::move(stat);
    return out;
  }

  BaselineError rowError(uint64_t index, const std::string &msg) const {
    return BaselineError(file->path() + ": record " + std::to_string(index) +
                         ": " + msg);
  }

  std::string dir, dataName;
  IoCounter &counter;
  Schema schema;
  std::unique_ptr<CountedFile> file;
  std::vector<uint64_t> starts;
  uint64_t headerLines = 0;
  Values staticCache;
};

//===----------------------------------------------------------------------===//
// CSV
//===----------------------------------------------------------------------===//

void appendCsvHeader(std::string &line, const std::vector<Field> &fields,
                     const std::string &prefix) {
  for (const Field &f : fields) {
    if (f.role == FieldRole::Camera || f.shape.empty()) {
      line += (line.empty() ? "" : ",") + prefix + f.name;
      continue;
    }
    for (uint64_t i = 0; i < f.elements(); ++i)
      line +=
          (line.empty() ? "" : ",") + prefix + f.name + "." + std::to_string(i);
  }
}

void appendCsvValues(std::string &line, const std::vector<Field> &fields,
                     const Values &values) {
  for (size_t k = 0; k < fields.size(); ++k) {
    const Field &f = fields[k];
    if (f.role == FieldRole::Camera) {
      if (!line.empty())
        line += ',';
      base64Encode(values[k].data(), values[k].size(), line);
      continue;
    }
    for (uint64_t i = 0; i < f.elements(); ++i) {
      if (!line.empty())
        line += ',';
      appendElementText(line, f.dtype, values[k].data(), i);
    }
  }
}

class CsvReader : public LineReader {
public:
  using LineReader::LineReader;

protected:
  void openLines() override {
    headerLines = 1;
    if (starts.size() < 2)
      throw BaselineError(file->path() + ": truncated: no header line");
    std::vector<uint8_t> header =
        file->readExact(starts[1] - starts[0], starts[0]);
    std::string expected;
    appendCsvHeader(expected, schema.fields, "");
    appendCsvHeader(expected, schema.staticFields, "static.");
    if (std::string(header.begin(), header.end() - 1) != expected)
      throw BaselineError(file->path() + ": header does not match schema.txt");
  }

  void parseFields(const char *&p, const char *end, uint64_t index,
                   const std::vector<Field> &fields, Values &out, bool &first) {
    std::vector<uint8_t> decoded;
    for (size_t k = 0; k < fields.size(); ++k) {
      const Field &f = fields[k];
      if (f.role == FieldRole::Camera) {
        if (!first && (p == end || *p++ != ','))
          throw rowError(index, "expected ',' before " + f.name);
        first = false;
        const char *q = p;
        while (q != end && *q != ',')
          ++q;
        if (!base64Decode(p, q - p, decoded) || decoded.size() != f.bytes())
          throw rowError(index, "bad base64 image in column " + f.name);
        out[k] = decoded;
        p = q;
        continue;
      }
      for (uint64_t i = 0; i < f.elements(); ++i) {
        if (!first && (p == end || *p++ != ','))
          throw rowError(index, "expected ',' before " + f.name);
        first = false;
        if (!parseElementText(p, end, f.dtype, out[k].data(), i))
          throw rowError(index, "expected a " +
                                    std::string(dtypeName(f.dtype)) +
                                    " in column " + f.name);
      }
    }
  }

  void parseRow(const char *p, const char *end, uint64_t index, Values &out,
                Values &stat) override {
    bool first = true;
    parseFields(p, end, index, schema.fields, out, first);
    parseFields(p, end, index, schema.staticFields, stat, first);
    if (p != end)
      throw rowError(index, "extra columns");
  }
};

class CsvBaseline : public Baseline {
public:
  std::string name() const override { return "csv"; }
  std::string description() const override {
    return "CSV, one row per timestamp, static data repeated in every row, "
           "images as base64";
  }
  void write(const ContentSource &source, const std::string &dir,
             const Progress &progress) const override {
    makeDirectories(dir);
    const Schema &schema = source.schema();
    writeSchemaFile(dir + "/schema.txt", schema);
    OutFile out(dir + "/log.csv");
    std::string line;
    appendCsvHeader(line, schema.fields, "");
    appendCsvHeader(line, schema.staticFields, "static.");
    out.write(line + "\n");
    Values stat = source.staticValues();
    for (uint64_t r = 0; r < source.size(); ++r) {
      line.clear();
      appendCsvValues(line, schema.fields, source.record(r));
      appendCsvValues(line, schema.staticFields, stat);
      line += '\n';
      out.write(line);
      if (progress)
        progress(r + 1, source.size());
    }
    out.close();
  }
  std::unique_ptr<Reader> reader(const std::string &dir,
                                 IoCounter &counter) const override {
    return std::make_unique<CsvReader>(dir, "log.csv", counter);
  }
};

//===----------------------------------------------------------------------===//
// JSON Lines
//===----------------------------------------------------------------------===//

class JsonlReader : public LineReader {
public:
  using LineReader::LineReader;

protected:
  void parseRow(const char *p, const char *end, uint64_t index, Values &out,
                Values &stat) override {
    JsonFail fail = [&](const std::string &msg) {
      return rowError(index, msg);
    };
    Json row = parseJson(p, end, fail);
    readJsonFields(row, schema.fields, out, fail, "static");
    readJsonFields(row.at("static"), schema.staticFields, stat, fail);
  }
};

class JsonlBaseline : public Baseline {
public:
  std::string name() const override { return "jsonl"; }
  std::string description() const override {
    return "JSON Lines, one object per timestamp, static data repeated in "
           "every object, images as base64";
  }
  void write(const ContentSource &source, const std::string &dir,
             const Progress &progress) const override {
    makeDirectories(dir);
    const Schema &schema = source.schema();
    writeSchemaFile(dir + "/schema.txt", schema);
    OutFile out(dir + "/log.jsonl");
    Json stat = Json::object();
    addJsonFields(stat, schema.staticFields, source.staticValues());
    std::string line;
    for (uint64_t r = 0; r < source.size(); ++r) {
      Json row = Json::object();
      addJsonFields(row, schema.fields, source.record(r));
      row["static"] = stat;
      line = row.dump() + "\n";
      out.write(line);
      if (progress)
        progress(r + 1, source.size());
    }
    out.close();
  }
  std::unique_ptr<Reader> reader(const std::string &dir,
                                 IoCounter &counter) const override {
    return std::make_unique<JsonlReader>(dir, "log.jsonl", counter);
  }
};

} // namespace

std::unique_ptr<Baseline> makeCsvBaseline() {
  return std::make_unique<CsvBaseline>();
}
std::unique_ptr<Baseline> makeJsonlBaseline() {
  return std::make_unique<JsonlBaseline>();
}

} // namespace baselines
} // namespace tessera
