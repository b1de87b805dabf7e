//===- FormatTest.cpp - .smol round trips, index, layout, rejection -------===//
//
// Part of Tessera. Every dtype and layout written and read back equal; the
// index finds every timestamp and rejects absent ones; opening takes one
// read and a row one read; early rejection reads only a row prefix; the
// synthetic drive log (cameras, proprioception, planar cameras, encryption)
// reads back as generated.
//
//===----------------------------------------------------------------------===//

#include "SmolTestUtil.h"

#include "tessera/Smol/DriveLog.h"
#include "tessera/Smol/Reader.h"
#include "tessera/Smol/Writer.h"

#include <algorithm>
#include <map>
#include <random>
#include <sys/stat.h>

using namespace smoltest;

namespace {

const DType kAllTypes[] = {DType::U8,  DType::I8,   DType::U16, DType::I16,
                           DType::U32, DType::I32,  DType::U64, DType::I64,
                           DType::F16, DType::BF16, DType::F32, DType::F64};

/// A schema with every dtype in four shapes/layouts, dynamic and static.
std::vector<ColumnSpec> everyColumn() {
  std::vector<ColumnSpec> specs;
  for (DType t : kAllTypes) {
    std::string n = dtypeName(t);
    specs.push_back({n + "_scalar", t, {}, Role::Data, false, {}, ""});
    specs.push_back({n + "_vec", t, {5}, Role::Label, false, {}, ""});
    specs.push_back({n + "_mat", t, {3, 4}, Role::Proprio, false, {}, ""});
    specs.push_back(
        {n + "_chw", t, {2, 3, 4}, Role::Camera, false, {2, 0, 1}, ""});
    specs.push_back({n + "_static", t, {2, 3}, Role::Data, true, {1, 0}, ""});
  }
  return specs;
}

std::vector<uint8_t> randomBytes(std::mt19937_64 &rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (uint8_t &b : v)
    b = static_cast<uint8_t>(rng());
  return v;
}

struct Written {
  std::vector<int64_t> timestamps;
  std::vector<std::vector<std::vector<uint8_t>>> rows; ///< declared order
  std::map<std::string, std::vector<uint8_t>> statics;
};

Written writeEveryColumn(const std::string &path, uint64_t rows,
                         WriterOptions options = {}) {
  std::mt19937_64 rng(42);
  auto specs = everyColumn();
  Written w;
  Writer writer(path, specs, std::move(options));
  for (const ColumnSpec &s : specs)
    if (s.isStatic) {
      w.statics[s.name] = randomBytes(rng, s.plainBytes());
      writer.setStatic(s.name, w.statics[s.name]);
    }
  int64_t ts = -1000;
  for (uint64_t r = 0; r < rows; ++r) {
    ts += 1 + static_cast<int64_t>(rng() % 1000); // irregular spacing
    std::vector<std::vector<uint8_t>> values;
    for (const ColumnSpec &s : specs)
      if (!s.isStatic)
        values.push_back(randomBytes(rng, s.plainBytes()));
    writer.append(ts, std::vector<ConstBytes>(values.begin(), values.end()));
    w.timestamps.push_back(ts);
    w.rows.push_back(std::move(values));
  }
  writer.finish();
  return w;
}

} // namespace

TEST(SmolFormat, RoundTripEveryDTypeAndLayout) {
  TempDir dir;
  std::string path = dir.path("every.smol");
  Written w = writeEveryColumn(path, 20);
  auto r = Reader::open(path);
  ASSERT_EQ(r->size(), 20u);
  auto specs = everyColumn();
  // Stored order: dynamic columns by size ascending, then static ones.
  uint64_t last = 0;
  bool inStatic = false;
  for (const Column &c : r->columns()) {
    if (c.spec.isStatic) {
      inStatic = true;
      continue;
    }
    EXPECT_FALSE(inStatic) << "dynamic column after a static one";
    EXPECT_GE(c.storedBytes, last) << c.spec.name;
    last = c.storedBytes;
    EXPECT_EQ(c.offset % kDefaultColumnAlignment, 0u) << c.spec.name;
  }
  for (uint64_t i = 0; i < r->size(); ++i) {
    EXPECT_EQ(r->entries()[i].offset % 4096, 0u);
    Row row = r->readRow(i);
    EXPECT_EQ(row.timestamp(), w.timestamps[i]);
    size_t k = 0;
    for (const ColumnSpec &s : specs) {
      if (s.isStatic)
        continue;
      TensorView v = row.column(s.name);
      EXPECT_EQ(v.dtype(), s.dtype);
      ASSERT_EQ(v.bytes, s.plainBytes());
      // Stored layout: the logical tensor permuted; logicalCopy undoes it.
      EXPECT_EQ(v.logicalCopy(), w.rows[i][k]) << s.name << " row " << i;
      std::vector<uint8_t> stored(s.plainBytes());
      permuteTensor(w.rows[i][k].data(), stored.data(), s.shape, s.perm,
                    dtypeSize(s.dtype));
      EXPECT_TRUE(std::equal(stored.begin(), stored.end(), v.data)) << s.name;
      if (!s.perm.empty()) {
        std::vector<uint32_t> want = {s.shape[2], s.shape[0], s.shape[1]};
        EXPECT_EQ(v.storedShape(), want);
      }
      // Zero copy: the view points into the row buffer, stably.
      EXPECT_EQ(row.column(s.name).data, v.data);
      ++k;
    }
  }
  for (const auto &[name, bytes] : w.statics)
    EXPECT_EQ(r->staticColumn(name).logicalCopy(), bytes) << name;
}

TEST(SmolFormat, TypedViews) {
  TempDir dir;
  std::string path = dir.path("typed.smol");
  {
    Writer w(path, {{"x", DType::F32, {3}, Role::Data, false, {}, ""},
                    {"n", DType::I64, {}, Role::Data, false, {}, ""}});
    float x[3] = {1.5f, -2.0f, 3.25f};
    int64_t n = -7;
    w.append(5, {ConstBytes(reinterpret_cast<uint8_t *>(x), 12),
                 ConstBytes(reinterpret_cast<uint8_t *>(&n), 8)});
    w.finish();
  }
  auto r = Reader::open(path);
  Row row = r->readTimestamp(5);
  Span<float> x = row.column("x").as<float>();
  ASSERT_EQ(x.size(), 3u);
  EXPECT_EQ(x[0], 1.5f);
  EXPECT_EQ(x[2], 3.25f);
  EXPECT_EQ(row.column("n").as<int64_t>()[0], -7);
  EXPECT_THROW(row.column("x").as<double>(), Error);
}

TEST(SmolFormat, IndexFindsEveryTimestampAndRejectsAbsentOnes) {
  TempDir dir;
  std::string path = dir.path("index.smol");
  Written w = writeEveryColumn(path, 64);
  auto r = Reader::open(path);
  for (uint64_t i = 0; i < w.timestamps.size(); ++i) {
    auto found = r->findTimestamp(w.timestamps[i]);
    ASSERT_TRUE(found.has_value()) << w.timestamps[i];
    EXPECT_EQ(*found, i);
    EXPECT_EQ(r->readTimestamp(w.timestamps[i]).index(), i);
  }
  std::vector<int64_t> absent = {w.timestamps.front() - 1,
                                 w.timestamps.back() + 1, INT64_MIN, INT64_MAX};
  for (size_t i = 1; i < w.timestamps.size(); ++i)
    if (w.timestamps[i] - w.timestamps[i - 1] > 1)
      absent.push_back(w.timestamps[i - 1] + 1);
  for (int64_t t : absent) {
    EXPECT_FALSE(r->findTimestamp(t).has_value()) << t;
    expectError<Error>([&] { r->readTimestamp(t); },
                       {path, "no row with timestamp " + std::to_string(t)});
  }
  expectError<Error>([&] { r->readRow(64); }, {path, "out of range"});
}

TEST(SmolFormat, OneReadToOpenAndOneReadPerRow) {
  TempDir dir;
  std::string path = dir.path("reads.smol");
  writeEveryColumn(path, 50);
  auto file = std::make_unique<PosixFile>(path);
  PosixFile *f = file.get();
  Reader r(std::move(file));
  EXPECT_EQ(f->stats().ops, 1u);
  EXPECT_EQ(r.openStats().ops, 1u);
  for (uint64_t i : {0u, 49u, 17u, 17u}) {
    uint64_t before = f->stats().ops;
    Row row = r.readRow(i);
    for (uint32_t k = 0; k < r.dynamicColumns(); ++k)
      row.column(k);
    EXPECT_EQ(f->stats().ops - before, 1u);
  }
  // A header larger than the open prefix costs exactly one more read.
  ReaderOptions small;
  small.openPrefixBytes = 256;
  auto file2 = std::make_unique<PosixFile>(path);
  PosixFile *f2 = file2.get();
  Reader r2(std::move(file2), small);
  EXPECT_EQ(f2->stats().ops, 2u);
  EXPECT_EQ(r2.size(), 50u);
}

TEST(SmolFormat, PublishedFileIsReadOnlyAndNeverReplaced) {
  TempDir dir;
  std::string path = dir.path("ro.smol");
  writeEveryColumn(path, 3);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  expectError<Error>([&] { writeEveryColumn(path, 3); },
                     {path, "already exists"});
  // No temporary file is left behind by either writer.
  EXPECT_EQ(std::system(
                ("test -z \"$(ls -A '" + dir.dir + "' | grep -v '^ro.smol$')\"")
                    .c_str()),
            0);
}

TEST(SmolFormat, MoreRowsThanReservedAndFewer) {
  TempDir dir;
  for (uint64_t expected : {0u, 2u, 100u}) {
    std::string path = dir.path("reserve" + std::to_string(expected));
    WriterOptions o;
    o.expectedRows = expected;
    Written w = writeEveryColumn(path, 10, o);
    auto r = Reader::open(path);
    ASSERT_EQ(r->size(), 10u);
    EXPECT_TRUE(r->verify().problems.empty());
    auto specs = everyColumn();
    for (uint64_t i = 0; i < 10; ++i) {
      Row row = r->readRow(i);
      size_t k = 0;
      for (const ColumnSpec &s : specs)
        if (!s.isStatic)
          EXPECT_EQ(row.column(s.name).logicalCopy(), w.rows[i][k++]);
    }
  }
}

TEST(SmolFormat, EmptyFileWithOnlyStatics) {
  TempDir dir;
  std::string path = dir.path("empty.smol");
  {
    Writer w(path, {{"calib", DType::F32, {2}, Role::Data, true, {}, ""},
                    {"x", DType::F32, {}, Role::Data, false, {}, ""}});
    float c[2] = {1, 2};
    w.setStatic("calib", ConstBytes(reinterpret_cast<uint8_t *>(c), 8));
    w.finish();
  }
  auto r = Reader::open(path);
  EXPECT_EQ(r->size(), 0u);
  EXPECT_EQ(r->staticColumn("calib").as<float>()[1], 2.0f);
  EXPECT_FALSE(r->findTimestamp(0).has_value());
}

TEST(SmolFormat, WriterRejectsBadInput) {
  TempDir dir;
  auto make = [&](std::vector<ColumnSpec> specs, WriterOptions o = {}) {
    Writer w(dir.path("bad.smol"), std::move(specs), std::move(o));
  };
  ColumnSpec a{"a", DType::F32, {}, Role::Data, false, {}, ""};
  expectError<Error>([&] { make({a, a}); }, {"duplicate column name"});
  ColumnSpec p = a;
  p.shape = {2, 3};
  p.perm = {0, 0};
  expectError<Error>([&] { make({p}); }, {"not a permutation"});
  ColumnSpec e = a;
  e.keyId = "k";
  expectError<Error>([&] { make({e}); }, {"no key with id 'k'"});
  ColumnSpec s = a;
  s.isStatic = true;
  s.keyId = "k";
  expectError<Error>([&] { make({s}); }, {"static columns cannot"});
  ColumnSpec big = a;
  big.shape = {1u << 31, 1u << 31, 1u << 31};
  expectError<Error>([&] { make({big}); }, {"shape too large"});

  Writer w(dir.path("ok.smol"),
           {a, {"c", DType::U8, {}, Role::Data, true, {}, ""}});
  float x = 1;
  ConstBytes xb(reinterpret_cast<uint8_t *>(&x), 4);
  w.append(10, {xb});
  expectError<Error>([&] { w.append(10, {xb}); }, {"does not increase"});
  expectError<Error>([&] { w.append(11, {ConstBytes(xb.data, 3)}); },
                     {"column 'a'", "expected 4"});
  expectError<Error>([&] { w.append(11, {}); }, {"1 dynamic columns"});
  expectError<Error>([&] { w.finish(); }, {"static column 'c'", "never set"});
  EXPECT_FALSE(exists(dir.path("ok.smol")));
}

TEST(SmolFormat, EarlyRejectionReadsOnlyThePrefix) {
  TempDir dir;
  std::string path = dir.path("drive.smol");
  DriveLogOptions o;
  o.records = 1500; // the scene, and the speed, changes every 360 rows
  o.seed = 9;
  o.cameras = 2;
  DriveLog log(o);
  writeDriveLog(log, path, {});
  auto file = std::make_unique<PosixFile>(path);
  PosixFile *f = file.get();
  Reader r(std::move(file));
  float lo = 1e9f, hi = -1e9f;
  for (uint64_t i = 0; i < r.size(); i += 90) {
    float speed;
    std::memcpy(&speed, log.row(i)[1].data(), 4);
    lo = std::min(lo, speed);
    hi = std::max(hi, speed);
  }
  ASSERT_LT(lo + 1, hi) << "the log should drive at several speeds";
  Predicate p = Predicate::parse("speed > " + std::to_string((lo + hi) / 2));
  uint64_t prefix = r.prefixFor("speed");
  EXPECT_EQ(prefix, 4096u);
  EXPECT_LT(prefix, r.preamble().rowBytes);
  RejectStats st;
  uint64_t rejected = 0, kept = 0;
  for (uint64_t i = 0; i < r.size(); i += 7) {
    float speed;
    std::memcpy(&speed, log.row(i)[1].data(), 4);
    IoStats before = f->stats();
    std::optional<Row> row = r.readIf(i, p, &st);
    IoStats after = f->stats();
    EXPECT_EQ(row.has_value(), p.holds(speed)) << i;
    if (!row) {
      ++rejected;
      EXPECT_EQ(after.ops - before.ops, 1u);
      EXPECT_EQ(after.bytes - before.bytes, prefix);
    } else {
      ++kept;
      EXPECT_EQ(after.ops - before.ops, 2u);
      EXPECT_EQ(after.bytes - before.bytes, r.preamble().rowBytes);
      EXPECT_EQ(row->column("cam_front").logicalCopy(), log.row(i)[10]);
    }
  }
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(kept, 0u);
  EXPECT_EQ(st.rowsRejected, rejected);
  EXPECT_EQ(st.bytesSaved, rejected * (r.preamble().rowBytes - prefix));
  EXPECT_LT(st.bytesRead, (rejected + kept) * r.preamble().rowBytes);

  // A prefix read gives the leading columns and refuses the others.
  Row head = r.readPrefix(3, prefix);
  EXPECT_TRUE(head.has("speed"));
  EXPECT_FALSE(head.has("cam_front"));
  expectError<Error>([&] { head.column("cam_front"); },
                     {"not in the bytes read"});
  expectError<Error>([&] { r.readIf(0, Predicate::parse("cam_front > 1")); },
                     {"not a plaintext scalar"});
  expectError<Error>([&] { r.readIf(0, Predicate::parse("nope > 1")); },
                     {"no dynamic column 'nope'"});
}

TEST(SmolFormat, PredicateParsing) {
  struct Case {
    const char *text;
    double x;
    bool holds;
  } cases[] = {{"speed > 25", 26, true},   {"speed>25", 25, false},
               {"speed >= 25", 25, true},  {" speed < -1.5 ", -2, true},
               {"speed <= 1e1", 10, true}, {"speed == 3", 3, true},
               {"speed != 3", 3, false}};
  for (const Case &c : cases) {
    Predicate p = Predicate::parse(c.text);
    EXPECT_EQ(p.column, "speed") << c.text;
    EXPECT_EQ(p.holds(c.x), c.holds) << c.text;
  }
  for (const char *bad :
       {"speed", "> 3", "speed > ", "speed > x", "speed >> 3", "speed = 3",
        "speed > nan", "sp eed > 3", "speed > 3 4"})
    expectError<Error>([&] { Predicate::parse(bad); },
                       {"predicate '" + std::string(bad) + "'"});
}

TEST(SmolFormat, DriveLogRoundTripWithProprioceptionPlanarAndEncryption) {
  TempDir dir;
  std::string path = dir.path("robot.smol");
  DriveLogOptions o;
  o.records = 12;
  o.seed = 5;
  o.width = 16;
  o.height = 8;
  o.cameras = 3;
  o.proprioception = true;
  o.joints = 6;
  o.planarCameras = true;
  DriveLog log(o);
  WriterOptions w;
  w.keys.add("fleet", Keyring::generate());
  Keyring keys = w.keys;
  writeDriveLog(log, path, w, {"cam_front", "joint_torque"});
  ReaderOptions ro;
  ro.keys = keys;
  auto r = Reader::open(path, ro);
  EXPECT_TRUE(r->preamble().flags & kFlagEncrypted);
  EXPECT_TRUE(r->preamble().flags & kFlagProprioception);
  EXPECT_EQ(r->find("cam_front")->spec.keyId, "fleet");
  EXPECT_EQ(r->find("cam_front")->storedShape(),
            (std::vector<uint32_t>{3, 8, 16}));
  auto statics = log.staticValues();
  size_t k = 0;
  for (const ColumnSpec &s : log.columns())
    if (s.isStatic)
      EXPECT_EQ(r->staticColumn(s.name).logicalCopy(), statics[k++]);
  for (uint64_t i = 0; i < log.size(); ++i) {
    Row row = r->readRow(i);
    EXPECT_EQ(row.timestamp(), log.timestamp(i));
    auto want = log.row(i);
    size_t d = 0;
    for (const ColumnSpec &s : log.columns())
      if (!s.isStatic)
        EXPECT_EQ(row.column(s.name).logicalCopy(), want[d++]) << s.name;
  }
  VerifyReport v = r->verify();
  EXPECT_TRUE(v.problems.empty());
  EXPECT_EQ(v.columnsAuthenticated, 2 * log.size());
}

TEST(SmolFormat, DirectIoReadsWholeAlignedBlocks) {
  TempDir dir;
  std::string path = dir.path("direct.smol");
  Written w = writeEveryColumn(path, 9);
  std::unique_ptr<PosixFile> file;
  try {
    file = std::make_unique<PosixFile>(path, /*directIo=*/true);
  } catch (const Error &e) {
    GTEST_SKIP() << "no O_DIRECT here: " << e.what();
  }
  PosixFile *f = file.get();
  Reader r(std::move(file));
  EXPECT_EQ(f->stats().ops, 1u);
  auto buffered = Reader::open(path);
  uint64_t stride = r.preamble().rowStride();
  for (uint64_t i = 0; i < r.size(); ++i) {
    IoStats before = f->stats();
    Row row = r.readRow(i);
    EXPECT_EQ(f->stats().ops - before.ops, 1u);
    // Rows are aligned and padded: the device reads exactly one stride.
    EXPECT_EQ(f->stats().bytes - before.bytes, stride);
    Row same = buffered->readRow(i);
    for (uint32_t k = 0; k < r.dynamicColumns(); ++k)
      EXPECT_EQ(row.column(k).logicalCopy(), same.column(k).logicalCopy());
  }
}

TEST(SmolFormat, PermuteTensorKnownValues) {
  // Logical 2x3 [[0 1 2] [3 4 5]] stored transposed (perm {1, 0}) is 3x2
  // [[0 3] [1 4] [2 5]]; the inverse gives the logical order back.
  std::vector<uint8_t> logical = {0, 1, 2, 3, 4, 5}, stored(6), back(6);
  permuteTensor(logical.data(), stored.data(), {2, 3}, {1, 0}, 1);
  EXPECT_EQ(stored, (std::vector<uint8_t>{0, 3, 1, 4, 2, 5}));
  permuteTensor(stored.data(), back.data(), {2, 3}, {1, 0}, 1, true);
  EXPECT_EQ(back, logical);
  // HxWx3 -> 3xHxW (planar) with 2-byte elements.
  std::vector<uint16_t> hwc(2 * 2 * 3), chw(12);
  for (uint16_t i = 0; i < 12; ++i)
    hwc[i] = i; // value = (y*2 + x)*3 + c
  permuteTensor(reinterpret_cast<uint8_t *>(hwc.data()),
                reinterpret_cast<uint8_t *>(chw.data()), {2, 2, 3}, {2, 0, 1},
                2);
  for (uint16_t c = 0; c < 3; ++c)
    for (uint16_t p = 0; p < 4; ++p)
      EXPECT_EQ(chw[c * 4 + p], p * 3 + c);
}
