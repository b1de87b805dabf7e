//===- Report.h - The frame report: table and JSON ---------------*- C++
//-*-===//
//
// Formats a simulated frame for people (a table on the terminal) and for
// tools (the same figures as JSON): frame latency in cycles and ms, the frame
// budget with pass/fail and the headroom left for the downstream planner,
// time and DRAM traffic per layer, matrix-unit utilization and the accuracy
// checks of the outputs. docs/simulator.md lists every field.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_SIM_REPORT_H
#define TESSERA_SIM_REPORT_H

#include "tessera/Sim/Simulator.h"
#include "tessera/arch/ChipConfig.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace tessera::sim {

/// One output compared with a reference (filled in by the caller).
struct AccuracyCheck {
  std::string tensor;
  std::string reference; ///< Where the reference came from (a file).
  double maxAbsError = 0;
  double rmsError = 0;
  double referenceRms = 0;
  double tolerance = 0; ///< Bound on maxAbsError.
  bool passed = false;
};

/// The compiler's cost-model estimate of the frame (docs/cost-model.md),
/// filled in by a caller that has the compiler's plans.
struct CostEstimate {
  /// Modelled cycles per layer, in SimResult::layers' order (the
  /// simulator's attributed cycles are what they estimate).
  std::vector<uint64_t> layerCycles;
  /// Roofline bound per layer, in the same order: its kernel's compute at
  /// peak vs its unavoidable DRAM bytes at peak bandwidth.
  std::vector<double> layerRooflineCycles;
  uint64_t frameCycles = 0;
  /// Roofline bound of the frame: compute at peak, unavoidable DRAM bytes
  /// at peak bandwidth.
  double rooflineComputeCycles = 0;
  double rooflineMemoryCycles = 0;
  uint64_t unavoidableDramBytes = 0;
  double rooflineCycles() const {
    return std::max(rooflineComputeCycles, rooflineMemoryCycles);
  }
};

/// What the fusion passes did for one layer (report row), against the
/// unfused pipeline (docs/fusion.md, "In the report"), filled in by a caller
/// that has the compiled graph.
struct LayerFusion {
  /// "attention", or the parts of a fused matmul ("layernorm", "bias",
  /// "gelu", "residual"); empty: no fusion (the layer is what it would be
  /// unfused).
  std::vector<std::string> applied;
  /// Attention: the heads whose K and V stay in SRAM from the QKV
  /// projection's kernel (tsr-keep-kv, docs/fusion.md), of `heads`.
  int64_t headsFused = 0, heads = 0;
  /// Intermediates kept in SRAM: each one DRAM store (storeBytes) and its
  /// loads (loads, loadBytes) that the unfused kernels would make.
  uint64_t roundTrips = 0, loads = 0, storeBytes = 0, loadBytes = 0;
  uint64_t bytesRemoved() const { return storeBytes + loadBytes; }
};

struct ReportInfo {
  std::string modelName;
  std::string programPath;
  std::vector<AccuracyCheck> accuracy;
  /// Present: a `model` column per layer and the frame's estimate and
  /// roofline in the table and the JSON.
  std::optional<CostEstimate> costModel;
  /// The compiler's pipeline ("fused", ...; empty: unknown, e.g. a program
  /// file) and, per layer in SimResult::layers' order, its fusion. Present
  /// (same size as the layers): a fusion section in the table and the JSON.
  std::string pipeline;
  std::vector<LayerFusion> fusion;
};

/// Budget figures derived from a result and the chip's frame_budget_ms.
struct BudgetCheck {
  double budgetMs = 0;
  double frameMs = 0;
  double headroomMs = 0; ///< budgetMs - frameMs; negative is an overrun.
  bool passed = false;   ///< frameMs <= budgetMs.
};
BudgetCheck checkBudget(const SimResult &result, const arch::ChipConfig &chip);

/// The human-readable report (a multi-line table ending in a newline).
std::string formatReport(const SimResult &result, const arch::ChipConfig &chip,
                         const ReportInfo &info);
/// The same figures as one JSON object (ending in a newline).
std::string reportJson(const SimResult &result, const arch::ChipConfig &chip,
                       const ReportInfo &info);

} // namespace tessera::sim

#endif // TESSERA_SIM_REPORT_H
