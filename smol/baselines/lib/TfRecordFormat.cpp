//===- TfRecordFormat.cpp - TFRecord of tf.Example baseline ---------------===//
//
// Part of Tessera. One TFRecord file of serialized tf.Example protocol
// buffers, byte-compatible with TensorFlow's tf.data.TFRecordDataset:
//   record = u64 length | u32 masked_crc32c(length) | data | u32
//   masked_crc32c(data)
// The Examples are built, serialized and parsed by protoc-generated code from
// TensorFlow's published example.proto/feature.proto (smol/baselines/proto),
// and the checksums are ISA-L's CRC-32C, as a C++ user of TFRecord reads them.
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

#include "tensorflow/core/example/example.pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <sstream>
#include <unordered_map>

namespace tessera {
namespace baselines {

namespace {

/// The tf.train.Feature of one field's raw values.
tensorflow::Feature encodeFeature(const Field &f, const uint8_t *bytes) {
  tensorflow::Feature feature;
  if (f.role == FieldRole::Camera || f.dtype == DType::F64) {
    feature.mutable_bytes_list()->add_value(
        reinterpret_cast<const char *>(bytes), f.bytes());
  } else if (f.dtype == DType::F32) {
    auto *values = feature.mutable_float_list()->mutable_value();
    values->Resize(int(f.elements()), 0.0f);
    std::memcpy(values->mutable_data(), bytes, f.bytes());
  } else {
    auto *values = feature.mutable_int64_list()->mutable_value();
    values->Reserve(int(f.elements()));
    for (uint64_t i = 0; i < f.elements(); ++i)
      values->Add(elementAsInt(f.dtype, bytes, i));
  }
  return feature;
}

/// Copies a feature's values into a field's raw bytes, checking kind and
/// count against the field.
void decodeFeature(
    const tensorflow::Feature &feature, const Field &f,
    std::vector<uint8_t> &dst,
    const std::function<BaselineError(const std::string &)> &fail) {
  bool wantBytes = f.role == FieldRole::Camera || f.dtype == DType::F64;
  auto expectKind = wantBytes               ? tensorflow::Feature::kBytesList
                    : f.dtype == DType::F32 ? tensorflow::Feature::kFloatList
                                            : tensorflow::Feature::kInt64List;
  if (feature.kind_case() != expectKind)
    throw fail("feature '" + f.name + "' has the wrong kind");
  dst.resize(f.bytes());
  auto count = [&](uint64_t n) {
    if (n != f.elements())
      throw fail("feature '" + f.name + "' has " + std::to_string(n) +
                 " values, expected " + std::to_string(f.elements()));
  };
  switch (expectKind) {
  case tensorflow::Feature::kBytesList: {
    const auto &list = feature.bytes_list();
    if (list.value_size() != 1 || list.value(0).size() != f.bytes())
      throw fail("feature '" + f.name + "' has " +
                 std::to_string(list.value_size() ? list.value(0).size() : 0) +
                 " bytes, expected " + std::to_string(f.bytes()));
    std::memcpy(dst.data(), list.value(0).data(), f.bytes());
    return;
  }
  case tensorflow::Feature::kFloatList: {
    const auto &values = feature.float_list().value();
    count(uint64_t(values.size()));
    std::memcpy(dst.data(), values.data(), f.bytes());
    return;
  }
  default: {
    const auto &values = feature.int64_list().value();
    count(uint64_t(values.size()));
    for (uint64_t i = 0; i < f.elements(); ++i)
      setElementFromInt(f.dtype, dst.data(), i, values[int(i)]);
    return;
  }
  }
}

/// The Example's bytes, with map entries in key order (protobuf's
/// deterministic serialization) so that a log is the same on every write.
std::string serialize(const tensorflow::Example &example) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    example.SerializeToCodedStream(&coded);
  }
  return out;
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
    tensorflow::Example example;
    if (!example.ParseFromArray(rec.data() + 12, int(n)))
      throw fail("not a tf.Example");
    Values out(schema.fields.size()), stat(schema.staticFields.size());
    const auto &features = example.features().feature();
    for (const auto &[name, feature] : features) {
      auto it = keys->keys.find(name);
      if (it == keys->keys.end())
        throw fail("unknown feature '" + name + "'");
      bool isStatic = it->second.first;
      size_t k = it->second.second;
      const Field &f = isStatic ? schema.staticFields[k] : schema.fields[k];
      decodeFeature(feature, f, isStatic ? stat[k] : out[k], fail);
    }
    if (features.size() != schema.fields.size() + schema.staticFields.size())
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
    tensorflow::Example example;
    auto &features = *example.mutable_features()->mutable_feature();
    for (size_t k = 0; k < schema.staticFields.size(); ++k)
      features["static/" + schema.staticFields[k].name] =
          encodeFeature(schema.staticFields[k], stat[k].data());
    OutFile out(dir + "/log.tfrecord");
    std::string index;
    for (uint64_t r = 0; r < source.size(); ++r) {
      Values rec = source.record(r);
      for (size_t k = 0; k < schema.fields.size(); ++k)
        features[schema.fields[k].name] =
            encodeFeature(schema.fields[k], rec[k].data());
      std::string bytes = serialize(example);
      std::vector<uint8_t> head;
      putU64(head, bytes.size());
      putU32(head, maskCrc(crc32c(head.data(), 8)));
      std::vector<uint8_t> tail;
      putU32(tail, maskCrc(crc32c(bytes.data(), bytes.size())));
      index += std::to_string(out.offset()) + " " +
               std::to_string(16 + bytes.size()) + "\n";
      out.write(head);
      out.write(bytes);
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
