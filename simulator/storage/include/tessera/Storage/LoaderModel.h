//===- LoaderModel.h - data-loader replay on a device model -----*- C++ -*-===//
//
// Part of Tessera. A SystemC model of a data loader: worker threads read
// samples (replaying a reader's I/O trace on a device model), spend the CPU
// time that turns bytes into tensors, and push ready samples into a bounded
// prefetch buffer; a consumer (the chip at 36 fps, or a training step) takes
// one sample per period. The model is elaborated once per process and can
// replay any number of traces (SystemC allows one elaboration per process).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_STORAGE_LOADERMODEL_H
#define TESSERA_STORAGE_LOADERMODEL_H

#include "tessera/Storage/DeviceModel.h"
#include "tessera/Storage/IoTrace.h"

#include <cstdint>
#include <vector>

namespace tessera {
namespace storage {

/// How the loader is configured.
struct LoaderParams {
  /// Worker threads reading samples concurrently.
  unsigned workers = 8;
  /// Reads one worker keeps outstanding within one sample: a sample's reads
  /// are issued in waves of `ioDepth` and a wave waits for its slowest read.
  unsigned ioDepth = 1;
  /// Ready samples the prefetch buffer holds; a worker with a ready sample
  /// waits while it is full.
  unsigned prefetchDepth = 16;
  /// CPU time a worker spends turning one sample's bytes into tensors, in
  /// microseconds.
  double decodeUsPerSample = 0.0;
  /// Samples per second the consumer takes; 0 means as fast as they arrive.
  double consumerSamplesPerSecond = 0.0;
  /// How the consumer paces itself. Off (a training step): after taking a
  /// sample it is busy for 1/consumerSamplesPerSecond, so a late sample
  /// delays every later one. On (a camera-driven consumer such as the chip):
  /// sample i is due at first + i/consumerSamplesPerSecond and taken then, or
  /// as soon as it arrives after that; the consumer is busy
  /// consumerBusyUs after each sample and catches up when it is behind.
  bool consumerOnClock = false;
  /// With consumerOnClock: time the consumer works on one sample, in
  /// microseconds.
  double consumerBusyUs = 0.0;
  /// Each worker replays the trace's open ops before its first sample (as a
  /// forked data-loader worker opens its own file handles); otherwise they are
  /// replayed once, before any worker starts.
  bool openPerWorker = true;

  /// Throws std::invalid_argument naming the field when a value is out of
  /// range (workers, ioDepth, prefetchDepth >= 1; times and rates finite and
  /// >= 0).
  void validate() const;
};

/// What one replay measured. Times are integer picoseconds of simulated time
/// relative to the start of the replay; the doubles are derived from them.
struct LoaderResult {
  uint64_t samples = 0;
  /// Reads issued, including the open reads.
  uint64_t ioOps = 0;
  uint64_t bytes = 0;
  /// When the last sample was consumed (unlimited consumer: delivered).
  uint64_t endPs = 0;
  /// When the first sample reached the buffer.
  uint64_t firstSamplePs = 0;
  /// Time the consumer waited for an empty buffer after the first sample.
  uint64_t consumerIdlePs = 0;
  /// Sum over reads of (completion - submission).
  uint64_t ioLatencySumPs = 0;
  /// When the consumer took each sample out of the buffer, in sample order.
  std::vector<uint64_t> consumedPs;

  double seconds() const;
  double samplesPerSecond() const;
  double iops() const;
  double bytesPerSecond() const;
  /// consumerIdlePs / (endPs - firstSamplePs): the share of the steady state
  /// the consumer starved for data (0 when the loader keeps up).
  double consumerIdleFraction() const;
  double meanIoLatencyUs() const;
};

/// Replays `trace` through a `kind` device with `device` parameters and the
/// loader `loader`. Reentrant across calls (not threads): every call starts
/// from an idle device and an empty buffer. The first call elaborates the
/// SystemC model, so it must come before any other sc_start() in the process
/// (or from a process that elaborated nothing else). Throws
/// std::invalid_argument on an invalid trace or loader configuration.
LoaderResult replayTrace(DeviceKind kind, const StorageParams &device,
                         const LoaderParams &loader, const ReaderTrace &trace);

/// Creates the loader's SystemC module now. SystemC elaborates every module
/// at the first sc_start, and none can be added after: a program that also
/// runs another SystemC model (the chip) calls this before that model's first
/// simulation.
void prepareLoaderModel();

} // namespace storage
} // namespace tessera

#endif // TESSERA_STORAGE_LOADERMODEL_H
