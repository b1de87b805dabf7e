//===- Replay.cpp - a .smol clip through storage into the chip ------------===//
//
// Part of Tessera. See Replay.h and docs/replay.md.
//
//===----------------------------------------------------------------------===//
#include "Replay.h"

#include "tessera/Sim/Simulator.h"
#include "tessera/Smol/Reader.h"
#include "tessera/Storage/IoTrace.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

using namespace tessera;
using namespace tessera::tools;
using json = nlohmann::ordered_json;

namespace {

/// A file whose every read is appended to the current sample's trace.
class RecordingFile : public smol::RandomAccessFile {
public:
  explicit RecordingFile(const std::string &path) : inner(path) {}
  size_t pread(void *buffer, size_t n, uint64_t offset) override {
    if (sink)
      sink->push_back({0, offset, n});
    return inner.pread(buffer, n, offset);
  }
  uint64_t size() const override { return inner.size(); }
  const std::string &name() const override { return inner.name(); }
  std::vector<storage::IoOp> *sink = nullptr;

private:
  smol::PosixFile inner;
};

/// Nearest-rank percentile of `v` (q in (0, 1]).
double percentile(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(q * double(v.size())));
  return v[std::min(v.size(), std::max<size_t>(rank, 1)) - 1];
}

/// The network's input from one frame's camera bundle: the bundle's values
/// (cameras in schema order, each row-major H x W x 3) cut into as many
/// contiguous runs as the input has elements, each run averaged and mapped
/// from [0, 255] to [-1, 1]. The bundled encoder takes tokens, not pixels;
/// this pooling stands in for a patch-embedding stem so that the values on
/// the chip come from the clip.
std::vector<float> tokensFromCameras(const std::vector<uint8_t> &pixels,
                                     uint64_t elements) {
  std::vector<float> x(elements);
  uint64_t n = pixels.size();
  for (uint64_t j = 0; j < elements; ++j) {
    uint64_t begin = j * n / elements, end = (j + 1) * n / elements;
    double sum = 0;
    for (uint64_t i = begin; i < end; ++i)
      sum += pixels[i];
    x[j] = float(sum / double(end - begin) / 127.5 - 1.0);
  }
  return x;
}

} // namespace

ReplayResult tessera::tools::replayClip(const arch::Program &prog,
                                        const arch::ChipConfig &chip,
                                        const codegen::Graph &graph,
                                        const ReplayOptions &options) {
  // Both SystemC models must exist before either simulates.
  storage::prepareLoaderModel();

  const arch::TensorInfo *input = nullptr;
  for (const arch::TensorInfo &t : prog.tensors)
    if (t.kind == arch::TensorKind::Input) {
      if (input)
        throw std::invalid_argument(
            "--clip needs a model with one input; this one has '" +
            input->name + "' and '" + t.name + "'");
      input = &t;
    }
  if (!input)
    throw std::invalid_argument("--clip: the model has no input");
  if (!(options.fps > 0) || !std::isfinite(options.fps))
    throw std::invalid_argument("--fps must be a positive number");

  ReplayResult r;
  r.clip = options.clip;
  r.device = storage::deviceKindName(options.device);
  r.budgetMs = chip.frame_budget_ms;

  // Read the clip, recording every read.
  auto file = std::make_unique<RecordingFile>(options.clip);
  RecordingFile *rec = file.get();
  storage::ReaderTrace trace;
  trace.files.push_back(options.clip);
  rec->sink = &trace.openOps;
  smol::ReaderOptions ropts;
  if (!options.keyFile.empty())
    ropts.keys = smol::Keyring::loadFile(options.keyFile);
  smol::Reader reader(std::move(file), ropts);
  rec->sink = nullptr;

  std::vector<const smol::Column *> cameras;
  for (const smol::Column &c : reader.columns())
    if (!c.spec.isStatic && c.spec.role == smol::Role::Camera)
      cameras.push_back(&c);
  std::sort(cameras.begin(), cameras.end(),
            [](const smol::Column *a, const smol::Column *b) {
              return a->logicalIndex < b->logicalIndex;
            });
  if (cameras.empty())
    throw std::invalid_argument(options.clip +
                                ": the clip has no camera columns");
  for (const smol::Column *c : cameras)
    r.cameraBytesPerFrame += c->spec.plainBytes();
  if (r.cameraBytesPerFrame < input->numElements())
    throw std::invalid_argument(
        options.clip + ": a frame's camera bundle has " +
        std::to_string(r.cameraBytesPerFrame) + " values, the model's input '" +
        input->name + "' needs at least " +
        std::to_string(input->numElements()));

  uint64_t frames =
      options.frames ? std::min(options.frames, reader.size()) : reader.size();
  if (frames == 0)
    throw std::invalid_argument(options.clip + ": the clip has no frames");
  r.frames = frames;

  // Frame by frame: one row read, the bundle to tokens, the chip, the check.
  std::vector<std::vector<float>> tokens(frames);
  trace.samples.resize(frames);
  for (uint64_t i = 0; i < frames; ++i) {
    rec->sink = &trace.samples[i].ops;
    smol::Row row = reader.readRow(i);
    rec->sink = nullptr;
    std::vector<uint8_t> pixels;
    pixels.reserve(r.cameraBytesPerFrame);
    for (const smol::Column *c : cameras) {
      std::vector<uint8_t> v = row.column(c->spec.name).logicalCopy();
      pixels.insert(pixels.end(), v.begin(), v.end());
    }
    tokens[i] = tokensFromCameras(pixels, input->numElements());
  }

  for (uint64_t i = 0; i < frames; ++i) {
    std::map<std::string, std::vector<float>> inputs{{input->name, tokens[i]}};
    sim::SimResult s = sim::simulateFrame(prog, chip, inputs);
    if (i == 0) {
      r.chipCycles = s.totalCycles;
      r.chipMs = s.frameMs;
    } else if (s.totalCycles != r.chipCycles) {
      throw std::logic_error("frame " + std::to_string(i) + " took " +
                             std::to_string(s.totalCycles) +
                             " cycles, frame 0 took " +
                             std::to_string(r.chipCycles) +
                             " (timing must not depend on the data)");
    }
    for (const auto &[name, ref] : codegen::runReference(graph, inputs)) {
      const std::vector<float> &got = s.outputs.at(name);
      double rms = 0, maxErr = 0;
      bool finite = true;
      for (size_t k = 0; k < ref.size(); ++k) {
        rms += double(ref[k]) * ref[k];
        finite = finite && std::isfinite(got[k]);
        maxErr = std::max(maxErr, std::fabs(double(got[k]) - ref[k]));
      }
      rms = std::sqrt(rms / double(ref.size()));
      double rel = rms > 0 ? maxErr / rms : maxErr;
      r.worstMaxAbsOverRms = std::max(r.worstMaxAbsOverRms, rel);
      r.accurate = r.accurate && finite && rel <= options.tolerance;
    }
    if (options.progress)
      options.progress(i + 1, frames);
  }

  // Storage: the recorded reads on the device and loader model, the chip
  // consuming on the camera clock.
  storage::LoaderParams loader = options.loader;
  loader.consumerSamplesPerSecond = options.fps;
  loader.consumerOnClock = true;
  loader.consumerBusyUs = r.chipMs * 1e3;
  loader.openPerWorker = false;
  r.loader =
      storage::replayTrace(options.device, options.storage, loader, trace);
  r.openOps = trace.openOps.size();
  r.openBytes = trace.openBytes();
  r.opsPerFrame = double(trace.sampleOps()) / double(frames);
  r.bytesPerFrame = double(trace.sampleBytes()) / double(frames);
  r.firstFrameMs = double(r.loader.consumedPs.at(0)) * 1e-9;

  // Frame i is due at the first frame's time plus i periods (the loader's
  // clock, in whole picoseconds); it finishes when the chip is done with it.
  uint64_t periodPs = uint64_t(std::llround(1e12 / options.fps));
  uint64_t firstPs = r.loader.consumedPs.at(0);
  for (uint64_t i = 0; i < frames; ++i) {
    uint64_t due = firstPs + i * periodPs, taken = r.loader.consumedPs[i];
    double wait = taken > due ? double(taken - due) * 1e-9 : 0.0;
    r.waitMs.push_back(wait);
    r.latencyMs.push_back(wait + r.chipMs);
    r.framesOverBudget += wait + r.chipMs > r.budgetMs;
  }
  r.p50Ms = percentile(r.latencyMs, 0.50);
  r.p99Ms = percentile(r.latencyMs, 0.99);
  r.maxMs = *std::max_element(r.latencyMs.begin(), r.latencyMs.end());
  r.storageKeepsUp = *std::max_element(r.waitMs.begin(), r.waitMs.end()) == 0;
  return r;
}

namespace {

std::string fmt(const char *f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

} // namespace

std::string tessera::tools::formatReplay(const ReplayResult &r) {
  std::ostringstream os;
  os << "Tessera clip replay\n"
     << "  clip              " << r.clip << " (" << r.frames << " frames, "
     << r.cameraBytesPerFrame << " camera bytes per frame)\n"
     << "  storage           " << r.device << ": open " << r.openOps
     << " reads / " << r.openBytes << " bytes; per frame "
     << fmt("%.2f", r.opsPerFrame) << " reads / "
     << fmt("%.0f", r.bytesPerFrame) << " bytes\n"
     << "  loader            " << fmt("%.1f", r.loader.samplesPerSecond())
     << " frames/s delivered, " << fmt("%.0f", r.loader.iops())
     << " IOPS, mean read latency " << fmt("%.1f", r.loader.meanIoLatencyUs())
     << " us, consumer idle "
     << fmt("%.1f", 100 * r.loader.consumerIdleFraction()) << "%\n"
     << "  first frame ready " << fmt("%.3f", r.firstFrameMs)
     << " ms after start (open + first read)\n"
     << "  chip              " << r.chipCycles
     << " cycles = " << fmt("%.6f", r.chipMs) << " ms per frame\n"
     << "  frame latency     p50 " << fmt("%.6f", r.p50Ms) << " ms, p99 "
     << fmt("%.6f", r.p99Ms) << " ms, max " << fmt("%.6f", r.maxMs)
     << " ms (storage wait + chip)\n"
     << "  budget            " << fmt("%.2f", r.budgetMs)
     << " ms: " << (r.framesOverBudget ? "FAIL, " : "PASS, ")
     << r.framesOverBudget << " of " << r.frames << " frames over\n"
     << "  storage keeps up  "
     << (r.storageKeepsUp ? "yes: every frame's data was ready when due"
                          : "NO: frames waited for their data")
     << "\n"
     << "  accuracy          worst frame max abs error "
     << fmt("%.3g", r.worstMaxAbsOverRms)
     << " x reference RMS vs the FP32 reference executor: "
     << (r.accurate ? "PASS" : "FAIL") << "\n";
  return os.str();
}

std::string tessera::tools::replayJson(const ReplayResult &r) {
  json doc;
  doc["clip"] = r.clip;
  doc["frames"] = r.frames;
  doc["camera_bytes_per_frame"] = r.cameraBytesPerFrame;
  doc["storage"] = {{"device", r.device},
                    {"open_ops", r.openOps},
                    {"open_bytes", r.openBytes},
                    {"ops_per_frame", r.opsPerFrame},
                    {"bytes_per_frame", r.bytesPerFrame},
                    {"frames_per_second", r.loader.samplesPerSecond()},
                    {"iops", r.loader.iops()},
                    {"mean_read_latency_us", r.loader.meanIoLatencyUs()},
                    {"consumer_idle_fraction", r.loader.consumerIdleFraction()},
                    {"first_frame_ms", r.firstFrameMs},
                    {"keeps_up", r.storageKeepsUp}};
  doc["chip"] = {{"cycles", r.chipCycles}, {"ms", r.chipMs}};
  doc["latency_ms"] = {{"p50", r.p50Ms},
                       {"p99", r.p99Ms},
                       {"max", r.maxMs},
                       {"per_frame", r.latencyMs}};
  doc["wait_ms"] = r.waitMs;
  doc["budget"] = {{"budget_ms", r.budgetMs},
                   {"frames_over", r.framesOverBudget},
                   {"passed", r.framesOverBudget == 0}};
  doc["accuracy"] = {{"worst_max_abs_over_rms", r.worstMaxAbsOverRms},
                     {"passed", r.accurate}};
  return doc.dump(2) + "\n";
}
