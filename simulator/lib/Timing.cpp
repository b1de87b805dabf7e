//===- Timing.cpp - Closed-form timing of every chip unit -----------------===//
//
// docs/timing-model.md states each formula, the config fields it reads and
// where it comes from.
//
//===----------------------------------------------------------------------===//

#include "tessera/Sim/Timing.h"
#include "tessera/arch/Error.h"

#include <algorithm>
#include <cmath>

using namespace tessera;
using namespace tessera::sim;

namespace {

uint64_t ceilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

uint64_t roundUp(uint64_t a, uint64_t b) { return ceilDiv(a, b) * b; }

} // namespace

uint64_t timing::dramBusBytes(const arch::ChipConfig &chip, uint64_t rows,
                              uint64_t rowBytes, uint64_t strideBytes) {
  uint64_t burst = chip.dram_burst_bytes;
  if (rows <= 1 || strideBytes == rowBytes)
    return roundUp(rows * rowBytes, burst);
  return rows * roundUp(rowBytes, burst);
}

uint64_t timing::dramDataCycles(const arch::ChipConfig &chip,
                                uint64_t busBytes) {
  // The small epsilon keeps an exact quotient (4096 / 32.0) from rounding up
  // through floating-point noise, as ChipConfig::dramLatencyCycles does.
  return uint64_t(
      std::ceil(double(busBytes) / chip.dramBytesPerCycle() - 1e-9));
}

uint64_t timing::dramAccessCycles(const arch::ChipConfig &chip, uint64_t rows,
                                  uint64_t rowBytes, uint64_t strideBytes) {
  return chip.dramLatencyCycles() +
         dramDataCycles(chip, dramBusBytes(chip, rows, rowBytes, strideBytes));
}

uint64_t timing::sramAccessCycles(const arch::ChipConfig &chip,
                                  uint64_t bytes) {
  return chip.sram_access_cycles + ceilDiv(bytes, chip.sramBytesPerCycle());
}

uint64_t timing::dmaCycles(const arch::ChipConfig &chip,
                           const arch::Instr &in) {
  uint64_t rows = in.dims[0], rowBytes = in.dims[1];
  uint64_t dram = dramAccessCycles(chip, rows, rowBytes, in.strides[0]);
  uint64_t sram = sramAccessCycles(chip, rows * rowBytes);
  return std::max(dram, sram);
}

uint64_t timing::matmulFolds(const arch::ChipConfig &chip, uint64_t m,
                             uint64_t k, uint64_t n) {
  uint64_t pinned = chip.outputStationary() ? m : k;
  return ceilDiv(pinned, chip.matrix_rows) * ceilDiv(n, chip.matrix_cols);
}

uint64_t timing::matmulStreamCycles(const arch::ChipConfig &chip, uint64_t m,
                                    uint64_t k, arch::DType inputType) {
  uint64_t d =
      inputType == arch::DType::F16 ? chip.matrix_fp16_rate_divisor : 1;
  return (chip.outputStationary() ? k : m) * d;
}

uint64_t timing::matmulFoldCycles(const arch::ChipConfig &chip, uint64_t m,
                                  uint64_t k, arch::DType inputType) {
  uint64_t r = chip.matrix_rows, c = chip.matrix_cols;
  uint64_t t = matmulStreamCycles(chip, m, k, inputType);
  return (chip.outputStationary() ? r : 2 * r) + c + t - 2;
}

uint64_t timing::matmulFoldOverlap(const arch::ChipConfig &chip, uint64_t m,
                                   uint64_t k, arch::DType inputType) {
  if (chip.scale_sim_compatible)
    return 0;
  return std::min<uint64_t>(chip.matrix_rows,
                            matmulStreamCycles(chip, m, k, inputType));
}

uint64_t timing::matmulCycles(const arch::ChipConfig &chip, uint64_t m,
                              uint64_t k, uint64_t n, arch::DType inputType) {
  uint64_t folds = matmulFolds(chip, m, k, n);
  if (folds == 0)
    return 0;
  return folds * matmulFoldCycles(chip, m, k, inputType) -
         (folds - 1) * matmulFoldOverlap(chip, m, k, inputType);
}

uint64_t timing::vectorPasses(const arch::ChipConfig &chip, arch::Opcode op) {
  switch (op) {
  case arch::Opcode::VecLayerNorm:
    return chip.vector_layernorm_passes;
  case arch::Opcode::VecSoftmax:
    return chip.vector_softmax_passes;
  case arch::Opcode::VecGelu:
    return chip.vector_gelu_passes;
  case arch::Opcode::VecTranspose:
    return chip.vector_transpose_passes;
  case arch::Opcode::VecAdd:
  case arch::Opcode::VecSub:
  case arch::Opcode::VecMul:
  case arch::Opcode::VecDiv:
  case arch::Opcode::VecScale:
  case arch::Opcode::VecErf:
  case arch::Opcode::VecCopy:
    return chip.vector_elementwise_passes;
  case arch::Opcode::DmaLoad:
  case arch::Opcode::DmaStore:
  case arch::Opcode::MatMul:
    break;
  }
  return 0;
}

uint64_t timing::vectorCycles(const arch::ChipConfig &chip, arch::Opcode op,
                              uint64_t rows, uint64_t cols) {
  return chip.vector_startup_cycles +
         vectorPasses(chip, op) * ceilDiv(rows * cols, chip.vector_lanes);
}

uint64_t timing::instrCycles(const arch::ChipConfig &chip,
                             const arch::Instr &in) {
  switch (in.op) {
  case arch::Opcode::DmaLoad:
  case arch::Opcode::DmaStore:
    return dmaCycles(chip, in);
  case arch::Opcode::MatMul:
    return matmulCycles(chip, in.dims[0], in.dims[1], in.dims[2], in.dtype);
  default:
    return vectorCycles(chip, in.op, in.dims[0], in.dims[1]);
  }
}

void timing::checkChip(const arch::ChipConfig &chip) {
  auto positive = [&](const char *field, double v) {
    if (!(v > 0))
      throw arch::ContractError("chip config '" + chip.name + "': field '" +
                                field + "' must be positive");
  };
  positive("clock_ghz", chip.clock_ghz);
  positive("matrix_rows", chip.matrix_rows);
  positive("matrix_cols", chip.matrix_cols);
  positive("matrix_fp16_rate_divisor", chip.matrix_fp16_rate_divisor);
  positive("vector_lanes", chip.vector_lanes);
  positive("sram_bytes", double(chip.sram_bytes));
  positive("sram_banks", chip.sram_banks);
  positive("sram_bank_width_bytes", chip.sram_bank_width_bytes);
  positive("dram_bandwidth_gbps", chip.dram_bandwidth_gbps);
  positive("dram_burst_bytes", chip.dram_burst_bytes);
  positive("frame_budget_ms", chip.frame_budget_ms);
  positive("matrix_accumulator_rows", chip.matrix_accumulator_rows);
  positive("dma_outstanding_transfers", chip.dma_outstanding_transfers);
  if (chip.matrix_dataflow != "weight_stationary" &&
      chip.matrix_dataflow != "output_stationary")
    throw arch::ContractError("chip config '" + chip.name +
                              "': field 'matrix_dataflow' expects "
                              "weight_stationary or output_stationary, got '" +
                              chip.matrix_dataflow + "'");
  if (!(chip.dram_latency_ns >= 0))
    throw arch::ContractError("chip config '" + chip.name +
                              "': field 'dram_latency_ns' must not be "
                              "negative");
}
