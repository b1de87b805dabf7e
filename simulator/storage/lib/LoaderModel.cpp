//===- LoaderModel.cpp - data-loader replay on a device model -------------===//
//
// Part of Tessera. One SystemC module, elaborated once per process, replays
// any number of traces: a control thread waits for a "start" event, spawns
// the worker and consumer threads of one replay (dynamic processes), and the
// replay ends when no more events are pending (sc_start returns on event
// starvation). Results are differences of simulated time, so they do not
// depend on how many replays ran before.
//
// Device timing is annotated (loosely-timed TLM style): a worker asks the
// device model for a read's completion time and waits until then.
//
//===----------------------------------------------------------------------===//

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "tessera/Storage/LoaderModel.h"

#include <systemc>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <memory>
#include <stdexcept>

namespace tessera {
namespace storage {

void LoaderParams::validate() const {
  if (workers < 1)
    throw std::invalid_argument("loader: workers must be >= 1");
  if (ioDepth < 1)
    throw std::invalid_argument("loader: io_depth must be >= 1");
  if (prefetchDepth < 1)
    throw std::invalid_argument("loader: prefetch_depth must be >= 1");
  if (!std::isfinite(decodeUsPerSample) || decodeUsPerSample < 0)
    throw std::invalid_argument(
        "loader: decode_us_per_sample must be finite and >= 0");
  if (!std::isfinite(consumerBusyUs) || consumerBusyUs < 0)
    throw std::invalid_argument(
        "loader: consumer_busy_us must be finite and >= 0");
  if (!std::isfinite(consumerSamplesPerSecond) || consumerSamplesPerSecond < 0)
    throw std::invalid_argument(
        "loader: consumer_samples_per_second must be finite and >= 0");
}

double LoaderResult::seconds() const { return endPs * 1e-12; }
double LoaderResult::samplesPerSecond() const {
  return endPs ? samples / seconds() : 0.0;
}
double LoaderResult::iops() const { return endPs ? ioOps / seconds() : 0.0; }
double LoaderResult::bytesPerSecond() const {
  return endPs ? bytes / seconds() : 0.0;
}
double LoaderResult::consumerIdleFraction() const {
  uint64_t steady = endPs - firstSamplePs;
  return steady ? static_cast<double>(consumerIdlePs) / steady : 0.0;
}
double LoaderResult::meanIoLatencyUs() const {
  return ioOps ? ioLatencySumPs * 1e-6 / ioOps : 0.0;
}

namespace {

using sc_core::SC_PS;
using sc_core::sc_time;

/// The loader and consumer of one replay, driven by simulated time.
class LoaderSystem : public sc_core::sc_module {
public:
  SC_HAS_PROCESS(LoaderSystem);
  explicit LoaderSystem(sc_core::sc_module_name name) : sc_module(name) {
    SC_THREAD(control);
  }

  /// Runs one replay to completion and returns what it measured.
  LoaderResult run(DeviceModel &device, const LoaderParams &loader,
                   const ReaderTrace &trace) {
    this->device = &device;
    this->loader = &loader;
    this->trace = &trace;
    device.reset();
    result = LoaderResult();
    nextSample = 0;
    ready = 0;
    delivered = 0;
    workersLeft = loader.workers;
    haveFirst = false;
    done = false;
    // The first sc_start runs the initialization phase, in which the control
    // thread reaches its wait for `start`; only then can it be started.
    // (Another model's first sc_start may have done it already.)
    if (!initialized && !sc_core::sc_start_of_simulation_invoked())
      sc_core::sc_start(sc_core::SC_ZERO_TIME);
    initialized = true;
    start.notify(sc_core::SC_ZERO_TIME);
    sc_core::sc_start();
    if (!done)
      throw std::logic_error("storage loader replay did not finish");
    return result;
  }

private:
  DeviceModel *device = nullptr;
  const LoaderParams *loader = nullptr;
  const ReaderTrace *trace = nullptr;
  LoaderResult result;
  uint64_t t0 = 0;
  size_t nextSample = 0;
  unsigned ready = 0;     // samples in the prefetch buffer
  uint64_t delivered = 0; // samples put into the buffer so far
  unsigned workersLeft = 0;
  bool haveFirst = false;
  bool done = false;
  bool initialized = false;
  sc_core::sc_event start, bufferChanged, openDone;

  uint64_t nowPs() const { return sc_core::sc_time_stamp().value() - t0; }

  /// Issues `ops` in waves of ioDepth; each wave waits for its slowest read.
  void replayOps(const std::vector<IoOp> &ops) {
    unsigned depth = loader->ioDepth;
    for (size_t i = 0; i < ops.size(); i += depth) {
      uint64_t submitted = nowPs();
      uint64_t waveDone = submitted;
      for (size_t j = i; j < std::min(ops.size(), i + depth); ++j) {
        uint64_t completion = device->submit(ops[j], submitted);
        result.ioOps += 1;
        result.bytes += ops[j].bytes;
        result.ioLatencySumPs += completion - submitted;
        waveDone = std::max(waveDone, completion);
      }
      if (waveDone > submitted)
        sc_core::wait(sc_time::from_value(waveDone - submitted));
    }
  }

  void worker() {
    if (loader->openPerWorker)
      replayOps(trace->openOps);
    uint64_t decodePs = usToPs(loader->decodeUsPerSample);
    while (nextSample < trace->samples.size()) {
      const SampleTrace &sample = trace->samples[nextSample++];
      replayOps(sample.ops);
      if (decodePs)
        sc_core::wait(sc_time::from_value(decodePs));
      while (ready >= loader->prefetchDepth)
        sc_core::wait(bufferChanged);
      ++ready;
      ++delivered;
      if (!haveFirst) {
        haveFirst = true;
        result.firstSamplePs = nowPs();
      }
      bufferChanged.notify(sc_core::SC_ZERO_TIME);
    }
    --workersLeft;
  }

  void consumer() {
    uint64_t periodPs = loader->consumerSamplesPerSecond > 0
                            ? static_cast<uint64_t>(std::llround(
                                  1e12 / loader->consumerSamplesPerSecond))
                            : 0;
    uint64_t busyPs = usToPs(loader->consumerBusyUs), firstTakePs = 0;
    for (size_t i = 0; i < trace->samples.size(); ++i) {
      if (loader->consumerOnClock && periodPs && i > 0) {
        uint64_t due = firstTakePs + i * periodPs;
        if (nowPs() < due)
          sc_core::wait(sc_time::from_value(due - nowPs()));
      }
      uint64_t waitFrom = nowPs();
      while (ready == 0)
        sc_core::wait(bufferChanged);
      if (i > 0)
        result.consumerIdlePs += nowPs() - waitFrom;
      else
        firstTakePs = nowPs();
      --ready;
      result.consumedPs.push_back(nowPs());
      bufferChanged.notify(sc_core::SC_ZERO_TIME);
      if (loader->consumerOnClock) {
        if (busyPs)
          sc_core::wait(sc_time::from_value(busyPs));
      } else if (periodPs) {
        sc_core::wait(sc_time::from_value(periodPs));
      }
    }
    result.endPs = nowPs();
  }

  void control() {
    for (;;) {
      sc_core::wait(start);
      t0 = sc_core::sc_time_stamp().value();
      result.samples = trace->samples.size();
      if (!loader->openPerWorker)
        replayOps(trace->openOps);
      std::vector<sc_core::sc_process_handle> handles;
      for (unsigned w = 0; w < loader->workers; ++w)
        handles.push_back(sc_core::sc_spawn([this] { worker(); }));
      sc_core::sc_process_handle consumerHandle =
          sc_core::sc_spawn([this] { consumer(); });
      sc_core::wait(consumerHandle.terminated_event());
      for (sc_core::sc_process_handle &h : handles)
        if (!h.terminated())
          sc_core::wait(h.terminated_event());
      done = true;
    }
  }
};

LoaderSystem &loaderSystem() {
  static LoaderSystem *system = [] {
    // Keep stdout clean for machine-readable output (--json, --csv).
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return new LoaderSystem("tessera_storage_loader");
  }();
  return *system;
}

} // namespace

void prepareLoaderModel() { loaderSystem(); }

LoaderResult replayTrace(DeviceKind kind, const StorageParams &device,
                         const LoaderParams &loader, const ReaderTrace &trace) {
  loader.validate();
  trace.validate();
  std::unique_ptr<DeviceModel> model = makeDevice(kind, device);
  return loaderSystem().run(*model, loader, trace);
}

} // namespace storage
} // namespace tessera
