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

uint64_t timing::nsToCycles(const arch::ChipConfig &chip, double ns) {
  return uint64_t(std::ceil(ns * chip.clock_ghz - 1e-9));
}

void timing::DramBankState::reset(const arch::ChipConfig &chip) {
  openRow.assign(size_t(chip.dram_channels) * chip.dram_banks, -1);
  lastDir.assign(chip.dram_channels, -1);
  rowHits = rowMisses = turnarounds = 0;
}

timing::DramDetail timing::detailedDramAccess(const arch::ChipConfig &chip,
                                              DramBankState &state, bool write,
                                              uint64_t addr, uint64_t rows,
                                              uint64_t rowBytes,
                                              uint64_t strideBytes) {
  const uint64_t burst = chip.dram_burst_bytes, channels = chip.dram_channels;
  const uint64_t burstsPerRow =
      std::max<uint64_t>(1, chip.dram_row_bytes / burst);
  const uint64_t trcd = nsToCycles(chip, chip.dram_trcd_ns),
                 trp = nsToCycles(chip, chip.dram_trp_ns),
                 turn = nsToCycles(chip, write ? chip.dram_trtw_ns
                                               : chip.dram_twtr_ns);
  // A burst on one channel: burst bytes at the channel's share of the peak.
  const double burstCycles =
      double(burst) / (chip.dramBytesPerCycle() / double(channels));
  std::vector<uint64_t> bursts(channels, 0), penalty(channels, 0);
  DramDetail d;
  const int8_t dir = write ? 1 : 0;
  int64_t last = -1;
  for (uint64_t r = 0; r < rows && rowBytes; ++r) {
    uint64_t begin = addr + r * strideBytes, end = begin + rowBytes;
    for (uint64_t b = begin / burst; b <= (end - 1) / burst; ++b) {
      if (int64_t(b) == last)
        continue; // shared with the previous row
      last = int64_t(b);
      uint64_t ch = b % channels, inChannel = b / channels;
      uint64_t rowGlobal = inChannel / burstsPerRow;
      uint64_t bank = rowGlobal % chip.dram_banks;
      int64_t row = int64_t(rowGlobal / chip.dram_banks);
      int64_t &open = state.openRow[ch * chip.dram_banks + bank];
      if (open == row) {
        ++d.rowHits;
      } else {
        ++d.rowMisses;
        penalty[ch] += (open >= 0 ? trp : 0) + trcd;
        open = row;
      }
      if (state.lastDir[ch] >= 0 && state.lastDir[ch] != dir) {
        ++d.turnarounds;
        penalty[ch] += turn;
      }
      state.lastDir[ch] = dir;
      ++bursts[ch];
      d.busBytes += burst;
    }
  }
  double slowest = 0;
  for (uint64_t ch = 0; ch < channels; ++ch)
    slowest = std::max(slowest,
                       double(bursts[ch]) * burstCycles + double(penalty[ch]));
  d.dataCycles = uint64_t(std::ceil(slowest - 1e-9));
  state.rowHits += d.rowHits;
  state.rowMisses += d.rowMisses;
  state.turnarounds += d.turnarounds;
  return d;
}

uint64_t timing::sramAccessCycles(const arch::ChipConfig &chip,
                                  uint64_t bytes) {
  return chip.sram_access_cycles + ceilDiv(bytes, chip.sramBytesPerCycle());
}

uint64_t timing::sramBank(const arch::ChipConfig &chip, uint64_t addr) {
  return addr / chip.sram_bank_width_bytes % chip.sram_banks;
}

std::vector<uint64_t> timing::sramBankBeats(const arch::ChipConfig &chip,
                                            uint64_t addr, uint64_t rows,
                                            uint64_t rowBytes,
                                            uint64_t strideBytes) {
  uint64_t banks = chip.sram_banks, w = chip.sram_bank_width_bytes;
  // Every bank gets `full` beats per complete turn of the row's beats; the
  // rest is a circular run of banks, added through a difference array.
  std::vector<int64_t> diff(banks + 1, 0);
  uint64_t full = 0;
  for (uint64_t r = 0; r < rows && rowBytes; ++r) {
    uint64_t begin = addr + r * strideBytes;
    uint64_t first = begin / w, last = (begin + rowBytes - 1) / w;
    uint64_t n = last - first + 1;
    full += n / banks;
    uint64_t rest = n % banks, b0 = first % banks;
    if (!rest)
      continue;
    uint64_t e = b0 + rest;
    ++diff[b0];
    if (e <= banks) {
      --diff[e];
    } else {
      --diff[banks];
      ++diff[0];
      --diff[e - banks];
    }
  }
  std::vector<uint64_t> beats(banks);
  int64_t run = 0;
  for (uint64_t b = 0; b < banks; ++b) {
    run += diff[b];
    beats[b] = full + uint64_t(run);
  }
  return beats;
}

void timing::markSramBanks(const arch::ChipConfig &chip, uint64_t addr,
                           uint64_t rows, uint64_t rowBytes,
                           uint64_t strideBytes, std::vector<uint8_t> &banks) {
  uint64_t n = chip.sram_banks, w = chip.sram_bank_width_bytes;
  uint64_t marked = 0;
  for (uint8_t b : banks)
    marked += b;
  for (uint64_t r = 0; r < rows && rowBytes && marked < n; ++r) {
    uint64_t begin = addr + r * strideBytes;
    uint64_t first = begin / w, last = (begin + rowBytes - 1) / w;
    for (uint64_t beat = first; beat <= last && beat < first + n; ++beat) {
      uint8_t &b = banks[beat % n];
      marked += !b;
      b = 1;
    }
  }
}

timing::SramConflict timing::sramConflict(const arch::ChipConfig &chip,
                                          uint64_t addr, uint64_t rows,
                                          uint64_t rowBytes,
                                          uint64_t strideBytes,
                                          const std::vector<uint8_t> &held) {
  SramConflict c;
  if (chip.sram_ports_per_bank >= 2)
    return c;
  std::vector<uint64_t> beats =
      sramBankBeats(chip, addr, rows, rowBytes, strideBytes);
  for (size_t b = 0; b < beats.size() && b < held.size(); ++b)
    if (held[b]) {
      c.beats += beats[b];
      c.cycles = std::max(c.cycles, beats[b]);
    }
  return c;
}

uint64_t timing::dmaCycles(const arch::ChipConfig &chip,
                           const arch::Instr &in) {
  uint64_t rows = in.dims[0], rowBytes = in.dims[1];
  uint64_t dram = dramAccessCycles(chip, rows, rowBytes, in.strides[0]);
  uint64_t sram = sramAccessCycles(chip, rows * rowBytes);
  return std::max(dram, sram);
}

uint64_t timing::gatherBusBytes(const arch::ChipConfig &chip, uint64_t rows,
                                uint64_t rowBytes) {
  return rows * roundUp(rowBytes, chip.dram_burst_bytes);
}

uint64_t timing::gatherCycles(const arch::ChipConfig &chip,
                              const arch::Instr &in) {
  uint64_t rows = in.dims[0], rowBytes = in.dims[1];
  uint64_t dram = chip.dramLatencyCycles() +
                  dramDataCycles(chip, gatherBusBytes(chip, rows, rowBytes));
  uint64_t sram = sramAccessCycles(chip, rows * rowBytes);
  return sramAccessCycles(chip, 4 * rows) + std::max(dram, sram);
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
  case arch::Opcode::VecGeluTanh:
  case arch::Opcode::VecSigmoid:
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
  case arch::Opcode::VecSqrt:
  case arch::Opcode::VecTanh:
  case arch::Opcode::VecPow:
  case arch::Opcode::VecReduceSum:
  case arch::Opcode::VecReduceMax:
  case arch::Opcode::VecMax:
  case arch::Opcode::VecMaxImm:
  case arch::Opcode::VecMinImm:
  case arch::Opcode::VecAddImm:
  case arch::Opcode::VecHardSwish:
  case arch::Opcode::VecFill:
  case arch::Opcode::VecGather:
  case arch::Opcode::VecEqImm:
  case arch::Opcode::VecSelect:
  case arch::Opcode::VecExp:
    return chip.vector_elementwise_passes;
  case arch::Opcode::DmaLoad:
  case arch::Opcode::DmaStore:
  case arch::Opcode::MatMul:
  case arch::Opcode::DmaGather:
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
  case arch::Opcode::DmaGather:
    return gatherCycles(chip, in);
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
  positive("sram_ports_per_bank", chip.sram_ports_per_bank);
  positive("dram_bandwidth_gbps", chip.dram_bandwidth_gbps);
  positive("dram_burst_bytes", chip.dram_burst_bytes);
  positive("frame_budget_ms", chip.frame_budget_ms);
  positive("matrix_accumulator_rows", chip.matrix_accumulator_rows);
  positive("dma_outstanding_transfers", chip.dma_outstanding_transfers);
  positive("npus", chip.npus);
  if (chip.npus > arch::Program::kMaxNpus)
    throw arch::ContractError("chip config '" + chip.name +
                              "': field 'npus' must be at most " +
                              std::to_string(arch::Program::kMaxNpus));
  positive("dram_channels", chip.dram_channels);
  positive("dram_banks", chip.dram_banks);
  positive("dram_row_bytes", chip.dram_row_bytes);
  if (chip.dram_model != "simple" && chip.dram_model != "detailed")
    throw arch::ContractError("chip config '" + chip.name +
                              "': field 'dram_model' expects simple or "
                              "detailed, got '" +
                              chip.dram_model + "'");
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

uint64_t timing::frameCycleBound(const arch::ChipConfig &chip,
                                 const arch::Program &prog) {
  // The same formulas as instrCycles, in long double: a figure past 2^64
  // stays a (large) number instead of wrapping or saturating.
  using LD = long double;
  auto ceilDivL = [](LD a, LD b) { return std::ceil(a / b - 1e-9L); };
  LD latency = std::ceil(LD(chip.dram_latency_ns) * chip.clock_ghz - 1e-9L);
  LD bytesPerCycle = LD(chip.dram_bandwidth_gbps) / chip.clock_ghz;
  LD total = 0;
  for (size_t i = 0; i < prog.instrs.size(); ++i) {
    const arch::Instr &in = prog.instrs[i];
    LD cycles = 0;
    switch (in.op) {
    case arch::Opcode::DmaLoad:
    case arch::Opcode::DmaStore: {
      LD rows = in.dims[0], rowBytes = in.dims[1];
      LD burst = chip.dram_burst_bytes;
      LD bus = rows * std::ceil(rowBytes / burst) * burst;
      LD dram = latency + ceilDivL(bus, bytesPerCycle);
      if (chip.detailedDram()) {
        // Every burst (a row can touch one more than its bytes fill) on one
        // channel at that channel's share of the bandwidth, each a row miss
        // after a turnaround: the most detailedDramAccess can charge.
        LD bursts = rows * (std::ceil(rowBytes / burst) + 1);
        LD perBurst =
            burst * chip.dram_channels / bytesPerCycle +
            std::ceil(LD(chip.dram_trcd_ns) * chip.clock_ghz) +
            std::ceil(LD(chip.dram_trp_ns) * chip.clock_ghz) +
            std::ceil(LD(std::max(chip.dram_twtr_ns, chip.dram_trtw_ns)) *
                      chip.clock_ghz);
        dram = latency + std::ceil(bursts * perBurst);
      }
      LD sram = chip.sram_access_cycles +
                ceilDivL(rows * rowBytes, LD(chip.sramBytesPerCycle()));
      cycles = std::max(dram, sram);
      break;
    }
    default:
      // Integer formulas of u32 fields and dimensions whose operands fit
      // the SRAM (Program::verify): they cannot wrap.
      cycles = LD(instrCycles(chip, in));
    }
    // SRAM bank conflicts (one port per bank): a DMA access waits at most
    // one beat per bank beat it makes (sramConflict: the most beats it has
    // in one held bank), at most rows x (ceil(rowBytes / w) + 1).
    if (chip.sram_ports_per_bank < 2) {
      LD w = chip.sram_bank_width_bytes;
      LD rows = in.dims[0], rowBytes = in.dims[1];
      if (in.op == arch::Opcode::DmaLoad || in.op == arch::Opcode::DmaStore)
        cycles += rows * (std::ceil(rowBytes / w) + 1);
      else if (in.op == arch::Opcode::DmaGather)
        cycles +=
            rows * (std::ceil(rowBytes / w) + 1) + std::ceil(4 * rows / w) + 1;
    }
    // A dependency on another NPU's instruction waits its token's trip.
    if (prog.npus > 1)
      cycles += chip.npu_sync_cycles;
    total += cycles;
    if (!(total <= LD(kMaxFrameCycles)))
      throw arch::ContractError(
          "chip config '" + chip.name + "': instruction " + std::to_string(i) +
          " (" + arch::opcodeName(in.op) + ") takes the frame past " +
          std::to_string(kMaxFrameCycles) +
          " cycles, the most the simulator times (clock_ghz " +
          std::to_string(chip.clock_ghz) + ", dram_bandwidth_gbps " +
          std::to_string(chip.dram_bandwidth_gbps) + ", dram_latency_ns " +
          std::to_string(chip.dram_latency_ns) +
          "; docs/limits-and-errors.md)");
  }
  return uint64_t(total);
}
