//===- Analysis.cpp - Stall attribution and energy of a simulated frame ---===//
//
// Stall attribution flattens each unit's or queue's recorded intervals into
// disjoint segments of one class each (a higher class wins where intervals
// overlap: busy > waiting on DRAM > waiting on a dependency > idle), so the
// classes of every unit add up to the frame exactly; the compute queue's
// segments are then cut at the layers' attributed windows, which partition
// the frame. docs/simulator.md gives the definitions.
//
//===----------------------------------------------------------------------===//

#include "Analysis.h"

#include "tessera/Sim/Timing.h"

#include <algorithm>
#include <map>

using namespace tessera;
using namespace tessera::sim;

EnergyBreakdown tessera::sim::instrEnergy(const arch::ChipConfig &chip,
                                          const arch::Instr &in,
                                          uint64_t dramBusBytes) {
  EnergyBreakdown e;
  uint64_t sramBytes = 0;
  for (const arch::Operand &o : arch::operandsOf(in))
    if (!o.inDram)
      sramBytes += o.rows * o.rowBytes;
  e.sramPj = double(sramBytes) * chip.energy_sram_pj_per_byte;
  switch (in.op) {
  case arch::Opcode::DmaLoad:
  case arch::Opcode::DmaStore:
  case arch::Opcode::DmaGather:
    e.dramPj = double(dramBusBytes) * chip.energy_dram_pj_per_byte;
    break;
  case arch::Opcode::MatMul: {
    double perMac = in.dtype == arch::DType::F16  ? chip.energy_mac_fp16_pj
                    : in.dtype == arch::DType::I8 ? chip.energy_mac_int8_pj
                                                  : chip.energy_mac_fp32_pj;
    e.macPj = double(uint64_t(in.dims[0]) * in.dims[1] * in.dims[2]) * perMac;
    break;
  }
  default:
    e.vectorPj = double(timing::vectorPasses(chip, in.op) * in.dims[0] *
                        uint64_t(in.dims[1])) *
                 chip.energy_vector_op_pj;
    break;
  }
  return e;
}

namespace {

/// Segment classes, in increasing priority.
enum Class : int { Idle = 0, DepWait, DramWait, BusyVector, BusyMatrix, Busy };

struct Interval {
  uint64_t begin, end;
  int cls;
  int64_t blocker; ///< For waits: the instruction waited for.
};

struct Segment {
  uint64_t begin, end;
  int cls;
  int64_t blocker;
};

/// Disjoint segments covering [0, total): at each cycle the highest class of
/// the intervals covering it (Idle where none does).
std::vector<Segment> flatten(std::vector<Interval> iv, uint64_t total) {
  struct Event {
    uint64_t at;
    int delta, cls;
    int64_t blocker;
  };
  std::vector<Event> ev;
  for (const Interval &i : iv) {
    uint64_t e = std::min(i.end, total);
    if (i.begin >= e)
      continue;
    ev.push_back({i.begin, +1, i.cls, i.blocker});
    ev.push_back({e, -1, i.cls, i.blocker});
  }
  std::sort(ev.begin(), ev.end(), [](const Event &a, const Event &b) {
    return a.at < b.at || (a.at == b.at && a.delta < b.delta);
  });
  std::vector<Segment> out;
  int count[Busy + 1] = {0, 0, 0, 0, 0, 0};
  // The blocker of the active wait of each class (a queue waits for one
  // instruction at a time: only its head waits).
  int64_t waitBlocker[Busy + 1] = {-1, -1, -1, -1, -1, -1};
  uint64_t at = 0;
  auto current = [&] {
    for (int c = Busy; c > Idle; --c)
      if (count[c] > 0)
        return c;
    return int(Idle);
  };
  auto emit = [&](uint64_t until) {
    if (until <= at)
      return;
    int c = current();
    int64_t b = (c == DepWait || c == DramWait) ? waitBlocker[c] : -1;
    if (!out.empty() && out.back().cls == c && out.back().blocker == b &&
        out.back().end == at)
      out.back().end = until;
    else
      out.push_back({at, until, c, b});
    at = until;
  };
  for (const Event &e : ev) {
    emit(e.at);
    count[e.cls] += e.delta;
    if (e.delta > 0)
      waitBlocker[e.cls] = e.blocker;
  }
  emit(total);
  return out;
}

StallBreakdown summarize(const std::vector<Segment> &segs, bool matrixView,
                         bool vectorView) {
  StallBreakdown s;
  std::map<int64_t, uint64_t> byBlocker;
  for (const Segment &g : segs) {
    uint64_t len = g.end - g.begin;
    switch (g.cls) {
    case Busy:
      s.busy += len;
      break;
    case BusyMatrix:
      (vectorView ? s.idle : s.busy) += len;
      break;
    case BusyVector:
      (matrixView ? s.idle : s.busy) += len;
      break;
    case DramWait:
      s.dramWait += len;
      break;
    case DepWait:
      s.depWait += len;
      byBlocker[g.blocker] += len;
      break;
    default:
      s.idle += len;
    }
  }
  for (const auto &[blocker, cycles] : byBlocker)
    if (cycles > s.topBlockerCycles) {
      s.topBlocker = blocker;
      s.topBlockerCycles = cycles;
    }
  return s;
}

} // namespace

void tessera::sim::analyzeFrame(const arch::Program &prog,
                                const FrameState &frame, SimResult &r) {
  const arch::ChipConfig &chip = frame.chip;
  const std::vector<arch::Instr> &instrs = prog.instrs;
  const std::vector<InstrRecord> &rec = frame.records;
  uint64_t total = r.totalCycles;

  // The blocker of each instruction: of its dependencies and (DMA) the
  // transfer that held its descriptor slot, the one that completed last, if
  // that was after the instruction reached the head of its queue. Queue
  // `npu * kNumQueues + q` is queue q of that NPU.
  const unsigned npus = std::max(1u, prog.npus);
  const unsigned nq = npus * arch::kNumQueues;
  std::vector<std::vector<uint32_t>> queues(nq);
  std::vector<std::vector<Interval>> queueIv(nq);
  std::vector<Interval> busIv;
  for (uint32_t i = 0; i < instrs.size(); ++i) {
    const arch::Instr &in = instrs[i];
    unsigned q = in.npu * arch::kNumQueues + unsigned(in.queue());
    size_t pos = queues[q].size();
    queues[q].push_back(i);
    std::vector<uint32_t> waitedFor = in.deps;
    uint64_t slots = chip.dma_outstanding_transfers;
    if (in.queue() != arch::Queue::Compute && pos >= slots)
      waitedFor.push_back(queues[q][pos - slots]);
    int64_t blocker = -1;
    uint64_t last = 0;
    for (uint32_t d : waitedFor)
      if (rec[d].end > last || blocker < 0) {
        last = rec[d].end;
        blocker = d;
      }
    if (rec[i].start > rec[i].head && blocker >= 0) {
      bool dram = !arch::isVectorOp(instrs[blocker].op) &&
                  instrs[blocker].op != arch::Opcode::MatMul;
      queueIv[q].push_back(
          {rec[i].head, rec[i].start, dram ? DramWait : DepWait, blocker});
      r.instrTimings[i].blocker = blocker;
    }
    if (in.queue() == arch::Queue::Compute) {
      queueIv[q].push_back(
          {rec[i].start, rec[i].end,
           in.op == arch::Opcode::MatMul ? BusyMatrix : BusyVector, -1});
    } else {
      // In flight: waiting on DRAM until its data moves, then busy.
      uint64_t data = std::max(rec[i].start, rec[i].dramStart);
      queueIv[q].push_back({rec[i].start, data, DramWait, -1});
      queueIv[q].push_back({data, rec[i].end, Busy, -1});
      busIv.push_back({rec[i].dramStart, rec[i].dramEnd, Busy, -1});
    }
  }

  std::vector<std::vector<Segment>> segs(nq);
  for (unsigned q = 0; q < nq; ++q)
    segs[q] = flatten(queueIv[q], total);
  r.units.clear();
  r.loadOverlapCycles = r.storeOverlapCycles = 0;
  for (unsigned n = 0; n < npus; ++n) {
    // One NPU keeps the names it always had; several are prefixed.
    std::string prefix = npus > 1 ? "npu" + std::to_string(n) + " " : "";
    const std::vector<Segment> *q = &segs[n * arch::kNumQueues];
    size_t first = r.units.size();
    r.units.push_back({prefix + "load queue", summarize(q[0], false, false)});
    r.units.push_back(
        {prefix + "compute queue", summarize(q[1], false, false)});
    r.units.push_back({prefix + "store queue", summarize(q[2], false, false)});
    r.units.push_back({prefix + "matrix unit", summarize(q[1], true, false)});
    r.units.push_back({prefix + "vector unit", summarize(q[1], false, true)});
    // Transfer time overlapped within each DMA queue.
    const NpuStats *stats = n < r.npus.size() ? &r.npus[n] : nullptr;
    for (unsigned k : {0u, 2u}) {
      const StallBreakdown &st = r.units[first + k].stalls;
      uint64_t inFlight = st.busy + st.dramWait;
      uint64_t sum =
          npus == 1 ? (k == 0 ? frame.loadBusyCycles : frame.storeBusyCycles)
          : stats   ? (k == 0 ? stats->loadBusyCycles : stats->storeBusyCycles)
                    : 0;
      (k == 0 ? r.loadOverlapCycles : r.storeOverlapCycles) +=
          sum > inFlight ? sum - inFlight : 0;
    }
  }
  r.units.push_back(
      {"DRAM bus", summarize(flatten(busIv, total), false, false)});

  // The compute queue inside each layer's attributed window: of the NPU
  // whose instruction ended the layer (its own window's end).
  std::vector<unsigned> home(r.layers.size(), 0);
  if (npus > 1)
    for (uint32_t i = 0; i < instrs.size(); ++i) {
      const LayerStats &l = r.layers[instrs[i].layer];
      if (rec[i].end == l.endCycle)
        home[instrs[i].layer] = instrs[i].npu;
    }
  uint64_t windowBegin = 0;
  std::vector<size_t> cursor(npus, 0);
  for (size_t li = 0; li < r.layers.size(); ++li) {
    LayerStats &l = r.layers[li];
    const std::vector<Segment> &compute =
        segs[home[li] * arch::kNumQueues + unsigned(arch::Queue::Compute)];
    size_t &s = cursor[home[li]];
    uint64_t windowEnd = windowBegin + l.attributedCycles;
    while (s < compute.size() && compute[s].end <= windowBegin)
      ++s;
    for (size_t t = s; t < compute.size() && compute[t].begin < windowEnd;
         ++t) {
      uint64_t len = std::min(compute[t].end, windowEnd) -
                     std::max(compute[t].begin, windowBegin);
      switch (compute[t].cls) {
      case BusyMatrix:
        l.windowMatrixBusy += len;
        break;
      case BusyVector:
        l.windowVectorBusy += len;
        break;
      case DepWait:
        l.windowDepWait += len;
        break;
      case DramWait:
        l.windowDramWait += len;
        break;
      default:
        l.windowIdle += len;
      }
    }
    windowBegin = windowEnd;
  }

  // Energy: each instruction's dynamic energy to its layer, static power
  // over each layer's attributed cycles.
  // Every NPU the program runs on leaks static_power_w.
  double staticWatts = chip.static_power_w * npus;
  double pjPerCycle = staticWatts / chip.clock_ghz * 1e3;
  for (uint32_t i = 0; i < instrs.size(); ++i) {
    EnergyBreakdown e = instrEnergy(chip, instrs[i], rec[i].dramBusBytes);
    EnergyBreakdown &l = r.layers[instrs[i].layer].energy;
    l.macPj += e.macPj;
    l.vectorPj += e.vectorPj;
    l.sramPj += e.sramPj;
    l.dramPj += e.dramPj;
  }
  for (LayerStats &l : r.layers) {
    l.energy.staticPj = double(l.attributedCycles) * pjPerCycle;
    r.energy.macPj += l.energy.macPj;
    r.energy.vectorPj += l.energy.vectorPj;
    r.energy.sramPj += l.energy.sramPj;
    r.energy.dramPj += l.energy.dramPj;
  }
  r.energy.staticPj = double(total) * pjPerCycle;
  r.energyJ = r.energy.totalPj() * 1e-12;
  r.wattsAtBudgetFps =
      r.energy.dynamicPj() * 1e-12 * (1000.0 / chip.frame_budget_ms) +
      staticWatts;
}

std::vector<std::pair<uint64_t, uint64_t>>
tessera::sim::sramOccupancy(const arch::Program &prog,
                            const std::vector<LayerStats> &layers) {
  std::vector<std::pair<uint64_t, uint64_t>> points;
  if (!prog.hasSramBuffers)
    return points;
  // Per layer, its buffers; the layers with any instruction and buffer.
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> buffers(
      layers.size());
  for (const arch::SramBuffer &b : prog.sramBuffers)
    if (b.layer < buffers.size())
      buffers[b.layer].push_back({b.addr, b.end()});
  std::vector<bool> ran(layers.size(), false);
  for (const arch::Instr &in : prog.instrs)
    if (in.layer < ran.size())
      ran[in.layer] = true;
  // Span boundaries: a layer is in flight over [startCycle, endCycle).
  std::vector<std::pair<uint64_t, int>> events; // (cycle, +/-(layer + 1))
  for (size_t l = 0; l < layers.size(); ++l)
    if (ran[l] && !buffers[l].empty() &&
        layers[l].endCycle > layers[l].startCycle) {
      events.push_back({layers[l].startCycle, int(l) + 1});
      events.push_back({layers[l].endCycle, -(int(l) + 1)});
    }
  std::sort(events.begin(), events.end());
  std::vector<int> active;
  points.push_back({0, 0});
  for (size_t e = 0; e < events.size(); ++e) {
    int layer = std::abs(events[e].second) - 1;
    if (events[e].second > 0)
      active.push_back(layer);
    else
      active.erase(std::find(active.begin(), active.end(), layer));
    if (e + 1 < events.size() && events[e + 1].first == events[e].first)
      continue; // one point per cycle, after every change at it
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (int l : active)
      ranges.insert(ranges.end(), buffers[l].begin(), buffers[l].end());
    std::sort(ranges.begin(), ranges.end());
    uint64_t bytes = 0, covered = 0;
    for (const auto &[begin, end] : ranges) {
      uint64_t from = std::max(begin, covered);
      if (end > from)
        bytes += end - from;
      covered = std::max(covered, end);
    }
    if (points.back().first == events[e].first)
      points.back().second = bytes;
    else if (points.back().second != bytes)
      points.push_back({events[e].first, bytes});
  }
  return points;
}
