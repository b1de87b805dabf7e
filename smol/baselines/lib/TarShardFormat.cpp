//===- TarShardFormat.cpp - WebDataset-style tar shards (libarchive) ------===//
//
// Part of Tessera. Samples as groups of tar members sharing a key, the layout
// WebDataset streams: "<key>.json" holds the non-camera fields as JSON, and
// each camera is "<key>.<camera>.rgb" (raw HxWx3 bytes). Shards of
// `samplesPerShard` samples are self-contained: each starts with a
// "__static__.json" member holding the static data. Written and parsed with
// libarchive (ustar). Tar has no index and WebDataset reads sequentially;
// random access uses a sidecar index.txt ("shard offset bytes json_bytes" per
// sample) so that one sample is one read of its consecutive members (and an
// early-rejecting reader reads only the JSON member).
//
//===----------------------------------------------------------------------===//

#include "Encoding.h"
#include "Formats.h"
#include "Json.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstdio>
#include <sstream>

namespace tessera {
namespace baselines {

namespace {

constexpr uint64_t kSamplesPerShard = 1000;

uint64_t tarSpan(uint64_t bytes) { return 512 + (bytes + 511) / 512 * 512; }

std::string shardName(uint64_t shard) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shard-%06llu.tar",
                static_cast<unsigned long long>(shard));
  return buf;
}

std::string sampleKey(uint64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%09llu",
                static_cast<unsigned long long>(index));
  return buf;
}

/// Writes tar members with libarchive and tracks their offsets.
class TarWriter {
public:
  explicit TarWriter(const std::string &path) : path(path) {
    a = archive_write_new();
    archive_write_set_format_ustar(a);
    archive_write_set_bytes_per_block(a, 10240);
    if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK)
      throw BaselineError(path + ": cannot create: " + archive_error_string(a));
    entry = archive_entry_new();
  }
  ~TarWriter() {
    archive_entry_free(entry);
    archive_write_free(a);
  }
  void add(const std::string &name, const void *data, size_t n) {
    archive_entry_clear(entry);
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(n));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_mtime(entry, 0, 0);
    if (archive_write_header(a, entry) != ARCHIVE_OK ||
        archive_write_data(a, data, n) != static_cast<la_ssize_t>(n))
      throw BaselineError(path + ": cannot write member " + name + ": " +
                          archive_error_string(a));
    offset += tarSpan(n);
  }
  void close() {
    if (archive_write_close(a) != ARCHIVE_OK)
      throw BaselineError(path + ": cannot finish: " + archive_error_string(a));
  }
  uint64_t offset = 0;

private:
  std::string path;
  struct archive *a;
  struct archive_entry *entry;
};

/// Reads the members in `bytes` (a run of consecutive tar members) with
/// libarchive, calling `member(name, data)` for each of the first `count`.
void readMembers(const std::vector<uint8_t> &bytes, size_t count,
                 const std::string &what,
                 const std::function<void(const std::string &,
                                          std::vector<uint8_t> &)> &member) {
  struct archive *a = archive_read_new();
  archive_read_support_format_tar(a);
  std::unique_ptr<struct archive, int (*)(struct archive *)> guard(
      a, archive_read_free);
  if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK)
    throw BaselineError(what +
                        ": not a tar stream: " + archive_error_string(a));
  std::vector<uint8_t> data;
  for (size_t i = 0; i < count; ++i) {
    struct archive_entry *entry;
    int r = archive_read_next_header(a, &entry);
    if (r != ARCHIVE_OK)
      throw BaselineError(what + ": member " + std::to_string(i) + ": " +
                          (r == ARCHIVE_EOF ? std::string("missing")
                                            : archive_error_string(a)));
    la_int64_t size = archive_entry_size(entry);
    if (size < 0 || static_cast<uint64_t>(size) > bytes.size())
      throw BaselineError(what + ": member " + std::to_string(i) +
                          ": bad size");
    data.resize(static_cast<size_t>(size));
    la_ssize_t got = archive_read_data(a, data.data(), data.size());
    if (got != size)
      throw BaselineError(what + ": member " +
                          std::string(archive_entry_pathname(entry)) +
                          ": truncated");
    member(archive_entry_pathname(entry), data);
  }
}

Schema metaSchema(const Schema &s, std::vector<size_t> &map) {
  Schema meta;
  for (size_t k = 0; k < s.fields.size(); ++k)
    if (s.fields[k].role != FieldRole::Camera) {
      meta.fields.push_back(s.fields[k]);
      map.push_back(k);
    }
  return meta;
}

class TarShardReader : public Reader {
public:
  TarShardReader(const std::string &dir, IoCounter &counter)
      : dir(dir), counter(counter) {}

  void open() override {
    CountedFile schemaFile(dir + "/schema.txt", counter);
    std::vector<uint8_t> text = schemaFile.readExact(schemaFile.size(), 0);
    schema =
        Schema::parse(std::string(text.begin(), text.end()), schemaFile.path());
    meta = metaSchema(schema, metaMap);
    CountedFile idx(dir + "/index.txt", counter);
    std::vector<uint8_t> idxBytes = idx.readExact(idx.size(), 0);
    std::istringstream in(std::string(idxBytes.begin(), idxBytes.end()));
    std::string word;
    uint64_t shards = 0, samples = 0, staticBytes = 0;
    if (!(in >> word >> shards >> samples >> staticBytes) || word != "shards")
      throw BaselineError(idx.path() +
                          ": expected 'shards <n> <samples> <static_bytes>'");
    entries.clear();
    Entry e;
    while (entries.size() < samples &&
           in >> e.shard >> e.offset >> e.bytes >> e.jsonBytes) {
      if (e.shard >= shards)
        throw BaselineError(idx.path() + ": sample " +
                            std::to_string(entries.size()) + " names shard " +
                            std::to_string(e.shard) + " of " +
                            std::to_string(shards));
      entries.push_back(e);
    }
    if (entries.size() != samples)
      throw BaselineError(idx.path() +
                          ": truncated: " + std::to_string(entries.size()) +
                          " of " + std::to_string(samples) + " entries");
    files.clear();
    for (uint64_t s = 0; s < shards; ++s)
      files.push_back(
          std::make_unique<CountedFile>(dir + "/" + shardName(s), counter));
    for (const Entry &x : entries)
      if (x.offset > files[x.shard]->size() ||
          x.bytes > files[x.shard]->size() - x.offset)
        throw BaselineError(files[x.shard]->path() +
                            ": truncated: index points past its end");
    statics.assign(schema.staticFields.size(), {});
    if (shards) {
      std::vector<uint8_t> head = files[0]->readExact(
          std::min<uint64_t>(tarSpan(staticBytes), files[0]->size()), 0);
      readMembers(head, 1, files[0]->path(),
                  [&](const std::string &name, std::vector<uint8_t> &data) {
                    if (name != "__static__.json")
                      throw BaselineError(files[0]->path() +
                                          ": first member is not "
                                          "__static__.json");
                    parseJson(data, schema.staticFields, statics,
                              files[0]->path() + ": __static__.json");
                  });
    }
  }
  Values staticValues() override { return statics; }
  uint64_t size() const override { return entries.size(); }

  Values read(uint64_t index, bool labelsOnly, Values *rowStatic) override {
    if (rowStatic)
      rowStatic->clear();
    if (index >= entries.size())
      throw BaselineError(dir + ": record " + std::to_string(index) +
                          " out of range (" + std::to_string(entries.size()) +
                          " records)");
    const Entry &e = entries[index];
    CountedFile &file = *files[e.shard];
    uint64_t span = labelsOnly ? tarSpan(e.jsonBytes) : e.bytes;
    std::vector<uint8_t> bytes = file.readExact(span, e.offset);
    Values out(schema.fields.size());
    std::string key = sampleKey(index);
    std::string what = file.path() + ": sample " + key;
    size_t cameras = schema.fields.size() - meta.fields.size();
    readMembers(bytes, labelsOnly ? 1 : 1 + cameras, what,
                [&](const std::string &name, std::vector<uint8_t> &data) {
                  if (name == key + ".json") {
                    Values m(meta.fields.size());
                    parseJson(data, meta.fields, m, what);
                    for (size_t j = 0; j < metaMap.size(); ++j)
                      out[metaMap[j]] = std::move(m[j]);
                    return;
                  }
                  for (size_t k = 0; k < schema.fields.size(); ++k)
                    if (schema.fields[k].role == FieldRole::Camera &&
                        name == key + "." + schema.fields[k].name + ".rgb") {
                      if (data.size() != schema.fields[k].bytes())
                        throw BaselineError(what + ": member " + name +
                                            " has the wrong size");
                      out[k] = data;
                      return;
                    }
                  throw BaselineError(what + ": unexpected member " + name);
                });
    return out;
  }

private:
  struct Entry {
    uint64_t shard = 0, offset = 0, bytes = 0, jsonBytes = 0;
  };

  static void parseJson(const std::vector<uint8_t> &data,
                        const std::vector<Field> &fields, Values &out,
                        const std::string &what) {
    out.assign(fields.size(), {});
    for (size_t k = 0; k < fields.size(); ++k)
      out[k].resize(fields[k].bytes());
    const char *p = reinterpret_cast<const char *>(data.data());
    JsonFail fail = [&](const std::string &msg) {
      return BaselineError(what + ": " + msg);
    };
    readJsonFields(baselines::parseJson(p, p + data.size(), fail), fields, out,
                   fail);
  }

  std::string dir;
  IoCounter &counter;
  Schema schema, meta;
  std::vector<size_t> metaMap;
  std::vector<Entry> entries;
  std::vector<std::unique_ptr<CountedFile>> files;
  Values statics;
};

class TarShardBaseline : public Baseline {
public:
  std::string name() const override { return "tar"; }
  std::string description() const override {
    return "WebDataset-style tar shards of 1000 samples (libarchive), JSON + "
           "raw camera members, static data once per shard";
  }
  void write(const ContentSource &source, const std::string &dir,
             const Progress &progress) const override {
    makeDirectories(dir);
    const Schema &schema = source.schema();
    std::string schemaText = schema.serialize();
    writeWholeFile(dir + "/schema.txt", schemaText.data(), schemaText.size());
    std::vector<size_t> map;
    Schema meta = metaSchema(schema, map);
    Json staticObject = Json::object();
    addJsonFields(staticObject, schema.staticFields, source.staticValues());
    std::string staticJson = staticObject.dump();
    uint64_t n = source.size();
    uint64_t shards = (n + kSamplesPerShard - 1) / kSamplesPerShard;
    std::string index = "shards " + std::to_string(shards) + " " +
                        std::to_string(n) + " " +
                        std::to_string(staticJson.size()) + "\n";
    for (uint64_t s = 0; s < shards; ++s) {
      TarWriter tar(dir + "/" + shardName(s));
      tar.add("__static__.json", staticJson.data(), staticJson.size());
      for (uint64_t r = s * kSamplesPerShard;
           r < std::min(n, (s + 1) * kSamplesPerShard); ++r) {
        Values rec = source.record(r);
        Values metaValues;
        for (size_t k : map)
          metaValues.push_back(rec[k]);
        Json metaObject = Json::object();
        addJsonFields(metaObject, meta.fields, metaValues);
        std::string json = metaObject.dump();
        uint64_t start = tar.offset;
        std::string key = sampleKey(r);
        tar.add(key + ".json", json.data(), json.size());
        for (size_t k = 0; k < schema.fields.size(); ++k)
          if (schema.fields[k].role == FieldRole::Camera)
            tar.add(key + "." + schema.fields[k].name + ".rgb", rec[k].data(),
                    rec[k].size());
        index += std::to_string(s) + " " + std::to_string(start) + " " +
                 std::to_string(tar.offset - start) + " " +
                 std::to_string(json.size()) + "\n";
        if (progress)
          progress(r + 1, n);
      }
      tar.close();
    }
    writeWholeFile(dir + "/index.txt", index.data(), index.size());
  }
  std::unique_ptr<Reader> reader(const std::string &dir,
                                 IoCounter &counter) const override {
    return std::make_unique<TarShardReader>(dir, counter);
  }
};

} // namespace

std::unique_ptr<Baseline> makeTarShardBaseline() {
  return std::make_unique<TarShardBaseline>();
}

} // namespace baselines
} // namespace tessera
