//===- dataflow-table.cpp - GEMM cycles per dataflow: simulator vs formula ===//
//
//   dataflow-table
//
// Prints the table of docs/dataflows.md: for GEMM shapes x array sizes x
// dataflows x modes, the cycles the simulator gives a one-matmul program
// (timing-only simulateFrame, INT8 and FP16) next to the closed form of
// docs/timing-model.md computed here on its own. The last column says
// whether they are equal; the tool exits 1 if any row differs.
//
//===----------------------------------------------------------------------===//

#include "tessera/Sim/Simulator.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Program.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

using namespace tessera;

namespace {

uint64_t ceilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/// docs/timing-model.md, "Matrix unit".
uint64_t closedForm(const arch::ChipConfig &c, uint64_t m, uint64_t k,
                    uint64_t n, arch::DType t) {
  uint64_t r = c.matrix_rows, cols = c.matrix_cols;
  uint64_t d = t == arch::DType::F16 ? c.matrix_fp16_rate_divisor : 1;
  bool ws = !c.outputStationary();
  uint64_t folds = ceilDiv(ws ? k : m, r) * ceilDiv(n, cols);
  uint64_t streamed = (ws ? m : k) * d;
  uint64_t fold = (ws ? 2 * r : r) + cols + streamed - 2;
  uint64_t hidden = c.scale_sim_compatible ? 0 : std::min(r, streamed);
  return folds * fold - (folds - 1) * hidden;
}

/// A program of one m x k x n matmul on operands already in SRAM.
arch::Program oneMatmul(uint32_t m, uint32_t k, uint32_t n, arch::DType t) {
  arch::Program p;
  p.chipName = "table";
  p.layers = {"gemm"};
  unsigned eb = arch::dtypeBytes(t);
  arch::Instr in;
  in.op = arch::Opcode::MatMul;
  in.dtype = t;
  in.outDtype = arch::DType::F32;
  in.dims[0] = m;
  in.dims[1] = k;
  in.dims[2] = n;
  in.addr[0] = 0;
  in.addr[1] = uint64_t(m) * k * eb;
  in.addr[2] = in.addr[1] + uint64_t(k) * n * eb;
  in.strides[0] = k;
  in.strides[1] = n;
  in.strides[2] = n;
  p.sramBytesUsed = in.addr[2] + uint64_t(m) * n * 4;
  p.instrs.push_back(in);
  return p;
}

} // namespace

int main() {
  struct Shape {
    uint32_t m, k, n;
    const char *note;
  };
  const Shape shapes[] = {
      {1, 1, 1, "one element"},    {96, 96, 96, "one tile"},
      {1, 768, 768, "M = 1"},      {97, 97, 97, "ragged"},
      {128, 768, 96, "K > array"}, {1024, 768, 768, "projection"},
      {1024, 768, 3072, "MLP up"}, {1024, 64, 1024, "attention QK^T"},
  };
  const uint32_t arrays[][2] = {{32, 32}, {96, 96}, {128, 128}};
  bool allEqual = true;
  std::printf("| M x K x N | case | array | dataflow | mode | INT8 sim | "
              "INT8 formula | FP16 sim | FP16 formula | equal |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Shape &s : shapes)
    for (const auto &a : arrays)
      for (const char *flow : {"weight_stationary", "output_stationary"})
        for (bool compatible : {true, false}) {
          arch::ChipConfig chip = arch::ChipConfig::reference();
          chip.matrix_rows = a[0];
          chip.matrix_cols = a[1];
          chip.matrix_dataflow = flow;
          chip.scale_sim_compatible = compatible;
          chip.matrix_accumulator_rows = 4096;
          uint64_t sim[2], formula[2];
          int i = 0;
          for (arch::DType t : {arch::DType::I8, arch::DType::F16}) {
            arch::Program p = oneMatmul(s.m, s.k, s.n, t);
            chip.sram_bytes =
                std::max<uint64_t>(chip.sram_bytes, p.sramBytesUsed);
            sim::SimOptions o;
            o.functional = false;
            sim[i] = sim::simulateFrame(p, chip, {}, o).totalCycles;
            formula[i] = closedForm(chip, s.m, s.k, s.n, t);
            ++i;
          }
          bool equal = sim[0] == formula[0] && sim[1] == formula[1];
          allEqual = allEqual && equal;
          std::printf(
              "| %u x %u x %u | %s | %ux%u | %s | %s | %llu | %llu | "
              "%llu | %llu | %s |\n",
              s.m, s.k, s.n, s.note, a[0], a[1], flow[0] == 'w' ? "WS" : "OS",
              compatible ? "SCALE-Sim" : "preload", (unsigned long long)sim[0],
              (unsigned long long)formula[0], (unsigned long long)sim[1],
              (unsigned long long)formula[1], equal ? "yes" : "NO");
        }
  return allEqual ? 0 : 1;
}
