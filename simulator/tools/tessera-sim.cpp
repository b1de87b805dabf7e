//===- tessera-sim.cpp - Simulate one frame of a program file -------------===//
//
//   tessera-sim program.tsrp [--config chip.cfg] --input name=file.f32 ...
//               [--expected name=file.f32 ...] [--tolerance x]
//               [--json] [--trace trace.json] [--timing-only]
//
// Runs one frame on the SystemC chip model and prints the report (a table,
// or JSON with --json). Exit status: 0 ok, 1 error, 2 an output outside the
// tolerance.
//
//===----------------------------------------------------------------------===//

#include "Tensors.h"

#include "tessera/Sim/Report.h"
#include "tessera/Sim/Simulator.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/FileIo.h"
#include "tessera/arch/Program.h"
#include "tessera/arch/Ranges.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>

using namespace tessera;

namespace {

const char *kUsage =
    "usage: tessera-sim program.tsrp [--config chip.cfg] --input name=file.f32"
    " ...\n"
    "                   [--expected name=file.f32 ...] [--tolerance x]\n"
    "                   [--json] [--trace trace.json] [--timing-only]\n"
    "\n"
    "Simulates one frame of a Tessera program on the SystemC chip model and\n"
    "prints the frame report.\n"
    "  --config FILE     chip config (default: the built-in reference chip)\n"
    "  --input N=FILE    input tensor N as raw float32 (repeatable)\n"
    "  --expected N=FILE reference for output N as raw float32 (repeatable)\n"
    "  --tolerance X     max abs error bound relative to the reference RMS\n"
    "                    (default 0.02, docs/accuracy.md)\n"
    "  --json            print the report as JSON\n"
    "  --trace FILE      write a Chrome/Perfetto JSON timeline trace\n"
    "  --timing-only     skip the arithmetic (same cycles, no values;\n"
    "                    inputs are then optional)\n"
    "Exit status: 0 ok, 1 error, 2 an output outside the tolerance.\n";

[[noreturn]] void fail(const std::string &msg) {
  std::cerr << "tessera-sim: error: " << msg << "\n";
  std::exit(1);
}

struct Args {
  std::string program, config, trace;
  std::vector<std::string> inputs, expected;
  double tolerance = 0.02;
  bool json = false, timingOnly = false;
};

Args parseArgs(int argc, char **argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag) -> std::string {
      // Accept both "--flag value" and "--flag=value".
      std::string prefix = std::string(flag) + "=";
      if (arg.compare(0, prefix.size(), prefix) == 0)
        return arg.substr(prefix.size());
      if (i + 1 >= argc)
        fail(std::string(flag) + " expects a value");
      return argv[++i];
    };
    auto is = [&](const char *flag) {
      return arg == flag || arg.compare(0, std::strlen(flag) + 1,
                                        std::string(flag) + "=") == 0;
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (is("--config") || is("-c")) {
      a.config = value(arg.compare(0, 2, "-c") == 0 ? "-c" : "--config");
    } else if (is("--input")) {
      a.inputs.push_back(value("--input"));
    } else if (is("--expected")) {
      a.expected.push_back(value("--expected"));
    } else if (is("--trace")) {
      a.trace = value("--trace");
    } else if (is("--tolerance")) {
      std::string v = value("--tolerance");
      char *end = nullptr;
      a.tolerance = std::strtod(v.c_str(), &end);
      if (v.empty() || *end)
        fail("--tolerance expects a number, got '" + v + "'");
      std::string err =
          tessera::arch::optionRangeError("tolerance", a.tolerance);
      if (!err.empty())
        fail(err);
    } else if (arg == "--json") {
      a.json = true;
    } else if (arg == "--timing-only") {
      a.timingOnly = true;
    } else if (!arg.empty() && arg[0] == '-') {
      fail("unknown option '" + arg + "' (see --help)");
    } else if (a.program.empty()) {
      a.program = arg;
    } else {
      fail("unexpected argument '" + arg + "': one program file expected");
    }
  }
  if (a.program.empty())
    fail("no program file given (usage: tessera-sim program.tsrp --input "
         "name=file.f32; see --help)");
  return a;
}

} // namespace

int main(int argc, char **argv) {
  Args args = parseArgs(argc, argv);
  try {
    arch::ChipConfig chip = args.config.empty()
                                ? arch::ChipConfig::reference()
                                : arch::ChipConfig::load(args.config);
    arch::Program prog = arch::Program::load(args.program, !args.timingOnly);
    prog.checkFits(chip, args.program);

    std::map<std::string, std::string> inputFiles, expectedFiles;
    for (const std::string &b : args.inputs)
      inputFiles.insert(tools::splitBinding(b, "--input"));
    for (const std::string &b : args.expected)
      expectedFiles.insert(tools::splitBinding(b, "--expected"));

    std::map<std::string, std::vector<float>> inputs;
    for (const auto &[name, file] : inputFiles) {
      const arch::TensorInfo *t = prog.findTensor(name);
      if (!t || t->kind != arch::TensorKind::Input)
        fail("--input " + name + ": the program has no input named '" + name +
             "'");
      inputs[name] = tools::readF32File(file, t->numElements(), name);
    }
    if (!args.timingOnly)
      for (const arch::TensorInfo &t : prog.tensors)
        if (t.kind == arch::TensorKind::Input && !inputs.count(t.name))
          fail("no value for input '" + t.name + "': pass --input " + t.name +
               "=file.f32 (raw float32, " + std::to_string(t.numElements()) +
               " values)");

    sim::SimOptions opts;
    opts.functional = !args.timingOnly;
    opts.tracePath = args.trace;
    sim::SimResult result = sim::simulateFrame(prog, chip, inputs, opts);

    sim::ReportInfo info;
    info.programPath = args.program;
    bool accurate = true;
    for (const auto &[name, file] : expectedFiles) {
      const arch::TensorInfo *t = prog.findTensor(name);
      if (!t || t->kind != arch::TensorKind::Output)
        fail("--expected " + name + ": the program has no output named '" +
             name + "'");
      if (args.timingOnly)
        fail("--expected needs output values; drop --timing-only");
      std::vector<float> ref = tools::readF32File(file, t->numElements(), name);
      tools::Comparison c = tools::compare(result.outputs.at(name), ref);
      sim::AccuracyCheck check;
      check.tensor = name;
      check.reference = file;
      check.maxAbsError = c.maxAbsError;
      check.rmsError = c.rmsError;
      check.referenceRms = c.expectedRms;
      check.tolerance = args.tolerance * c.expectedRms;
      check.passed = !c.nonFinite && c.maxAbsError <= check.tolerance;
      accurate = accurate && check.passed;
      info.accuracy.push_back(check);
    }
    std::cout << (args.json ? sim::reportJson(result, chip, info)
                            : sim::formatReport(result, chip, info));
    arch::flushStdout();
    return accurate ? 0 : 2;
  } catch (const std::bad_alloc &) {
    fail(args.program + ": out of memory while simulating");
  } catch (const std::exception &e) {
    fail(e.what());
  }
}
