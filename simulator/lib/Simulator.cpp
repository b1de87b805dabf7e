//===- Simulator.cpp - Simulate one frame of a program on the chip --------===//
//
// Checks the program, the chip and the inputs, builds the DRAM image, runs
// the frame on the SystemC model (elaborated once per process) and gathers
// the result.
//
//===----------------------------------------------------------------------===//

#include "tessera/Sim/Simulator.h"
#include "tessera/Sim/Modules.h"
#include "tessera/Sim/Timing.h"

#include "Analysis.h"
#include "Kernels.h"
#include "Trace.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <malloc.h>
#include <mutex>
#include <thread>
#include <unistd.h>

using namespace tessera;
using namespace tessera::sim;

/// libsystemc's own main() calls sc_main, so the library references it; the
/// tools and tests that call simulateFrame have their own main(). Testbenches
/// define the real (strong) sc_main.
extern "C" __attribute__((weak)) int sc_main(int, char **) { return 1; }

namespace {

/// The chip model, elaborated on first use and reused by every frame.
Chip &chipModel() {
  static Chip *chip = [] {
    ::setenv("SYSC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    Chip *c = new Chip("chip");
    // Elaboration and the initialization phase: every process runs up to
    // its first wait.
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    return c;
  }();
  return *chip;
}

std::mutex &simMutex() {
  static std::mutex m;
  return m;
}

/// The one thread that makes every SystemC call of the process: elaboration
/// and every frame's sc_start. SystemC's kernel state is global and its
/// processes are QuickThreads coroutines, which switch stacks under the
/// thread that calls sc_start; keeping them on a thread of their own leaves
/// the caller's stack untouched, so the errors the tools throw afterwards
/// unwind a stack AddressSanitizer still knows (docs/sanitizers.md), and the
/// coroutines always resume on the thread that created them. Jobs run one at
/// a time (simulateFrame holds simMutex); an exception a job throws is
/// rethrown to the caller.
class SimThread {
public:
  static SimThread &get() {
    // Never destroyed: the detached thread waits on its members until the
    // process exits. A child forked after it started (a sweep's workers)
    // has the object but not the thread: it starts its own.
    static SimThread *thread = nullptr;
    static pid_t owner = 0;
    if (!thread || owner != ::getpid()) {
      thread = new SimThread;
      owner = ::getpid();
    }
    return *thread;
  }

  void run(const std::function<void()> &job) {
    std::packaged_task<void()> task(job);
    std::future<void> done = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex);
      pending = &task;
    }
    wake.notify_one();
    done.get();
  }

private:
  SimThread() {
    std::thread([this] {
      for (;;) {
        std::packaged_task<void()> *task;
        {
          std::unique_lock<std::mutex> lock(mutex);
          wake.wait(lock, [this] { return pending != nullptr; });
          task = pending;
          pending = nullptr;
        }
        (*task)();
      }
    }).detach();
  }

  std::mutex mutex;
  std::condition_variable wake;
  std::packaged_task<void()> *pending = nullptr;
};

/// Fills the DRAM image: weights from the program, inputs converted from
/// float32 to their element type.
std::vector<uint8_t>
buildImage(const arch::Program &prog,
           const std::map<std::string, std::vector<float>> &inputs) {
  // A functional frame allocates and frees operand matrices of up to a few
  // MB per instruction. glibc serves those from mmap and returns them to the
  // kernel on free, so every instruction paid page faults and page zeroing
  // (about half the CPU time of a 40-layer frame was in the kernel). Keep
  // them in the heap and do not trim it: freed memory is reused in place.
  static std::once_flag tuned;
  std::call_once(tuned, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20); // glibc's maximum on 64-bit
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
  std::vector<uint8_t> image(prog.dramBytes, 0);
  for (const arch::TensorInfo &t : prog.tensors) {
    if (t.kind == arch::TensorKind::Weight)
      std::memcpy(image.data() + t.dramAddr, t.data.data(), t.data.size());
    if (t.kind != arch::TensorKind::Input)
      continue;
    const std::vector<float> &values = inputs.at(t.name);
    unsigned eb = arch::dtypeBytes(t.dtype);
    for (size_t i = 0; i < values.size(); ++i)
      storeElement(image.data() + t.dramAddr + i * eb, t.dtype, values[i]);
  }
  return image;
}

void checkInputs(const arch::Program &prog,
                 const std::map<std::string, std::vector<float>> &inputs,
                 bool functional) {
  std::string names;
  for (const arch::TensorInfo &t : prog.tensors)
    if (t.kind == arch::TensorKind::Input)
      names += (names.empty() ? "'" : ", '") + t.name + "'";
  for (const auto &entry : inputs) {
    const arch::TensorInfo *t = prog.findTensor(entry.first);
    if (!t || t->kind != arch::TensorKind::Input)
      throw SimError("unknown input '" + entry.first +
                     "': the program's inputs are " +
                     (names.empty() ? std::string("none") : names));
  }
  for (const arch::TensorInfo &t : prog.tensors) {
    if (t.kind != arch::TensorKind::Input)
      continue;
    auto it = inputs.find(t.name);
    if (it == inputs.end()) {
      if (!functional)
        continue; // Timing-only frames do not need values.
      throw SimError("no value for input '" + t.name + "' (" +
                     std::to_string(t.numElements()) + " float32 values)");
    }
    if (it->second.size() != t.numElements())
      throw SimError("input '" + t.name + "' has " +
                     std::to_string(it->second.size()) + " values, expected " +
                     std::to_string(t.numElements()));
    // An integer input (int32 on the chip, docs/onnx-import.md) is given as
    // float32 values, which hold every integer of magnitude <= 2^24
    // exactly: anything else would not be the integer the caller meant.
    if (t.dtype == arch::DType::I32)
      for (size_t i = 0; i < it->second.size(); ++i) {
        float v = it->second[i];
        if (!(v == std::floor(v)) || std::fabs(v) > 16777216.0f)
          throw SimError("input '" + t.name +
                         "' is an integer tensor (int32 on the chip): "
                         "element " +
                         std::to_string(i) + " is " + std::to_string(v) +
                         ", not an integer of magnitude at most 2^24 = "
                         "16777216 (the largest float32 holds exactly)");
      }
  }
}

SimResult collect(const arch::Program &prog, const FrameState &frame) {
  const arch::ChipConfig &chip = frame.chip;
  SimResult r;
  r.chipName = chip.name;
  r.instructions = prog.instrs.size();
  for (const InstrRecord &rec : frame.records)
    r.totalCycles = std::max(r.totalCycles, rec.end);
  r.frameMs = chip.cyclesToMs(r.totalCycles);
  r.dramBytesRead = frame.dramBytesRead;
  r.dramBytesWritten = frame.dramBytesWritten;
  r.dramBurstBytes = frame.dramBusBytes;
  r.dramBusyCycles = frame.dramBusyCycles;
  r.dramRowHits = frame.dramRowHits;
  r.dramRowMisses = frame.dramRowMisses;
  r.dramTurnarounds = frame.dramTurnarounds;
  r.sramConflictBeats = frame.sramConflictBeats;
  r.sramConflictCycles = frame.sramConflictCycles;
  r.matrixBusyCycles = frame.matrixBusyCycles;
  r.vectorBusyCycles = frame.vectorBusyCycles;
  r.loadBusyCycles = frame.loadBusyCycles;
  r.storeBusyCycles = frame.storeBusyCycles;
  r.macs = frame.macs;
  double pes = double(chip.matrix_rows) * chip.matrix_cols;
  if (r.totalCycles)
    r.matrixUtilization = double(r.macs) / (double(r.totalCycles) * pes);
  if (r.matrixBusyCycles)
    r.matrixBusyUtilization =
        double(r.macs) / (double(r.matrixBusyCycles) * pes);

  size_t nLayers = std::max<size_t>(prog.layers.size(), 1);
  r.layers.resize(nLayers);
  for (size_t l = 0; l < nLayers; ++l)
    r.layers[l].name = l < prog.layers.size() ? prog.layers[l] : "(program)";
  std::vector<bool> seen(nLayers, false);
  r.npuCount = prog.npus;
  r.npus.assign(prog.npus, NpuStats());
  for (size_t i = 0; i < prog.instrs.size(); ++i) {
    const arch::Instr &in = prog.instrs[i];
    const InstrRecord &rec = frame.records[i];
    NpuStats &npu = r.npus[in.npu];
    ++npu.instructions;
    npu.endCycle = std::max(npu.endCycle, rec.end);
    npu.dramBusBytes += rec.dramBusBytes;
    npu.dramWaitOtherNpuCycles += rec.dramWaitOtherNpu;
    npu.dramWaitOwnCycles += rec.dramWaitOwnNpu;
    switch (in.op) {
    case arch::Opcode::DmaLoad:
    case arch::Opcode::DmaGather:
      npu.loadBusyCycles += rec.unitCycles;
      npu.dramBytesRead += in.dmaBytes();
      break;
    case arch::Opcode::DmaStore:
      npu.storeBusyCycles += rec.unitCycles;
      npu.dramBytesWritten += in.dmaBytes();
      break;
    case arch::Opcode::MatMul:
      npu.matrixBusyCycles += rec.unitCycles;
      npu.macs += uint64_t(in.dims[0]) * in.dims[1] * in.dims[2];
      break;
    default:
      npu.vectorBusyCycles += rec.unitCycles;
    }
    LayerStats &l = r.layers[in.layer];
    l.startCycle =
        seen[in.layer] ? std::min(l.startCycle, rec.start) : rec.start;
    l.endCycle = std::max(l.endCycle, rec.end);
    seen[in.layer] = true;
    ++l.instructions;
    switch (in.op) {
    case arch::Opcode::DmaLoad:
    case arch::Opcode::DmaGather:
      l.dramBytesRead += in.dmaBytes();
      l.dmaCycles += rec.unitCycles;
      break;
    case arch::Opcode::DmaStore:
      l.dramBytesWritten += in.dmaBytes();
      l.dmaCycles += rec.unitCycles;
      break;
    case arch::Opcode::MatMul:
      l.matrixCycles += rec.unitCycles;
      l.macs += uint64_t(in.dims[0]) * in.dims[1] * in.dims[2];
      break;
    default:
      l.vectorCycles += rec.unitCycles;
      break;
    }
    l.busyCycles = l.matrixCycles + l.vectorCycles;
    r.instrTimings.push_back({rec.head, rec.start, rec.end, -1});
    r.instrOps.push_back(in.op);
  }
  for (NpuStats &npu : r.npus)
    if (r.totalCycles)
      npu.matrixUtilization = double(npu.macs) / (double(r.totalCycles) * pes);
  uint64_t frontier = 0;
  for (LayerStats &l : r.layers) {
    l.attributedCycles = l.endCycle > frontier ? l.endCycle - frontier : 0;
    frontier = std::max(frontier, l.endCycle);
  }
  analyzeFrame(prog, frame, r);
  for (const auto &point : sramOccupancy(prog, r.layers))
    r.sramPeakAllocatedBytes = std::max(r.sramPeakAllocatedBytes, point.second);
  return r;
}

} // namespace

SimResult tessera::sim::simulateFrame(
    const arch::Program &prog, const arch::ChipConfig &chip,
    const std::map<std::string, std::vector<float>> &inputs,
    const SimOptions &options) {
  std::lock_guard<std::mutex> lock(simMutex());
  timing::checkChip(chip);
  prog.verify("program");
  prog.checkFits(chip, "program");
  // Every figure of the frame is bounded before the model runs, so none can
  // saturate or wrap (the SystemC clock included: it keeps running across
  // frames).
  uint64_t bound = timing::frameCycleBound(chip, prog);
  checkInputs(prog, inputs, options.functional);
  if (options.functional && prog.weightDataElided)
    throw SimError("the program was loaded without its weights (timing "
                   "only); a functional frame needs them");

  FrameState frame;
  frame.chip = chip;
  frame.program = &prog;
  frame.functional = options.functional;
  std::vector<uint8_t> image;
  if (options.functional)
    image = buildImage(prog, inputs);

  Chip *model = nullptr;
  bool clockFull = false;
  SimThread::get().run([&] {
    model = &chipModel();
    clockFull = nowCycles() > timing::kMaxFrameCycles * 1024 - bound;
    if (!clockFull)
      model->runFrame(frame, std::move(image));
  });
  if (clockFull)
    throw SimError("the simulated clock would pass " +
                   std::to_string(timing::kMaxFrameCycles * 1024) +
                   " cycles in this process; simulate fewer frames per run");
  if (frame.failed())
    throw SimError(frame.error);

  SimResult result = collect(prog, frame);
  if (options.functional) {
    const std::vector<uint8_t> &dram = model->dram.image();
    for (const arch::TensorInfo &t : prog.tensors) {
      if (t.kind != arch::TensorKind::Output)
        continue;
      std::vector<float> &values = result.outputs[t.name];
      values.resize(t.numElements());
      unsigned eb = arch::dtypeBytes(t.dtype);
      for (size_t i = 0; i < values.size(); ++i)
        values[i] = loadElement(dram.data() + t.dramAddr + i * eb, t.dtype);
    }
  }
  if (!options.tracePath.empty())
    writeTrace(options.tracePath, prog, frame, result);
  return result;
}
