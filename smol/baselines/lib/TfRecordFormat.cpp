//===- TfRecordFormat.cpp - TFRecord of tf.Example baseline ---------------===//
//
// Part of Tessera. One TFRecord file of serialized tf.Example protocol
// buffers, byte-compatible with TensorFlow's tf.data.TFRecordDataset:
//   record = u64 length | u32 masked_crc32c(length) | data | u32
//   masked_crc32c(data)
// Each Example holds every dynamic field (float32 -> float_list, integers ->
// int64_list, cameras and float64 -> bytes_list of raw little-endian bytes)
// and, as the Waymo Open Dataset's Frame does with its context, the static
// calibration again under "static/<name>" keys. TFRecord has no index;
// random access uses a sidecar in DALI's tfrecord2idx form ("offset size"
// per line), read whole at open.
//
//===----------------------------------------------------------------------===//

#include "Encoding.h"
#include "Formats.h"

#include <sstream>
#include <unordered_map>

namespace tessera {
namespace baselines {

namespace {

void putVarint(std::vector<uint8_t> &out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

void putLengthDelimited(std::vector<uint8_t> &out, uint32_t fieldNo,
                        const std::vector<uint8_t> &body) {
  putVarint(out, (fieldNo << 3) | 2);
  putVarint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

/// The tf.train.Feature of one field's raw values.
std::vector<uint8_t> encodeFeature(const Field &f, const uint8_t *bytes) {
  std::vector<uint8_t> list, packed, feature;
  if (f.role == FieldRole::Camera || f.dtype == DType::F64) {
    std::vector<uint8_t> raw(bytes, bytes + f.bytes());
    putLengthDelimited(list, 1, raw); // BytesList.value
    putLengthDelimited(feature, 1, list);
  } else if (f.dtype == DType::F32) {
    packed.assign(bytes, bytes + f.bytes());
    putLengthDelimited(list, 1, packed); // FloatList.value, packed
    putLengthDelimited(feature, 2, list);
  } else {
    for (uint64_t i = 0; i < f.elements(); ++i)
      putVarint(packed, static_cast<uint64_t>(elementAsInt(f.dtype, bytes, i)));
    putLengthDelimited(list, 1, packed); // Int64List.value, packed
    putLengthDelimited(feature, 3, list);
  }
  return feature;
}

void addEntry(std::vector<uint8_t> &features, const std::string &key,
              const std::vector<uint8_t> &feature) {
  std::vector<uint8_t> entry;
  putLengthDelimited(entry, 1, std::vector<uint8_t>(key.begin(), key.end()));
  putLengthDelimited(entry, 2, feature);
  putLengthDelimited(features, 1, entry); // Features.feature map entry
}

/// A cursor over protobuf wire format.
struct Wire {
  const uint8_t *p, *end;
  std::function<BaselineError(const std::string &)> fail;

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end)
        throw fail("truncated varint");
      uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80))
        return v;
    }
    throw fail("varint too long");
  }
  /// Next length-delimited field; its number in `fieldNo`.
  Wire field(uint32_t &fieldNo) {
    uint64_t key = varint();
    if ((key & 7) != 2)
      throw fail("unexpected wire type " + std::to_string(key & 7));
    fieldNo = static_cast<uint32_t>(key >> 3);
    uint64_t n = varint();
    if (n > static_cast<uint64_t>(end - p))
      throw fail("length-delimited field runs past the record");
    Wire sub{p, p + n, fail};
    p += n;
    return sub;
  }
  bool done() const { return p == end; }
};

void decodeFeature(Wire w, const Field &f, std::vector<uint8_t> &dst) {
  uint32_t kind;
  Wire list = w.field(kind);
  uint32_t fieldNo;
  Wire values = list.field(fieldNo);
  bool wantBytes = f.role == FieldRole::Camera || f.dtype == DType::F64;
  uint32_t expectKind = wantBytes ? 1 : (f.dtype == DType::F32 ? 2 : 3);
  if (kind != expectKind || fieldNo != 1)
    throw w.fail("feature '" + f.name + "' has the wrong kind");
  dst.resize(f.bytes());
  if (kind == 3) {
    for (uint64_t i = 0; i < f.elements(); ++i) {
      if (values.done())
        throw w.fail("feature '" + f.name + "' has too few values");
      setElementFromInt(f.dtype, dst.data(), i,
                        static_cast<int64_t>(values.varint()));
    }
    if (!values.done())
      throw w.fail("feature '" + f.name + "' has too many values");
    return;
  }
  if (static_cast<uint64_t>(values.end - values.p) != f.bytes())
    throw w.fail("feature '" + f.name + "' has " +
                 std::to_string(values.end - values.p) + " bytes, expected " +
                 std::to_string(f.bytes()));
  std::memcpy(dst.data(), values.p, f.bytes());
}

/// Field lookup by feature key: dynamic fields by name, static ones under
/// "static/".
struct KeyMap {
  std::unordered_map<std::string, std::pair<bool, size_t>> keys;
  explicit KeyMap(const Schema &s) {
    for (size_t k = 0; k < s.fields.size(); ++k)
      keys[s.fields[k].name] = {false, k};
    for (size_t k = 0; k < s.staticFields.size(); ++k)
      keys["static/" + s.staticFields[k].name] = {true, k};
  }
};

class TfRecordReader : public Reader {
public:
  TfRecordReader(const std::string &dir, IoCounter &counter)
      : dir(dir), counter(counter) {}

  void open() override {
    CountedFile schemaFile(dir + "/schema.txt", counter);
    std::vector<uint8_t> text = schemaFile.readExact(schemaFile.size(), 0);
    schema =
        Schema::parse(std::string(text.begin(), text.end()), schemaFile.path());
    keys = std::make_unique<KeyMap>(schema);
    data = std::make_unique<CountedFile>(dir + "/log.tfrecord", counter);
    CountedFile idx(dir + "/log.tfrecord.idx", counter);
    std::vector<uint8_t> idxBytes = idx.readExact(idx.size(), 0);
    std::istringstream in(std::string(idxBytes.begin(), idxBytes.end()));
    uint64_t off, len;
    offsets.clear();
    lengths.clear();
    while (in >> off >> len) {
      if (len < 16 || off > data->size() || len > data->size() - off)
        throw BaselineError(idx.path() + ": entry " +
                            std::to_string(offsets.size()) +
                            " points past the end of log.tfrecord (" +
                            std::to_string(data->size()) + " bytes)");
      offsets.push_back(off);
      lengths.push_back(len);
    }
    if (!in.eof())
      throw BaselineError(idx.path() + ": expected 'offset size' lines");
    Values s;
    if (!offsets.empty())
      read(0, false, &s); // static data is in every record: take the first
    statics = s;
  }
  Values staticValues() override { return statics; }
  uint64_t size() const override { return offsets.size(); }

  Values read(uint64_t index, bool labelsOnly, Values *rowStatic) override {
    (void)labelsOnly; // an Example is read and parsed whole
    if (index >= offsets.size())
      throw BaselineError(data->path() + ": record " + std::to_string(index) +
                          " out of range (" + std::to_string(offsets.size()) +
                          " records)");
    std::vector<uint8_t> rec = data->readExact(lengths[index], offsets[index]);
    auto fail = [&](const std::string &msg) {
      return BaselineError(data->path() + ": record " + std::to_string(index) +
                           ": " + msg);
    };
    uint64_t n = getU64(rec.data());
    if (maskCrc(crc32c(rec.data(), 8)) != getU32(rec.data() + 8))
      throw fail("length checksum mismatch (corrupted record)");
    if (n != rec.size() - 16)
      throw fail("length " + std::to_string(n) + " disagrees with the index");
    if (maskCrc(crc32c(rec.data() + 12, n)) != getU32(rec.data() + 12 + n))
      throw fail("data checksum mismatch (corrupted record)");
    Values out(schema.fields.size()), stat(schema.staticFields.size());
    Wire example{rec.data() + 12, rec.data() + 12 + n, fail};
    uint32_t fieldNo;
    Wire features = example.field(fieldNo);
    if (fieldNo != 1 || !example.done())
      throw fail("not a tf.Example");
    size_t seen = 0;
    while (!features.done()) {
      Wire entry = features.field(fieldNo);
      Wire key = entry.field(fieldNo);
      if (fieldNo != 1)
        throw fail("map entry without a key");
      std::string name(key.p, key.end);
      Wire value = entry.field(fieldNo);
      if (fieldNo != 2)
        throw fail("map entry without a value");
      auto it = keys->keys.find(name);
      if (it == keys->keys.end())
        throw fail("unknown feature '" + name + "'");
      bool isStatic = it->second.first;
      size_t k = it->second.second;
      const Field &f = isStatic ? schema.staticFields[k] : schema.fields[k];
      decodeFeature(value, f, isStatic ? stat[k] : out[k]);
      ++seen;
    }
    if (seen != schema.fields.size() + schema.staticFields.size())
      throw fail("missing features");
    if (rowStatic)
      *rowStatic = std::move(stat);
    return out;
  }

private:
  std::string dir;
  IoCounter &counter;
  Schema schema;
  std::unique_ptr<KeyMap> keys;
  std::unique_ptr<CountedFile> data;
  std::vector<uint64_t> offsets, lengths;
  Values statics;
};

class TfRecordBaseline : public Baseline {
public:
  std::string name() const override { return "tfrecord"; }
  std::string description() const override {
    return "TFRecord of tf.Example (raw image bytes), static data repeated "
           "per record, DALI-style offset index";
  }
  void write(const ContentSource &source, const std::string &dir,
             const Progress &progress) const override {
    makeDirectories(dir);
    const Schema &schema = source.schema();
    std::string schemaText = schema.serialize();
    writeWholeFile(dir + "/schema.txt", schemaText.data(), schemaText.size());
    Values stat = source.staticValues();
    std::vector<uint8_t> staticEntries;
    for (size_t k = 0; k < schema.staticFields.size(); ++k)
      addEntry(staticEntries, "static/" + schema.staticFields[k].name,
               encodeFeature(schema.staticFields[k], stat[k].data()));
    OutFile out(dir + "/log.tfrecord");
    std::string index;
    for (uint64_t r = 0; r < source.size(); ++r) {
      Values rec = source.record(r);
      std::vector<uint8_t> features;
      for (size_t k = 0; k < schema.fields.size(); ++k)
        addEntry(features, schema.fields[k].name,
                 encodeFeature(schema.fields[k], rec[k].data()));
      features.insert(features.end(), staticEntries.begin(),
                      staticEntries.end());
      std::vector<uint8_t> example;
      putLengthDelimited(example, 1, features);
      std::vector<uint8_t> head;
      putU64(head, example.size());
      putU32(head, maskCrc(crc32c(head.data(), 8)));
      std::vector<uint8_t> tail;
      putU32(tail, maskCrc(crc32c(example.data(), example.size())));
      index += std::to_string(out.offset()) + " " +
               std::to_string(16 + example.size()) + "\n";
      out.write(head);
      out.write(example);
      out.write(tail);
      if (progress)
        progress(r + 1, source.size());
    }
    out.close();
    writeWholeFile(dir + "/log.tfrecord.idx", index.data(), index.size());
  }
  std::unique_ptr<Reader> reader(const std::string &dir,
                                 IoCounter &counter) const override {
    return std::make_unique<TfRecordReader>(dir, counter);
  }
};

} // namespace

std::unique_ptr<Baseline> makeTfRecordBaseline() {
  return std::make_unique<TfRecordBaseline>();
}

} // namespace baselines
} // namespace tessera
