//===- BaselineTest.cpp - baselines round-trip, count I/O, reject damage --===//
//
// Part of Tessera. Every baseline writes the same small log and must read
// back exactly what the content source produced (H.264: a PSNR bound on the
// cameras, the other fields exact). I/O counting is checked exactly on files
// whose layout is known, and truncated or corrupted files must give a clear
// error naming the file.
//
//===----------------------------------------------------------------------===//

#include "tessera/Baselines/Baseline.h"
#include "Encoding.h"
#include "TestContent.h"

#include "tensorflow/core/example/example.pb.h"
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>

using namespace tessera::baselines;
using tessera::baselines::test::TestContent;

namespace {

std::string freshDir(const std::string &name) {
  std::string dir = ::testing::TempDir() + "tessera_baseline_" + name + "_" +
                    std::to_string(getpid());
  std::string cmd = "rm -rf '" + dir + "'";
  if (std::system(cmd.c_str()) != 0)
    ADD_FAILURE() << "cannot clear " << dir;
  return dir;
}

double psnr(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b) {
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i)
    se += (a[i] - b[i]) * double(a[i] - b[i]);
  if (se == 0)
    return 99;
  return 10 * std::log10(255.0 * 255.0 * a.size() / se);
}

void truncateFile(const std::string &path, uint64_t keep) {
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(keep)), 0) << path;
}

void flipByte(const std::string &path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

class RoundTrip : public ::testing::TestWithParam<std::string> {};

} // namespace

TEST_P(RoundTrip, ReadsBackWhatTheSourceProduced) {
  TestContent source(40);
  std::unique_ptr<Baseline> b = makeBaseline(GetParam());
  std::string dir = freshDir(GetParam());
  uint64_t lastProgress = 0;
  b->write(source, dir, [&](uint64_t done, uint64_t total) {
    EXPECT_EQ(total, 40u);
    EXPECT_GT(done, lastProgress);
    lastProgress = done;
  });
  EXPECT_EQ(lastProgress, 40u);
  EXPECT_GT(directoryBytes(dir), 0u);

  IoCounter counter;
  std::unique_ptr<Reader> r = b->reader(dir, counter);
  r->open();
  std::vector<IoRead> openReads = counter.take();
  EXPECT_FALSE(openReads.empty());
  ASSERT_EQ(r->size(), 40u);
  EXPECT_EQ(r->staticValues(), source.staticValues());
  const Schema &schema = source.schema();
  for (uint64_t i : {0u, 17u, 39u, 5u}) {
    Values rowStatic;
    Values got = r->read(i, false, &rowStatic);
    Values want = source.record(i);
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      if (schema.fields[k].role == FieldRole::Camera && b->lossy()) {
        ASSERT_EQ(got[k].size(), want[k].size()) << schema.fields[k].name;
        // 4:2:0 chroma on 32x24 images with strong colour detail: the
        // test images reach ~27 dB at CRF 20; garbage would be ~10 dB.
        EXPECT_GT(psnr(got[k], want[k]), 25.0)
            << GetParam() << " record " << i << " " << schema.fields[k].name;
      } else {
        EXPECT_EQ(got[k], want[k])
            << GetParam() << " record " << i << " " << schema.fields[k].name;
      }
    }
    if (!rowStatic.empty())
      EXPECT_EQ(rowStatic, source.staticValues());
    EXPECT_FALSE(counter.take().empty()) << "sample read not counted";
    // Early rejection: the labels (HDF5 may serve them from its chunk
    // cache, having just read the same chunk, so no I/O is required here).
    Values labels = r->read(i, true, nullptr);
    for (size_t k = 0; k < want.size(); ++k)
      if (schema.fields[k].role == FieldRole::Label)
        EXPECT_EQ(labels[k], want[k]) << GetParam() << " label " << k;
    counter.take();
  }
  EXPECT_THROW(r->read(40, false, nullptr), BaselineError);
}

INSTANTIATE_TEST_SUITE_P(AllBaselines, RoundTrip,
                         ::testing::Values("csv", "jsonl", "rowbin", "hdf5",
                                           "tfrecord", "tar", "mp4-gop1",
                                           "mp4-gop30", "mp4-gop250"),
                         [](const auto &info) {
                           std::string n = info.param;
                           for (char &c : n)
                             if (c == '-')
                               c = '_';
                           return n;
                         });

TEST(CountingIo, CountsEveryPreadExactly) {
  std::string path = ::testing::TempDir() + "counting_io_known.bin";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 10000; ++i)
      out.put(static_cast<char>(i & 255));
  }
  IoCounter counter;
  CountedFile f(path, counter);
  EXPECT_EQ(f.size(), 10000u);
  std::vector<uint8_t> a = f.readExact(100, 0);
  std::vector<uint8_t> b = f.readExact(4096, 5000);
  uint8_t tail[64];
  EXPECT_EQ(f.pread(tail, 64, 9990), 10u); // short at end of file
  EXPECT_EQ(a[99], 99);
  EXPECT_EQ(b[0], 5000 & 255);
  EXPECT_EQ(counter.totalOps(), 3u);
  EXPECT_EQ(counter.totalBytes(), 100u + 4096u + 10u);
  std::vector<IoRead> reads = counter.take();
  ASSERT_EQ(reads.size(), 3u);
  EXPECT_EQ(reads[1].offset, 5000u);
  EXPECT_EQ(reads[1].bytes, 4096u);
  EXPECT_EQ(reads[2].bytes, 10u);
  EXPECT_TRUE(counter.take().empty());
  try {
    f.readExact(100, 9950);
    FAIL() << "read past the end accepted";
  } catch (const BaselineError &e) {
    EXPECT_NE(std::string(e.what()).find(path + ": truncated"),
              std::string::npos);
  }
  std::remove(path.c_str());
  EXPECT_THROW(CountedFile(path, counter), BaselineError);
}

TEST(CountingIo, RowLogReadsAreExact) {
  // The row log's layout is known: a <= 4 KiB header is one read; a sample is
  // one read of exactly row_bytes; labels are one read spanning them.
  TestContent source(12);
  std::string dir = freshDir("rowcount");
  makeBaseline("rowbin")->write(source, dir, nullptr);
  const Schema &s = source.schema();
  uint64_t rowBytes = s.recordBytes() + s.staticBytes() + 4;
  std::string schemaText = s.serialize();
  uint64_t header = 36 + schemaText.size();
  EXPECT_EQ(directoryBytes(dir), header + 12 * rowBytes);
  IoCounter counter;
  auto r = makeBaseline("rowbin")->reader(dir, counter);
  r->open();
  std::vector<IoRead> open = counter.take();
  ASSERT_EQ(open.size(), 2u); // header, then row 0 for the static data
  EXPECT_EQ(open[0].bytes, std::min<uint64_t>(4096, header + 12 * rowBytes));
  r->read(7, false, nullptr);
  std::vector<IoRead> sample = counter.take();
  ASSERT_EQ(sample.size(), 1u);
  EXPECT_EQ(sample[0].offset, header + 7 * rowBytes);
  EXPECT_EQ(sample[0].bytes, rowBytes);
  r->read(7, true, nullptr);
  std::vector<IoRead> labels = counter.take();
  ASSERT_EQ(labels.size(), 1u);
  // scene (i32) and boxes (3x5 f32) are adjacent in the schema.
  EXPECT_EQ(labels[0].bytes, 4u + 60u);
  EXPECT_EQ(labels[0].offset, header + 7 * rowBytes + 8 + 32 + 48);
}

TEST(CountingIo, TextFormatsScanOnceThenOneReadPerSample) {
  TestContent source(30);
  std::string dir = freshDir("csvcount");
  makeBaseline("csv")->write(source, dir, nullptr);
  IoCounter counter;
  auto r = makeBaseline("csv")->reader(dir, counter);
  r->open();
  std::vector<IoRead> open = counter.take();
  // schema.txt, the scan (1 MiB reads), the header line, row 0 for static.
  std::ifstream f(dir + "/log.csv", std::ios::binary | std::ios::ate);
  uint64_t size = static_cast<uint64_t>(f.tellg());
  uint64_t scans = (size + (1 << 20) - 1) >> 20;
  EXPECT_EQ(open.size(), 1 + scans + 1);
  r->staticValues();
  EXPECT_EQ(counter.take().size(), 1u);
  r->read(3, false, nullptr);
  EXPECT_EQ(counter.take().size(), 1u);
}

TEST(BaselineErrors, TruncatedFilesNameTheFile) {
  TestContent source(20);
  struct Case {
    std::string baseline, file;
  };
  for (const Case &c : std::vector<Case>{{"csv", "log.csv"},
                                         {"jsonl", "log.jsonl"},
                                         {"rowbin", "log.rows"},
                                         {"hdf5", "log.h5"},
                                         {"tfrecord", "log.tfrecord"},
                                         {"tar", "shard-000000.tar"},
                                         {"mp4-gop30", "cam_cam3.mp4"}}) {
    std::string dir = freshDir("trunc_" + c.baseline);
    auto b = makeBaseline(c.baseline);
    b->write(source, dir, nullptr);
    std::string path = dir + "/" + c.file;
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    uint64_t size = static_cast<uint64_t>(in.tellg());
    truncateFile(path, size / 2 + 1);
    IoCounter counter;
    try {
      auto r = b->reader(dir, counter);
      r->open();
      for (uint64_t i = 0; i < r->size(); ++i)
        r->read(i, false, nullptr);
      ADD_FAILURE() << c.baseline << ": truncated " << c.file << " accepted";
    } catch (const BaselineError &e) {
      EXPECT_NE(std::string(e.what()).find(c.file), std::string::npos)
          << c.baseline << ": " << e.what();
    }
  }
}

TEST(BaselineErrors, CorruptedRowsFailTheirChecksum) {
  TestContent source(10);
  for (std::string name : {"rowbin", "tfrecord"}) {
    std::string dir = freshDir("corrupt_" + name);
    auto b = makeBaseline(name);
    b->write(source, dir, nullptr);
    std::string file = name == "rowbin" ? "/log.rows" : "/log.tfrecord";
    std::ifstream in(dir + file, std::ios::binary | std::ios::ate);
    uint64_t size = static_cast<uint64_t>(in.tellg());
    flipByte(dir + file, size - size / 20); // inside the last record, 9
    IoCounter counter;
    auto r = b->reader(dir, counter);
    r->open();
    EXPECT_NO_THROW(r->read(1, false, nullptr));
    try {
      r->read(9, false, nullptr);
      ADD_FAILURE() << name << ": corrupted record accepted";
    } catch (const BaselineError &e) {
      EXPECT_NE(std::string(e.what()).find("record 9"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("checksum mismatch"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(BaselineErrors, GarbageAndMissingFiles) {
  TestContent source(5);
  for (auto &b : allBaselines()) {
    std::string dir = freshDir("garbage_" + b->name());
    IoCounter counter;
    EXPECT_THROW(b->reader(dir, counter)->open(), BaselineError) << b->name();
  }
  std::string dir = freshDir("garbage_h5");
  makeBaseline("hdf5")->write(source, dir, nullptr);
  {
    std::ofstream out(dir + "/log.h5", std::ios::binary);
    out << "this is not an HDF5 file at all";
  }
  IoCounter counter;
  try {
    makeBaseline("hdf5")->reader(dir, counter)->open();
    FAIL() << "garbage HDF5 accepted";
  } catch (const BaselineError &e) {
    EXPECT_NE(std::string(e.what()).find("log.h5: not a readable HDF5 file"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(makeBaseline("parquet"), BaselineError);
}

//===----------------------------------------------------------------------===//
// The maintained libraries under the baselines: ISA-L's CRC-32C, libsodium's
// base64, protoc-generated tf.Example code.
//===----------------------------------------------------------------------===//

TEST(Encoding, Crc32cKnownVector) {
  // The CRC-32C check value (RFC 3720 and every CRC catalogue): "123456789".
  const char *s = "123456789";
  EXPECT_EQ(crc32c(s, 9), 0xE3069283u);
  // Continued over two pieces it is the same CRC.
  EXPECT_EQ(crc32c(s + 4, 5, crc32c(s, 4)), 0xE3069283u);
  EXPECT_EQ(crc32c(s, 0), 0u);
  // RFC 3720 B.4: 32 bytes of zeros.
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
}

TEST(Encoding, Base64Rfc4648Vectors) {
  const std::pair<const char *, const char *> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto &[plain, coded] : vectors) {
    std::string out = "x"; // appends
    base64Encode(reinterpret_cast<const uint8_t *>(plain), std::strlen(plain),
                 out);
    EXPECT_EQ(out, std::string("x") + coded);
    std::vector<uint8_t> back;
    ASSERT_TRUE(base64Decode(coded, std::strlen(coded), back)) << coded;
    EXPECT_EQ(std::string(back.begin(), back.end()), plain);
  }
  std::vector<uint8_t> bad;
  EXPECT_FALSE(base64Decode("Zm9!", 4, bad));
  EXPECT_FALSE(base64Decode("Zg=", 3, bad));
  EXPECT_FALSE(base64Decode("Zm9vYmFy", 6, bad)); // stops inside a quantum
}

/// Reads every record of a TFRecord file as TensorFlow's reader does and
/// parses it with the protoc-generated tf.Example parser.
std::vector<tensorflow::Example> readTfRecord(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  auto u32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  auto masked = [](uint32_t c) {
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
  };
  std::vector<tensorflow::Example> out;
  size_t at = 0;
  while (at < bytes.size()) {
    uint64_t n;
    std::memcpy(&n, bytes.data() + at, 8);
    EXPECT_EQ(masked(crc32c(bytes.data() + at, 8)), u32(at + 8));
    EXPECT_EQ(masked(crc32c(bytes.data() + at + 12, n)), u32(at + 12 + n));
    tensorflow::Example e;
    EXPECT_TRUE(e.ParseFromArray(bytes.data() + at + 12, int(n)));
    out.push_back(e);
    at += 16 + n;
  }
  EXPECT_EQ(at, bytes.size());
  return out;
}

TEST(TfRecord, ExamplesReadByTheProtocGeneratedParser) {
  TestContent source(12);
  std::string dir = freshDir("tfexample");
  makeBaseline("tfrecord")->write(source, dir, nullptr);
  std::vector<tensorflow::Example> examples =
      readTfRecord(dir + "/log.tfrecord");
  ASSERT_EQ(examples.size(), 12u);
  const Schema &schema = source.schema();
  Values stat = source.staticValues();
  for (uint64_t r = 0; r < examples.size(); ++r) {
    const auto &features = examples[r].features().feature();
    EXPECT_EQ(features.size(),
              schema.fields.size() + schema.staticFields.size());
    Values want = source.record(r);
    auto check = [&](const Field &f, const std::string &key,
                     const std::vector<uint8_t> &bytes) {
      ASSERT_EQ(features.count(key), 1u) << key;
      const tensorflow::Feature &feature = features.at(key);
      if (f.role == FieldRole::Camera || f.dtype == DType::F64) {
        ASSERT_EQ(feature.kind_case(), tensorflow::Feature::kBytesList) << key;
        ASSERT_EQ(feature.bytes_list().value_size(), 1);
        EXPECT_EQ(feature.bytes_list().value(0),
                  std::string(bytes.begin(), bytes.end()))
            << key;
      } else if (f.dtype == DType::F32) {
        ASSERT_EQ(feature.kind_case(), tensorflow::Feature::kFloatList) << key;
        std::vector<float> v(f.elements());
        std::memcpy(v.data(), bytes.data(), f.bytes());
        EXPECT_EQ(std::vector<float>(feature.float_list().value().begin(),
                                     feature.float_list().value().end()),
                  v)
            << key;
      } else {
        ASSERT_EQ(feature.kind_case(), tensorflow::Feature::kInt64List) << key;
        ASSERT_EQ(uint64_t(feature.int64_list().value_size()), f.elements());
        for (uint64_t i = 0; i < f.elements(); ++i) {
          int64_t v = 0;
          if (f.dtype == DType::U8)
            v = bytes[i];
          else if (f.dtype == DType::I32) {
            int32_t x;
            std::memcpy(&x, bytes.data() + 4 * i, 4);
            v = x;
          } else {
            std::memcpy(&v, bytes.data() + 8 * i, 8);
          }
          EXPECT_EQ(feature.int64_list().value(int(i)), v)
              << key << "[" << i << "]";
        }
      }
    };
    for (size_t k = 0; k < schema.fields.size(); ++k)
      check(schema.fields[k], schema.fields[k].name, want[k]);
    for (size_t k = 0; k < schema.staticFields.size(); ++k)
      check(schema.staticFields[k], "static/" + schema.staticFields[k].name,
            stat[k]);
  }
}

TEST(Jsonl, LinesParseWithNlohmannAndKeepTheSchema) {
  TestContent source(5, 4, 6, 2);
  std::string dir = freshDir("jsonl_keys");
  makeBaseline("jsonl")->write(source, dir, nullptr);
  std::ifstream in(dir + "/log.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    nlohmann::json row = nlohmann::json::parse(line);
    for (const Field &f : source.schema().fields)
      EXPECT_TRUE(row.contains(f.name)) << f.name;
    for (const Field &f : source.schema().staticFields)
      EXPECT_TRUE(row["static"].contains(f.name)) << f.name;
    EXPECT_TRUE(row["cam0"].is_string());
    EXPECT_EQ(row["vehicle"].size(), 8u);
    EXPECT_EQ(row["imu"].size(), 2u);
    EXPECT_EQ(row["imu"][0].size(), 3u);
    ++lines;
  }
  EXPECT_EQ(lines, 5);
}
