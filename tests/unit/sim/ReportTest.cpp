//===- ReportTest.cpp - The frame report's figures, table and JSON --------===//
//
// The report is checked on hand-made results (so the expected figures are
// known in advance); tests/unit/sim/CMakeLists.txt also runs tessera-sim
// --json through python3's JSON parser.
//
//===----------------------------------------------------------------------===//

#include "tessera/Sim/Report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

using namespace tessera;
using namespace tessera::sim;

namespace {

SimResult resultOf(uint64_t cycles) {
  SimResult r;
  r.chipName = "reference";
  r.totalCycles = cycles;
  r.frameMs = arch::ChipConfig::reference().cyclesToMs(cycles);
  r.macs = 96ull * 96 * cycles / 4;
  r.matrixBusyCycles = cycles / 2;
  r.matrixUtilization = 0.25;
  r.matrixBusyUtilization = 0.5;
  r.dramBytesRead = 123456789;
  r.dramBytesWritten = 4096;
  LayerStats a, b;
  a.name = "attention";
  a.attributedCycles = cycles / 4;
  a.dramBytesRead = 1000;
  b.name = "mlp \"fc1\"";
  b.attributedCycles = cycles - cycles / 4;
  r.layers = {a, b};
  return r;
}

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

TEST(Report, BudgetPassAndHeadroom) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  // 20e6 cycles at 2 GHz = 10 ms; budget 27.78 ms.
  BudgetCheck b = checkBudget(resultOf(20000000), chip);
  EXPECT_TRUE(b.passed);
  EXPECT_DOUBLE_EQ(b.frameMs, 10.0);
  EXPECT_NEAR(b.headroomMs, 17.78, 1e-9);
  std::string table = formatReport(resultOf(20000000), chip, {});
  EXPECT_TRUE(
      contains(table, "frame latency     20000000 cycles = 10.000000 ms"))
      << table;
  EXPECT_TRUE(contains(table, "27.78 ms (36 fps): PASS, 17.780000 ms (64.0%) "
                              "headroom left for the planner"))
      << table;
  EXPECT_TRUE(contains(table, "25.0% utilization over the frame, 50.0% while "
                              "busy"))
      << table;
  EXPECT_TRUE(contains(table, "read 123.46 MB, written 4.1 kB")) << table;
  EXPECT_TRUE(contains(table, "attention")) << table;
}

TEST(Report, BudgetOverrun) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  // 60e6 cycles = 30 ms: 2.22 ms over.
  BudgetCheck b = checkBudget(resultOf(60000000), chip);
  EXPECT_FALSE(b.passed);
  EXPECT_NEAR(b.headroomMs, -2.22, 1e-9);
  std::string table = formatReport(resultOf(60000000), chip, {});
  EXPECT_TRUE(contains(table, "FAIL, over budget by 2.220000 ms")) << table;
  nlohmann::json json =
      nlohmann::json::parse(reportJson(resultOf(60000000), chip, {}));
  EXPECT_EQ(json["budget"]["passed"], false);
  EXPECT_NEAR(json["budget"]["headroom_ms"].get<double>(), -2.22, 1e-9);
}

TEST(Report, JsonCarriesTheFiguresAndEscapes) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  ReportInfo info;
  info.modelName = "dir\\model \"v2\".onnx";
  AccuracyCheck acc;
  acc.tensor = "y";
  acc.maxAbsError = 0.001;
  acc.tolerance = 0.02;
  acc.passed = true;
  info.accuracy = {acc};
  std::string text = reportJson(resultOf(20000000), chip, info);
  // Parsed back by the library; strings with quotes and backslashes survive.
  nlohmann::json json = nlohmann::json::parse(text);
  EXPECT_EQ(json["model"], "dir\\model \"v2\".onnx");
  EXPECT_TRUE(contains(text, "\"model\": \"dir\\\\model \\\"v2\\\".onnx\""))
      << text;
  EXPECT_EQ(json["frame"]["cycles"], 20000000);
  EXPECT_EQ(json["frame"]["ms"], 10.0);
  EXPECT_EQ(json["dram"]["bytes_read"], 123456789);
  EXPECT_EQ(json["layers"][1]["name"], "mlp \"fc1\"");
  EXPECT_EQ(json["layers"][1]["share"], 0.75);
  EXPECT_EQ(json["accuracy_passed"], true);
  EXPECT_EQ(json["accuracy"][0]["tensor"], "y");
  // Every key of the schema (docs/simulator.md), in this order.
  std::vector<std::string> keys;
  for (auto it = json.begin(); it != json.end(); ++it)
    keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> expected = {
      "accuracy", "accuracy_passed", "budget", "chip",   "dma",
      "dram",     "energy",          "frame",  "layers", "matrix_unit",
      "model",    "program",         "sram",   "stalls", "vector_unit"};
  EXPECT_EQ(keys, expected);
  for (const char *k :
       {"name", "start_cycle", "end_cycle", "cycles", "ms", "share",
        "busy_cycles", "matrix_cycles", "vector_cycles", "dma_cycles",
        "dram_bytes_read", "dram_bytes_written", "macs", "instructions",
        "compute_queue", "energy"})
    EXPECT_TRUE(json["layers"][0].contains(k)) << k;
  std::string table = formatReport(resultOf(20000000), chip, info);
  EXPECT_TRUE(contains(table, "PASS")) << table;
}

TEST(Report, CostModelColumnAndRoofline) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  SimResult r = resultOf(20000000); // Layers: 5e6 and 15e6 cycles.
  ReportInfo info;
  CostEstimate ce;
  ce.layerCycles = {5500000, 14250000};
  ce.layerRooflineCycles = {2500000, 5500000};
  ce.frameCycles = 19750000;
  ce.rooflineComputeCycles = 4000000;
  ce.rooflineMemoryCycles = 8000000;
  ce.unavoidableDramBytes = 272000000;
  info.costModel = ce;
  std::string table = formatReport(r, chip, info);
  // 19.75e6 vs 20e6: -1.25%; the bound is the memory side, 20e6 / 8e6 = 2.5.
  EXPECT_TRUE(contains(table, "cost model        19750000 cycles (-1.2% vs "
                              "simulated"))
      << table;
  EXPECT_TRUE(contains(table, "roofline          8000000 cycles (DRAM bound: "
                              "compute at peak 4000000, 272.00 MB "
                              "unavoidable DRAM bytes at peak bandwidth "
                              "8000000); the frame takes 2.50x the bound"))
      << table;
  // Per layer: 5.5e6 vs 5e6 is +10%, 14.25e6 vs 15e6 is -5%.
  // Per layer: 5.5e6 vs 5e6 is +10%, 14.25e6 vs 15e6 is -5%; then each
  // layer's roofline bound, and the frame's (8e6, not the layers' sum).
  EXPECT_TRUE(contains(table, "     5500000    +10%     2500000")) << table;
  EXPECT_TRUE(contains(table, "    14250000     -5%     5500000")) << table;
  EXPECT_TRUE(contains(table, "    19750000     -1%     8000000")) << table;
  EXPECT_TRUE(contains(table, "(bound: the layer's roofline")) << table;
  nlohmann::json json = nlohmann::json::parse(reportJson(r, chip, info));
  EXPECT_EQ(json["cost_model"]["cycles"], 19750000);
  EXPECT_DOUBLE_EQ(json["cost_model"]["error"].get<double>(), -0.0125);
  EXPECT_EQ(json["cost_model"]["roofline"]["bound_cycles"], 8000000.0);
  EXPECT_EQ(json["cost_model"]["roofline"]["frame_over_bound"], 2.5);
  EXPECT_EQ(json["layers"][0]["cycles"], 5000000);
  EXPECT_EQ(json["layers"][0]["model_cycles"], 5500000);
  EXPECT_EQ(json["layers"][1]["roofline_cycles"], 5500000.0);
  // Without an estimate: no column, no lines, no keys.
  EXPECT_FALSE(contains(formatReport(r, chip, {}), "cost model"));
  EXPECT_FALSE(contains(reportJson(r, chip, {}), "model_cycles"));
  EXPECT_FALSE(contains(reportJson(r, chip, {}), "roofline_cycles"));
  EXPECT_FALSE(contains(formatReport(r, chip, {}), "bound"));
}

TEST(Report, FusionSection) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  SimResult r = resultOf(20000000); // Layers "attention" and "mlp \"fc1\"".
  ReportInfo info;
  info.pipeline = "fused";
  LayerFusion att;
  att.applied = {"attention"};
  att.headsFused = 3;
  att.heads = 4;
  att.roundTrips = 7;
  att.loads = 8;
  att.storeBytes = 1000;
  att.loadBytes = 1200;
  info.fusion = {att, LayerFusion()}; // The MLP row: no fusion.
  std::string table = formatReport(r, chip, info);
  EXPECT_TRUE(contains(table, "  pipeline          fused (docs/fusion.md)\n"))
      << table;
  EXPECT_TRUE(contains(table, "  fusion (against the unfused pipeline"))
      << table;
  // The fused row, the frame's totals, and the unfused layer as "none".
  EXPECT_TRUE(contains(table, "  attention  attention               3/4"
                              "            7       8          1000          "
                              "1200            2200\n"))
      << table;
  EXPECT_TRUE(contains(table, "  frame      1 of 2 layers fused     3/4"
                              "            7       8"))
      << table;
  EXPECT_TRUE(contains(table, "  (the other 1 layers: none)\n")) << table;
  nlohmann::json json = nlohmann::json::parse(reportJson(r, chip, info));
  EXPECT_EQ(json["pipeline"], "fused");
  EXPECT_EQ(json["fusion"]["fused_layers"], 1);
  EXPECT_EQ(json["fusion"]["attention_layers"], 1);
  EXPECT_EQ(json["fusion"]["heads_fused"], 3);
  EXPECT_EQ(json["fusion"]["heads"], 4);
  EXPECT_EQ(json["fusion"]["round_trips_removed"], 7);
  EXPECT_EQ(json["fusion"]["loads_removed"], 8);
  EXPECT_EQ(json["fusion"]["dram_bytes_removed"], 2200);
  EXPECT_EQ(json["layers"][0]["fusion"]["applied"][0], "attention");
  EXPECT_EQ(json["layers"][0]["fusion"]["store_bytes_removed"], 1000);
  EXPECT_EQ(json["layers"][0]["fusion"]["load_bytes_removed"], 1200);
  EXPECT_TRUE(json["layers"][1]["fusion"]["applied"].empty());
  EXPECT_EQ(json["layers"][1]["fusion"]["round_trips_removed"], 0);
  // A record per layer or none: a short list shows no section.
  info.fusion.pop_back();
  EXPECT_FALSE(contains(formatReport(r, chip, info), "fusion (against"));
  EXPECT_FALSE(contains(reportJson(r, chip, info), "round_trips_removed"));
}

TEST(Report, JsonNonFiniteIsNull) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  ReportInfo info;
  AccuracyCheck acc;
  acc.tensor = "y\n\x01";
  acc.maxAbsError = std::nan("");
  info.accuracy = {acc};
  nlohmann::json json =
      nlohmann::json::parse(reportJson(resultOf(20000000), chip, info));
  EXPECT_TRUE(json["accuracy"][0]["max_abs_error"].is_null());
  EXPECT_EQ(json["accuracy"][0]["tensor"], "y\n\x01");
}

} // namespace
