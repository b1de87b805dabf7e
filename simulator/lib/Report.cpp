//===- Report.cpp - The frame report: table and JSON ----------------------===//
//
// Both forms carry the same figures; docs/simulator.md defines each. The JSON
// is built and written by nlohmann::json (ordered, so keys stay in the order
// below); numbers are written in their shortest round-trip form and
// non-finite ones as null.
//
//===----------------------------------------------------------------------===//

#include "tessera/Sim/Report.h"
#include "tessera/arch/Isa.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

using namespace tessera;
using namespace tessera::sim;
using json = nlohmann::ordered_json;

BudgetCheck tessera::sim::checkBudget(const SimResult &r,
                                      const arch::ChipConfig &chip) {
  BudgetCheck b;
  b.budgetMs = chip.frame_budget_ms;
  b.frameMs = r.frameMs;
  b.headroomMs = b.budgetMs - b.frameMs;
  b.passed = b.frameMs <= b.budgetMs;
  return b;
}

namespace {

std::string fmt(const char *format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string pct(double fraction) { return fmt("%.1f%%", 100 * fraction); }

/// Bytes with a decimal unit (1 MB = 1e6 bytes, as the DRAM GB/s).
std::string bytes(uint64_t n) {
  if (n >= 1000000000)
    return fmt("%.2f GB", n / 1e9);
  if (n >= 1000000)
    return fmt("%.2f MB", n / 1e6);
  if (n >= 1000)
    return fmt("%.1f kB", n / 1e3);
  return std::to_string(n) + " B";
}

/// Memory capacities in binary units (32 MiB of SRAM).
std::string capacity(uint64_t n) {
  if (n >= (1u << 20) && n % (1u << 20) == 0)
    return std::to_string(n >> 20) + " MiB";
  if (n >= 1024 && n % 1024 == 0)
    return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " B";
}

/// (model - simulated) / simulated; 0 when nothing was simulated.
double modelError(uint64_t model, uint64_t simulated) {
  return simulated ? (double(model) - double(simulated)) / double(simulated)
                   : 0.0;
}

double share(uint64_t part, uint64_t whole) {
  return whole ? double(part) / double(whole) : 0.0;
}

} // namespace

namespace {

/// The fusion section is shown when every layer has its record.
bool hasFusion(const SimResult &r, const ReportInfo &info) {
  return !info.fusion.empty() && info.fusion.size() == r.layers.size();
}

/// "attention", "layernorm + bias", ... ("none" for an unfused layer).
std::string appliedText(const LayerFusion &f) {
  std::string s;
  for (const std::string &a : f.applied)
    s += (s.empty() ? "" : " + ") + a;
  return s.empty() ? "none" : s;
}

/// The frame's fusion figures: every layer's summed.
struct FusionTotals {
  uint64_t fusedLayers = 0, attention = 0, headsFused = 0, heads = 0;
  LayerFusion sum;
};
FusionTotals fusionTotals(const ReportInfo &info) {
  FusionTotals t;
  for (const LayerFusion &f : info.fusion) {
    if (f.applied.empty())
      continue;
    ++t.fusedLayers;
    if (f.heads) {
      ++t.attention;
      t.headsFused += uint64_t(f.headsFused);
      t.heads += uint64_t(f.heads);
    }
    t.sum.roundTrips += f.roundTrips;
    t.sum.loads += f.loads;
    t.sum.storeBytes += f.storeBytes;
    t.sum.loadBytes += f.loadBytes;
  }
  return t;
}

} // namespace

std::string tessera::sim::formatReport(const SimResult &r,
                                       const arch::ChipConfig &chip,
                                       const ReportInfo &info) {
  std::ostringstream os;
  BudgetCheck b = checkBudget(r, chip);
  auto row = [&](const std::string &label) -> std::ostringstream & {
    os << "  " << std::left << std::setw(18) << label;
    return os;
  };
  os << "Tessera frame report\n";
  if (!info.modelName.empty())
    row("model") << info.modelName << "\n";
  if (!info.programPath.empty())
    row("program") << info.programPath << "\n";
  row("chip") << chip.name << " (" << fmt("%g", chip.clock_ghz) << " GHz, "
              << chip.matrix_rows << "x" << chip.matrix_cols << " matrix unit, "
              << fmt("%g", chip.dram_bandwidth_gbps) << " GB/s DRAM, "
              << capacity(chip.sram_bytes) << " SRAM)\n";
  row("instructions") << r.instructions << "\n";
  if (!info.pipeline.empty())
    row("pipeline") << info.pipeline << " (docs/fusion.md)\n";
  os << "\n";

  row("frame latency") << r.totalCycles
                       << " cycles = " << fmt("%.6f", r.frameMs) << " ms\n";
  if (const std::optional<CostEstimate> &cm = info.costModel) {
    double bound = cm->rooflineCycles();
    row("cost model") << cm->frameCycles << " cycles ("
                      << fmt("%+.1f%%",
                             100 * modelError(cm->frameCycles, r.totalCycles))
                      << " vs simulated, docs/cost-model.md)\n";
    row("roofline")
        << fmt("%.0f", bound) << " cycles ("
        << (cm->rooflineComputeCycles >= cm->rooflineMemoryCycles ? "compute"
                                                                  : "DRAM")
        << " bound: compute at peak " << fmt("%.0f", cm->rooflineComputeCycles)
        << ", " << bytes(cm->unavoidableDramBytes)
        << " unavoidable DRAM bytes at peak bandwidth "
        << fmt("%.0f", cm->rooflineMemoryCycles) << "); the frame takes "
        << fmt("%.2f", bound > 0 ? double(r.totalCycles) / bound : 0.0)
        << "x the bound\n";
  }
  row("budget") << fmt("%.2f", b.budgetMs) << " ms ("
                << fmt("%.0f", 1000.0 / b.budgetMs)
                << " fps): " << (b.passed ? "PASS" : "FAIL") << ", ";
  if (b.passed)
    os << fmt("%.6f", b.headroomMs) << " ms (" << pct(b.headroomMs / b.budgetMs)
       << ") headroom left for the planner\n";
  else
    os << "over budget by " << fmt("%.6f", -b.headroomMs) << " ms\n";
  row("DRAM") << "read " << bytes(r.dramBytesRead) << ", written "
              << bytes(r.dramBytesWritten) << " (" << r.dramBytesRead << " / "
              << r.dramBytesWritten << " bytes); bus busy "
              << pct(share(r.dramBusyCycles, r.totalCycles)) << "\n";
  if (chip.detailedDram()) {
    uint64_t bursts = r.dramRowHits + r.dramRowMisses;
    row("DRAM rows") << chip.dram_channels << " channels x " << chip.dram_banks
                     << " banks: " << r.dramRowHits << " row hits, "
                     << r.dramRowMisses << " misses ("
                     << pct(share(r.dramRowHits, bursts)) << " hit rate), "
                     << r.dramTurnarounds << " read/write turnarounds\n";
  }
  row("SRAM") << r.sramConflictBeats << " bank-conflict beats (DMA vs the "
              << "running unit, " << chip.sram_ports_per_bank
              << " port(s) per bank) added " << r.sramConflictCycles
              << " cycles to DMA SRAM sides; peak allocated "
              << bytes(r.sramPeakAllocatedBytes) << "\n";
  row("matrix unit") << pct(r.matrixUtilization)
                     << " utilization over the frame, "
                     << pct(r.matrixBusyUtilization) << " while busy; busy "
                     << r.matrixBusyCycles << " cycles ("
                     << pct(share(r.matrixBusyCycles, r.totalCycles)) << "), "
                     << r.macs << " MACs\n";
  row("vector unit") << "busy " << r.vectorBusyCycles << " cycles ("
                     << pct(share(r.vectorBusyCycles, r.totalCycles)) << ")\n";
  // Cycles with at least one transfer in flight; the summed transfer time
  // (dma.*_busy_cycles) exceeds it when descriptors overlap.
  uint64_t loadInFlight = r.loadBusyCycles - r.loadOverlapCycles;
  uint64_t storeInFlight = r.storeBusyCycles - r.storeOverlapCycles;
  row("DMA") << "load in flight " << loadInFlight << " cycles ("
             << pct(share(loadInFlight, r.totalCycles)) << "), store in flight "
             << storeInFlight << " cycles ("
             << pct(share(storeInFlight, r.totalCycles))
             << "); transfer cycles summed over descriptors: load "
             << r.loadBusyCycles << ", store " << r.storeBusyCycles;
  if (r.npuCount > 1)
    os << " (each figure summed over the " << r.npuCount << " NPUs)";
  os << "\n";
  row("DMA overlap") << "up to " << chip.dma_outstanding_transfers
                     << " transfers in flight per queue: "
                     << r.loadOverlapCycles << " load and "
                     << r.storeOverlapCycles
                     << " store transfer cycles ran under other transfers "
                        "(DRAM latency hidden)\n";
  if (r.npuCount > 1) {
    // Each NPU's units, and the shared DRAM's contention between them.
    uint64_t other = 0, own = 0;
    for (const NpuStats &n : r.npus) {
      other += n.dramWaitOtherNpuCycles;
      own += n.dramWaitOwnCycles;
    }
    row("NPUs") << r.npuCount << " sharing one DRAM ("
                << capacity(chip.sram_bytes) << " SRAM each, tokens between "
                << "them take " << chip.npu_sync_cycles << " cycles)\n";
    for (size_t n = 0; n < r.npus.size(); ++n) {
      const NpuStats &s = r.npus[n];
      row("  npu" + std::to_string(n))
          << s.instructions << " instructions, done at cycle " << s.endCycle
          << "; matrix " << pct(s.matrixUtilization) << " utilization, busy "
          << s.matrixBusyCycles << " ("
          << pct(share(s.matrixBusyCycles, r.totalCycles)) << "); vector busy "
          << s.vectorBusyCycles << " ("
          << pct(share(s.vectorBusyCycles, r.totalCycles)) << "); DRAM read "
          << bytes(s.dramBytesRead) << ", written " << bytes(s.dramBytesWritten)
          << "\n";
    }
    row("shared DRAM") << "transfers waited " << other
                       << " cycles for the bus while it moved another NPU's "
                          "data (";
    for (size_t n = 0; n < r.npus.size(); ++n)
      os << (n ? ", " : "") << "npu" << n << " "
         << r.npus[n].dramWaitOtherNpuCycles;
    os << ") and " << own << " for their own NPU's\n";
  }
  row("energy") << fmt("%.6f", r.energyJ * 1e3) << " mJ per frame (MAC "
                << fmt("%.6f", r.energy.macPj * 1e-9) << ", vector "
                << fmt("%.6f", r.energy.vectorPj * 1e-9) << ", SRAM "
                << fmt("%.6f", r.energy.sramPj * 1e-9) << ", DRAM "
                << fmt("%.6f", r.energy.dramPj * 1e-9) << ", static "
                << fmt("%.6f", r.energy.staticPj * 1e-9) << " mJ); "
                << fmt("%.3f", r.wattsAtBudgetFps) << " W at "
                << fmt("%.0f", 1000.0 / b.budgetMs) << " fps\n\n";

  os << "  where the cycles went (busy / waiting on a dependency / waiting "
        "on DRAM / idle; each row sums to the frame)\n";
  int unitWidth = 14;
  for (const UnitStalls &u : r.units)
    unitWidth = std::max(unitWidth, int(u.name.size()) + 1);
  os << "  " << std::left << std::setw(unitWidth) << "unit" << std::right
     << std::setw(12) << "busy" << std::setw(12) << "dep wait" << std::setw(12)
     << "DRAM wait" << std::setw(12) << "idle"
     << "  most waited-for instruction\n";
  for (const UnitStalls &u : r.units) {
    const StallBreakdown &st = u.stalls;
    os << "  " << std::left << std::setw(unitWidth) << u.name << std::right
       << std::setw(12) << st.busy << std::setw(12) << st.depWait
       << std::setw(12) << st.dramWait << std::setw(12) << st.idle << "  ";
    if (st.topBlocker >= 0)
      os << "instr " << st.topBlocker << " ("
         << arch::opcodeName(r.instrOps.empty()
                                 ? arch::Opcode::VecCopy
                                 : r.instrOps[size_t(st.topBlocker)])
         << "), " << st.topBlockerCycles << " cycles";
    else
      os << "-";
    os << "\n";
  }
  os << "\n";

  size_t nameWidth = 5;
  for (const LayerStats &l : r.layers)
    nameWidth = std::max(nameWidth, l.name.size());
  os << "  per layer (time = cycles by which the layer moved the end of the "
        "frame)\n";
  const CostEstimate *cm = info.costModel ? &*info.costModel : nullptr;
  os << "  " << std::left << std::setw(int(nameWidth)) << "layer" << std::right
     << std::setw(12) << "cycles" << std::setw(11) << "ms" << std::setw(8)
     << "share";
  if (cm)
    os << std::setw(12) << "model" << std::setw(8) << "error" << std::setw(12)
       << "bound";
  os << std::setw(12) << "matrix" << std::setw(12) << "vector" << std::setw(12)
     << "DRAM read" << std::setw(12) << "DRAM write" << std::setw(12)
     << "cq busy" << std::setw(12) << "dep wait" << std::setw(12) << "DRAM wait"
     << std::setw(12) << "idle" << std::setw(12) << "energy mJ"
     << "\n";
  for (size_t li = 0; li < r.layers.size(); ++li) {
    const LayerStats &l = r.layers[li];
    os << "  " << std::left << std::setw(int(nameWidth)) << l.name << std::right
       << std::setw(12) << l.attributedCycles << std::setw(11)
       << fmt("%.6f", chip.cyclesToMs(l.attributedCycles)) << std::setw(8)
       << pct(share(l.attributedCycles, r.totalCycles));
    if (cm && li < cm->layerCycles.size())
      os << std::setw(12) << cm->layerCycles[li] << std::setw(8)
         << fmt("%+.0f%%",
                100 * modelError(cm->layerCycles[li], l.attributedCycles));
    else if (cm)
      os << std::setw(12) << "-" << std::setw(8) << "-";
    if (cm && li < cm->layerRooflineCycles.size())
      os << std::setw(12) << fmt("%.0f", cm->layerRooflineCycles[li]);
    else if (cm)
      os << std::setw(12) << "-";
    os << std::setw(12) << l.matrixCycles << std::setw(12) << l.vectorCycles
       << std::setw(12) << bytes(l.dramBytesRead) << std::setw(12)
       << bytes(l.dramBytesWritten) << std::setw(12)
       << l.windowMatrixBusy + l.windowVectorBusy << std::setw(12)
       << l.windowDepWait << std::setw(12) << l.windowDramWait << std::setw(12)
       << l.windowIdle << std::setw(12)
       << fmt("%.6f", l.energy.totalPj() * 1e-9) << "\n";
  }
  // The layers' compute-queue columns summed (with one NPU: the compute
  // queue's breakdown, as the windows partition the frame).
  StallBreakdown cq;
  for (const LayerStats &l : r.layers) {
    cq.busy += l.windowMatrixBusy + l.windowVectorBusy;
    cq.depWait += l.windowDepWait;
    cq.dramWait += l.windowDramWait;
    cq.idle += l.windowIdle;
  }
  os << "  " << std::left << std::setw(int(nameWidth)) << "total" << std::right
     << std::setw(12) << r.totalCycles << std::setw(11)
     << fmt("%.6f", r.frameMs) << std::setw(8) << pct(1);
  if (cm)
    os << std::setw(12) << cm->frameCycles << std::setw(8)
       << fmt("%+.0f%%", 100 * modelError(cm->frameCycles, r.totalCycles))
       << std::setw(12) << fmt("%.0f", cm->rooflineCycles());
  os << std::setw(12) << r.matrixBusyCycles << std::setw(12)
     << r.vectorBusyCycles << std::setw(12) << bytes(r.dramBytesRead)
     << std::setw(12) << bytes(r.dramBytesWritten) << std::setw(12) << cq.busy
     << std::setw(12) << cq.depWait << std::setw(12) << cq.dramWait
     << std::setw(12) << cq.idle << std::setw(12)
     << fmt("%.6f", r.energyJ * 1e3) << "\n";
  os << "  (cq busy, dep wait, DRAM wait, idle: the compute queue inside the "
        "layer's cycles; they sum to its cycles)\n";
  if (cm)
    os << "  (bound: the layer's roofline, max(compute at peak, unavoidable "
          "DRAM bytes at peak bandwidth); total: the frame's)\n";

  if (hasFusion(r, info)) {
    // Per fused layer: what it fuses and what stays out of DRAM against
    // the unfused pipeline; the other layers are as they would be unfused.
    FusionTotals t = fusionTotals(info);
    std::string frameLabel = std::to_string(t.fusedLayers) + " of " +
                             std::to_string(r.layers.size()) + " layers fused";
    size_t appliedWidth = frameLabel.size();
    for (const LayerFusion &f : info.fusion)
      appliedWidth = std::max(appliedWidth, appliedText(f).size());
    os << "\n  fusion (against the unfused pipeline: intermediates kept in "
          "SRAM, their DRAM store and loads removed; docs/fusion.md)\n";
    os << "  " << std::left << std::setw(int(nameWidth)) << "layer"
       << "  " << std::setw(int(appliedWidth)) << "applied" << std::right
       << std::setw(8) << "heads" << std::setw(13) << "round trips"
       << std::setw(8) << "loads" << std::setw(14) << "store bytes"
       << std::setw(14) << "load bytes" << std::setw(16) << "bytes removed"
       << "\n";
    auto line = [&](const std::string &name, const std::string &applied,
                    const std::string &heads, const LayerFusion &f) {
      os << "  " << std::left << std::setw(int(nameWidth)) << name << "  "
         << std::setw(int(appliedWidth)) << applied << std::right
         << std::setw(8) << heads << std::setw(13) << f.roundTrips
         << std::setw(8) << f.loads << std::setw(14) << f.storeBytes
         << std::setw(14) << f.loadBytes << std::setw(16) << f.bytesRemoved()
         << "\n";
    };
    for (size_t li = 0; li < r.layers.size(); ++li) {
      const LayerFusion &f = info.fusion[li];
      if (f.applied.empty())
        continue;
      line(r.layers[li].name, appliedText(f),
           f.heads
               ? std::to_string(f.headsFused) + "/" + std::to_string(f.heads)
               : "-",
           f);
    }
    line("frame", frameLabel,
         t.heads ? std::to_string(t.headsFused) + "/" + std::to_string(t.heads)
                 : "-",
         t.sum);
    if (t.fusedLayers < r.layers.size())
      os << "  (the other " << r.layers.size() - t.fusedLayers
         << " layers: none)\n";
  }

  if (!info.accuracy.empty()) {
    // "y  vs expected_y.f32" / "y  vs FP32 reference executor".
    auto refName = [](const std::string &ref) {
      size_t slash = ref.rfind('/');
      return slash == std::string::npos ? ref : ref.substr(slash + 1);
    };
    size_t refWidth = 0;
    for (const AccuracyCheck &a : info.accuracy)
      refWidth = std::max(refWidth, refName(a.reference).size());
    os << "\n  accuracy (max abs error against each reference)\n";
    for (const AccuracyCheck &a : info.accuracy)
      os << "  " << std::left << std::setw(int(nameWidth)) << a.tensor << " vs "
         << std::setw(int(refWidth)) << refName(a.reference) << "  max "
         << fmt("%.3g", a.maxAbsError) << "  rms " << fmt("%.3g", a.rmsError)
         << "  tolerance " << fmt("%.3g", a.tolerance) << " (reference rms "
         << fmt("%.3g", a.referenceRms) << ")  " << (a.passed ? "PASS" : "FAIL")
         << "\n";
  }
  return os.str();
}

std::string tessera::sim::reportJson(const SimResult &r,
                                     const arch::ChipConfig &chip,
                                     const ReportInfo &info) {
  BudgetCheck b = checkBudget(r, chip);
  json doc;
  doc["model"] = info.modelName;
  doc["program"] = info.programPath;
  doc["chip"] = {{"name", chip.name},
                 {"clock_ghz", chip.clock_ghz},
                 {"matrix_rows", chip.matrix_rows},
                 {"matrix_cols", chip.matrix_cols},
                 {"dram_bandwidth_gbps", chip.dram_bandwidth_gbps},
                 {"sram_bytes", chip.sram_bytes}};
  doc["frame"] = {{"cycles", r.totalCycles},
                  {"ms", r.frameMs},
                  {"instructions", r.instructions}};
  if (!info.pipeline.empty())
    doc["pipeline"] = info.pipeline;
  if (hasFusion(r, info)) {
    FusionTotals t = fusionTotals(info);
    doc["fusion"] = {{"fused_layers", t.fusedLayers},
                     {"attention_layers", t.attention},
                     {"heads_fused", t.headsFused},
                     {"heads", t.heads},
                     {"round_trips_removed", t.sum.roundTrips},
                     {"loads_removed", t.sum.loads},
                     {"store_bytes_removed", t.sum.storeBytes},
                     {"load_bytes_removed", t.sum.loadBytes},
                     {"dram_bytes_removed", t.sum.bytesRemoved()}};
  }
  if (const std::optional<CostEstimate> &cm = info.costModel)
    doc["cost_model"] = {{"cycles", cm->frameCycles},
                         {"error", modelError(cm->frameCycles, r.totalCycles)},
                         {"roofline",
                          {{"bound_cycles", cm->rooflineCycles()},
                           {"compute_cycles", cm->rooflineComputeCycles},
                           {"memory_cycles", cm->rooflineMemoryCycles},
                           {"unavoidable_dram_bytes", cm->unavoidableDramBytes},
                           {"frame_over_bound",
                            cm->rooflineCycles() > 0
                                ? double(r.totalCycles) / cm->rooflineCycles()
                                : 0.0}}}};
  doc["budget"] = {{"budget_ms", b.budgetMs},
                   {"fps", 1000.0 / b.budgetMs},
                   {"passed", b.passed},
                   {"headroom_ms", b.headroomMs},
                   {"headroom_fraction", b.headroomMs / b.budgetMs}};
  doc["dram"] = {
      {"bytes_read", r.dramBytesRead},
      {"bytes_written", r.dramBytesWritten},
      {"bus_bytes", r.dramBurstBytes},
      {"bus_busy_cycles", r.dramBusyCycles},
      {"bus_busy_fraction", share(r.dramBusyCycles, r.totalCycles)},
      {"model", chip.dram_model},
      {"row_hits", r.dramRowHits},
      {"row_misses", r.dramRowMisses},
      {"row_hit_rate", share(r.dramRowHits, r.dramRowHits + r.dramRowMisses)},
      {"turnarounds", r.dramTurnarounds}};
  doc["sram"] = {{"ports_per_bank", chip.sram_ports_per_bank},
                 {"bank_conflict_beats", r.sramConflictBeats},
                 {"bank_conflict_cycles", r.sramConflictCycles},
                 {"peak_allocated_bytes", r.sramPeakAllocatedBytes}};
  doc["matrix_unit"] = {{"busy_cycles", r.matrixBusyCycles},
                        {"macs", r.macs},
                        {"utilization", r.matrixUtilization},
                        {"busy_utilization", r.matrixBusyUtilization}};
  doc["vector_unit"] = {{"busy_cycles", r.vectorBusyCycles}};
  if (r.npuCount > 1) {
    json npus = json::array();
    uint64_t other = 0, own = 0;
    for (size_t n = 0; n < r.npus.size(); ++n) {
      const NpuStats &s = r.npus[n];
      other += s.dramWaitOtherNpuCycles;
      own += s.dramWaitOwnCycles;
      npus.push_back({{"npu", n},
                      {"instructions", s.instructions},
                      {"end_cycle", s.endCycle},
                      {"matrix_busy_cycles", s.matrixBusyCycles},
                      {"matrix_utilization", s.matrixUtilization},
                      {"macs", s.macs},
                      {"vector_busy_cycles", s.vectorBusyCycles},
                      {"load_busy_cycles", s.loadBusyCycles},
                      {"store_busy_cycles", s.storeBusyCycles},
                      {"dram_bytes_read", s.dramBytesRead},
                      {"dram_bytes_written", s.dramBytesWritten},
                      {"dram_bus_bytes", s.dramBusBytes},
                      {"dram_wait_other_npu_cycles", s.dramWaitOtherNpuCycles},
                      {"dram_wait_own_npu_cycles", s.dramWaitOwnCycles}});
    }
    doc["npus"] = std::move(npus);
    doc["dram"]["wait_other_npu_cycles"] = other;
    doc["dram"]["wait_own_npu_cycles"] = own;
  }
  doc["dma"] = {{"load_busy_cycles", r.loadBusyCycles},
                {"store_busy_cycles", r.storeBusyCycles},
                {"outstanding_transfers", chip.dma_outstanding_transfers},
                {"load_overlap_cycles", r.loadOverlapCycles},
                {"store_overlap_cycles", r.storeOverlapCycles}};
  auto energyJson = [](const EnergyBreakdown &e) {
    return json{{"joules", e.totalPj() * 1e-12},
                {"mac_joules", e.macPj * 1e-12},
                {"vector_joules", e.vectorPj * 1e-12},
                {"sram_joules", e.sramPj * 1e-12},
                {"dram_joules", e.dramPj * 1e-12},
                {"static_joules", e.staticPj * 1e-12}};
  };
  json energy = {{"watts_at_budget_fps", r.wattsAtBudgetFps}};
  energy.update(energyJson(r.energy));
  doc["energy"] = std::move(energy);
  json stalls = json::array();
  for (const auto &unit : r.units) {
    const StallBreakdown &st = unit.stalls;
    stalls.push_back({{"unit", unit.name},
                      {"busy_cycles", st.busy},
                      {"dep_wait_cycles", st.depWait},
                      {"dram_wait_cycles", st.dramWait},
                      {"idle_cycles", st.idle},
                      {"top_blocker", st.topBlocker},
                      {"top_blocker_cycles", st.topBlockerCycles}});
  }
  doc["stalls"] = std::move(stalls);
  json layers = json::array();
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerStats &l = r.layers[i];
    json layer = {{"name", l.name},
                  {"start_cycle", l.startCycle},
                  {"end_cycle", l.endCycle},
                  {"cycles", l.attributedCycles}};
    if (info.costModel && i < info.costModel->layerCycles.size())
      layer["model_cycles"] = info.costModel->layerCycles[i];
    if (info.costModel && i < info.costModel->layerRooflineCycles.size())
      layer["roofline_cycles"] = info.costModel->layerRooflineCycles[i];
    layer.update(json{{"ms", chip.cyclesToMs(l.attributedCycles)},
                      {"share", share(l.attributedCycles, r.totalCycles)},
                      {"busy_cycles", l.busyCycles},
                      {"matrix_cycles", l.matrixCycles},
                      {"vector_cycles", l.vectorCycles},
                      {"dma_cycles", l.dmaCycles},
                      {"dram_bytes_read", l.dramBytesRead},
                      {"dram_bytes_written", l.dramBytesWritten},
                      {"macs", l.macs},
                      {"instructions", l.instructions},
                      {"compute_queue",
                       {{"matrix_busy_cycles", l.windowMatrixBusy},
                        {"vector_busy_cycles", l.windowVectorBusy},
                        {"dep_wait_cycles", l.windowDepWait},
                        {"dram_wait_cycles", l.windowDramWait},
                        {"idle_cycles", l.windowIdle}}},
                      {"energy", energyJson(l.energy)}});
    if (hasFusion(r, info)) {
      const LayerFusion &f = info.fusion[i];
      layer["fusion"] = {{"applied", f.applied},
                         {"heads_fused", f.headsFused},
                         {"heads", f.heads},
                         {"round_trips_removed", f.roundTrips},
                         {"loads_removed", f.loads},
                         {"store_bytes_removed", f.storeBytes},
                         {"load_bytes_removed", f.loadBytes},
                         {"dram_bytes_removed", f.bytesRemoved()}};
    }
    layers.push_back(std::move(layer));
  }
  doc["layers"] = std::move(layers);
  bool allPassed = true;
  json accuracy = json::array();
  for (const AccuracyCheck &a : info.accuracy) {
    allPassed = allPassed && a.passed;
    accuracy.push_back({{"tensor", a.tensor},
                        {"reference", a.reference},
                        {"max_abs_error", a.maxAbsError},
                        {"rms_error", a.rmsError},
                        {"reference_rms", a.referenceRms},
                        {"tolerance", a.tolerance},
                        {"passed", a.passed}});
  }
  doc["accuracy"] = std::move(accuracy);
  doc["accuracy_passed"] = allPassed;
  return doc.dump(2) + "\n";
}
