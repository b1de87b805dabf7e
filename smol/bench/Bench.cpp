//===- Bench.cpp - the storage comparison benchmark -----------------------===//
//
// Part of Tessera. See Bench.h and docs/storage-bench.md.
//
//===----------------------------------------------------------------------===//

#include "Bench.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

namespace tessera {
namespace bench {

using baselines::BaselineError;
using baselines::FieldRole;
using baselines::IoCounter;
using baselines::IoRead;
using baselines::Values;

Format baselineFormat(std::shared_ptr<baselines::Baseline> baseline) {
  Format f;
  f.name = baseline->name();
  f.description = baseline->description();
  f.lossy = baseline->lossy();
  f.write = [baseline](const baselines::ContentSource &source,
                       const std::string &dir,
                       const baselines::Progress &progress) {
    baseline->write(source, dir, progress);
  };
  f.reader = [baseline](const std::string &dir, IoCounter &counter) {
    return baseline->reader(dir, counter);
  };
  return f;
}

namespace {

/// Progress on stderr, at most ~10 updates per second.
class ProgressLine {
public:
  ProgressLine(bool enabled, std::string what)
      : enabled(enabled), what(std::move(what)) {}
  void operator()(uint64_t done, uint64_t total) {
    if (!enabled)
      return;
    auto now = std::chrono::steady_clock::now();
    if (done != total && now - last < std::chrono::milliseconds(100))
      return;
    last = now;
    std::fprintf(stderr, "\r%s: %llu/%llu", what.c_str(),
                 static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total));
    if (done == total)
      std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

private:
  bool enabled;
  std::string what;
  std::chrono::steady_clock::time_point last{};
};

bool exists(const std::string &path) { return std::ifstream(path).good(); }

double psnr(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b) {
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i)
    se += (a[i] - b[i]) * double(a[i] - b[i]);
  return se == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 * a.size() / se);
}

storage::IoOp toOp(const IoRead &r) {
  storage::IoOp op;
  op.file = r.file;
  op.offset = r.offset;
  op.bytes = r.bytes;
  return op;
}

} // namespace

BenchResult runBench(const baselines::ContentSource &source,
                     const std::vector<Format> &formats,
                     const BenchOptions &options) {
  options.loader.validate();
  BenchResult result;
  result.records = source.size();
  result.options = options;
  const baselines::Schema &schema = source.schema();
  if (source.size() == 0)
    throw std::invalid_argument("bench: the log has no records");

  // The same uniformly random samples for every format.
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<uint64_t> pick(0, source.size() - 1);
  std::vector<uint64_t> sampleIdx(options.samples), rejectIdx(options.rejects);
  for (uint64_t &i : sampleIdx)
    i = pick(rng);
  for (uint64_t &i : rejectIdx)
    i = pick(rng);
  Values sourceStatic = source.staticValues();

  for (const Format &format : formats) {
    FormatResult fr;
    fr.name = format.name;
    fr.description = format.description;
    fr.lossy = format.lossy;
    std::string dir = options.dir + "/" + format.name;
    std::string marker = options.dir + "/." + format.name + ".complete";
    if (!(options.reuse && exists(marker))) {
      if (std::system(("rm -rf '" + dir + "'").c_str()) != 0)
        throw BaselineError(dir + ": cannot clear");
      ProgressLine progress(options.progress, "writing " + format.name);
      auto t0 = std::chrono::steady_clock::now();
      format.write(source, dir, std::ref(progress));
      fr.writeSeconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count();
      std::ofstream(marker) << "done\n";
    }
    fr.fileBytes = baselines::directoryBytes(dir);

    IoCounter counter;
    std::unique_ptr<baselines::Reader> reader = format.reader(dir, counter);
    storage::ReaderTrace trace;
    reader->open();
    if (reader->size() != source.size())
      throw BaselineError(format.name + ": reader sees " +
                          std::to_string(reader->size()) + " records, wrote " +
                          std::to_string(source.size()));
    Values readStatic = reader->staticValues();
    for (const IoRead &r : counter.take()) {
      trace.openOps.push_back(toOp(r));
      fr.openOps += 1;
      fr.openBytes += r.bytes;
    }
    if (readStatic != sourceStatic)
      throw BaselineError(format.name +
                          ": static data differs from the source");

    ProgressLine readProgress(options.progress, "reading " + format.name);
    fr.minOpsPerSample = UINT64_MAX;
    fr.worstCameraPsnr = 99.0;
    for (uint64_t s = 0; s < sampleIdx.size(); ++s) {
      double cpu0 = baselines::threadCpuSeconds();
      double io0 = counter.ioCpuSeconds();
      Values got = reader->read(sampleIdx[s], false, nullptr);
      double cpu =
          baselines::threadCpuSeconds() - cpu0 - (counter.ioCpuSeconds() - io0);
      fr.decodeCpuSeconds += std::max(0.0, cpu);
      storage::SampleTrace st;
      for (const IoRead &r : counter.take())
        st.ops.push_back(toOp(r));
      fr.sampleOps += st.ops.size();
      fr.sampleBytes += st.bytes();
      fr.maxOpsPerSample =
          std::max<uint64_t>(fr.maxOpsPerSample, st.ops.size());
      fr.minOpsPerSample =
          std::min<uint64_t>(fr.minOpsPerSample, st.ops.size());
      trace.samples.push_back(std::move(st));
      if (s < options.verify) {
        Values want = source.record(sampleIdx[s]);
        if (got.size() != want.size())
          throw BaselineError(format.name + ": record " +
                              std::to_string(sampleIdx[s]) +
                              " has the wrong number of fields");
        for (size_t k = 0; k < want.size(); ++k) {
          bool camera = schema.fields[k].role == FieldRole::Camera;
          if (camera && format.lossy && got[k].size() == want[k].size()) {
            fr.worstCameraPsnr =
                std::min(fr.worstCameraPsnr, psnr(got[k], want[k]));
          } else if (got[k] != want[k]) {
            throw BaselineError(format.name + ": record " +
                                std::to_string(sampleIdx[s]) + " field " +
                                schema.fields[k].name +
                                " reads back different from the source");
          }
        }
      }
      readProgress(s + 1, sampleIdx.size());
    }
    fr.samples = sampleIdx.size();
    if (fr.samples == 0)
      fr.minOpsPerSample = 0;
    // Early rejection on a freshly opened reader, so that caches warmed by
    // the full reads above (HDF5's chunk cache) do not hide its reads.
    reader = format.reader(dir, counter);
    reader->open();
    counter.take();
    for (uint64_t i : rejectIdx) {
      reader->read(i, true, nullptr);
      for (const IoRead &r : counter.take()) {
        fr.rejectOps += 1;
        fr.rejectBytes += r.bytes;
      }
    }
    fr.rejects = rejectIdx.size();
    trace.files = counter.files();
    // Steady state: the open is replayed on its own (openPs), not inside
    // the loader runs, so a full-file scan (CSV) does not hide the per-sample
    // rate behind a one-time cost.
    std::vector<storage::IoOp> openOps;
    openOps.swap(trace.openOps);

    storage::LoaderParams loader = options.loader;
    loader.openPerWorker = false;
    loader.decodeUsPerSample = fr.cpuMsPerSample() * 1e3;
    for (storage::DeviceKind kind :
         {storage::DeviceKind::Nvme, storage::DeviceKind::Hdd,
          storage::DeviceKind::ObjectStore}) {
      FormatResult::Device d;
      d.kind = kind;
      loader.consumerSamplesPerSecond = 0;
      d.unlimited = storage::replayTrace(kind, options.device, loader, trace);
      loader.consumerSamplesPerSecond = options.chipFramesPerSecond;
      d.chip = storage::replayTrace(kind, options.device, loader, trace);
      d.openPs = storage::sequentialPs(
          *storage::makeDevice(kind, options.device), openOps);
      fr.devices.push_back(d);
    }
    result.formats.push_back(std::move(fr));
  }
  return result;
}

namespace {

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

/// Three significant digits, without exponent for the usual ranges.
std::string sig3(double v) {
  if (v == 0)
    return "0";
  double a = std::fabs(v);
  int digits = a >= 100 ? 0 : (a >= 10 ? 1 : (a >= 1 ? 2 : 3));
  return fixed(v, digits);
}

void printRow(std::ostream &os, const std::vector<std::string> &cells,
              const std::vector<size_t> &widths) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i == 0)
      os << std::left << std::setw(static_cast<int>(widths[i])) << cells[i];
    else
      os << "  " << std::right << std::setw(static_cast<int>(widths[i]))
         << cells[i];
  }
  os << "\n";
}

void printGrid(std::ostream &os,
               const std::vector<std::vector<std::string>> &rows) {
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto &r : rows)
    for (size_t i = 0; i < r.size(); ++i)
      widths[i] = std::max(widths[i], r[i].size());
  for (size_t r = 0; r < rows.size(); ++r) {
    printRow(os, rows[r], widths);
    if (r == 0) {
      size_t total = 0;
      for (size_t w : widths)
        total += w + 2;
      os << std::string(total - 2, '-') << "\n";
    }
  }
}

const FormatResult::Device &device(const FormatResult &f,
                                   storage::DeviceKind kind) {
  for (const auto &d : f.devices)
    if (d.kind == kind)
      return d;
  throw std::logic_error("missing device result");
}

} // namespace

void printTable(std::ostream &os, const BenchResult &r) {
  using storage::DeviceKind;
  const BenchOptions &o = r.options;
  os << "Storage comparison: " << r.records << " timestamps"
     << (r.contentSummary.empty() ? "" : " (" + r.contentSummary + ")") << "; "
     << o.samples << " uniformly random samples (seed " << o.seed << "), "
     << o.rejects << " early-rejected samples (labels only)\n";
  os << "Loader: " << o.loader.workers << " workers, I/O depth "
     << o.loader.ioDepth << " per worker, prefetch " << o.loader.prefetchDepth
     << "; the measured CPU time per sample is spent by the worker\n\n";

  std::vector<std::vector<std::string>> t1{
      {"format", "size_MB", "open_ios", "open_KB", "ios_per_sample",
       "KB_per_sample", "ios_per_reject", "KB_per_reject", "nvme_samples_s",
       "hdd_samples_s", "object_samples_s", "cpu_ms_per_sample"}};
  for (const FormatResult &f : r.formats) {
    std::string ios = sig3(f.opsPerSample());
    if (f.minOpsPerSample != f.maxOpsPerSample)
      ios += " (" + std::to_string(f.minOpsPerSample) + "-" +
             std::to_string(f.maxOpsPerSample) + ")";
    t1.push_back(
        {f.name, sig3(f.fileBytes / 1e6), std::to_string(f.openOps),
         sig3(f.openBytes / 1e3), ios, sig3(f.bytesPerSample() / 1e3),
         sig3(f.opsPerReject()), sig3(f.bytesPerReject() / 1e3),
         sig3(device(f, DeviceKind::Nvme).unlimited.samplesPerSecond()),
         sig3(device(f, DeviceKind::Hdd).unlimited.samplesPerSecond()),
         sig3(device(f, DeviceKind::ObjectStore).unlimited.samplesPerSecond()),
         sig3(f.cpuMsPerSample())});
  }
  printGrid(os, t1);

  os << "\nConsumer at " << o.chipFramesPerSecond
     << " samples/s (the chip at 36 fps): share of time it starves for data; "
        "object-store GET cost per million samples\n\n";
  std::vector<std::vector<std::string>> t2{
      {"format", "nvme_idle", "hdd_idle", "object_idle", "nvme_open_ms",
       "hdd_open_ms", "object_open_ms", "nvme_io_latency_us",
       "hdd_io_latency_us", "object_io_latency_us", "usd_per_M_samples",
       "camera_psnr_db"}};
  for (const FormatResult &f : r.formats) {
    auto idle = [&](DeviceKind k) {
      return fixed(100.0 * device(f, k).chip.consumerIdleFraction(), 1) + "%";
    };
    double usd = f.opsPerSample() * 1e6 / 1000.0 *
                 o.device.objectStore.dollarsPerThousandGets;
    t2.push_back(
        {f.name, idle(DeviceKind::Nvme), idle(DeviceKind::Hdd),
         idle(DeviceKind::ObjectStore),
         sig3(device(f, DeviceKind::Nvme).openPs * 1e-9),
         sig3(device(f, DeviceKind::Hdd).openPs * 1e-9),
         sig3(device(f, DeviceKind::ObjectStore).openPs * 1e-9),
         sig3(device(f, DeviceKind::Nvme).unlimited.meanIoLatencyUs()),
         sig3(device(f, DeviceKind::Hdd).unlimited.meanIoLatencyUs()),
         sig3(device(f, DeviceKind::ObjectStore).unlimited.meanIoLatencyUs()),
         fixed(usd, 2), f.lossy ? fixed(f.worstCameraPsnr, 1) : "exact"});
  }
  printGrid(os, t2);

  if (r.formats.empty())
    return;
  if (r.formats[0].name != "smol") {
    os << "\nNo .smol row (--formats left it out): the ratios against the "
          "source's claims (~11% smaller, ~4x fewer I/Os) need it.\n";
    return;
  }
  const FormatResult &ref = r.formats[0];
  os << "\nMeasured ratios against " << ref.name
     << " (source's claims: ~11% smaller files, ~4x fewer I/O operations "
        "for training reads)\n\n";
  std::vector<std::vector<std::string>> t3{
      {"baseline", "size_saving_vs_baseline", "claim", "io_ratio_per_sample",
       "claim", "bytes_ratio_per_sample", "io_ratio_per_reject",
       "bytes_ratio_per_reject", "open_io_ratio"}};
  auto ratio = [](double a, double b) {
    return b > 0 ? sig3(a / b) + "x" : std::string("-");
  };
  for (size_t i = 1; i < r.formats.size(); ++i) {
    const FormatResult &f = r.formats[i];
    double saving = 100.0 * (1.0 - double(ref.fileBytes) / f.fileBytes);
    t3.push_back({f.name, fixed(saving, 1) + "%", "11%",
                  ratio(f.opsPerSample(), ref.opsPerSample()), "4x",
                  ratio(f.bytesPerSample(), ref.bytesPerSample()),
                  ratio(f.opsPerReject(), ref.opsPerReject()),
                  ratio(f.bytesPerReject(), ref.bytesPerReject()),
                  ratio(double(f.openOps), double(ref.openOps))});
  }
  printGrid(os, t3);
  os << "\nA negative saving means " << ref.name
     << " is larger; ratios > 1x mean the baseline needs more than " << ref.name
     << ".\n";
}

namespace {

std::string num(double v) {
  if (!std::isfinite(v))
    return "null";
  std::ostringstream os;
  os << std::setprecision(10) << v;
  return os.str();
}

} // namespace

using json = nlohmann::ordered_json;

void printJson(std::ostream &os, const BenchResult &r) {
  json doc;
  doc["records"] = r.records;
  doc["content"] = r.contentSummary;
  doc["samples"] = r.options.samples;
  doc["rejects"] = r.options.rejects;
  doc["seed"] = r.options.seed;
  doc["workers"] = r.options.loader.workers;
  doc["chip_fps"] = r.options.chipFramesPerSecond;
  json formats = json::array();
  for (const FormatResult &f : r.formats) {
    json devices = json::object();
    for (const auto &dev : f.devices)
      devices[storage::deviceKindName(dev.kind)] = {
          {"samples_per_second", dev.unlimited.samplesPerSecond()},
          {"iops", dev.unlimited.iops()},
          {"bytes_per_second", dev.unlimited.bytesPerSecond()},
          {"open_ms", dev.openPs * 1e-9},
          {"mean_io_latency_us", dev.unlimited.meanIoLatencyUs()},
          {"chip_idle_fraction", dev.chip.consumerIdleFraction()},
          {"chip_samples_per_second", dev.chip.samplesPerSecond()}};
    formats.push_back({{"name", f.name},
                       {"description", f.description},
                       {"file_bytes", f.fileBytes},
                       {"write_seconds", f.writeSeconds},
                       {"open_ios", f.openOps},
                       {"open_bytes", f.openBytes},
                       {"ios_per_sample", f.opsPerSample()},
                       {"min_ios_per_sample", f.minOpsPerSample},
                       {"max_ios_per_sample", f.maxOpsPerSample},
                       {"bytes_per_sample", f.bytesPerSample()},
                       {"ios_per_reject", f.opsPerReject()},
                       {"bytes_per_reject", f.bytesPerReject()},
                       {"cpu_ms_per_sample", f.cpuMsPerSample()},
                       {"lossy", f.lossy},
                       {"camera_psnr_db", f.lossy ? f.worstCameraPsnr : 0.0},
                       {"devices", std::move(devices)}});
  }
  doc["formats"] = std::move(formats);
  os << doc.dump(2) << "\n";
}

void printCsv(std::ostream &os, const BenchResult &r) {
  os << "format,file_bytes,open_ios,open_bytes,ios_per_sample,bytes_per_sample,"
        "ios_per_reject,bytes_per_reject,cpu_ms_per_sample,"
        "nvme_samples_per_s,hdd_samples_per_s,object_store_samples_per_s,"
        "nvme_chip_idle_fraction,hdd_chip_idle_fraction,"
        "object_store_chip_idle_fraction\n";
  for (const FormatResult &f : r.formats) {
    os << f.name << "," << f.fileBytes << "," << f.openOps << "," << f.openBytes
       << "," << num(f.opsPerSample()) << "," << num(f.bytesPerSample()) << ","
       << num(f.opsPerReject()) << "," << num(f.bytesPerReject()) << ","
       << num(f.cpuMsPerSample());
    for (const auto &d : f.devices)
      os << "," << num(d.unlimited.samplesPerSecond());
    for (const auto &d : f.devices)
      os << "," << num(d.chip.consumerIdleFraction());
    os << "\n";
  }
}

} // namespace bench
} // namespace tessera
