//===- BenchMain.cpp - tessera-storage-bench ------------------------------===//
//
// Part of Tessera. One command prints the storage comparison table: writes
// the synthetic drive log as .smol and every baseline, reads uniformly random
// samples through counted I/O, replays the traces on the NVMe/HDD/object-store
// and loader models. See docs/storage-bench.md.
//
//===----------------------------------------------------------------------===//

#include "Bench.h"
#include "Sources.h"

#include <systemc>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

using namespace tessera;

namespace {

const char *kUsage = R"(usage: tessera-storage-bench [options]

Writes the synthetic drive log as .smol and every baseline, reads uniformly
random samples through counted I/O, replays the I/O traces on storage-device
and data-loader models and prints the comparison table.

  --records N          timestamps in the log (default 10000)
  --samples N          uniformly random samples read per format (default 1000)
  --rejects N          early-rejected samples (labels only) per format
                       (default: as --samples)
  --seed N             seed of the log and of the sample choice (default 1)
  --dir PATH           where the formats are written
                       (default /tmp/tessera-storage-bench)
  --formats A,B,...    formats to run (default all: smol, csv, jsonl, rowbin,
                       hdf5, tfrecord, tar, mp4-gop1, mp4-gop30, mp4-gop250;
                       smol only when built with TesseraSmol)
  --reuse              keep formats already written in --dir by an earlier run
                       with the same --records and --seed
  --log-KEY VALUE      an option of the synthetic log generator (e.g.
                       --log-width 64 --log-height 48 --log-cameras 8)
  --workers N          loader workers (default 8)
  --io-depth N         reads in flight per worker (default 1)
  --prefetch N         prefetch buffer, samples (default 16)
  --chip-fps F         the consumer's rate for the starvation columns
                       (default 36)
  --device-params FILE storage parameters, a TOML file ("key = value" lines)
  --set KEY=VALUE      one storage parameter (e.g. hdd.avg_seek_ms=4)
  --print-params       print the storage parameters and exit
  --json | --csv       machine-readable output instead of the table
  --quiet              no progress on stderr
  --help
)";

uint64_t parseCount(const std::string &flag, const std::string &v,
                    uint64_t min) {
  char *end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || v[0] == '-' || n < min)
    throw std::invalid_argument(flag + ": expected an integer >= " +
                                std::to_string(min) + ", got '" + v + "'");
  return n;
}

double parseRate(const std::string &flag, const std::string &v) {
  char *end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !(x > 0) || x > 1e9)
    throw std::invalid_argument(flag + ": expected a positive number, got '" +
                                v + "'");
  return x;
}

int run(int argc, char **argv) {
  bench::BenchOptions opts;
  uint64_t records = 10000;
  bool rejectsSet = false, json = false, csv = false, printParams = false;
  std::string formatList;
  bench::LogOptions logOptions;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(a + ": missing value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--records")
      records = parseCount(a, value(), 1);
    else if (a == "--samples")
      opts.samples = parseCount(a, value(), 1);
    else if (a == "--rejects") {
      opts.rejects = parseCount(a, value(), 0);
      rejectsSet = true;
    } else if (a == "--seed")
      opts.seed = parseCount(a, value(), 0);
    else if (a == "--dir")
      opts.dir = value();
    else if (a == "--formats")
      formatList = value();
    else if (a == "--reuse")
      opts.reuse = true;
    else if (a.rfind("--log-", 0) == 0 && a.size() > 6)
      logOptions[a.substr(6)] = value();
    else if (a == "--workers")
      opts.loader.workers = static_cast<unsigned>(parseCount(a, value(), 1));
    else if (a == "--io-depth")
      opts.loader.ioDepth = static_cast<unsigned>(parseCount(a, value(), 1));
    else if (a == "--prefetch")
      opts.loader.prefetchDepth =
          static_cast<unsigned>(parseCount(a, value(), 1));
    else if (a == "--chip-fps")
      opts.chipFramesPerSecond = parseRate(a, value());
    else if (a == "--device-params")
      opts.device.loadFile(value());
    else if (a == "--set") {
      std::string kv = value();
      size_t eq = kv.find('=');
      if (eq == std::string::npos)
        throw std::invalid_argument("--set: expected KEY=VALUE, got '" + kv +
                                    "'");
      opts.device.set(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (a == "--print-params")
      printParams = true;
    else if (a == "--json")
      json = true;
    else if (a == "--csv")
      csv = true;
    else if (a == "--quiet")
      opts.progress = false;
    else
      throw std::invalid_argument("unknown option '" + a + "' (see --help)");
  }
  if (json && csv)
    throw std::invalid_argument("--json and --csv are exclusive");
  if (printParams) {
    std::cout << opts.device.describe();
    return 0;
  }
  if (!rejectsSet)
    opts.rejects = opts.samples;

  std::vector<bench::Format> all = bench::smolFormats();
  for (auto &b : baselines::allBaselines())
    all.push_back(bench::baselineFormat(std::move(b)));
  std::vector<bench::Format> formats;
  if (formatList.empty()) {
    formats = all;
  } else {
    std::stringstream ss(formatList);
    std::string name;
    while (std::getline(ss, name, ',')) {
      auto it =
          std::find_if(all.begin(), all.end(),
                       [&](const bench::Format &f) { return f.name == name; });
      if (it == all.end()) {
        std::string known;
        for (const auto &f : all)
          known += (known.empty() ? "" : ", ") + f.name;
        throw std::invalid_argument("--formats: unknown format '" + name +
                                    "' (known: " + known + ")");
      }
      formats.push_back(*it);
    }
  }

  std::unique_ptr<baselines::ContentSource> source =
      bench::makeDriveLog(records, opts.seed, logOptions);
  bench::BenchResult result = bench::runBench(*source, formats, opts);
  result.contentSummary = bench::describeLog(*source);
  if (json)
    bench::printJson(std::cout, result);
  else if (csv)
    bench::printCsv(std::cout, result);
  else
    bench::printTable(std::cout, result);
  return 0;
}

} // namespace

int sc_main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::cerr << "tessera-storage-bench: error: " << e.what() << "\n";
    return 1;
  }
}

/// Our own entry point, so that SystemC's banner is off before SystemC
/// starts (stderr carries only progress and one-line errors).
int main(int argc, char **argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
