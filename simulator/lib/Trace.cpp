//===- Trace.cpp - Chrome/Perfetto JSON timeline of a frame ---------------===//
//
// The trace-event format: a JSON object with a "traceEvents" array of
// metadata ("M": track names), complete slices ("X": ts and dur in
// microseconds) and counters ("C"). Tracks (tid): 1-3 the load, compute and
// store queues, 4 the DRAM data bus, 5 the matrix unit, 6 the vector unit,
// 7 the layers (each layer's attributed window, docs/simulator.md).
//
// Every event is a nlohmann::json object written by the library. A frame of
// the reference network has hundreds of thousands of events, so they are
// streamed one per line into the array instead of built as one document in
// memory.
//
//===----------------------------------------------------------------------===//

#include "Trace.h"
#include "Analysis.h"

#include "tessera/Sim/Report.h"
#include "tessera/Sim/Simulator.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

using namespace tessera;
using namespace tessera::sim;
using json = nlohmann::ordered_json;

namespace {

enum Track { LoadQ = 1, ComputeQ, StoreQ, DramBus, MatrixT, VectorT, Layers };

/// Streams the document: the header object's members, then the events of its
/// "traceEvents" array one at a time.
class TraceWriter {
public:
  TraceWriter(std::ofstream &out, double clockGhz, json header)
      : out(out), usPerCycle(1e-3 / clockGhz) {
    // The header with an empty "traceEvents" last, less its closing "]}".
    header["traceEvents"] = json::array();
    std::string text = header.dump();
    out << text.substr(0, text.size() - 2);
  }

  void event(const json &e) {
    out << (first ? "\n" : ",\n") << e.dump();
    first = false;
  }
  void finish() { out << "\n]}\n"; }

  void process(int pid, const std::string &name) {
    event({{"name", "process_name"},
           {"ph", "M"},
           {"pid", pid},
           {"args", {{"name", name}}}});
  }
  void track(int tid, const char *name, int pid = 1) {
    event({{"name", "thread_name"},
           {"ph", "M"},
           {"pid", pid},
           {"tid", tid},
           {"args", {{"name", name}}}});
    event({{"name", "thread_sort_index"},
           {"ph", "M"},
           {"pid", pid},
           {"tid", tid},
           {"args", {{"sort_index", tid}}}});
  }
  void slice(int tid, const std::string &name, const std::string &cat,
             uint64_t start, uint64_t end, const json &args, int pid = 1) {
    event({{"name", name},
           {"cat", cat},
           {"ph", "X"},
           {"pid", pid},
           {"tid", tid},
           {"ts", us(start)},
           {"dur", us(end - start)},
           {"args", args}});
  }
  void counter(const char *name, uint64_t at, const json &args) {
    event({{"name", name},
           {"ph", "C"},
           {"pid", 1},
           {"ts", us(at)},
           {"args", args}});
  }
  /// Cycles as microseconds, rounded to the picosecond (as "%.6f" did).
  double us(uint64_t cycles) const {
    return std::round(double(cycles) * usPerCycle * 1e6) / 1e6;
  }

private:
  std::ofstream &out;
  double usPerCycle;
  bool first = true;
};

} // namespace

void tessera::sim::writeTrace(const std::string &path,
                              const arch::Program &prog,
                              const FrameState &frame,
                              const SimResult &result) {
  std::ofstream out(path, std::ios::binary);
  if (!out)
    throw SimError(path + ": cannot write the trace");
  TraceWriter w(
      out, frame.chip.clock_ghz,
      {{"displayTimeUnit", "ns"},
       {"otherData",
        {{"chip", frame.chip.name}, {"clock_ghz", frame.chip.clock_ghz}}}});
  // NPU n is process n + 1 with its queues and units; the shared DRAM bus,
  // the layers and the counters stay in process 1 (NPU 0).
  const unsigned npus = std::max(1u, prog.npus);
  for (unsigned n = 0; n < npus; ++n) {
    int pid = int(n) + 1;
    w.process(pid, "NPU " + std::to_string(n) + " (" + frame.chip.name + ")");
    w.track(LoadQ, "load queue", pid);
    w.track(ComputeQ, "compute queue", pid);
    w.track(StoreQ, "store queue", pid);
    if (n == 0)
      w.track(DramBus, npus > 1 ? "DRAM data bus (shared)" : "DRAM data bus");
    w.track(MatrixT, "matrix unit", pid);
    w.track(VectorT, "vector unit", pid);
    if (n == 0)
      w.track(Layers, "layers");
  }

  // One slice per layer over the cycles it is attributed (windows that
  // partition the frame), with where the compute queue's cycles went.
  uint64_t windowBegin = 0;
  for (const LayerStats &l : result.layers) {
    uint64_t windowEnd = windowBegin + l.attributedCycles;
    if (windowEnd > windowBegin) {
      json args = {{"cycles", l.attributedCycles},
                   {"matrix_busy", l.windowMatrixBusy},
                   {"vector_busy", l.windowVectorBusy},
                   {"dep_wait", l.windowDepWait},
                   {"dram_wait", l.windowDramWait},
                   {"idle", l.windowIdle},
                   {"energy_uj", l.energy.totalPj() * 1e-6},
                   {"span_start_cycle", l.startCycle},
                   {"span_end_cycle", l.endCycle}};
      w.slice(Layers, l.name, "layer", windowBegin, windowEnd, args);
    }
    windowBegin = windowEnd;
  }

  // DRAM byte counters change when a DMA completes; emit them in time order.
  std::vector<std::pair<uint64_t, uint32_t>> dmaEnds;
  for (uint32_t i = 0; i < prog.instrs.size(); ++i) {
    const arch::Instr &in = prog.instrs[i];
    const InstrRecord &rec = frame.records[i];
    std::string layer =
        in.layer < prog.layers.size() ? prog.layers[in.layer] : "";
    json args = {{"instr", i},
                 {"text", in.toString()},
                 {"layer", layer},
                 {"cycles", rec.end - rec.start},
                 {"dep_wait_cycles", rec.start - rec.head},
                 {"waited_for", result.instrTimings[i].blocker}};
    if (npus > 1)
      args["npu"] = in.npu;
    const char *opName = arch::opcodeName(in.op);
    int queueTrack = LoadQ + int(in.queue());
    int pid = int(in.npu) + 1;
    w.slice(queueTrack, opName, layer, rec.start, rec.end, args, pid);
    if (in.op == arch::Opcode::MatMul)
      w.slice(MatrixT, opName, layer, rec.start, rec.end, args, pid);
    else if (arch::isVectorOp(in.op))
      w.slice(VectorT, opName, layer, rec.start, rec.end, args, pid);
    else {
      json bus = {{"instr", i}, {"bus_bytes", rec.dramBusBytes}};
      if (npus > 1) {
        bus["npu"] = in.npu;
        bus["waited_for_other_npu_cycles"] = rec.dramWaitOtherNpu;
      }
      w.slice(DramBus, in.queue() == arch::Queue::Load ? "read" : "write",
              layer, rec.dramStart, rec.dramEnd, bus);
      dmaEnds.push_back({rec.end, i});
    }
  }
  // DRAM bandwidth: each data phase moves its bus bytes at the bus rate
  // (phases never overlap); transfers in flight per DMA queue.
  struct Change {
    uint64_t at;
    int order; ///< Ends before starts at the same cycle.
    double gbps;
    int load, store;
  };
  std::vector<Change> changes;
  for (uint32_t i = 0; i < prog.instrs.size(); ++i) {
    const arch::Instr &in = prog.instrs[i];
    if (in.queue() == arch::Queue::Compute)
      continue;
    const InstrRecord &rec = frame.records[i];
    bool load = in.queue() == arch::Queue::Load;
    if (rec.dramEnd > rec.dramStart) {
      double gbps = double(rec.dramBusBytes) /
                    double(rec.dramEnd - rec.dramStart) * frame.chip.clock_ghz;
      changes.push_back({rec.dramStart, 1, gbps, 0, 0});
      changes.push_back({rec.dramEnd, 0, -gbps, 0, 0});
    }
    changes.push_back({rec.start, 1, 0, load ? 1 : 0, load ? 0 : 1});
    changes.push_back({rec.end, 0, 0, load ? -1 : 0, load ? 0 : -1});
  }
  std::sort(changes.begin(), changes.end(),
            [](const Change &a, const Change &b) {
              return a.at < b.at || (a.at == b.at && a.order < b.order);
            });
  double gbps = 0;
  int loads = 0, stores = 0;
  for (size_t c = 0; c < changes.size(); ++c) {
    gbps += changes[c].gbps;
    loads += changes[c].load;
    stores += changes[c].store;
    if (c + 1 < changes.size() && changes[c + 1].at == changes[c].at)
      continue; // one sample per cycle, after every change at it
    // GB/s to three decimals (as "%.3f" did).
    double shown = gbps < 1e-9 ? 0.0 : std::round(gbps * 1e3) / 1e3;
    w.counter("DRAM bandwidth (GB/s)", changes[c].at, {{"bandwidth", shown}});
    w.counter("DMA transfers in flight", changes[c].at,
              {{"load", loads}, {"store", stores}});
  }

  // SRAM allocated: the buffers of the layers in flight.
  for (const auto &[at, bytes] : sramOccupancy(prog, result.layers))
    w.counter("SRAM allocated (bytes)", at, {{"allocated", bytes}});

  std::sort(dmaEnds.begin(), dmaEnds.end());
  uint64_t read = 0, written = 0;
  w.counter("DRAM bytes", 0, {{"read", 0}, {"written", 0}});
  for (const auto &[end, i] : dmaEnds) {
    const arch::Instr &in = prog.instrs[i];
    (in.queue() == arch::Queue::Load ? read : written) += in.dmaBytes();
    w.counter("DRAM bytes", end, {{"read", read}, {"written", written}});
  }
  w.finish();
  out.close();
  if (!out) {
    int err = errno;
    // No partial trace under the final name (a device node is left alone).
    if (!arch::isExistingNonRegular(path))
      std::remove(path.c_str());
    throw SimError(path + ": cannot write the trace: " + std::strerror(err));
  }
}
