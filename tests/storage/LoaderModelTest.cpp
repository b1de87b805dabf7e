//===- LoaderModelTest.cpp - loader/consumer starvation math --------------===//
//
// Part of Tessera. Hand cases for the SystemC loader model: a device whose
// reads take exactly 100 us (NVMe with many units and zero-byte reads), so
// throughput, first-sample time and the consumer's idle time follow from the
// formulas in docs/storage-model.md. Also checks that several replays run in
// one process and give identical results.
//
//===----------------------------------------------------------------------===//

#include "tessera/Storage/LoaderModel.h"

#include <gtest/gtest.h>

using namespace tessera::storage;

namespace {
constexpr uint64_t us = 1000000ull;

/// NVMe reads of 0 bytes take exactly 100 us at any queue depth <= 1000.
StorageParams fixedLatency() {
  StorageParams p;
  p.nvme.readLatencyUs = 100;
  p.nvme.parallelUnits = 1000;
  return p;
}

/// `samples` samples of `opsPerSample` zero-byte reads each.
ReaderTrace uniformTrace(size_t samples, size_t opsPerSample,
                         size_t openOps = 0) {
  ReaderTrace t;
  t.files = {"f"};
  for (size_t i = 0; i < openOps; ++i)
    t.openOps.push_back(IoOp{0, i, 0});
  for (size_t s = 0; s < samples; ++s) {
    SampleTrace st;
    for (size_t i = 0; i < opsPerSample; ++i)
      st.ops.push_back(IoOp{0, s * 100 + i, 0});
    t.samples.push_back(st);
  }
  return t;
}

LoaderParams loaderWith(unsigned workers, double rate) {
  LoaderParams l;
  l.workers = workers;
  l.consumerSamplesPerSecond = rate;
  return l;
}
} // namespace

TEST(LoaderModel, OneWorkerUnlimitedConsumer) {
  LoaderResult r = replayTrace(DeviceKind::Nvme, fixedLatency(),
                               loaderWith(1, 0), uniformTrace(10, 1));
  EXPECT_EQ(r.samples, 10u);
  EXPECT_EQ(r.ioOps, 10u);
  EXPECT_EQ(r.firstSamplePs, 100 * us);
  EXPECT_EQ(r.endPs, 1000 * us);
  EXPECT_DOUBLE_EQ(r.samplesPerSecond(), 10000.0);
  EXPECT_DOUBLE_EQ(r.iops(), 10000.0);
  EXPECT_DOUBLE_EQ(r.meanIoLatencyUs(), 100.0);
}

TEST(LoaderModel, ConsumerSlowerThanLoaderNeverStarves) {
  // Loader: one sample per 100 us; consumer: one per 200 us.
  LoaderResult r = replayTrace(DeviceKind::Nvme, fixedLatency(),
                               loaderWith(1, 5000), uniformTrace(10, 1));
  EXPECT_EQ(r.consumerIdlePs, 0u);
  EXPECT_EQ(r.endPs, (100 + 10 * 200) * us);
  EXPECT_DOUBLE_EQ(r.consumerIdleFraction(), 0.0);
}

TEST(LoaderModel, ConsumerFasterThanLoaderStarves) {
  // Sample k is ready at 100(k+1) us; the consumer needs 50 us per sample and
  // then waits 50 us for the next: 9 waits, end = 1000 + 50 us.
  LoaderResult r = replayTrace(DeviceKind::Nvme, fixedLatency(),
                               loaderWith(1, 20000), uniformTrace(10, 1));
  EXPECT_EQ(r.firstSamplePs, 100 * us);
  EXPECT_EQ(r.consumerIdlePs, 9 * 50 * us);
  EXPECT_EQ(r.endPs, 1050 * us);
  EXPECT_DOUBLE_EQ(r.consumerIdleFraction(), 450.0 / 950.0);
}

TEST(LoaderModel, MoreWorkersRemoveStarvation) {
  // Two workers deliver two samples per 100 us, enough for 20000/s.
  LoaderResult r = replayTrace(DeviceKind::Nvme, fixedLatency(),
                               loaderWith(2, 20000), uniformTrace(10, 1));
  EXPECT_EQ(r.consumerIdlePs, 0u);
  EXPECT_EQ(r.endPs, (100 + 10 * 50) * us);
}

TEST(LoaderModel, DecodeTimeAddsToEachSample) {
  LoaderParams l = loaderWith(1, 0);
  l.decodeUsPerSample = 25;
  LoaderResult r =
      replayTrace(DeviceKind::Nvme, fixedLatency(), l, uniformTrace(4, 1));
  EXPECT_EQ(r.firstSamplePs, 125 * us);
  EXPECT_EQ(r.endPs, 4 * 125 * us);
}

TEST(LoaderModel, IoDepthIssuesWaves) {
  for (unsigned depth : {1u, 2u, 3u, 4u}) {
    LoaderParams l = loaderWith(1, 0);
    l.ioDepth = depth;
    LoaderResult r =
        replayTrace(DeviceKind::Nvme, fixedLatency(), l, uniformTrace(1, 4));
    uint64_t waves = (4 + depth - 1) / depth;
    EXPECT_EQ(r.endPs, waves * 100 * us) << "depth " << depth;
    EXPECT_EQ(r.ioOps, 4u);
  }
}

TEST(LoaderModel, OpenCostPerWorkerOrOnce) {
  LoaderParams l = loaderWith(2, 0);
  ReaderTrace t = uniformTrace(4, 1, /*openOps=*/3);
  LoaderResult perWorker = replayTrace(DeviceKind::Nvme, fixedLatency(), l, t);
  // Each worker: 3 open reads (300 us), then two samples.
  EXPECT_EQ(perWorker.ioOps, 2 * 3 + 4u);
  EXPECT_EQ(perWorker.firstSamplePs, 400 * us);
  EXPECT_EQ(perWorker.endPs, 500 * us);
  l.openPerWorker = false;
  LoaderResult once = replayTrace(DeviceKind::Nvme, fixedLatency(), l, t);
  EXPECT_EQ(once.ioOps, 3 + 4u);
  EXPECT_EQ(once.endPs, 500 * us);
}

TEST(LoaderModel, ReplaysAreIndependentAndDeterministic) {
  StorageParams p;
  ReaderTrace t;
  t.files = {"a", "b"};
  for (uint64_t s = 0; s < 200; ++s)
    t.samples.push_back(SampleTrace{
        {IoOp{0, (s * 7919) % 1000 * 65536, 65536}, IoOp{1, s * 4096, 4096}}});
  LoaderParams l = loaderWith(4, 36);
  for (DeviceKind kind :
       {DeviceKind::Nvme, DeviceKind::Hdd, DeviceKind::ObjectStore}) {
    LoaderResult a = replayTrace(kind, p, l, t);
    replayTrace(DeviceKind::Hdd, p, loaderWith(3, 0), uniformTrace(7, 2));
    LoaderResult b = replayTrace(kind, p, l, t);
    EXPECT_EQ(a.endPs, b.endPs) << deviceKindName(kind);
    EXPECT_EQ(a.consumerIdlePs, b.consumerIdlePs) << deviceKindName(kind);
    EXPECT_EQ(a.ioLatencySumPs, b.ioLatencySumPs) << deviceKindName(kind);
    EXPECT_EQ(a.ioOps, 400u);
    EXPECT_EQ(a.bytes, 200u * (65536 + 4096));
  }
}

TEST(LoaderModel, RejectsBadConfigurationAndTrace) {
  LoaderParams l;
  l.workers = 0;
  try {
    replayTrace(DeviceKind::Nvme, StorageParams(), l, uniformTrace(1, 1));
    FAIL() << "zero workers accepted";
  } catch (const std::invalid_argument &e) {
    EXPECT_STREQ(e.what(), "loader: workers must be >= 1");
  }
  ReaderTrace bad = uniformTrace(2, 1);
  bad.samples[1].ops[0].file = 3;
  try {
    replayTrace(DeviceKind::Nvme, StorageParams(), LoaderParams(), bad);
    FAIL() << "bad file index accepted";
  } catch (const std::invalid_argument &e) {
    EXPECT_STREQ(
        e.what(),
        "io trace: sample 1 op 0: file index 3 out of range (1 files)");
  }
}

TEST(LoaderModel, EmptyTrace) {
  LoaderResult r = replayTrace(DeviceKind::Nvme, StorageParams(),
                               LoaderParams(), uniformTrace(0, 0));
  EXPECT_EQ(r.samples, 0u);
  EXPECT_EQ(r.endPs, 0u);
  EXPECT_EQ(r.samplesPerSecond(), 0.0);
}

TEST(LoaderModel, OnClockConsumerTakesSamplesWhenDue) {
  // Samples ready every 100 us, due every 200 us: each is taken at its due
  // time 100 + 200 i, never waits, and the consumer works 10 us on each.
  LoaderParams l = loaderWith(1, 5000);
  l.consumerOnClock = true;
  l.consumerBusyUs = 10;
  LoaderResult r =
      replayTrace(DeviceKind::Nvme, fixedLatency(), l, uniformTrace(5, 1));
  std::vector<uint64_t> due;
  for (uint64_t i = 0; i < 5; ++i)
    due.push_back((100 + 200 * i) * us);
  EXPECT_EQ(r.consumedPs, due);
  EXPECT_EQ(r.consumerIdlePs, 0u);
  EXPECT_EQ(r.endPs, (900 + 10) * us);
}

TEST(LoaderModel, OnClockConsumerWaitsWithoutFallingFurtherBehind) {
  // Due every 50 us, ready every 100 us: sample i is due at 100 + 50 i and
  // taken when ready at 100 (i + 1): 50 i us late, and (unlike a training
  // consumer) no period is added after a late sample.
  LoaderParams l = loaderWith(1, 20000);
  l.consumerOnClock = true;
  LoaderResult r =
      replayTrace(DeviceKind::Nvme, fixedLatency(), l, uniformTrace(10, 1));
  for (uint64_t i = 0; i < 10; ++i)
    EXPECT_EQ(r.consumedPs.at(i), 100 * (i + 1) * us) << i;
  // Idle: from when it could take a sample (due, or the previous take) to
  // the take: 50 us for sample 1 (due 150, ready 200), 100 us for 2..9.
  EXPECT_EQ(r.consumerIdlePs, (50 + 8 * 100) * us);
  EXPECT_EQ(r.endPs, 1000 * us);
}

TEST(LoaderModel, ConsumerBusyTimeIsValidated) {
  LoaderParams l = loaderWith(1, 36);
  l.consumerBusyUs = -1;
  EXPECT_THROW(l.validate(), std::invalid_argument);
}
