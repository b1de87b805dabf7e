//===- Bench.h - the storage comparison benchmark ---------------*- C++ -*-===//
//
// Part of Tessera. Writes one drive log in every format, reads uniformly
// random samples (seeded) through counted I/O, replays the I/O traces on the
// storage-device and loader models and prints the comparison table.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BENCH_BENCH_H
#define TESSERA_BENCH_BENCH_H

#include "tessera/Baselines/Baseline.h"
#include "tessera/Storage/DeviceModel.h"
#include "tessera/Storage/LoaderModel.h"

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace tessera {
namespace bench {

/// A format under test: .smol or one of the baselines.
struct Format {
  std::string name;
  std::string description;
  bool lossy = false;
  std::function<void(const baselines::ContentSource &, const std::string &,
                     const baselines::Progress &)>
      write;
  std::function<std::unique_ptr<baselines::Reader>(const std::string &,
                                                   baselines::IoCounter &)>
      reader;
};

/// Wraps a baseline as a Format.
Format baselineFormat(std::shared_ptr<baselines::Baseline> baseline);

struct BenchOptions {
  std::string dir = "/tmp/tessera-storage-bench";
  uint64_t samples = 1000; ///< random samples read per format
  uint64_t rejects = 1000; ///< random early-rejected samples per format
  uint64_t seed = 1;
  uint64_t verify = 16; ///< samples compared with the source per format
  bool reuse = false;   ///< keep already-written formats
  storage::StorageParams device;
  storage::LoaderParams loader;      ///< consumer rate is set per scenario
  double chipFramesPerSecond = 36.0; ///< the chip consumer
  bool progress = true;
};

/// One format's measurements.
struct FormatResult {
  std::string name, description;
  bool lossy = false;
  uint64_t fileBytes = 0;
  double writeSeconds = 0;
  uint64_t openOps = 0, openBytes = 0;
  uint64_t sampleOps = 0, sampleBytes = 0; ///< totals over the samples
  uint64_t rejectOps = 0, rejectBytes = 0; ///< totals over the rejects
  uint64_t samples = 0, rejects = 0;
  uint64_t maxOpsPerSample = 0, minOpsPerSample = 0;
  double decodeCpuSeconds = 0; ///< total over the samples, I/O excluded
  double worstCameraPsnr = 0;  ///< lossy formats: lowest PSNR verified
  struct Device {
    storage::DeviceKind kind;
    storage::LoaderResult unlimited; ///< consumer as fast as data arrives
    storage::LoaderResult chip;      ///< consumer at chipFramesPerSecond
    uint64_t openPs = 0;             ///< open reads issued one after another
  };
  std::vector<Device> devices;

  double opsPerSample() const {
    return samples ? double(sampleOps) / samples : 0;
  }
  double bytesPerSample() const {
    return samples ? double(sampleBytes) / samples : 0;
  }
  double opsPerReject() const {
    return rejects ? double(rejectOps) / rejects : 0;
  }
  double bytesPerReject() const {
    return rejects ? double(rejectBytes) / rejects : 0;
  }
  double cpuMsPerSample() const {
    return samples ? decodeCpuSeconds * 1e3 / samples : 0;
  }
};

struct BenchResult {
  uint64_t records = 0;
  std::string contentSummary;
  BenchOptions options;
  std::vector<FormatResult> formats;
};

/// Runs the benchmark. Throws baselines::BaselineError or
/// std::invalid_argument on failure (including a sample that reads back
/// different from the source).
BenchResult runBench(const baselines::ContentSource &source,
                     const std::vector<Format> &formats,
                     const BenchOptions &options);

/// The table as text, with the ratios against the reference format (first
/// format, .smol) next to the source's claims.
void printTable(std::ostream &os, const BenchResult &result);
void printJson(std::ostream &os, const BenchResult &result);
void printCsv(std::ostream &os, const BenchResult &result);

} // namespace bench
} // namespace tessera

#endif // TESSERA_BENCH_BENCH_H
