//===- tessera.cpp - The user-facing command: compile, simulate, run ------===//
//
//   tessera run [model.onnx]        compile + simulate one frame, print report
//   tessera compile model.onnx -o model.tsrp [--listing model.lst]
//   tessera simulate model.tsrp --input x=x.f32 [--expected y=y.f32]
//   tessera reference model.onnx --input x=x.f32 --output y=y.f32
//                                   the FP32 reference executor's outputs
//   run/simulate/reference --output NAME=file.f32 | --output-dir DIR
//                                   keep the output tensors (raw float32)
//   tessera smol ...                the .smol drive-data tools (tessera-smol)
//   tessera sweep sweep.toml        a design-space sweep (Sweep.cpp)
//   tessera budget [--update]       latency-budget regression check
//   (Budget.cpp)
//
// With no model, `tessera run` uses the bundled one-layer encoder and the
// reference chip. A model directory that holds a tensors.txt (name, shape,
// raw float32 file per line, as models/*/make_model.py writes it) supplies
// the inputs and the expected outputs, so the chip's outputs are checked
// against PyTorch's.
//
//===----------------------------------------------------------------------===//

#include "Sweep.h"
#include "Tensors.h"
#ifdef TESSERA_WITH_REPLAY
#include "Replay.h"
#endif

#include "tessera/Compiler/Compile.h"
#include "tessera/Sim/Report.h"
#include "tessera/Sim/Simulator.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"
#include "tessera/arch/Program.h"
#include "tessera/arch/Ranges.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <unistd.h>

using namespace tessera;
namespace cl = llvm::cl;

namespace {

cl::SubCommand runCmd("run", "Compile an ONNX model and simulate one frame "
                             "(default: the bundled encoder layer)");
cl::SubCommand compileCmd("compile", "Compile an ONNX model to a program file");
cl::SubCommand simulateCmd("simulate", "Simulate one frame of a program file");
cl::SubCommand compareCmd("compare",
                          "Compile a model for several pipelines and print "
                          "them side by side (docs/fusion.md)");
cl::SubCommand referenceCmd("reference",
                            "Run the FP32 reference executor on an ONNX model "
                            "and write its outputs");

cl::OptionCategory cat("tessera options");

cl::opt<std::string> runModel(cl::Positional, cl::sub(runCmd),
                              cl::desc("[model.onnx]"), cl::init(""),
                              cl::cat(cat));
cl::opt<std::string> compileModel(cl::Positional, cl::sub(compileCmd),
                                  cl::desc("<model.onnx>"), cl::Required,
                                  cl::cat(cat));
cl::opt<std::string> simProgram(cl::Positional, cl::sub(simulateCmd),
                                cl::desc("<program.tsrp>"), cl::Required,
                                cl::cat(cat));
cl::opt<std::string> referenceModel(cl::Positional, cl::sub(referenceCmd),
                                    cl::desc("<model.onnx>"), cl::Required,
                                    cl::cat(cat));

cl::opt<std::string> compareModel(cl::Positional, cl::sub(compareCmd),
                                  cl::desc("<model.onnx>"), cl::Required,
                                  cl::cat(cat));
cl::opt<std::string> pipelineName(
    "pipeline", cl::sub(runCmd), cl::sub(compileCmd), cl::sub(referenceCmd),
    cl::desc("Fusion pipeline: fused (default), standard or unfused "
             "(docs/fusion.md)"),
    cl::value_desc("name"), cl::init("fused"), cl::cat(cat));
cl::list<std::string> comparePipelines(
    "pipelines", cl::sub(compareCmd), cl::CommaSeparated,
    cl::desc("Pipelines to compare (default: unfused,standard,fused)"),
    cl::value_desc("a,b"), cl::cat(cat));
cl::opt<bool>
    printIrAfterAll("print-ir-after-all", cl::sub(runCmd), cl::sub(compileCmd),
                    cl::desc("Print the tsr module after every pass (stderr)"),
                    cl::init(false), cl::cat(cat));
cl::opt<std::string> configPath(
    "config", cl::sub(runCmd), cl::sub(compileCmd), cl::sub(simulateCmd),
    cl::sub(compareCmd),
    cl::desc("Chip config file (default: the built-in reference chip)"),
    cl::value_desc("file"), cl::init(""), cl::cat(cat));
cl::alias configAlias("c", cl::aliasopt(configPath),
                      cl::desc("Alias for --config"));
cl::opt<std::string> outPath("o", cl::sub(compileCmd), cl::sub(runCmd),
                             cl::desc("Write the program file here"),
                             cl::value_desc("file"), cl::init(""),
                             cl::cat(cat));
cl::opt<std::string>
    listingPath("listing", cl::sub(compileCmd), cl::sub(runCmd),
                cl::desc("Write the readable program listing here"),
                cl::value_desc("file"), cl::init(""), cl::cat(cat));
cl::list<std::string> inputBindings(
    "input", cl::sub(runCmd), cl::sub(simulateCmd), cl::sub(referenceCmd),
    cl::desc("Input tensor as raw float32: name=file (repeatable)"),
    cl::value_desc("name=file"), cl::cat(cat));
cl::list<std::string> expectedBindings(
    "expected", cl::sub(runCmd), cl::sub(simulateCmd), cl::sub(referenceCmd),
    cl::desc("Reference output as raw float32: name=file (repeatable)"),
    cl::value_desc("name=file"), cl::cat(cat));
cl::opt<double> tolerance(
    "tolerance", cl::sub(runCmd), cl::sub(simulateCmd), cl::sub(referenceCmd),
    cl::desc("Largest absolute error against a reference output, relative "
             "to the reference's RMS (default 0.02; see docs/accuracy.md)"),
    cl::init(0.02), cl::cat(cat));
cl::list<std::string> outputBindings(
    "output", cl::sub(runCmd), cl::sub(simulateCmd), cl::sub(referenceCmd),
    cl::desc("Write output tensor NAME as raw float32 to file (repeatable)"),
    cl::value_desc("name=file"), cl::cat(cat));
cl::opt<std::string> outputDir(
    "output-dir", cl::sub(runCmd), cl::sub(simulateCmd), cl::sub(referenceCmd),
    cl::desc("Write every output tensor as DIR/NAME.f32 (raw float32; '/' "
             "and other characters unsafe in a file name become '_')"),
    cl::value_desc("dir"), cl::init(""), cl::cat(cat));
cl::opt<bool> jsonOut("json", cl::sub(runCmd), cl::sub(simulateCmd),
                      cl::sub(compareCmd), cl::desc("Print the report as JSON"),
                      cl::init(false), cl::cat(cat));
cl::opt<std::string>
    tracePath("trace", cl::sub(runCmd), cl::sub(simulateCmd),
              cl::desc("Write a Perfetto/Chrome JSON timeline trace here"),
              cl::value_desc("file"), cl::init(""), cl::cat(cat));
cl::opt<bool> noRaiseGelu(
    "no-raise-gelu", cl::sub(runCmd), cl::sub(compileCmd),
    cl::sub(referenceCmd),
    cl::desc("Keep PyTorch's five-op erf-GELU chain (skip tsr-raise-gelu)"),
    cl::init(false), cl::cat(cat));
cl::opt<bool> noRaiseLayerNorm(
    "no-raise-layernorm", cl::sub(runCmd), cl::sub(compileCmd),
    cl::sub(referenceCmd),
    cl::desc("Keep the decomposed LayerNorm chain of opsets < 17 (skip "
             "tsr-raise-layernorm)"),
    cl::init(false), cl::cat(cat));
cl::opt<bool>
    noRaiseAttention("no-raise-attention", cl::sub(runCmd), cl::sub(compileCmd),
                     cl::sub(referenceCmd),
                     cl::desc("Keep exported attention as separate ops (skip "
                              "tsr-raise-attention)"),
                     cl::init(false), cl::cat(cat));
cl::opt<bool> noFoldBias(
    "no-fold-bias", cl::sub(runCmd), cl::sub(compileCmd), cl::sub(compareCmd),
    cl::desc("Keep each fused product's bias a vector add (skip "
             "tsr-fold-bias)"),
    cl::init(false), cl::cat(cat));
#ifdef TESSERA_WITH_REPLAY
cl::OptionCategory clipCat("tessera run --clip options (a .smol clip "
                           "through the storage model into the chip)");
cl::opt<std::string>
    clipPath("clip", cl::sub(runCmd),
             cl::desc("Replay this .smol clip's camera frames into the chip "
                      "(docs/replay.md)"),
             cl::value_desc("file.smol"), cl::init(""), cl::cat(clipCat));
cl::opt<uint64_t> clipFrames("frames", cl::sub(runCmd),
                             cl::desc("Frames to replay (0: all; default 36)"),
                             cl::init(36), cl::cat(clipCat));
cl::opt<double> clipFps("fps", cl::sub(runCmd),
                        cl::desc("Camera rate in frames per second "
                                 "(default 36)"),
                        cl::init(36.0), cl::cat(clipCat));
cl::opt<std::string> clipDevice(
    "storage", cl::sub(runCmd),
    cl::desc("Storage device model: nvme, hdd or object-store (default nvme)"),
    cl::value_desc("device"), cl::init("nvme"), cl::cat(clipCat));
cl::list<std::string> clipStorageParams(
    "storage-param", cl::sub(runCmd),
    cl::desc("Device parameter, e.g. hdd.avg_seek_ms=4 (repeatable; "
             "docs/storage-model.md)"),
    cl::value_desc("key=value"), cl::cat(clipCat));
cl::opt<unsigned> clipWorkers("workers", cl::sub(runCmd),
                              cl::desc("Loader workers (default 2)"),
                              cl::init(2), cl::cat(clipCat));
cl::opt<unsigned> clipPrefetch("prefetch", cl::sub(runCmd),
                               cl::desc("Frames the loader buffers ahead "
                                        "(default 4)"),
                               cl::init(4), cl::cat(clipCat));
cl::opt<std::string> clipKeyFile("key-file", cl::sub(runCmd),
                                 cl::desc("Keys for encrypted camera columns"),
                                 cl::value_desc("file"), cl::init(""),
                                 cl::cat(clipCat));
#endif
cl::opt<bool>
    timingOnly("timing-only", cl::sub(runCmd), cl::sub(simulateCmd),
               cl::desc("Skip the arithmetic (same cycles, no output values)"),
               cl::init(false), cl::cat(cat));

[[noreturn]] void fail(const std::string &msg) {
  llvm::errs() << "tessera: error: " << msg << "\n";
  std::exit(1);
}

/// Options that cannot be honoured together: a usage error, exit status 2.
[[noreturn]] void usage(const std::string &msg) {
  llvm::errs() << "tessera: usage error: " << msg << "\n";
  std::exit(2);
}

/// What the tool is doing, for errors that carry no context of their own
/// (out of memory): "simulating model.tsrp".
std::string activity = "starting";

/// Range checks of the numeric options and combinations that would be
/// silently ignored (docs/limits-and-errors.md). Runs before any work.
void checkOptions(bool isRun) {
  // Each numeric option's range is in one table (arch/Ranges.h) that the
  // docs are checked against.
  auto inRange = [](const char *name, double v) {
    std::string err = arch::optionRangeError(name, v);
    if (!err.empty())
      usage(err);
  };
  inRange("tolerance", tolerance);
  if (timingOnly && !expectedBindings.empty())
    usage("--expected needs output values; drop --timing-only");
#ifdef TESSERA_WITH_REPLAY
  bool clip = isRun && !clipPath.empty();
  if (!clip) {
    // The clip options mean nothing without --clip.
    const cl::Option *clipOnly[] = {
        &clipFrames,  &clipFps,
        &clipDevice,  std::addressof(clipStorageParams),
        &clipWorkers, &clipPrefetch,
        &clipKeyFile};
    for (const cl::Option *o : clipOnly)
      if (o->getNumOccurrences())
        usage("--" + o->ArgStr.str() + " needs --clip");
    return;
  }
  // A clip run takes its inputs from the clip and checks every frame
  // against the FP32 reference executor; per-frame traces and timing-only
  // frames are not part of it.
  const cl::Option *notWithClip[] = {std::addressof(inputBindings),
                                     std::addressof(expectedBindings),
                                     std::addressof(outputBindings),
                                     &outputDir,
                                     &tracePath,
                                     &timingOnly,
                                     &listingPath};
  for (const cl::Option *o : notWithClip)
    if (o->getNumOccurrences())
      usage("--" + o->ArgStr.str() +
            " is not supported with --clip (docs/replay.md)");
  inRange("workers", clipWorkers);
  inRange("prefetch", clipPrefetch);
  inRange("fps", clipFps);
  inRange("frames", double(clipFrames.getValue()));
  // Parameters of another device than the one simulated would have no
  // effect.
  std::string prefix = clipDevice == "object-store"
                           ? std::string("object_store.")
                           : clipDevice + ".";
  for (const std::string &kv : clipStorageParams)
    if (kv.compare(0, prefix.size(), prefix) != 0)
      usage("--storage-param " + kv + " does not apply to --storage " +
            clipDevice.getValue() + " (its parameters start with '" + prefix +
            "')");
#else
  (void)isRun;
#endif
}

arch::ChipConfig loadChip() {
  if (configPath.empty())
    return arch::ChipConfig::reference();
  return arch::ChipConfig::load(configPath);
}

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

/// Files that tensors.txt declares as int64 (token ids, masks): read as
/// integers and given to the chip as float32 values.
std::map<std::string, bool> int64Files;

/// An input tensor's values: raw float32, or int64 when tensors.txt says so.
std::vector<float> readInput(const std::string &file, uint64_t n,
                             const std::string &name) {
  if (!int64Files.count(file))
    return tools::readF32File(file, n, name);
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in)
    fail(file + ": cannot open tensor file for '" + name + "'");
  uint64_t size = uint64_t(in.tellg());
  if (size != n * 8)
    fail(file + ": tensor '" + name + "' expects " + std::to_string(n) +
         " int64 values (" + std::to_string(n * 8) + " bytes), the file has " +
         std::to_string(size) + " bytes");
  std::vector<int64_t> raw(n);
  in.seekg(0);
  in.read(reinterpret_cast<char *>(raw.data()), std::streamsize(size));
  if (!in)
    fail(file + ": read error");
  std::vector<float> values(n);
  for (uint64_t i = 0; i < n; ++i) {
    int64_t v = raw[i];
    if (v > (int64_t(1) << 24) || v < -(int64_t(1) << 24))
      fail(file + ": int64 value " + std::to_string(v) + " of input '" + name +
           "' is not exact as float32");
    values[i] = float(v);
  }
  return values;
}

/// Tensor files named by a model directory's tensors.txt, if it has one
/// (name, shape, file and optionally the element type per line: float32,
/// the default, or int64).
std::map<std::string, std::string> tensorsTxt(const std::string &modelPath) {
  std::map<std::string, std::string> files;
  std::string dir = dirOf(modelPath);
  if (!llvm::sys::fs::exists(dir + "/tensors.txt"))
    return files;
  std::istringstream in(arch::readInputFile(
      dir + "/tensors.txt", arch::kMaxTextInputBytes, "tensor list"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream fields(line);
    std::string name, shape, file, dtype = "float32";
    if (!(fields >> name >> shape >> file))
      fail(dir + "/tensors.txt: expected 'name shape file [dtype]', got '" +
           line + "'");
    fields >> dtype;
    if (dtype != "float32" && dtype != "int64")
      fail(dir + "/tensors.txt: tensor '" + name + "' has element type '" +
           dtype + "'; expected float32 or int64");
    files[name] = dir + "/" + file;
    if (dtype == "int64")
      int64Files[files[name]] = true;
  }
  return files;
}

/// A tensor of the model as the command line names it.
struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t numElements() const {
    uint64_t n = 1;
    for (int64_t d : shape)
      n *= uint64_t(d);
    return n;
  }
};

/// "x (1x128x256), mask (1x32)".
std::string describe(const std::vector<NamedTensor> &tensors) {
  std::string s;
  for (const NamedTensor &t : tensors) {
    if (!s.empty())
      s += ", ";
    std::string dims;
    for (int64_t d : t.shape)
      dims += (dims.empty() ? "" : "x") + std::to_string(d);
    s += t.name + " (" + (dims.empty() ? "scalar" : dims) + ")";
  }
  return s.empty() ? "none" : s;
}

/// name=file bindings of a repeatable flag; every name must be one of
/// `valid` (the model's inputs or outputs), else a one-line error listing
/// them.
std::map<std::string, std::string>
bindings(const std::vector<std::string> &args, const std::string &flag,
         const std::vector<NamedTensor> &valid, const std::string &what) {
  std::map<std::string, std::string> out;
  for (const std::string &arg : args) {
    auto [name, file] = tools::splitBinding(arg, flag);
    bool known = false;
    for (const NamedTensor &t : valid)
      known = known || t.name == name;
    if (!known)
      usage(flag + " '" + name + "' is not " + what + " of the model; its " +
            what.substr(what.find(' ') + 1) + "s: " + describe(valid));
    out[name] = file;
  }
  return out;
}

/// File name for an output under --output-dir: NAME.f32 with characters
/// other than letters, digits, '.', '-' and '_' replaced by '_'.
std::string outputFileName(const std::string &name) {
  std::string s;
  for (char c : name)
    s += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
          c == '_')
             ? c
             : '_';
  if (s.empty() || s[0] == '.')
    s = "_" + s;
  return s + ".f32";
}

/// Checks --output/--output-dir against the model's outputs before any
/// work is done (a typo should not cost a simulation).
std::map<std::string, std::string>
outputTargets(const std::vector<NamedTensor> &outputs) {
  std::map<std::string, std::string> targets =
      bindings(outputBindings, "--output", outputs, "an output");
  if (!outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      fail(outputDir + ": cannot create the --output-dir directory (" +
           ec.message() + ")");
    for (const NamedTensor &t : outputs)
      if (!targets.count(t.name))
        targets[t.name] = outputDir + "/" + outputFileName(t.name);
  }
  return targets;
}

/// Writes the requested outputs as raw little-endian float32.
void writeOutputs(const std::map<std::string, std::string> &targets,
                  const std::map<std::string, std::vector<float>> &values) {
  for (const auto &[name, file] : targets) {
    auto it = values.find(name);
    if (it == values.end())
      fail("output '" + name + "' was not computed");
    arch::writeOutputFile(
        file,
        std::string_view(reinterpret_cast<const char *>(it->second.data()),
                         it->second.size() * sizeof(float)),
        "output '" + name + "'");
    llvm::errs() << "tessera: wrote output '" << name << "' ("
                 << it->second.size() << " float32 values) to " << file << "\n";
  }
}

/// The program's tensors of one kind, for checking names.
std::vector<NamedTensor> programTensors(const arch::Program &prog,
                                        arch::TensorKind kind) {
  std::vector<NamedTensor> out;
  for (const arch::TensorInfo &t : prog.tensors)
    if (t.kind == kind)
      out.push_back({t.name, {t.shape.begin(), t.shape.end()}});
  return out;
}

/// The --pipeline option, or a usage error naming the known ones.
compiler::Pipeline selectedPipeline(const std::string &name) {
  compiler::Pipeline p;
  if (!compiler::parsePipeline(name, p))
    usage("--pipeline must be unfused, standard or fused, got '" + name + "'");
  return p;
}

arch::Program compile(const std::string &model, const arch::ChipConfig &chip,
                      codegen::Graph *graph = nullptr,
                      std::vector<cost::Kernel> *plans = nullptr,
                      compiler::OpCounts *countsOut = nullptr,
                      const std::string &pipeline = pipelineName) {
  compiler::CompileOptions opts;
  opts.pipeline = selectedPipeline(pipeline);
  opts.printIrAfterAll = printIrAfterAll;
  opts.raiseGelu = !noRaiseGelu;
  activity = "compiling " + model;
  opts.raiseLayerNorm = !noRaiseLayerNorm;
  opts.raiseAttention = !noRaiseAttention;
  opts.foldBias = !noFoldBias;
  opts.plans = plans;
  compiler::OpCounts counts;
  llvm::Expected<arch::Program> prog =
      compiler::compileOnnxFile(model, chip, opts, graph, &counts);
  if (prog && compileCmd) {
    // What the passes made of the model: the raised ops first.
    std::string line;
    for (const auto &[name, n] : counts)
      line += (line.empty() ? "" : ", ") + name + " " + std::to_string(n);
    llvm::outs() << "ops after the pass pipeline: " << line << "\n";
  }
  if (!prog)
    fail(llvm::toString(prog.takeError()));
  if (countsOut)
    *countsOut = counts;
  if (!outPath.empty())
    prog->save(outPath);
  if (!listingPath.empty())
    arch::writeOutputFile(listingPath, prog->listing(), "listing");
  return std::move(*prog);
}

/// Per program layer, the fusion of the graph node it lowers (docs/fusion.md,
/// "In the report"): fused nodes matched to layers by name in program order
/// (the emitter names a layer after its node, with " #2" on a repeat).
/// Empty when a fused node has no layer.
std::vector<sim::LayerFusion> layerFusion(const arch::Program &prog,
                                          const codegen::Graph &g) {
  std::vector<sim::LayerFusion> out(prog.layers.size());
  size_t li = 0;
  for (const codegen::GraphNode &n : g.nodes) {
    const codegen::GraphNode::Fusion &f = n.fusion;
    if (f.applied.empty())
      continue;
    while (li < prog.layers.size() && prog.layers[li] != n.name &&
           prog.layers[li].rfind(n.name + " #", 0) != 0)
      ++li;
    if (li == prog.layers.size())
      return {};
    sim::LayerFusion &lf = out[li++];
    lf.applied = f.applied;
    lf.headsFused = f.headsFused;
    lf.heads = f.heads;
    lf.roundTrips = f.roundTrips;
    lf.loads = f.loads;
    lf.storeBytes = f.storeBytes;
    lf.loadBytes = f.loadBytes;
  }
  return out;
}

/// Simulates one frame and prints the report; returns the exit code.
/// Outputs without an expected file are checked against the FP32 reference
/// executor when the compiled `graph` is at hand.
int simulate(const arch::Program &prog, const arch::ChipConfig &chip,
             const std::string &modelName, const std::string &progName,
             std::map<std::string, std::string> inputFiles,
             std::map<std::string, std::string> expectedFiles,
             const codegen::Graph *graph = nullptr,
             const std::vector<cost::Kernel> *plans = nullptr) {
  for (const auto &[name, file] :
       bindings(inputBindings, "--input",
                programTensors(prog, arch::TensorKind::Input), "an input"))
    inputFiles[name] = file;
  for (const auto &[name, file] :
       bindings(expectedBindings, "--expected",
                programTensors(prog, arch::TensorKind::Output), "an output"))
    expectedFiles[name] = file;
  if (timingOnly && (!outputBindings.empty() || !outputDir.empty()))
    usage("--output and --output-dir need the outputs' values: drop "
          "--timing-only");
  std::map<std::string, std::string> targets =
      outputTargets(programTensors(prog, arch::TensorKind::Output));
  prog.checkFits(chip, progName);

  std::map<std::string, std::vector<float>> inputs;
  for (const arch::TensorInfo &t : prog.tensors) {
    if (t.kind != arch::TensorKind::Input)
      continue;
    auto it = inputFiles.find(t.name);
    if (it == inputFiles.end() && timingOnly)
      continue; // cycles do not depend on values
    if (it == inputFiles.end())
      fail("no value for input '" + t.name + "': pass --input " + t.name +
           "=file.f32 (raw float32, " + std::to_string(t.numElements()) +
           " values)");
    inputs[t.name] = readInput(it->second, t.numElements(), t.name);
  }

  sim::SimOptions opts;
  opts.functional = !timingOnly;
  opts.tracePath = tracePath;
  activity = "simulating " + progName;
  sim::SimResult result = sim::simulateFrame(prog, chip, inputs, opts);
  if (!timingOnly)
    writeOutputs(targets, result.outputs);

  sim::ReportInfo info;
  info.modelName = modelName;
  info.programPath = progName;
  if (graph) {
    // Compiled here: the pipeline and each layer's fusion against unfused.
    info.pipeline = pipelineName;
    info.fusion = layerFusion(prog, *graph);
  }
  bool described = plans && plans->size() == result.layers.size();
  for (size_t i = 0; described && i < plans->size(); ++i)
    described = !(*plans)[i].kind.empty();
  if (described) {
    // The cost model's estimate of the same kernels (docs/cost-model.md),
    // when every layer's kernel has a cost description.
    cost::SequenceCost est = cost::evaluateSequence(chip, *plans);
    sim::CostEstimate ce;
    ce.layerCycles = est.attributedCycles;
    for (const cost::Cost &k : est.kernels)
      ce.layerRooflineCycles.push_back(k.roofline.boundCycles());
    ce.frameCycles = est.latencyCycles;
    ce.rooflineComputeCycles = est.roofline.computeCycles;
    ce.rooflineMemoryCycles = est.roofline.memoryCycles;
    ce.unavoidableDramBytes = est.roofline.unavoidableBytes;
    info.costModel = ce;
  }
  bool accurate = true;
  if (!timingOnly) {
    auto check = [&](const std::string &name, const std::string &refName,
                     const std::vector<float> &ref) {
      tools::Comparison c = tools::compare(result.outputs.at(name), ref);
      sim::AccuracyCheck check;
      check.tensor = name;
      check.reference = refName;
      check.maxAbsError = c.maxAbsError;
      check.rmsError = c.rmsError;
      check.referenceRms = c.expectedRms;
      check.tolerance = tolerance * c.expectedRms;
      check.passed = !c.nonFinite && c.maxAbsError <= check.tolerance;
      accurate = accurate && check.passed;
      info.accuracy.push_back(check);
    };
    for (const auto &[name, file] : expectedFiles) {
      const arch::TensorInfo *t = prog.findTensor(name);
      if (!t || t->kind != arch::TensorKind::Output)
        continue; // tensors.txt also lists the inputs.
      check(name, file, tools::readF32File(file, t->numElements(), name));
    }
    // The compiler's own FP32 reference executor on the same inputs.
    if (graph)
      for (const auto &[name, ref] : codegen::runReference(*graph, inputs))
        if (prog.findTensor(name))
          check(name, "FP32 reference executor", ref);
  }
  std::cout << (jsonOut ? sim::reportJson(result, chip, info)
                        : sim::formatReport(result, chip, info));
  arch::flushStdout();
  return accurate ? 0 : 2;
}

#ifdef TESSERA_WITH_REPLAY
/// `tessera run --clip`: returns the exit code.
int replay(const std::string &model, const arch::ChipConfig &chip) {
  codegen::Graph graph;
  arch::Program prog = compile(model, chip, &graph);
  tools::ReplayOptions opts;
  opts.clip = clipPath;
  opts.frames = clipFrames;
  opts.fps = clipFps;
  opts.tolerance = tolerance;
  opts.keyFile = clipKeyFile;
  opts.loader.workers = clipWorkers;
  opts.loader.prefetchDepth = clipPrefetch;
  try {
    opts.device = storage::parseDeviceKind(clipDevice);
    for (const std::string &kv : clipStorageParams) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos)
        fail("--storage-param expects key=value, got '" + kv + "'");
      opts.storage.set(kv.substr(0, eq), kv.substr(eq + 1));
    }
  } catch (const std::invalid_argument &e) {
    fail(e.what());
  }
  bool tty = isatty(STDERR_FILENO);
  opts.progress = [tty](uint64_t done, uint64_t total) {
    if (tty)
      std::cerr << "\rchip: frame " << done << "/" << total
                << (done == total ? "\n" : "") << std::flush;
  };
  tools::ReplayResult r = tools::replayClip(prog, chip, graph, opts);
  std::cout << (jsonOut ? tools::replayJson(r) : tools::formatReplay(r));
  arch::flushStdout();
  return r.accurate ? 0 : 2;
}
#endif

/// `tessera reference`: the FP32 reference executor on an ONNX model; returns
/// the exit code (2 when an output is outside the tolerance of an expected
/// file).
int reference(const std::string &model) {
  compiler::CompileOptions copts;
  copts.pipeline = selectedPipeline(pipelineName);
  copts.raiseGelu = !noRaiseGelu;
  copts.raiseLayerNorm = !noRaiseLayerNorm;
  copts.raiseAttention = !noRaiseAttention;
  llvm::Expected<codegen::Graph> graph =
      compiler::importOnnxGraph(model, copts);
  if (!graph)
    fail(llvm::toString(graph.takeError()));
  std::vector<NamedTensor> ins, outs;
  for (const codegen::GraphValue &v : graph->values) {
    if (v.role == codegen::ValueRole::Input)
      ins.push_back({v.name, v.shape});
    else if (v.role == codegen::ValueRole::Output)
      outs.push_back({v.name, v.shape});
  }
  std::map<std::string, std::string> files = tensorsTxt(model);
  std::map<std::string, std::string> inputFiles, expectedFiles;
  for (const NamedTensor &t : ins)
    if (files.count(t.name))
      inputFiles[t.name] = files[t.name];
  for (const NamedTensor &t : outs)
    if (files.count(t.name))
      expectedFiles[t.name] = files[t.name];
  for (const auto &[name, file] :
       bindings(inputBindings, "--input", ins, "an input"))
    inputFiles[name] = file;
  for (const auto &[name, file] :
       bindings(expectedBindings, "--expected", outs, "an output"))
    expectedFiles[name] = file;
  std::map<std::string, std::string> targets = outputTargets(outs);

  std::map<std::string, std::vector<float>> inputs;
  for (const NamedTensor &t : ins) {
    auto it = inputFiles.find(t.name);
    if (it == inputFiles.end() && timingOnly)
      continue; // cycles do not depend on values
    if (it == inputFiles.end())
      fail("no value for input '" + t.name + "': pass --input " + t.name +
           "=file.f32 (raw float32, " + std::to_string(t.numElements()) +
           " values)");
    inputs[t.name] = readInput(it->second, t.numElements(), t.name);
  }
  std::map<std::string, std::vector<float>> results =
      codegen::runReference(*graph, inputs);
  writeOutputs(targets, results);

  bool accurate = true;
  std::cout << "FP32 reference executor: " << model << "\n";
  for (const NamedTensor &t : outs) {
    const std::vector<float> &v = results.at(t.name);
    double sq = 0;
    for (float f : v)
      sq += double(f) * f;
    char line[512];
    std::snprintf(line, sizeof line, "  %-24s %-14s rms %.6g\n", t.name.c_str(),
                  describe({t}).substr(t.name.size() + 1).c_str(),
                  v.empty() ? 0.0 : std::sqrt(sq / double(v.size())));
    std::cout << line;
    auto it = expectedFiles.find(t.name);
    if (it == expectedFiles.end())
      continue;
    tools::Comparison c = tools::compare(
        v, tools::readF32File(it->second, t.numElements(), t.name));
    bool ok = !c.nonFinite && c.maxAbsError <= tolerance * c.expectedRms;
    accurate = accurate && ok;
    std::snprintf(line, sizeof line,
                  "    vs %-32s max %.3g  rms %.3g  tolerance %.3g  %s\n",
                  it->second.c_str(), c.maxAbsError, c.rmsError,
                  tolerance * c.expectedRms, ok ? "PASS" : "FAIL");
    std::cout << line;
  }
  return accurate ? 0 : 2;
}

/// `tessera compare`: the model compiled for each pipeline and simulated
/// (timing only) on one chip, side by side (docs/fusion.md).
int compare(const std::string &model, const arch::ChipConfig &chip) {
  std::vector<std::string> names(comparePipelines.begin(),
                                 comparePipelines.end());
  if (names.empty())
    names = {"unfused", "standard", "fused"};
  struct Row {
    std::string pipeline;
    uint64_t cycles = 0, dramBytes = 0, instructions = 0, kernels = 0;
    uint64_t scratchTensors = 0, scratchBytes = 0, layers = 0;
    double ms = 0, matrixUtil = 0;
    double rooflineCycles = 0, modelCycles = 0;
    bool described = false;
  };
  std::vector<Row> rows;
  for (const std::string &name : names) {
    selectedPipeline(name);
    std::vector<cost::Kernel> plans;
    compiler::OpCounts counts;
    activity = "compiling " + model + " (" + name + ")";
    arch::Program prog = compile(model, chip, nullptr, &plans, &counts, name);
    sim::SimOptions so;
    so.functional = false;
    activity = "simulating " + model + " (" + name + ")";
    sim::SimResult r = sim::simulateFrame(prog, chip, {}, so);
    Row row;
    row.pipeline = name;
    row.cycles = r.totalCycles;
    row.ms = r.frameMs;
    row.dramBytes = r.dramBytesRead + r.dramBytesWritten;
    row.instructions = r.instructions;
    row.kernels = prog.layers.size();
    row.matrixUtil = r.matrixUtilization;
    for (const arch::TensorInfo &t : prog.tensors)
      if (t.kind == arch::TensorKind::Scratch) {
        ++row.scratchTensors;
        row.scratchBytes += t.numElements() * arch::dtypeBytes(t.dtype);
      }
    auto att = counts.find("tsr.attention");
    row.layers = att == counts.end() ? 0 : uint64_t(att->second);
    row.described = plans.size() == prog.layers.size();
    for (const cost::Kernel &k : plans)
      row.described = row.described && !k.kind.empty();
    if (row.described) {
      cost::SequenceCost est = cost::evaluateSequence(chip, plans);
      row.rooflineCycles = est.roofline.boundCycles();
      row.modelCycles = double(est.latencyCycles);
    }
    rows.push_back(row);
  }
  const Row &base = rows.front();
  auto perLayer = [&](const Row &r) {
    double removed = double(base.scratchTensors) - double(r.scratchTensors);
    return r.layers ? removed / double(r.layers) : removed;
  };
  double ghz = chip.clock_ghz;
  if (jsonOut) {
    std::cout << "{\"model\": \"" << model << "\", \"chip\": \"" << chip.name
              << "\", \"pipelines\": [";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row &r = rows[i];
      char buf[1024];
      std::snprintf(
          buf, sizeof buf,
          "%s\n  {\"pipeline\": \"%s\", \"cycles\": %llu, "
          "\"latency_ms\": %.4f, \"dram_bytes\": %llu, "
          "\"dram_vs_first\": %.4f, \"latency_vs_first\": %.4f, "
          "\"kernels\": %llu, \"instructions\": %llu, "
          "\"dram_round_trips\": %llu, \"round_trip_bytes\": %llu, "
          "\"attention_layers\": %llu, "
          "\"round_trips_removed_per_layer\": %.2f, "
          "\"matrix_utilization\": %.4f, \"roofline_cycles\": %.0f, "
          "\"latency_vs_roofline\": %.4f, \"cost_model_cycles\": %.0f, "
          "\"cost_model_error\": %.4f}",
          i ? "," : "", r.pipeline.c_str(), (unsigned long long)r.cycles, r.ms,
          (unsigned long long)r.dramBytes,
          double(r.dramBytes) / double(base.dramBytes),
          double(r.cycles) / double(base.cycles), (unsigned long long)r.kernels,
          (unsigned long long)r.instructions,
          (unsigned long long)r.scratchTensors,
          (unsigned long long)r.scratchBytes, (unsigned long long)r.layers,
          perLayer(r), r.matrixUtil, r.rooflineCycles,
          r.described ? double(r.cycles) / r.rooflineCycles : 0.0,
          r.modelCycles,
          r.described ? r.modelCycles / double(r.cycles) - 1 : 0.0);
      std::cout << buf;
    }
    std::cout << "\n]}\n";
    arch::flushStdout();
    return 0;
  }
  std::printf("%s on chip '%s'\n", model.c_str(), chip.name.c_str());
  std::printf("%-9s %11s %7s %10s %7s %8s %10s %13s %7s %11s %9s %11s %7s\n",
              "pipeline", "latency_ms", "vs_1st", "dram_MB", "vs_1st",
              "kernels", "round_trip", "removed/layer", "matrix", "roofline_ms",
              "vs_bound", "model_ms", "model");
  for (const Row &r : rows) {
    char bound[32] = "-", vsBound[32] = "-", modelMs[32] = "-",
         modelErr[32] = "-";
    if (r.described) {
      std::snprintf(bound, sizeof bound, "%.3f",
                    r.rooflineCycles / (ghz * 1e6));
      std::snprintf(vsBound, sizeof vsBound, "%.3fx",
                    double(r.cycles) / r.rooflineCycles);
      std::snprintf(modelMs, sizeof modelMs, "%.3f",
                    r.modelCycles / (ghz * 1e6));
      std::snprintf(modelErr, sizeof modelErr, "%+.1f%%",
                    100 * (r.modelCycles / double(r.cycles) - 1));
    }
    std::printf(
        "%-9s %11.3f %7.3f %10.2f %7.3f %8llu %10llu %13.2f %6.1f%% "
        "%11s %9s %11s %7s\n",
        r.pipeline.c_str(), r.ms, double(r.cycles) / double(base.cycles),
        double(r.dramBytes) / 1e6, double(r.dramBytes) / double(base.dramBytes),
        (unsigned long long)r.kernels, (unsigned long long)r.scratchTensors,
        perLayer(r), 100 * r.matrixUtil, bound, vsBound, modelMs, modelErr);
  }
  std::printf("round_trip: intermediate tensors written to DRAM and read back; "
              "removed/layer: against %s, per tsr.attention (%llu)\n",
              base.pipeline.c_str(), (unsigned long long)rows.back().layers);
  arch::flushStdout();
  return 0;
}

/// `tessera smol ...` runs the tessera-smol tool installed next to this one,
/// with the remaining arguments.
[[noreturn]] void execSmol(int argc, char **argv) {
  static int anchor;
  std::string self = llvm::sys::fs::getMainExecutable(argv[0], &anchor);
  llvm::SmallString<256> tool(llvm::sys::path::parent_path(self));
  llvm::sys::path::append(tool, "tessera-smol");
  std::vector<char *> args;
  args.push_back(const_cast<char *>(tool.c_str()));
  for (int i = 2; i < argc; ++i)
    args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(tool.c_str(), args.data());
  fail(std::string(tool) + ": cannot run the .smol tool (" +
       std::strerror(errno) + ")");
}

} // namespace

int main(int argc, char **argv) {
  if (argc > 1 && std::string(argv[1]) == "smol")
    execSmol(argc, argv);
#ifdef TESSERA_WITH_REPLAY
  cl::HideUnrelatedOptions({&cat, &clipCat, &tools::sweepCategory()});
#else
  cl::HideUnrelatedOptions({&cat, &tools::sweepCategory()});
#endif
  cl::ParseCommandLineOptions(
      argc, argv,
      "Tessera: compile a network for the virtual automotive NPU and simulate "
      "a frame.\n\n"
      "  tessera run                      bundled encoder layer, reference "
      "chip\n"
      "  tessera run model.onnx --input x=x.f32 [--expected y=y.f32]\n"
      "  tessera compile model.onnx -o model.tsrp --listing model.lst\n"
      "  tessera simulate model.tsrp --input x=x.f32 --json\n"
      "  tessera simulate model.tsrp --input x=x.f32 --output y=y.f32\n"
      "  tessera reference model.onnx --input x=x.f32 --output-dir ref/\n"
      "  tessera compare model.onnx [--json]   unfused vs fused pipeline\n"
      "  tessera run --clip drive.smol    replay a drive clip through storage "
      "into the chip\n"
      "  tessera smol --help              .smol drive-data tools\n"
      "  tessera sweep sweep.toml --out DIR   design-space sweep: CSV, JSON, "
      "plots\n"
      "  tessera budget [--update]        frame latencies vs the committed "
      "baseline\n\n"
      "Exit status: 0 ok, 1 error, 2 outputs outside the tolerance or a "
      "usage error.\n");
  if (tools::sweepSelected())
    return tools::sweepMain(argv[0]);
  if (tools::budgetSelected())
    return tools::budgetMain(argv[0]);
  checkOptions(!compileCmd && !simulateCmd && !referenceCmd && !compareCmd);
  try {
    activity = "reading the chip config";
    arch::ChipConfig chip = loadChip();
    if (compileCmd) {
      if (outPath.empty())
        fail("compile needs -o <program.tsrp>");
      arch::Program prog = compile(compileModel, chip);
      llvm::outs() << "wrote " << outPath << ": " << prog.instrs.size()
                   << " instructions, " << prog.layers.size() << " layers, "
                   << prog.dramBytes << " bytes of DRAM, " << prog.sramBytesUsed
                   << " bytes of SRAM\n";
      llvm::outs().flush();
      if (llvm::outs().has_error()) {
        std::error_code ec = llvm::outs().error();
        llvm::outs().clear_error();
        fail("standard output: write error: " + ec.message());
      }
      return 0;
    }
    if (referenceCmd)
      return reference(referenceModel);
    if (compareCmd)
      return compare(compareModel, chip);
    if (simulateCmd) {
      activity = "reading " + simProgram;
      // Timing only: the weights stay on disk (docs/simulator.md).
      arch::Program prog = arch::Program::load(simProgram, !timingOnly);
      return simulate(prog, chip, simProgram, simProgram, {}, {});
    }
    // `run`, also the default with no subcommand.
    std::string model = runModel;
    if (model.empty())
      model =
          std::string(TESSERA_MODELS_DIR) + "/encoder_layer/encoder_layer.onnx";
#ifdef TESSERA_WITH_REPLAY
    if (!clipPath.empty())
      return replay(model, chip);
#endif
    codegen::Graph graph;
    std::vector<cost::Kernel> plans;
    arch::Program prog = compile(model, chip, &graph, &plans);
    std::map<std::string, std::string> files = tensorsTxt(model);
    return simulate(prog, chip, model,
                    outPath.empty() ? std::string("(in memory)")
                                    : std::string(outPath),
                    files, files, &graph, &plans);
  } catch (const std::bad_alloc &) {
    fail("out of memory while " + activity);
  } catch (const std::exception &e) {
    fail(e.what());
  }
}
