//===- Budget.cpp - `tessera budget`: latency-budget regression checks ----===//
//
// Part of Tessera. A committed baseline file (tests/budget/baseline.json)
// holds one entry per reference network and reference chip config: the frame
// cycles and per-layer cycles measured with the default pipeline and
// precision (timing-only simulation), the frame budget, whether meeting it is
// required and the tolerated regression. `tessera budget` measures the
// entries again and fails, naming the model, the config, the budget, the
// baseline and the measured latency and the layer that moved most, when a
// frame is slower than its baseline allows or misses a required budget.
// `tessera budget --update` measures every network of the zoo on every
// reference config, rewrites the baseline and prints what changed.
// docs/budget.md is the guide.
//
//===----------------------------------------------------------------------===//

#include "Sweep.h"

#include "tessera/Compiler/Compile.h"
#include "tessera/Sim/Report.h"
#include "tessera/Sim/Simulator.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

using namespace tessera;
namespace cl = llvm::cl;
using Json = nlohmann::ordered_json;

namespace {

cl::SubCommand budgetCmd("budget", "Check frame latencies against the "
                                   "committed baseline (docs/budget.md)");
cl::opt<std::string> baselinePath(
    "baseline", cl::sub(budgetCmd),
    cl::desc("Baseline file (default: tests/budget/baseline.json in the "
             "source tree)"),
    cl::value_desc("file"), cl::init(""), cl::cat(tools::sweepCategory()));
cl::opt<bool> update("update", cl::sub(budgetCmd),
                     cl::desc("Measure every zoo network on every reference "
                              "config, rewrite the baseline, print the diff"),
                     cl::init(false), cl::cat(tools::sweepCategory()));
cl::list<std::string> entryNames("entry", cl::sub(budgetCmd),
                                 cl::desc("Check only this entry, e.g. "
                                          "encoder_layer@reference "
                                          "(repeatable)"),
                                 cl::value_desc("model@config"),
                                 cl::cat(tools::sweepCategory()));
cl::opt<std::string> chipOverride(
    "config", cl::sub(budgetCmd),
    cl::desc("Measure on this chip config instead of each entry's (to see "
             "what a chip change does to the baseline)"),
    cl::value_desc("file"), cl::init(""), cl::cat(tools::sweepCategory()));
cl::opt<std::string>
    workDir("work", cl::sub(budgetCmd),
            cl::desc("Where generated zoo models are written (default: "
                     "budget-models in the build directory)"),
            cl::value_desc("dir"), cl::init(TESSERA_BUILD_DIR "/budget-models"),
            cl::cat(tools::sweepCategory()));
cl::opt<std::string> rootDir("root", cl::sub(budgetCmd),
                             cl::desc("Directory the baseline's paths are "
                                      "relative to (default: the source "
                                      "tree)"),
                             cl::value_desc("dir"), cl::init(""),
                             cl::cat(tools::sweepCategory()));

[[noreturn]] void fail(const std::string &msg) {
  std::cerr << "tessera budget: error: " << msg << "\n";
  std::exit(1);
}

std::string root() {
  return rootDir.empty() ? std::string(TESSERA_SOURCE_DIR) : rootDir;
}

std::string resolve(const std::string &path) {
  return !path.empty() && path[0] == '/' ? path : root() + "/" + path;
}

std::string fmtMs(double ms) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f ms", ms);
  return buf;
}

std::string fmtPercent(double f) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.2f%%", f * 100);
  return buf;
}

/// One measurement: frame cycles, ms and the cycles of each layer.
struct Measured {
  uint64_t cycles = 0;
  double ms = 0;
  Json layers = Json::object();
};

/// Compiles and simulates `model` timing-only; on a compile error returns
/// false with the message in `error` when `error` is given, else fails.
bool tryMeasure(const std::string &model, const arch::ChipConfig &chip,
                Measured &m, std::string *error) {
  compiler::CompileOptions opts; // The default pipeline and precision.
  llvm::Expected<arch::Program> prog =
      compiler::compileOnnxFile(model, chip, opts);
  if (!prog) {
    std::string msg = llvm::toString(prog.takeError());
    if (!error)
      fail(msg);
    *error = msg;
    return false;
  }
  sim::SimOptions simOpts;
  simOpts.functional = false;
  sim::SimResult r = sim::simulateFrame(*prog, chip, {}, simOpts);
  m.cycles = r.totalCycles;
  m.ms = r.frameMs;
  m.layers = Json::object();
  for (const sim::LayerStats &l : r.layers)
    m.layers[l.name] = l.attributedCycles;
  return true;
}

Measured measure(const std::string &model, const arch::ChipConfig &chip) {
  Measured m;
  tryMeasure(model, chip, m, nullptr);
  return m;
}

/// The layer whose cycles changed most between the baseline and now.
std::string movedMost(const Json &before, const Json &after) {
  std::string best;
  int64_t bestDelta = 0;
  auto consider = [&](const std::string &name) {
    int64_t b = before.contains(name) ? before[name].get<int64_t>() : 0;
    int64_t a = after.contains(name) ? after[name].get<int64_t>() : 0;
    if (best.empty() || std::llabs(a - b) > std::llabs(bestDelta)) {
      best = name;
      bestDelta = a - b;
    }
  };
  for (auto it = after.begin(); it != after.end(); ++it)
    consider(it.key());
  for (auto it = before.begin(); it != before.end(); ++it)
    if (!after.contains(it.key()))
      consider(it.key());
  if (best.empty() || bestDelta == 0)
    return "none (no layer changed)";
  int64_t b = before.contains(best) ? before[best].get<int64_t>() : 0;
  int64_t a = after.contains(best) ? after[best].get<int64_t>() : 0;
  std::ostringstream os;
  os << best << " " << b << " -> " << a << " cycles ("
     << (a - b >= 0 ? "+" : "") << a - b << ")";
  return os.str();
}

Json loadBaseline(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    fail(path + ": cannot open the baseline file");
  try {
    Json j = Json::parse(in);
    if (!j.contains("entries") || !j["entries"].is_array())
      fail(path + ": expected an object with an \"entries\" array");
    return j;
  } catch (const Json::exception &e) {
    fail(path + ": " + e.what());
  }
}

/// A network of the zoo: a committed ONNX file, or a generator run with
/// fixed arguments (a model too large to commit, like the perception network).
struct ZooModel {
  std::string name;
  std::string model;             ///< ONNX path, or the generator script.
  std::vector<std::string> args; ///< Generator arguments (generated only).
  bool generated = false;
};

/// A generated model's ONNX file under --work, generated once per generator
/// and arguments; "" with `error` set when the generator fails.
std::string generatedModel(const ZooModel &z, std::string &error) {
  std::string key = z.model;
  for (const std::string &a : z.args)
    key += "\n" + a;
  std::ifstream script(resolve(z.model));
  std::ostringstream text;
  text << script.rdbuf();
  std::string dir = workDir + "/" + z.name + "-" +
                    tools::hashText(key + "\n" + text.str(), 12);
  if (!llvm::sys::fs::exists(dir + "/generated.txt")) {
    llvm::sys::fs::create_directories(dir);
    std::vector<llvm::StringRef> argv = {TESSERA_PYTHON};
    std::string gen = resolve(z.model);
    argv.push_back(gen);
    argv.push_back(dir);
    for (const std::string &a : z.args)
      argv.push_back(a);
    std::string log = dir + "/generator.log";
    std::optional<llvm::StringRef> redirects[] = {
        llvm::StringRef(""), llvm::StringRef(log), llvm::StringRef(log)};
    std::cerr << "budget: generating " << z.name << " with " << z.model << "\n";
    if (llvm::sys::ExecuteAndWait(TESSERA_PYTHON, argv, std::nullopt,
                                  redirects) != 0) {
      std::ifstream in(log);
      std::string line, last;
      while (std::getline(in, line))
        if (!line.empty())
          last = line;
      error = z.model + " failed: " + last;
      return "";
    }
    std::ofstream(dir + "/generated.txt") << key << "\n";
  }
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::StringRef(it->path()).ends_with(".onnx"))
      return it->path();
  error = z.model + " wrote no .onnx file into " + dir;
  return "";
}

/// The ONNX file of a zoo model (generating it if needed).
std::string modelFile(const ZooModel &z, std::string *error) {
  if (!z.generated)
    return resolve(z.model);
  std::string err;
  std::string file = generatedModel(z, err);
  if (file.empty()) {
    if (!error)
      fail(err);
    *error = err;
  }
  return file;
}

ZooModel zooModelOf(const Json &e) {
  ZooModel z;
  z.name = e.value("model_name", e.value("name", ""));
  z.model = e.value("model", "");
  if (e.contains("generator_args")) {
    z.generated = true;
    for (const Json &a : e["generator_args"])
      z.args.push_back(a.is_string() ? a.get<std::string>() : a.dump());
  }
  return z;
}

/// The reference networks of the zoo: every committed
/// models/<name>/<name>.onnx, and the baseline's "generated" list (models
/// made by a generator with fixed arguments).
std::vector<ZooModel> zooModels(const Json &baseline) {
  std::vector<ZooModel> models;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(root() + "/models", ec), end;
       it != end && !ec; it.increment(ec)) {
    std::string name = llvm::sys::path::filename(it->path()).str();
    std::string rel = "models/" + name + "/" + name + ".onnx";
    if (llvm::sys::fs::exists(root() + "/" + rel))
      models.push_back({name, rel, {}, false});
  }
  if (baseline.contains("generated"))
    for (const Json &g : baseline["generated"]) {
      ZooModel z;
      z.name = g.value("name", "");
      z.model = g.value("generator", "");
      z.generated = true;
      for (const Json &a : g.value("args", Json::array()))
        z.args.push_back(a.is_string() ? a.get<std::string>() : a.dump());
      if (z.name.empty() || z.model.empty())
        fail("baseline: a \"generated\" model needs a name and a generator");
      models.push_back(z);
    }
  std::sort(
      models.begin(), models.end(),
      [](const ZooModel &a, const ZooModel &b) { return a.name < b.name; });
  return models;
}

/// The reference chip configs: every file in arch/configs.
std::vector<std::pair<std::string, std::string>> referenceConfigs() {
  std::vector<std::pair<std::string, std::string>> configs;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(root() + "/arch/configs", ec), end;
       it != end && !ec; it.increment(ec)) {
    std::string file = llvm::sys::path::filename(it->path()).str();
    std::string stem = llvm::sys::path::stem(file).str();
    configs.emplace_back(stem, "arch/configs/" + file);
  }
  std::sort(configs.begin(), configs.end());
  return configs;
}

arch::ChipConfig loadConfig(const std::string &path) {
  try {
    return arch::ChipConfig::load(resolve(path));
  } catch (const std::exception &e) {
    fail(e.what());
  }
}

int check(const Json &baseline, const std::string &path) {
  double defaultTolerance = baseline.value("tolerance", 0.0);
  std::vector<std::string> wanted(entryNames.begin(), entryNames.end());
  int failures = 0, checked = 0;
  for (const Json &e : baseline["entries"]) {
    std::string name = e.value("name", "");
    if (!wanted.empty() &&
        std::find(wanted.begin(), wanted.end(), name) == wanted.end())
      continue;
    ++checked;
    std::string model = e.value("model", ""), config = e.value("config", "");
    if (model.empty() || config.empty() || !e.contains("frame_cycles"))
      fail(path + ": entry '" + name +
           "' needs model, config and frame_cycles");
    std::string chipName = llvm::sys::path::stem(config).str();
    arch::ChipConfig chip = loadConfig(config);
    if (!chipOverride.empty()) {
      // Relative to the current directory, as the user typed it.
      try {
        chip = arch::ChipConfig::load(chipOverride);
      } catch (const std::exception &ex) {
        fail(ex.what());
      }
      chipName = chipOverride + " (instead of " + chipName + ")";
    }
    Measured m = measure(modelFile(zooModelOf(e), nullptr), chip);
    uint64_t base = e["frame_cycles"].get<uint64_t>();
    double baseMs = e.value("frame_ms", 0.0);
    double tolerance = e.value("tolerance", defaultTolerance);
    double budgetMs = e.value("budget_ms", chip.frame_budget_ms);
    bool required = e.value("required", false);
    double change = base ? double(m.cycles) / double(base) - 1 : 0;
    bool regressed = double(m.cycles) > double(base) * (1 + tolerance);
    bool met = m.ms <= budgetMs;
    std::ostringstream os;
    os << e.value("model_name", model) << " on " << chipName << ": "
       << fmtMs(m.ms) << " (" << m.cycles << " cycles) vs baseline "
       << fmtMs(baseMs) << " (" << base << " cycles), " << fmtPercent(change)
       << " (tolerance " << tolerance * 100 << "%); budget " << budgetMs
       << " ms (" << (required ? "required" : "not required") << ") "
       << (met ? "met" : "MISSED");
    if (regressed || (required && !met)) {
      ++failures;
      std::cout << "budget FAIL: " << name << ": "
                << (regressed ? "frame regressed" : "required budget missed")
                << ": " << os.str() << "; layer that moved most: "
                << movedMost(e["layers"], m.layers) << "\n";
    } else {
      std::cout << "budget ok: " << name << ": " << os.str();
      if (m.cycles < base)
        std::cout << "; faster than the baseline, run `tessera budget "
                     "--update` to lock it in";
      std::cout << "\n";
    }
  }
  for (const std::string &w : wanted) {
    bool found = false;
    for (const Json &e : baseline["entries"])
      found = found || e.value("name", "") == w;
    if (!found)
      fail(path + ": no entry '" + w + "'");
  }
  std::cout << "budget: " << checked << " entries checked, " << failures
            << " failed\n";
  return failures ? 4 : 0;
}

int updateBaseline(Json baseline, const std::string &path) {
  std::map<std::string, Json> old;
  for (const Json &e : baseline["entries"])
    old[e.value("name", "")] = e;
  Json entries = Json::array();
  std::ostringstream diff, skipped;
  for (const ZooModel &z : zooModels(baseline)) {
    const std::string &modelName = z.name;
    for (const auto &[configName, config] : referenceConfigs()) {
      std::string name = modelName + "@" + configName;
      arch::ChipConfig chip = loadConfig(config);
      Measured m;
      std::string error;
      std::string file = modelFile(z, &error);
      if (file.empty()) {
        skipped << "  ! " << name << ": not in the baseline, its generator "
                << "failed: " << error << "\n";
        continue;
      }
      if (!tryMeasure(file, chip, m, &error)) {
        // Not compilable yet (ops still missing): reported, not recorded.
        skipped << "  ! " << name << ": not in the baseline, it does not "
                << "compile: " << error << "\n";
        continue;
      }
      Json e;
      e["name"] = name;
      e["model_name"] = modelName;
      e["model"] = z.model;
      if (z.generated)
        e["generator_args"] = z.args;
      e["config"] = config;
      auto prev = old.find(name);
      e["budget_ms"] =
          prev != old.end()
              ? prev->second.value("budget_ms", chip.frame_budget_ms)
              : chip.frame_budget_ms;
      double budgetMs = e["budget_ms"].get<double>();
      // A new entry is required to meet its budget when it does today; an
      // existing entry keeps what it declared.
      e["required"] = prev != old.end() ? prev->second.value("required", false)
                                        : m.ms <= budgetMs;
      if (prev != old.end() && prev->second.contains("tolerance"))
        e["tolerance"] = prev->second["tolerance"];
      e["frame_cycles"] = m.cycles;
      e["frame_ms"] = m.ms;
      e["meets_budget"] = m.ms <= budgetMs;
      e["layers"] = m.layers;
      if (prev == old.end()) {
        diff << "  + " << name << ": " << m.cycles << " cycles (" << fmtMs(m.ms)
             << "), budget " << budgetMs << " ms "
             << (m.ms <= budgetMs ? "met" : "missed") << ", required "
             << (e["required"].get<bool>() ? "yes" : "no") << "\n";
      } else {
        uint64_t before = prev->second.value("frame_cycles", uint64_t(0));
        if (before != m.cycles)
          diff << "  ~ " << name << ": " << before << " -> " << m.cycles
               << " cycles ("
               << fmtPercent(before ? double(m.cycles) / before - 1 : 0)
               << "); layer that moved most: "
               << movedMost(prev->second.value("layers", Json::object()),
                            m.layers)
               << "\n";
        old.erase(prev);
      }
      entries.push_back(e);
    }
  }
  for (const auto &[name, e] : old)
    diff << "  - " << name
         << ": removed (no longer in the zoo or configs, or it no longer "
            "compiles)\n";
  Json out;
  out["comment"] = "Frame latency baseline of every zoo network on every "
                   "reference chip config (timing-only, default pipeline "
                   "and precision). Rewritten by `tessera budget --update`; "
                   "docs/budget.md.";
  out["tolerance"] = baseline.value("tolerance", 0.0);
  if (baseline.contains("generated"))
    out["generated"] = baseline["generated"];
  out["entries"] = entries;
  std::string text = out.dump(2) + "\n";
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << text;
    if (!f)
      fail(tmp + ": cannot write");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail(path + ": cannot write");
  std::string d = diff.str();
  std::cout << "budget: wrote " << path << " (" << entries.size()
            << " entries)\n"
            << (d.empty() ? "  no change\n" : d) << skipped.str();
  return 0;
}

} // namespace

bool tessera::tools::budgetSelected() { return bool(budgetCmd); }

int tessera::tools::budgetMain(const char *) {
  std::string path = baselinePath.empty() ? std::string(TESSERA_SOURCE_DIR) +
                                                "/tests/budget/baseline.json"
                                          : std::string(baselinePath);
  if (update) {
    Json baseline = llvm::sys::fs::exists(path)
                        ? loadBaseline(path)
                        : Json{{"entries", Json::array()}};
    return updateBaseline(baseline, path);
  }
  return check(loadBaseline(path), path);
}
