//===- Timing.h - Closed-form timing of every chip unit ----------*- C++
//-*-===//
//
// The formulas the SystemC modules time their work with, in one place so that
// tests and testbenches check the modules against them. Each is specified,
// with the config fields it reads and its source, in docs/timing-model.md.
// All results are core cycles.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_SIM_TIMING_H
#define TESSERA_SIM_TIMING_H

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Isa.h"
#include "tessera/arch/Program.h"

#include <cstdint>
#include <vector>

namespace tessera::sim::timing {

/// The state a detailed DRAM (dram_model = detailed) keeps between
/// accesses: the open row of every bank and the last direction of every
/// channel, and what the accesses met.
struct DramBankState {
  std::vector<int64_t> openRow; ///< channels x banks; -1: closed.
  std::vector<int8_t> lastDir;  ///< Per channel: -1 none, 0 read, 1 write.
  uint64_t rowHits = 0, rowMisses = 0, turnarounds = 0;
  void reset(const arch::ChipConfig &chip);
};

/// One access on a detailed DRAM: its burst-aligned bus bytes and the
/// cycles its data occupies the interface (the slowest channel).
struct DramDetail {
  uint64_t busBytes = 0, dataCycles = 0;
  uint64_t rowHits = 0, rowMisses = 0, turnarounds = 0;
};

/// docs/timing-model.md, "DRAM (detailed)": every dram_burst_bytes-aligned
/// burst the access touches maps to channel = burst mod channels, then
/// column, bank and row (row:bank:column:channel interleaving); a channel's
/// time is its bursts' data time plus tRCD per activation of a closed bank,
/// tRP + tRCD per row conflict and tWTR / tRTW per change of direction;
/// channels run in parallel. Updates `state`.
DramDetail detailedDramAccess(const arch::ChipConfig &chip,
                              DramBankState &state, bool write, uint64_t addr,
                              uint64_t rows, uint64_t rowBytes,
                              uint64_t strideBytes);

/// A nanosecond timing parameter in whole core cycles (rounded up).
uint64_t nsToCycles(const arch::ChipConfig &chip, double ns);

/// Bytes on the DRAM bus for `rows` rows of `rowBytes` bytes `strideBytes`
/// apart: a contiguous block (one row, or stride == rowBytes) is rounded up
/// to whole dram_burst_bytes once; strided rows are each rounded up.
uint64_t dramBusBytes(const arch::ChipConfig &chip, uint64_t rows,
                      uint64_t rowBytes, uint64_t strideBytes);

/// Cycles the DRAM data bus is busy moving `busBytes`:
/// ceil(busBytes / dramBytesPerCycle()).
uint64_t dramDataCycles(const arch::ChipConfig &chip, uint64_t busBytes);

/// An uncontended DRAM access: dramLatencyCycles() + dramDataCycles().
uint64_t dramAccessCycles(const arch::ChipConfig &chip, uint64_t rows,
                          uint64_t rowBytes, uint64_t strideBytes);

/// An SRAM access of `bytes`: sram_access_cycles +
/// ceil(bytes / sramBytesPerCycle()) (the banks are interleaved every
/// sram_bank_width_bytes, so a stream uses all of them each cycle).
uint64_t sramAccessCycles(const arch::ChipConfig &chip, uint64_t bytes);

/// The SRAM bank of byte address `addr`:
/// floor(addr / sram_bank_width_bytes) mod sram_banks.
uint64_t sramBank(const arch::ChipConfig &chip, uint64_t addr);

/// Beats an access of `rows` rows of `rowBytes` bytes, `strideBytes` apart
/// from `addr`, sends to each bank (one entry per bank): a beat is one
/// sram_bank_width_bytes-aligned block a row touches.
std::vector<uint64_t> sramBankBeats(const arch::ChipConfig &chip, uint64_t addr,
                                    uint64_t rows, uint64_t rowBytes,
                                    uint64_t strideBytes);

/// Marks (sets to 1) in `banks` (sram_banks entries) every bank the access
/// touches.
void markSramBanks(const arch::ChipConfig &chip, uint64_t addr, uint64_t rows,
                   uint64_t rowBytes, uint64_t strideBytes,
                   std::vector<uint8_t> &banks);

/// A DMA transfer's bank conflicts with the compute instruction in flight.
struct SramConflict {
  uint64_t beats = 0;  ///< Sum over the shared banks of the DMA's beats.
  uint64_t cycles = 0; ///< Max over the shared banks of the DMA's beats.
};

/// Conflicts of a DMA transfer's SRAM side (addr, rows, rowBytes, stride)
/// with the banks `held` (1 = touched by the compute instruction in flight):
/// none when sram_ports_per_bank >= 2; otherwise each DMA beat to a shared
/// bank waits one cycle for the unit, and the banks wait in parallel.
SramConflict sramConflict(const arch::ChipConfig &chip, uint64_t addr,
                          uint64_t rows, uint64_t rowBytes,
                          uint64_t strideBytes,
                          const std::vector<uint8_t> &held);

/// An uncontended DMA transfer (dma.load or dma.store): the slower of its
/// DRAM side and its SRAM side.
uint64_t dmaCycles(const arch::ChipConfig &chip, const arch::Instr &in);

/// Bus bytes of a gather of `rows` table rows of `rowBytes` bytes: the rows
/// are at data-dependent addresses, so each is its own bursts,
/// rows * roundup(rowBytes, dram_burst_bytes), whatever the indices.
uint64_t gatherBusBytes(const arch::ChipConfig &chip, uint64_t rows,
                        uint64_t rowBytes);

/// An uncontended dma.gather: the index read from SRAM, then the slower of
/// the DRAM side (every row its own bursts) and the SRAM side:
/// sram_cycles(4 rows) + max(L + ceil(gather_bus_bytes / B),
/// sram_cycles(rows * rowBytes)).
uint64_t gatherCycles(const arch::ChipConfig &chip, const arch::Instr &in);

/// Folds of an M x K x N matmul on the R x C array: weight-stationary
/// ceil(K / R) * ceil(N / C), output-stationary ceil(M / R) * ceil(N / C).
uint64_t matmulFolds(const arch::ChipConfig &chip, uint64_t m, uint64_t k,
                     uint64_t n);

/// Streamed rows of one fold, T: M*d (weight-stationary) or K*d
/// (output-stationary), d = matrix_fp16_rate_divisor for F16 inputs, else 1.
uint64_t matmulStreamCycles(const arch::ChipConfig &chip, uint64_t m,
                            uint64_t k, arch::DType inputType);

/// Cycles of one fold on its own (SCALE-Sim v2): weight-stationary
/// 2R + C + T - 2, output-stationary R + C + T - 2.
uint64_t matmulFoldCycles(const arch::ChipConfig &chip, uint64_t m, uint64_t k,
                          arch::DType inputType);

/// Cycles one fold hides under the previous one when scale_sim_compatible is
/// false: min(R, T) (the next weights preload, or the previous outputs
/// drain, while a fold streams); 0 in SCALE-Sim compatible mode.
uint64_t matmulFoldOverlap(const arch::ChipConfig &chip, uint64_t m, uint64_t k,
                           arch::DType inputType);

/// A whole matmul: folds * fold_cycles - (folds - 1) * overlap.
uint64_t matmulCycles(const arch::ChipConfig &chip, uint64_t m, uint64_t k,
                      uint64_t n, arch::DType inputType);

/// Passes over the data a vector opcode makes (a config field per class).
uint64_t vectorPasses(const arch::ChipConfig &chip, arch::Opcode op);

/// A vector instruction over rows x cols elements:
/// vector_startup_cycles + passes(op) * ceil(rows * cols / vector_lanes).
uint64_t vectorCycles(const arch::ChipConfig &chip, arch::Opcode op,
                      uint64_t rows, uint64_t cols);

/// Any instruction on an otherwise idle chip (no DRAM contention).
uint64_t instrCycles(const arch::ChipConfig &chip, const arch::Instr &in);

/// Throws arch::ContractError when a field the formulas divide by is zero
/// (a config built in memory rather than parsed).
void checkChip(const arch::ChipConfig &chip);

/// Largest frame the simulator times: 2^40 cycles (about 9 minutes at
/// 2 GHz; a frame's budget is milliseconds). Every timing figure of a frame
/// is at most this, so no sum, product or conversion to SystemC time can
/// saturate or wrap (docs/limits-and-errors.md).
constexpr uint64_t kMaxFrameCycles = 1ull << 40;

/// An upper bound of the frame's cycles, every instruction one after the
/// other on an idle chip, computed in floating point from the formulas'
/// inputs (so it cannot wrap). Throws arch::ContractError naming the first
/// instruction at which the bound passes kMaxFrameCycles, and the config
/// fields that make it so long.
uint64_t frameCycleBound(const arch::ChipConfig &chip,
                         const arch::Program &prog);

} // namespace tessera::sim::timing

#endif // TESSERA_SIM_TIMING_H
