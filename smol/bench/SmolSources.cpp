//===- SmolSources.cpp - the bench's drive log and .smol row --------------===//
//
// Part of Tessera. Used when TesseraSmol is built: the content is
// TesseraSmol's DriveLog, and .smol is written with smol::Writer and read
// with smol::Reader over the baselines' CountedFile, so its reads are
// counted exactly like every baseline's.
//
//===----------------------------------------------------------------------===//

#include "Sources.h"

#include "tessera/Smol/DriveLog.h"
#include "tessera/Smol/Reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

namespace tessera {
namespace bench {

using baselines::BaselineError;
using baselines::Values;

namespace {

/// Bytes the .smol reader reads at open: 256 KiB holds the header of the
/// bench's default 10,000-row log (preamble, schema, static segment and a
/// 240 KB index; up to ~10,800 rows), so opening is one I/O; larger logs
/// take a second read. The library's default is 64 KiB.
constexpr uint64_t kBenchOpenPrefix = 256 << 10;

baselines::DType toBaseline(smol::DType t, const std::string &name) {
  switch (t) {
  case smol::DType::U8:
    return baselines::DType::U8;
  case smol::DType::I32:
    return baselines::DType::I32;
  case smol::DType::I64:
    return baselines::DType::I64;
  case smol::DType::F32:
    return baselines::DType::F32;
  case smol::DType::F64:
    return baselines::DType::F64;
  default:
    throw std::invalid_argument("column " + name + ": dtype " +
                                smol::dtypeName(t) +
                                " has no baseline equivalent");
  }
}

smol::DType toSmol(baselines::DType t) {
  switch (t) {
  case baselines::DType::U8:
    return smol::DType::U8;
  case baselines::DType::I32:
    return smol::DType::I32;
  case baselines::DType::I64:
    return smol::DType::I64;
  case baselines::DType::F32:
    return smol::DType::F32;
  case baselines::DType::F64:
    return smol::DType::F64;
  }
  return smol::DType::U8;
}

/// TesseraSmol's DriveLog as the baselines' content.
class DriveLogSource : public baselines::ContentSource {
public:
  explicit DriveLogSource(const smol::DriveLogOptions &o) : log(o) {
    for (const smol::ColumnSpec &c : log.columns()) {
      baselines::Field f;
      f.name = c.name;
      f.dtype = toBaseline(c.dtype, c.name);
      f.shape = c.shape;
      f.role = c.role == smol::Role::Camera  ? baselines::FieldRole::Camera
               : c.role == smol::Role::Label ? baselines::FieldRole::Label
                                             : baselines::FieldRole::Data;
      (c.isStatic ? s.staticFields : s.fields).push_back(f);
    }
  }
  const baselines::Schema &schema() const override { return s; }
  uint64_t size() const override { return log.size(); }
  Values staticValues() const override { return log.staticValues(); }
  Values record(uint64_t index) const override { return log.row(index); }
  double framesPerSecond() const override { return 36.0; }

private:
  smol::DriveLog log;
  baselines::Schema s;
};

/// A .smol RandomAccessFile whose reads are the baselines' counted reads.
class CountedSmolFile : public smol::RandomAccessFile {
public:
  CountedSmolFile(const std::string &path, baselines::IoCounter &counter)
      : file(path, counter) {}
  size_t pread(void *buffer, size_t n, uint64_t offset) override {
    return file.pread(buffer, n, offset);
  }
  uint64_t size() const override { return file.size(); }
  const std::string &name() const override { return file.path(); }

private:
  baselines::CountedFile file;
};

std::string smolPath(const std::string &dir) { return dir + "/log.smol"; }

void writeSmol(const baselines::ContentSource &source, const std::string &dir,
               const baselines::Progress &progress) {
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/') {
      std::string partial = dir.substr(0, i);
      if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
        throw BaselineError(
            partial + ": cannot create directory: " + std::strerror(errno));
    }
  const baselines::Schema &schema = source.schema();
  std::vector<smol::ColumnSpec> specs;
  int timestampField = -1;
  for (const baselines::Field &f : schema.fields) {
    smol::ColumnSpec c;
    c.name = f.name;
    c.dtype = toSmol(f.dtype);
    c.shape = f.shape;
    c.role = f.role == baselines::FieldRole::Camera  ? smol::Role::Camera
             : f.role == baselines::FieldRole::Label ? smol::Role::Label
                                                     : smol::Role::Data;
    if (f.name == "timestamp_ns" && f.dtype == baselines::DType::I64 &&
        f.shape.empty())
      timestampField = static_cast<int>(specs.size());
    specs.push_back(std::move(c));
  }
  for (const baselines::Field &f : schema.staticFields) {
    smol::ColumnSpec c;
    c.name = f.name;
    c.dtype = toSmol(f.dtype);
    c.shape = f.shape;
    c.isStatic = true;
    specs.push_back(std::move(c));
  }
  smol::WriterOptions options;
  options.expectedRows = source.size();
  try {
    smol::Writer writer(smolPath(dir), specs, options);
    Values statics = source.staticValues();
    for (size_t k = 0; k < schema.staticFields.size(); ++k)
      writer.setStatic(schema.staticFields[k].name, statics[k]);
    for (uint64_t i = 0; i < source.size(); ++i) {
      Values row = source.record(i);
      int64_t ts = static_cast<int64_t>(i);
      if (timestampField >= 0)
        std::memcpy(&ts, row[timestampField].data(), 8);
      writer.append(ts, std::vector<smol::ConstBytes>(row.begin(), row.end()));
      if (progress)
        progress(i + 1, source.size());
    }
    writer.finish();
  } catch (const smol::Error &e) {
    throw BaselineError(e.what());
  }
}

/// The .smol reader behind the bench's Reader interface.
class SmolBenchReader : public baselines::Reader {
public:
  SmolBenchReader(std::string dir, baselines::IoCounter &counter)
      : dir(std::move(dir)), counter(counter) {}

  void open() override {
    try {
      smol::ReaderOptions options;
      options.openPrefixBytes = kBenchOpenPrefix;
      reader = std::make_unique<smol::Reader>(
          std::make_unique<CountedSmolFile>(smolPath(dir), counter),
          std::move(options));
    } catch (const smol::Error &e) {
      throw BaselineError(e.what());
    }
    names.clear();
    labelPrefix = 0;
    staticNames.clear();
    // The bench's Values are in declared order: logical index order.
    std::vector<const smol::Column *> dyn, stat;
    for (const smol::Column &c : reader->columns())
      (c.spec.isStatic ? stat : dyn).push_back(&c);
    auto byLogical = [](const smol::Column *a, const smol::Column *b) {
      return a->logicalIndex < b->logicalIndex;
    };
    std::sort(dyn.begin(), dyn.end(), byLogical);
    std::sort(stat.begin(), stat.end(), byLogical);
    for (const smol::Column *c : dyn) {
      names.push_back(c->spec.name);
      labels.push_back(c->spec.role == smol::Role::Label);
      if (c->spec.role == smol::Role::Label)
        labelPrefix = std::max(labelPrefix, reader->prefixFor(c->spec.name));
    }
    for (const smol::Column *c : stat)
      staticNames.push_back(c->spec.name);
  }

  Values staticValues() override {
    Values v;
    for (const std::string &n : staticNames)
      v.push_back(reader->staticColumn(n).logicalCopy());
    return v;
  }

  Values read(uint64_t index, bool labelsOnly, Values *) override {
    try {
      // Labels only: one read of the row's leading bytes, which hold every
      // scalar and label (columns are stored by size ascending).
      smol::Row row = labelsOnly && labelPrefix
                          ? reader->readPrefix(index, labelPrefix)
                          : reader->readRow(index);
      Values v(names.size());
      for (size_t k = 0; k < names.size(); ++k) {
        if (labelsOnly && !labels[k])
          continue;
        smol::TensorView t = row.column(names[k]);
        if (t.column->spec.perm.empty())
          v[k].assign(t.data, t.data + t.bytes);
        else
          v[k] = t.logicalCopy();
      }
      return v;
    } catch (const smol::Error &e) {
      throw BaselineError(e.what());
    }
  }

  uint64_t size() const override { return reader ? reader->size() : 0; }

private:
  std::string dir;
  baselines::IoCounter &counter;
  std::unique_ptr<smol::Reader> reader;
  std::vector<std::string> names, staticNames;
  std::vector<bool> labels;
  uint64_t labelPrefix = 0;
};

uint32_t option(const LogOptions &options, const std::string &key,
                uint32_t fallback) {
  auto it = options.find(key);
  if (it == options.end())
    return fallback;
  const std::string &v = it->second;
  if (v.empty() || v.size() > 6 ||
      v.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument(
        "--log-" + key + ": expected a non-negative integer, got '" + v + "'");
  return static_cast<uint32_t>(std::stoul(v));
}

} // namespace

std::unique_ptr<baselines::ContentSource>
makeDriveLog(uint64_t records, uint64_t seed, const LogOptions &options) {
  static const char *known[] = {"width", "height", "cameras", "proprio",
                                "joints"};
  for (const auto &kv : options)
    if (std::find(std::begin(known), std::end(known), kv.first) ==
        std::end(known))
      throw std::invalid_argument(
          "unknown option --log-" + kv.first +
          " (known: --log-width, --log-height, --log-cameras, --log-proprio "
          "0|1, --log-joints)");
  smol::DriveLogOptions o;
  o.records = records;
  o.seed = seed;
  o.width = option(options, "width", 64);
  o.height = option(options, "height", 48);
  o.cameras = option(options, "cameras", 8);
  o.proprioception = option(options, "proprio", 0) != 0;
  o.joints = option(options, "joints", 7);
  try {
    return std::make_unique<DriveLogSource>(o);
  } catch (const smol::Error &e) {
    throw std::invalid_argument(e.what());
  }
}

std::string describeLog(const baselines::ContentSource &source) {
  const baselines::Schema &s = source.schema();
  unsigned cameras = 0;
  std::string size;
  for (const baselines::Field &f : s.fields)
    if (f.role == baselines::FieldRole::Camera) {
      ++cameras;
      size = std::to_string(f.shape[1]) + "x" + std::to_string(f.shape[0]);
    }
  std::ostringstream os;
  os << "TesseraSmol DriveLog: " << cameras << " cameras " << size << " RGB, "
     << s.fields.size() << " dynamic columns, " << s.recordBytes()
     << " B per timestamp, " << s.staticBytes() << " B static";
  return os.str();
}

std::vector<Format> smolFormats() {
  Format f;
  f.name = "smol";
  f.description = ".smol: header-first index, static once, columns by size, "
                  "4 KiB-aligned rows, one pread per sample";
  f.write = writeSmol;
  f.reader = [](const std::string &dir, baselines::IoCounter &counter) {
    return std::unique_ptr<baselines::Reader>(
        new SmolBenchReader(dir, counter));
  };
  return {f};
}

} // namespace bench
} // namespace tessera
