//===- DeviceModelTest.cpp - device timing formulas, exact ----------------===//
//
// Part of Tessera. Checks each device model against the formulas of
// docs/storage-model.md on hand-computed cases, in exact picoseconds.
//
//===----------------------------------------------------------------------===//

#include "tessera/Storage/DeviceModel.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

using namespace tessera::storage;

namespace {
constexpr uint64_t us = 1000000ull;   // picoseconds per microsecond
constexpr uint64_t ms = 1000ull * us; // picoseconds per millisecond

IoOp op(uint32_t file, uint64_t offset, uint64_t bytes) {
  IoOp o;
  o.file = file;
  o.offset = offset;
  o.bytes = bytes;
  return o;
}
// Issue 12, item 5: the storage parameters' table in
// docs/limits-and-errors.md is the code's: every parameter has a row, both
// ends of the row's range are accepted and a value past either end is the
// range error quoting that range.
TEST(DeviceModel, LimitsDocMatchesTheParameterRanges) {
  std::ifstream in(std::string(TESSERA_SOURCE_DIR) +
                   "/docs/limits-and-errors.md");
  std::ostringstream doc;
  doc << in.rdbuf();
  std::map<std::string, std::pair<double, double>> rows;
  std::istringstream lines(doc.str());
  std::string line;
  while (std::getline(lines, line)) {
    char key[64];
    double lo, hi;
    if (std::sscanf(line.c_str(), "| `%63[a-z_.]` | %lf .. %lf |", key, &lo,
                    &hi) == 3 &&
        std::strchr(key, '.'))
      rows[key] = {lo, hi};
  }
  std::istringstream described(StorageParams().describe());
  unsigned checked = 0;
  while (std::getline(described, line)) {
    std::string key = line.substr(0, line.find(' '));
    auto it = rows.find(key);
    ASSERT_NE(it, rows.end()) << "docs/limits-and-errors.md has no row for "
                              << key;
    auto [lo, hi] = it->second;
    StorageParams p;
    char text[64];
    for (double v : {lo, hi}) {
      std::snprintf(text, sizeof text, "%.17g", v);
      EXPECT_NO_THROW(p.set(key, text)) << key << " = " << text;
    }
    for (double v : {lo / 2, hi * 2}) {
      std::snprintf(text, sizeof text, "%.17g", v);
      try {
        p.set(key, text);
        ADD_FAILURE() << key << " = " << text << " accepted";
      } catch (const std::invalid_argument &e) {
        EXPECT_NE(std::string(e.what()).find("is outside its range"),
                  std::string::npos)
            << e.what();
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, rows.size());
  EXPECT_GE(checked, 10u);
}

} // namespace

TEST(DeviceModel, TransferRoundsUp) {
  // 4096 B at 3500 MB/s = 1170285.71... ps.
  EXPECT_EQ(transferPs(4096, 3500.0), 1170286u);
  EXPECT_EQ(transferPs(1000, 1000.0), 1 * us);
  EXPECT_EQ(transferPs(0, 1000.0), 0u);
  EXPECT_EQ(usToPs(90.0), 90 * us);
  EXPECT_EQ(msToPs(4.1666666666), 4166666667u);
}

TEST(DeviceModel, NvmeDefaultQd1Read) {
  NvmeModel nvme(NvmeParams{});
  // L = 90 us plus 4096 B over 3500 MB/s.
  EXPECT_EQ(nvme.submit(op(0, 0, 4096), 0), 90 * us + 1170286u);
}

TEST(DeviceModel, NvmeUnitsAndSharedLink) {
  NvmeParams p;
  p.readLatencyUs = 10;
  p.parallelUnits = 2;
  p.bandwidthMBps = 1000; // 1000 B take 1 us
  NvmeModel nvme(p);
  // Two units start at once; the link serializes the transfers.
  EXPECT_EQ(nvme.submit(op(0, 0, 1000), 0), 11 * us);
  EXPECT_EQ(nvme.submit(op(0, 8192, 1000), 0), 12 * us);
  // Third read waits for unit 0 (free at 11 us): 11 + 10 + 1.
  EXPECT_EQ(nvme.submit(op(0, 16384, 1000), 0), 22 * us);
  // After reset the device is idle again.
  nvme.reset();
  EXPECT_EQ(nvme.submit(op(0, 0, 1000), 5 * us), 16 * us);
}

TEST(DeviceModel, NvmeLatencyGrowsWithQueueDepth) {
  NvmeParams p;
  p.readLatencyUs = 100;
  p.parallelUnits = 4;
  p.bandwidthMBps = 1e9; // 4096 B take ceil(4.096) = 5 ps on the link
  NvmeModel nvme(p);
  // 8 reads at t=0 on 4 units: the second four wait for a unit, so their
  // latency doubles (queue depth 8 > 4 units); the link adds 5 ps per read.
  for (uint64_t i = 0; i < 4; ++i)
    EXPECT_EQ(nvme.submit(op(0, i * 4096, 4096), 0), 100 * us + 5 * (i + 1));
  for (uint64_t i = 4; i < 8; ++i)
    EXPECT_EQ(nvme.submit(op(0, i * 4096, 4096), 0), 200 * us + 5 * (i - 2));
}

TEST(DeviceModel, HddSeekRotationAndSequential) {
  HddParams p;
  p.avgSeekMs = 5;
  p.rpm = 6000;          // half a revolution = 5 ms
  p.bandwidthMBps = 100; // 10^6 B take 10 ms
  HddModel hdd(p);
  EXPECT_EQ(hdd.submit(op(0, 0, 1000000), 0), 20 * ms);
  // Continues where the head is: transfer only, after the first completes.
  EXPECT_EQ(hdd.submit(op(0, 1000000, 1000000), 0), 30 * ms);
  // Another file: seek + rotation again.
  EXPECT_EQ(hdd.submit(op(1, 1000000, 1000000), 50 * ms), 70 * ms);
  // Backwards in the same file: random.
  EXPECT_EQ(hdd.submit(op(1, 0, 1000000), 70 * ms), 90 * ms);
  // Default: 8 ms seek + 30000/7200 ms rotation + 4096 B at 250 MB/s.
  HddModel def(HddParams{});
  EXPECT_EQ(def.submit(op(0, 0, 4096), 0), 8 * ms + 4166666667u + 16384000u);
}

TEST(DeviceModel, ObjectStoreFirstByteConnectionAndNic) {
  ObjectStoreParams p;
  p.firstByteMs = 20;
  p.perConnectionMBps = 10; // 10^6 B take 100 ms on one connection
  p.nicMBps = 100;          // 10^6 B take 10 ms on the NIC
  ObjectStoreModel store(p);
  EXPECT_EQ(store.submit(op(0, 0, 1000000), 0), 120 * ms);
  store.reset();
  // Twenty concurrent GETs: the k-th leaves the NIC at 20 + 10k ms.
  for (uint64_t k = 1; k <= 20; ++k)
    EXPECT_EQ(store.submit(op(0, k * 1000000, 1000000), 0),
              std::max<uint64_t>(120 * ms, (20 + 10 * k) * ms));
}

TEST(DeviceModel, ParamsSetAndDescribe) {
  StorageParams p;
  p.set("nvme.read_latency_us", "80");
  p.set("nvme.parallel_units", "128");
  p.set("object_store.first_byte_ms", "45.5");
  EXPECT_EQ(p.nvme.readLatencyUs, 80);
  EXPECT_EQ(p.nvme.parallelUnits, 128u);
  EXPECT_EQ(p.objectStore.firstByteMs, 45.5);
  EXPECT_NE(p.describe().find("hdd.rpm = 7200"), std::string::npos);
}

TEST(DeviceModel, ParamsRejectBadInput) {
  StorageParams p;
  try {
    p.set("nvme.latency", "80");
    FAIL() << "unknown key accepted";
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find("unknown storage parameter "
                                         "'nvme.latency'"),
              std::string::npos);
  }
  EXPECT_THROW(p.set("hdd.rpm", "-1"), std::invalid_argument);
  EXPECT_THROW(p.set("hdd.rpm", "fast"), std::invalid_argument);
  EXPECT_THROW(p.set("hdd.rpm", ""), std::invalid_argument);
  EXPECT_THROW(p.set("nvme.parallel_units", "2.5"), std::invalid_argument);
  EXPECT_THROW(parseDeviceKind("tape"), std::invalid_argument);
  EXPECT_EQ(parseDeviceKind("object-store"), DeviceKind::ObjectStore);
}

TEST(DeviceModel, ParamsFile) {
  std::string path = ::testing::TempDir() + "storage_params.cfg";
  {
    std::ofstream out(path);
    out << "# test\nhdd.avg_seek_ms = 4   # short stroke\n\nhdd.rpm=15000\n";
  }
  StorageParams p;
  p.loadFile(path);
  EXPECT_EQ(p.hdd.avgSeekMs, 4);
  EXPECT_EQ(p.hdd.rpm, 15000);
  {
    std::ofstream out(path);
    out << "hdd.rpm = 15000\nnonsense line\n";
  }
  try {
    p.loadFile(path);
    FAIL() << "bad line accepted";
  } catch (const std::invalid_argument &e) {
    // toml++'s syntax error, with line and column.
    EXPECT_NE(std::string(e.what()).find("storage_params.cfg:2:"),
              std::string::npos)
        << e.what();
  }
  {
    std::ofstream out(path);
    out << "[hdd]\nrpm = 5400\navg_seek_ms = -1\n";
  }
  try {
    p.loadFile(path);
    FAIL() << "negative seek accepted";
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "storage_params.cfg:3: storage parameter hdd.avg_seek_ms: "
                  "expected a positive number, got '-1'"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(p.hdd.rpm, 5400);
  std::remove(path.c_str());
  EXPECT_THROW(p.loadFile(path), std::invalid_argument);
}

TEST(DeviceModel, SequentialOpenTime) {
  HddParams p;
  p.avgSeekMs = 5;
  p.rpm = 6000;
  p.bandwidthMBps = 100;
  HddModel hdd(p);
  // A scan of three consecutive 1 MB reads: one positioning, three
  // transfers; then a jump back costs a positioning again.
  std::vector<IoOp> ops{op(0, 0, 1000000), op(0, 1000000, 1000000),
                        op(0, 2000000, 1000000), op(0, 0, 0)};
  EXPECT_EQ(sequentialPs(hdd, ops), (10 + 30 + 10) * ms);
  NvmeModel nvme(NvmeParams{});
  EXPECT_EQ(sequentialPs(nvme, {op(0, 0, 0), op(0, 0, 0)}), 2 * 90 * us);
  EXPECT_EQ(sequentialPs(nvme, {}), 0u);
}
