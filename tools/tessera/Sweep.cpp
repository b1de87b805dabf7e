//===- Sweep.cpp - `tessera sweep`: run a design-space sweep --------------===//
//
// Part of Tessera. The parent process plans the sweep (every error in the
// file is reported before any point runs), forks --jobs worker processes
// (each owns its SystemC model and MLIR context: neither is re-entrant) and
// hands them points one at a time over pipes, grouped by compiled program so
// that points differing only in simulator-side fields reuse one compilation.
// A worker writes OUT/points/<key>.json atomically and answers; the parent
// draws the progress bar and finally joins the point files in plan order
// into OUT/results.csv and OUT/results.json. docs/sweep.md is the guide.
//
//===----------------------------------------------------------------------===//

#include "Sweep.h"
#include "SweepSpec.h"

#include "tessera/Compiler/Compile.h"
#include "tessera/Sim/Report.h"
#include "tessera/Sim/Simulator.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/Program.h"
#include "tessera/arch/Ranges.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SHA256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <poll.h>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace tessera;
using namespace tessera::tools;
namespace cl = llvm::cl;
using Json = nlohmann::ordered_json;

llvm::cl::OptionCategory &tessera::tools::sweepCategory() {
  static cl::OptionCategory cat("tessera sweep / budget options");
  return cat;
}

namespace {

cl::SubCommand sweepCmd("sweep",
                        "Run a design-space sweep file (docs/sweep.md)");
cl::opt<std::string> sweepFile(cl::Positional, cl::sub(sweepCmd),
                               cl::desc("<sweep.toml>"), cl::Required,
                               cl::cat(sweepCategory()));
cl::opt<std::string> outDir("out", cl::sub(sweepCmd),
                            cl::desc("Results directory (default: sweep-out)"),
                            cl::value_desc("dir"), cl::init("sweep-out"),
                            cl::cat(sweepCategory()));
cl::opt<unsigned> jobs("jobs", cl::sub(sweepCmd),
                       cl::desc("Worker processes (default: the number of "
                                "cores)"),
                       cl::init(0), cl::cat(sweepCategory()));
cl::opt<std::string> shard("shard", cl::sub(sweepCmd),
                           cl::desc("Run only slice i of N disjoint slices "
                                    "(0 <= i < N)"),
                           cl::value_desc("i/N"), cl::init(""),
                           cl::cat(sweepCategory()));
cl::opt<bool> slurm("slurm", cl::sub(sweepCmd),
                    cl::desc("Write a Slurm job-array script (one shard per "
                             "task) and its merge step into --out; run "
                             "nothing"),
                    cl::init(false), cl::cat(sweepCategory()));
cl::opt<unsigned> shards("shards", cl::sub(sweepCmd),
                         cl::desc("Array tasks for --slurm (default 4)"),
                         cl::init(4), cl::cat(sweepCategory()));
cl::list<std::string> mergeDirs("merge", cl::sub(sweepCmd),
                                cl::desc("Join the point results of these "
                                         "shard directories into --out "
                                         "(repeatable)"),
                                cl::value_desc("dir"),
                                cl::cat(sweepCategory()));
cl::opt<bool> noPlots("no-plots", cl::sub(sweepCmd),
                      cl::desc("Do not draw the plots and the HTML report"),
                      cl::init(false), cl::cat(sweepCategory()));
cl::opt<bool> dryRun("dry-run", cl::sub(sweepCmd),
                     cl::desc("Check the file and list the points; run none"),
                     cl::init(false), cl::cat(sweepCategory()));

[[noreturn]] void fail(const std::string &msg) {
  std::cerr << "tessera sweep: error: " << msg << "\n";
  std::exit(1);
}

//===----------------------------------------------------------------------===//
// Keys, files and JSON.
//===----------------------------------------------------------------------===//

std::string readFile(const std::string &path, bool *ok = nullptr) {
  std::ifstream in(path, std::ios::binary);
  if (ok)
    *ok = bool(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Writes atomically: a temporary file in the same directory, then rename.
void writeFileAtomic(const std::string &path, const std::string &data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    out << data;
    out.flush();
    if (!out)
      throw arch::ContractError(tmp + ": cannot write");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw arch::ContractError(path + ": cannot write (" + std::strerror(errno) +
                              ")");
}

void makeDirs(const std::string &dir) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    fail(dir + ": cannot create directory (" + ec.message() + ")");
}

/// A config value as JSON: numbers as numbers, everything else a string.
Json typedValue(const std::string &text) {
  if (text == "true" || text == "false")
    return text == "true";
  if (!text.empty() && (std::isdigit((unsigned char)text[0]) ||
                        text[0] == '-' || text[0] == '.')) {
    try {
      Json j = Json::parse(text);
      if (j.is_number())
        return j;
    } catch (const Json::exception &) {
    }
  }
  return text;
}

Json axisJson(const AxisValue &v) {
  switch (v.kind) {
  case AxisValue::Int:
    return v.i;
  case AxisValue::Float:
    return v.d;
  case AxisValue::Bool:
    return v.b;
  case AxisValue::String:
    return v.s;
  }
  return nullptr;
}

/// The report's figures as one flat object: nested objects joined with '_'
/// (a key that already starts with its object's name keeps its own name),
/// arrays and the fields that repeat the inputs left out. New figures in the
/// report become columns without a change here.
void flatten(const Json &obj, const std::string &prefix, Json &out) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string &k = it.key();
    if (prefix.empty() && (k == "model" || k == "program" || k == "chip" ||
                           k == "accuracy_passed"))
      continue;
    std::string name =
        prefix.empty() || k.rfind(prefix, 0) == 0 ? k : prefix + "_" + k;
    if (it->is_object()) {
      flatten(*it, name, out);
    } else if (it->is_array()) {
      // Per-unit lists (the stall breakdown): one group of columns per unit.
      for (const Json &el : *it)
        if (el.is_object() && el.contains("unit") && el["unit"].is_string()) {
          Json rest = el;
          rest.erase("unit");
          // "matrix unit" -> matrix_unit, "DRAM bus" -> dram_bus.
          std::string unit;
          for (char c : el["unit"].get<std::string>())
            unit += std::isalnum((unsigned char)c)
                        ? char(std::tolower((unsigned char)c))
                        : '_';
          flatten(rest, name + "_" + unit, out);
        }
    } else {
      out[name] = *it;
    }
  }
}

struct Plan {
  SweepSpec spec;
  std::vector<SweepPoint> points;
  std::vector<std::string> keys;        ///< Result key per point.
  std::vector<std::string> compileKeys; ///< Compiled-program key per point.
  std::string dir;                      ///< --out.
};

std::string pointPath(const Plan &plan, size_t i) {
  return plan.dir + "/points/" + plan.keys[i] + ".json";
}

/// The inputs of a point: model, every chip field, every compiler option.
Json pointInputs(const SweepPoint &p) {
  Json in;
  in["model"] = p.generator.empty() ? p.model : p.generator;
  for (const auto &[k, v] : p.modelParams)
    in["model_" + k] = axisJson(v);
  std::map<std::string, std::string> values = configFieldValues(p.chip);
  for (const std::string &k : arch::ChipConfig::fieldNames())
    in[k] = typedValue(values[k]);
  for (const auto &[k, v] : p.options)
    in[k] = axisJson(v);
  return in;
}

//===----------------------------------------------------------------------===//
// One point: compile (or reuse) and simulate timing-only.
//===----------------------------------------------------------------------===//

void applyOption(compiler::CompileOptions &opts, const std::string &name,
                 const AxisValue &v) {
  // One case per row of compilerOptions().
  if (name == "raise_gelu")
    opts.raiseGelu = v.b;
  else
    throw std::logic_error("sweep: compiler option '" + name +
                           "' has no setter in Sweep.cpp");
}

/// Compiled programs a worker holds, by compile key; the last few in memory
/// and every one on disk under OUT/programs/ for the other workers.
class ProgramCache {
public:
  explicit ProgramCache(std::string dir) : dir(std::move(dir)) {}

  /// The program for point `p`; throws with the compiler's message.
  std::shared_ptr<arch::Program> get(const SweepPoint &p,
                                     const std::string &key) {
    auto it = memory.find(key);
    if (it != memory.end())
      return it->second;
    auto err = errors.find(key);
    if (err != errors.end())
      throw std::runtime_error(err->second);
    std::string file = dir + "/" + key + ".tsrp";
    std::shared_ptr<arch::Program> prog;
    if (llvm::sys::fs::exists(file)) {
      prog = std::make_shared<arch::Program>(arch::Program::load(file));
    } else {
      compiler::CompileOptions opts;
      for (const auto &[name, v] : p.options)
        applyOption(opts, name, v);
      llvm::Expected<arch::Program> compiled =
          compiler::compileOnnxFile(p.model, p.chip, opts);
      if (!compiled) {
        std::string msg = llvm::toString(compiled.takeError());
        errors[key] = msg;
        throw std::runtime_error(msg);
      }
      prog = std::make_shared<arch::Program>(std::move(*compiled));
      prog->save(file);
      ++compiled_;
    }
    if (memory.size() >= 4)
      memory.clear();
    memory[key] = prog;
    return prog;
  }
  unsigned compiled() const { return compiled_; }

private:
  std::string dir;
  std::map<std::string, std::shared_ptr<arch::Program>> memory;
  std::map<std::string, std::string> errors;
  unsigned compiled_ = 0;
};

/// Runs point `i` and writes its result file; returns true if it ran clean.
bool runPoint(const Plan &plan, size_t i, ProgramCache &cache) {
  const SweepPoint &p = plan.points[i];
  auto start = std::chrono::steady_clock::now();
  Json r;
  r["key"] = plan.keys[i];
  r["compile_key"] = plan.compileKeys[i];
  r["inputs"] = pointInputs(p);
  bool ok = true;
  try {
    std::shared_ptr<arch::Program> prog = cache.get(p, plan.compileKeys[i]);
    sim::SimOptions opts;
    opts.functional = false;
    sim::SimResult result = sim::simulateFrame(*prog, p.chip, {}, opts);
    sim::ReportInfo info;
    info.modelName = p.model;
    info.programPath = "(sweep)";
    Json report = Json::parse(sim::reportJson(result, p.chip, info));
    Json figures = Json::object();
    flatten(report, "", figures);
    r["status"] = "ok";
    r["error"] = "";
    r["figures"] = figures;
    r["layers"] = report.value("layers", Json::array());
  } catch (const std::exception &e) {
    ok = false;
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    r["status"] = "error";
    r["error"] = msg;
  }
  r["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  writeFileAtomic(pointPath(plan, i), r.dump(1) + "\n");
  return ok;
}

//===----------------------------------------------------------------------===//
// Workers and the progress bar.
//===----------------------------------------------------------------------===//

/// Reads one '\n'-terminated line from `fd`; false at end of file.
bool readLine(int fd, std::string &line) {
  line.clear();
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n == 0)
      return false;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    if (c == '\n')
      return true;
    line += c;
  }
}

void writeLine(int fd, const std::string &line) {
  std::string s = line + "\n";
  const char *p = s.data();
  size_t left = s.size();
  while (left) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    p += n;
    left -= size_t(n);
  }
}

/// A worker: reads point indices, answers "index ok|error".
[[noreturn]] void workerMain(const Plan &plan, int cmdFd, int resFd) {
  ProgramCache cache(plan.dir + "/programs");
  std::string line;
  while (readLine(cmdFd, line)) {
    size_t i = std::stoul(line);
    bool ok = false;
    try {
      ok = runPoint(plan, i, cache);
    } catch (const std::exception &e) {
      std::cerr << "tessera sweep: point " << i << ": " << e.what() << "\n";
    }
    writeLine(resFd, std::to_string(i) + (ok ? " ok" : " error"));
  }
  std::cout.flush();
  std::cerr.flush();
  ::_exit(0);
}

std::string clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "--:--";
  uint64_t s = uint64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(
        buf, sizeof buf, "%llu:%02llu:%02llu", (unsigned long long)(s / 3600),
        (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llu:%02llu", (unsigned long long)(s / 60),
                  (unsigned long long)(s % 60));
  return buf;
}

class Progress {
public:
  Progress(size_t total, size_t already)
      : total(total), done(already), already(already),
        tty(::isatty(STDERR_FILENO)), start(std::chrono::steady_clock::now()) {
    draw(true);
  }
  void step(bool failed) {
    ++done;
    failed_ += failed;
    draw(done == total);
  }
  void tick() { draw(false); }
  size_t failed() const { return failed_; }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  }

private:
  size_t total, done, already, failed_ = 0;
  bool tty;
  std::chrono::steady_clock::time_point start;
  size_t lastPrinted = ~size_t(0);

  void draw(bool force) {
    size_t ran = done - already;
    double t = seconds();
    double rate = t > 0 ? double(ran) / t : 0;
    double eta = rate > 0 ? double(total - done) / rate : NAN;
    const int width = 30;
    int filled = total ? int(width * done / total) : width;
    std::ostringstream os;
    os << "sweep [" << std::string(filled, '#')
       << std::string(width - filled, '.') << "] " << done << "/" << total;
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %.2f points/s", rate);
    os << buf << "  ETA " << (done == total ? "0:00" : clock(eta));
    if (failed_)
      os << "  " << failed_ << " failed";
    if (tty) {
      std::cerr << "\r" << os.str() << "\x1b[K" << (done == total ? "\n" : "")
                << std::flush;
    } else {
      // A line per tenth of the sweep, for logs.
      size_t decile = total ? done * 10 / total : 10;
      if (decile != lastPrinted && (force || decile != lastPrinted)) {
        lastPrinted = decile;
        std::cerr << os.str() << "\n" << std::flush;
      }
    }
  }
};

/// Runs `todo` (indices into plan.points) on `nJobs` worker processes.
/// Returns the number of failed points.
size_t runPoints(const Plan &plan, const std::vector<size_t> &todo,
                 unsigned nJobs, size_t alreadyDone, size_t scopeTotal) {
  Progress progress(scopeTotal, alreadyDone);
  if (todo.empty())
    return 0;
  // Group the work by compiled program, in plan order.
  std::vector<std::string> groupOrder;
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i : todo) {
    const std::string &ck = plan.compileKeys[i];
    if (!groups.count(ck))
      groupOrder.push_back(ck);
    groups[ck].push_back(i);
  }
  std::map<std::string, size_t> nextInGroup;
  size_t nextGroup = 0;

  nJobs = std::max<unsigned>(1, std::min<size_t>(nJobs, todo.size()));
  struct Worker {
    pid_t pid;
    int cmd, res;
    std::string group;
    bool busy = false;
  };
  std::vector<Worker> workers;
  std::cout.flush();
  std::cerr.flush();
  for (unsigned w = 0; w < nJobs; ++w) {
    int toChild[2], toParent[2];
    if (::pipe(toChild) || ::pipe(toParent))
      fail(std::string("cannot create a pipe: ") + std::strerror(errno));
    pid_t pid = ::fork();
    if (pid < 0)
      fail(std::string("cannot start a worker: ") + std::strerror(errno));
    if (pid == 0) {
      ::close(toChild[1]);
      ::close(toParent[0]);
      for (const Worker &o : workers) {
        ::close(o.cmd);
        ::close(o.res);
      }
      workerMain(plan, toChild[0], toParent[1]);
    }
    ::close(toChild[0]);
    ::close(toParent[1]);
    workers.push_back({pid, toChild[1], toParent[0], "", false});
  }

  // The next point for worker `w`: its own group first, then a group no one
  // has started, then the largest remainder of another group.
  auto take = [&](Worker &w) -> long {
    auto fromGroup = [&](const std::string &g) -> long {
      size_t &n = nextInGroup[g];
      if (n < groups[g].size()) {
        w.group = g;
        return long(groups[g][n++]);
      }
      return -1;
    };
    if (!w.group.empty()) {
      long i = fromGroup(w.group);
      if (i >= 0)
        return i;
    }
    while (nextGroup < groupOrder.size()) {
      long i = fromGroup(groupOrder[nextGroup++]);
      if (i >= 0)
        return i;
    }
    std::string best;
    size_t left = 0;
    for (const std::string &g : groupOrder) {
      size_t l = groups[g].size() - nextInGroup[g];
      if (l > left) {
        left = l;
        best = g;
      }
    }
    return best.empty() ? -1 : fromGroup(best);
  };

  size_t outstanding = 0;
  for (Worker &w : workers) {
    long i = take(w);
    if (i >= 0) {
      writeLine(w.cmd, std::to_string(i));
      w.busy = true;
      ++outstanding;
    }
  }
  while (outstanding) {
    std::vector<pollfd> fds;
    for (const Worker &w : workers)
      fds.push_back({w.res, POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), 500);
    if (n < 0 && errno != EINTR)
      fail(std::string("poll: ") + std::strerror(errno));
    progress.tick();
    for (size_t k = 0; k < workers.size(); ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP)))
        continue;
      Worker &w = workers[k];
      std::string line;
      if (!readLine(w.res, line)) {
        if (w.busy)
          fail("a worker process ended unexpectedly; rerun the sweep to "
               "continue (finished points are kept)");
        continue;
      }
      --outstanding;
      w.busy = false;
      progress.step(line.find(" ok") == std::string::npos);
      long i = take(w);
      if (i >= 0) {
        writeLine(w.cmd, std::to_string(i));
        w.busy = true;
        ++outstanding;
      }
    }
  }
  for (Worker &w : workers) {
    ::close(w.cmd);
    ::close(w.res);
  }
  for (Worker &w : workers) {
    int status;
    ::waitpid(w.pid, &status, 0);
  }
  return progress.failed();
}

//===----------------------------------------------------------------------===//
// Joining point files into results.csv / results.json.
//===----------------------------------------------------------------------===//

std::string csvCell(const Json &v) {
  std::string s;
  if (v.is_null())
    return "";
  if (v.is_string())
    s = v.get<std::string>();
  else
    s = v.dump();
  if (s.find_first_of(",\"\n\r") == std::string::npos)
    return s;
  std::string q = "\"";
  for (char c : s)
    q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

/// Reads the result of point `i` from `dir`; null if it has none.
Json readPoint(const std::string &file) {
  bool ok = false;
  std::string text = readFile(file, &ok);
  if (!ok)
    return nullptr;
  try {
    return Json::parse(text);
  } catch (const Json::exception &) {
    return nullptr;
  }
}

/// Writes results.csv and results.json for `scope` (plan indices, in plan
/// order). Both depend only on the point files, so a merged run and a local
/// run write the same bytes.
size_t writeResults(const Plan &plan, const std::vector<size_t> &scope) {
  std::vector<Json> rows;
  size_t failed = 0;
  std::vector<std::string> figureNames;
  for (size_t i : scope) {
    Json r = readPoint(pointPath(plan, i));
    if (r.is_null())
      fail(pointPath(plan, i) + ": missing or unreadable point result");
    Json row;
    row["point"] = i;
    row["key"] = plan.keys[i];
    row["status"] = r["status"];
    failed += r["status"] != "ok";
    row["error"] = r["error"];
    for (auto it = r["inputs"].begin(); it != r["inputs"].end(); ++it)
      row[it.key()] = *it;
    const SweepPoint &p = plan.points[i];
    // Area proxy (docs/sweep.md): array MACs per cycle times SRAM bytes.
    row["area_proxy_mac_sram_bytes"] =
        uint64_t(p.chip.matrix_rows) * p.chip.matrix_cols * p.chip.sram_bytes;
    if (r.contains("figures"))
      for (auto it = r["figures"].begin(); it != r["figures"].end(); ++it) {
        if (std::find(figureNames.begin(), figureNames.end(), it.key()) ==
            figureNames.end())
          figureNames.push_back(it.key());
        row[it.key()] = *it;
      }
    rows.push_back(std::move(row));
  }
  // Columns: inputs (as in the first row), then every figure.
  std::vector<std::string> columns;
  if (!rows.empty())
    for (auto it = rows.front().begin(); it != rows.front().end(); ++it)
      if (std::find(figureNames.begin(), figureNames.end(), it.key()) ==
          figureNames.end())
        columns.push_back(it.key());
  columns.insert(columns.end(), figureNames.begin(), figureNames.end());

  std::ostringstream csv;
  for (size_t c = 0; c < columns.size(); ++c)
    csv << (c ? "," : "") << columns[c];
  csv << "\n";
  Json points = Json::array();
  for (Json &row : rows) {
    Json ordered;
    for (size_t c = 0; c < columns.size(); ++c) {
      Json v = row.contains(columns[c]) ? row[columns[c]] : Json(nullptr);
      csv << (c ? "," : "") << csvCell(v);
      ordered[columns[c]] = v;
    }
    csv << "\n";
    points.push_back(std::move(ordered));
  }
  Json doc;
  doc["sweep"] = plan.spec.source;
  Json axes = Json::array();
  for (const Axis &a : plan.spec.axes)
    axes.push_back(a.name);
  doc["axes"] = axes;
  doc["points"] = points;
  writeFileAtomic(plan.dir + "/results.csv", csv.str());
  writeFileAtomic(plan.dir + "/results.json", doc.dump(1) + "\n");
  return failed;
}

//===----------------------------------------------------------------------===//
// Generated models: `[sweep] generator` with `[model]` and `model.*` axes.
//===----------------------------------------------------------------------===//

/// Runs `python3 args...` with its output in `log`; returns the exit status.
int runPython(const std::vector<std::string> &args, const std::string &log) {
  std::vector<llvm::StringRef> argv = {TESSERA_PYTHON};
  for (const std::string &a : args)
    argv.push_back(a);
  std::optional<llvm::StringRef> redirects[] = {
      llvm::StringRef(""), llvm::StringRef(log), llvm::StringRef(log)};
  std::string err;
  return llvm::sys::ExecuteAndWait(TESSERA_PYTHON, argv, std::nullopt,
                                   redirects, 0, 0, &err);
}

std::string lastLine(const std::string &text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r'))
    t.pop_back();
  size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

/// The generator's parameters, from its --help (argparse style).
std::set<std::string> generatorParams(const SweepSpec &spec,
                                      const std::string &tmpDir) {
  std::string log = tmpDir + "/generator-help.txt";
  int rc = runPython({spec.generator, "--help"}, log);
  std::string help = readFile(log);
  if (rc != 0)
    fail(spec.source + ":" + std::to_string(spec.generatorLine) +
         ": generator " + spec.generator + " --help failed: " + lastLine(help));
  std::set<std::string> params;
  for (size_t pos = help.find("--"); pos != std::string::npos;
       pos = help.find("--", pos + 2)) {
    size_t end = pos + 2;
    while (end < help.size() &&
           (std::isalnum((unsigned char)help[end]) || help[end] == '-'))
      ++end;
    std::string name = help.substr(pos + 2, end - pos - 2);
    std::replace(name.begin(), name.end(), '-', '_');
    if (!name.empty())
      params.insert(name);
  }
  return params;
}

/// Checks every model parameter against the generator's, before any run.
void checkGeneratorParams(const SweepSpec &spec, const std::string &tmpDir) {
  std::set<std::string> known = generatorParams(spec, tmpDir);
  auto check = [&](const std::string &name, unsigned line) {
    if (known.count(name) && name != "help" && name != "no_expected")
      return;
    std::string list;
    for (const std::string &k : known)
      if (k != "help" && k != "no_expected")
        list += (list.empty() ? "" : ", ") + k;
    fail(spec.source + ":" + std::to_string(line) +
         ": unknown model parameter '" + name + "' (" + spec.generator +
         " takes: " + list + ")");
  };
  for (const auto &[k, v] : spec.modelParams)
    check(k, v.line);
  for (const Axis &a : spec.axes)
    if (a.kind == AxisKind::ModelParam)
      check(a.name.substr(6), a.line);
}

/// What a generated model depends on: every .py file in the generator's
/// directory and in the shared ../lib next to it, hashed.
std::string generatorIdentity(const std::string &generator) {
  std::string dir = llvm::sys::path::parent_path(generator).str();
  if (dir.empty())
    dir = ".";
  std::vector<std::string> files;
  for (const std::string &d : {dir, dir + "/../lib"}) {
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(d, ec), end; it != end && !ec;
         it.increment(ec))
      if (llvm::StringRef(it->path()).ends_with(".py"))
        files.push_back(it->path());
  }
  std::sort(files.begin(), files.end(),
            [](const std::string &a, const std::string &b) {
              return llvm::sys::path::filename(a) <
                     llvm::sys::path::filename(b);
            });
  std::string all;
  for (const std::string &f : files)
    all += llvm::sys::path::filename(f).str() + "\n" + readFile(f) + "\n";
  return hashText(all, 64);
}

std::string modelParamText(const SweepPoint &p) {
  std::string t;
  for (const auto &[k, v] : p.modelParams)
    t += (t.empty() ? "" : " ") + k + "=" + v.text();
  return t;
}

/// Generates the models the points in `todo` need (once per parameter set,
/// kept under OUT/models/ for reruns) and points them at their ONNX files.
/// A generator error stops the sweep before any point runs.
void generateModels(Plan &plan, const std::vector<size_t> &todo,
                    const std::vector<std::string> &modelIds) {
  std::map<std::string, std::string> onnxOf;
  std::vector<size_t> need;
  for (size_t i : todo)
    if (!plan.points[i].generator.empty() && !onnxOf.count(modelIds[i])) {
      onnxOf[modelIds[i]] = "";
      need.push_back(i);
    }
  bool noExpected = false;
  if (!need.empty())
    noExpected = generatorParams(plan.spec, plan.dir).count("no_expected") != 0;
  size_t n = 0;
  for (size_t i : need) {
    const SweepPoint &p = plan.points[i];
    std::string dir = plan.dir + "/models/" + modelIds[i];
    ++n;
    if (!llvm::sys::fs::exists(dir + "/generated.txt")) {
      std::cerr << "sweep: generating model " << n << " of " << need.size()
                << " (" << modelParamText(p) << ") with " << p.generator
                << "\n";
      std::string tmp = dir + ".tmp";
      llvm::sys::fs::remove_directories(tmp);
      makeDirs(tmp);
      std::vector<std::string> args = {p.generator, tmp};
      for (const auto &[k, v] : p.modelParams) {
        std::string flag = k;
        std::replace(flag.begin(), flag.end(), '_', '-');
        args.push_back("--" + flag);
        args.push_back(v.text());
      }
      if (noExpected)
        args.push_back("--no-expected"); // Timing-only: no reference output.
      if (runPython(args, tmp + "/generator.log") != 0)
        fail(plan.spec.source + ":" + std::to_string(plan.spec.generatorLine) +
             ": generator failed for {" + modelParamText(p) +
             "}: " + lastLine(readFile(tmp + "/generator.log")));
      writeFileAtomic(tmp + "/generated.txt", modelParamText(p) + "\n");
      llvm::sys::fs::remove_directories(dir);
      if (std::rename(tmp.c_str(), dir.c_str()) != 0)
        fail(dir + ": cannot create (" + std::strerror(errno) + ")");
    }
    std::error_code ec;
    std::string onnx;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
         it.increment(ec))
      if (llvm::StringRef(it->path()).ends_with(".onnx"))
        onnx = it->path();
    if (onnx.empty())
      fail(plan.spec.source + ":" + std::to_string(plan.spec.generatorLine) +
           ": the generator wrote no .onnx file into " + dir);
    onnxOf[modelIds[i]] = onnx;
  }
  for (size_t i : todo)
    if (!plan.points[i].generator.empty())
      plan.points[i].model = onnxOf[modelIds[i]];
}

void drawPlots(const Plan &plan) {
  std::string script = std::string(TESSERA_SCRIPTS_DIR) + "/sweep_plots.py";
  std::vector<llvm::StringRef> args = {TESSERA_PYTHON, script, plan.dir};
  std::string err;
  int rc = llvm::sys::ExecuteAndWait(TESSERA_PYTHON, args, std::nullopt, {}, 0,
                                     0, &err);
  if (rc != 0)
    std::cerr << "tessera sweep: warning: the plots were not drawn ("
              << (err.empty()
                      ? "sweep_plots.py exited with " + std::to_string(rc)
                      : err)
              << "); the CSV and JSON results are complete\n";
}

std::string absolute(const std::string &path) {
  llvm::SmallString<256> p(path);
  llvm::sys::fs::make_absolute(p);
  llvm::sys::path::remove_dots(p, true);
  return std::string(p);
}

/// Shell-quotes one word.
std::string sq(const std::string &s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int writeSlurm(const Plan &plan, const char *argv0) {
  static int anchor;
  std::string self = llvm::sys::fs::getMainExecutable(argv0, &anchor);
  std::string dir = absolute(plan.dir);
  std::string file = absolute(sweepFile);
  llvm::SmallString<256> cwd;
  llvm::sys::fs::current_path(cwd);
  unsigned n = std::max(1u, std::min<unsigned>(shards, plan.points.size()));
  makeDirs(dir + "/slurm");
  std::ostringstream array;
  array << "#!/bin/bash\n"
        << "# Written by tessera sweep --slurm: one shard of the sweep per\n"
        << "# array task; the merge step joins them (docs/sweep.md).\n"
        << "#SBATCH --job-name=tessera-sweep\n"
        << "#SBATCH --array=0-" << n - 1 << "\n"
        << "#SBATCH --ntasks=1\n"
        << "#SBATCH --cpus-per-task=1\n"
        << "#SBATCH --chdir=" << std::string(cwd) << "\n"
        << "#SBATCH --output=" << dir << "/slurm/shard-%a.log\n"
        << "set -euo pipefail\n"
        << "exec " << sq(self) << " sweep " << sq(file) << " --out "
        << sq(dir + "/shards/") << "\"$SLURM_ARRAY_TASK_ID\" --shard "
        << "\"$SLURM_ARRAY_TASK_ID/" << n << "\" --jobs "
        << "\"${SLURM_CPUS_PER_TASK:-1}\" --no-plots\n";
  std::ostringstream merge;
  merge << "#!/bin/bash\n"
        << "# Written by tessera sweep --slurm: joins the shards' results\n"
        << "# into " << dir << " (the same bytes as a local run).\n"
        << "#SBATCH --job-name=tessera-sweep-merge\n"
        << "#SBATCH --ntasks=1\n"
        << "#SBATCH --chdir=" << std::string(cwd) << "\n"
        << "#SBATCH --output=" << dir << "/slurm/merge.log\n"
        << "set -euo pipefail\n"
        << "args=()\n"
        << "for i in $(seq 0 " << n - 1 << "); do args+=(--merge "
        << sq(dir + "/shards/") << "\"$i\"); done\n"
        << "exec " << sq(self) << " sweep " << sq(file) << " --out " << sq(dir)
        << " \"${args[@]}\" \"$@\"\n";
  std::ostringstream submit;
  submit << "#!/bin/bash\n"
         << "# Submits the array, then the merge once every task succeeded.\n"
         << "set -euo pipefail\n"
         << "job=$(sbatch --parsable " << sq(dir + "/slurm/sweep.sbatch")
         << ")\n"
         << "job=${job%%;*}\n"
         << "merge=$(sbatch --parsable --dependency=afterok:$job "
         << sq(dir + "/slurm/merge.sbatch") << ")\n"
         << "echo \"submitted array job $job and merge job ${merge%%;*}\"\n";
  try {
    writeFileAtomic(dir + "/slurm/sweep.sbatch", array.str());
    writeFileAtomic(dir + "/slurm/merge.sbatch", merge.str());
    writeFileAtomic(dir + "/slurm/submit.sh", submit.str());
  } catch (const std::exception &e) {
    fail(e.what());
  }
  for (const char *f : {"sweep.sbatch", "merge.sbatch", "submit.sh"})
    llvm::sys::fs::setPermissions(dir + "/slurm/" + f,
                                  llvm::sys::fs::all_read |
                                      llvm::sys::fs::owner_all |
                                      llvm::sys::fs::all_exe);
  std::cout << "wrote " << dir << "/slurm/sweep.sbatch (" << n
            << " array tasks over " << plan.points.size() << " points), " << dir
            << "/slurm/merge.sbatch and " << dir << "/slurm/submit.sh\n"
            << "submit with: bash " << dir << "/slurm/submit.sh\n";
  return 0;
}

} // namespace

std::string tessera::tools::hashText(const std::string &text, size_t chars) {
  auto digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(text));
  return llvm::toHex(digest, /*LowerCase=*/true).substr(0, chars);
}

bool tessera::tools::sweepSelected() { return bool(sweepCmd); }

int tessera::tools::sweepMain(const char *argv0) {
  // Numeric options in their documented ranges (arch/Ranges.h): a usage
  // error, exit status 2, before anything runs.
  for (auto [name, value] :
       {std::pair<const char *, double>{"jobs", jobs}, {"shards", shards}}) {
    std::string err = arch::optionRangeError(name, value);
    if (!err.empty()) {
      std::cerr << "tessera sweep: usage error: " << err << "\n";
      std::exit(2);
    }
  }
  Plan plan;
  plan.dir = outDir;
  try {
    plan.spec = loadSweep(sweepFile);
    plan.points = planSweep(plan.spec);
  } catch (const std::exception &e) {
    fail(e.what());
  }
  // Keys: the point's inputs with the model's contents (for a generated
  // model: the generator's identity and parameters).
  std::string genIdentity;
  if (!plan.spec.generator.empty()) {
    makeDirs(plan.dir);
    checkGeneratorParams(plan.spec, plan.dir);
    genIdentity = generatorIdentity(plan.spec.generator);
  }
  std::vector<std::string> modelIds;
  std::map<std::string, std::string> modelHash;
  for (const SweepPoint &p : plan.points) {
    if (!p.generator.empty()) {
      modelIds.push_back(hashText("tessera sweep generated model v1\n" +
                                  genIdentity + "\n" + modelParamText(p)));
      const std::string &mh = modelIds.back();
      plan.keys.push_back(hashText("tessera sweep point v1\ngenerated=" + mh +
                                   "\n" + p.canonicalText()));
      plan.compileKeys.push_back(
          hashText("tessera sweep program v1\ngenerated=" + mh + "\n" +
                   p.compileText()));
      continue;
    }
    modelIds.push_back("");
    if (!modelHash.count(p.model)) {
      bool ok = false;
      std::string bytes = readFile(p.model, &ok);
      if (!ok)
        fail(p.model + ": cannot read the model");
      modelHash[p.model] = hashText(bytes, 64);
    }
    const std::string &mh = modelHash[p.model];
    plan.keys.push_back(hashText("tessera sweep point v1\nmodel_sha256=" + mh +
                                 "\n" + p.canonicalText()));
    plan.compileKeys.push_back(
        hashText("tessera sweep program v1\nmodel_sha256=" + mh + "\n" +
                 p.compileText()));
  }

  if (dryRun) {
    for (size_t i = 0; i < plan.points.size(); ++i) {
      std::cout << i << " " << plan.keys[i];
      for (const auto &[k, v] : plan.points[i].settings)
        std::cout << " " << k << "=" << v.text();
      std::cout << "\n";
    }
    return 0;
  }
  if (slurm)
    return writeSlurm(plan, argv0);

  // The slice this run covers: all points, or shard i of N over the plan
  // ordered by compiled program (so a shard compiles as little as possible).
  std::vector<size_t> scope(plan.points.size());
  for (size_t i = 0; i < scope.size(); ++i)
    scope[i] = i;
  if (!shard.empty()) {
    unsigned i = 0, n = 0;
    char extra;
    if (std::sscanf(shard.c_str(), "%u/%u%c", &i, &n, &extra) != 2 || n == 0 ||
        i >= n)
      fail("--shard expects i/N with 0 <= i < N, got '" + shard + "'");
    std::vector<size_t> byProgram = scope;
    std::stable_sort(byProgram.begin(), byProgram.end(),
                     [&](size_t a, size_t b) {
                       return plan.compileKeys[a] < plan.compileKeys[b];
                     });
    size_t total = byProgram.size();
    std::vector<size_t> slice(byProgram.begin() + total * i / n,
                              byProgram.begin() + total * (i + 1) / n);
    std::sort(slice.begin(), slice.end());
    scope = slice;
  }

  makeDirs(plan.dir + "/points");
  makeDirs(plan.dir + "/programs");

  if (!mergeDirs.empty()) {
    // Copy every point result of the plan found in the shard directories.
    size_t missing = 0;
    std::string firstMissing;
    for (size_t i : scope) {
      std::string dst = pointPath(plan, i);
      bool found = llvm::sys::fs::exists(dst);
      for (const std::string &d : mergeDirs) {
        if (found)
          break;
        std::string src = d + "/points/" + plan.keys[i] + ".json";
        bool ok = false;
        std::string bytes = readFile(src, &ok);
        if (ok && !Json::parse(bytes, nullptr, false).is_discarded()) {
          writeFileAtomic(dst, bytes);
          found = true;
        }
      }
      if (!found && !missing++)
        firstMissing = plan.keys[i];
    }
    if (missing)
      fail(std::to_string(missing) + " of " + std::to_string(scope.size()) +
           " points have no result in the merged directories (first: point " +
           firstMissing + "); run the missing shards, then merge again");
    writeResults(plan, scope);
    std::cout << "merged " << scope.size() << " points from "
              << mergeDirs.size() << " directories into " << plan.dir
              << "/results.csv and results.json\n";
    if (!noPlots)
      drawPlots(plan);
    return 0;
  }

  std::vector<size_t> todo;
  for (size_t i : scope)
    if (readPoint(pointPath(plan, i)).is_null())
      todo.push_back(i);
  std::set<std::string> programs;
  for (size_t i : todo)
    programs.insert(plan.compileKeys[i]);
  generateModels(plan, todo, modelIds);
  unsigned nJobs =
      jobs ? unsigned(jobs) : std::max(1u, std::thread::hardware_concurrency());
  std::cerr << "sweep: " << scope.size() << " points"
            << (shard.empty() ? "" : " in shard " + std::string(shard))
            << " (of " << plan.points.size()
            << "): " << scope.size() - todo.size() << " already done, "
            << todo.size() << " to run (" << programs.size()
            << " programs to compile) on "
            << std::min<size_t>(nJobs, std::max<size_t>(1, todo.size()))
            << " worker(s)\n";
  auto start = std::chrono::steady_clock::now();
  size_t failed =
      runPoints(plan, todo, nJobs, scope.size() - todo.size(), scope.size());
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  size_t failedInScope = writeResults(plan, scope);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", secs);
  std::cerr << "sweep: ran " << todo.size() << " points in " << buf << " s ("
            << failed << " failed";
  if (failedInScope != failed)
    std::cerr << ", " << failedInScope << " failed in all";
  std::cerr << "); results in " << plan.dir
            << "/results.csv and results.json\n";
  if (!noPlots && shard.empty())
    drawPlots(plan);
  return failedInScope ? 3 : 0;
}
