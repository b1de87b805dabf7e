//===- Simulator.h - Simulate one frame of a program on the chip -*- C++
//-*-===//
//
// The entry point of the SystemC chip model: runs one frame of a compiled
// program on a chip config, functionally (real numbers) and with timing, and
// returns the cycle count, the per-layer breakdown, the traffic and the output
// tensors. docs/simulator.md describes the model, docs/timing-model.md every
// timing formula.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_SIM_SIMULATOR_H
#define TESSERA_SIM_SIMULATOR_H

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Program.h"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tessera::sim {

/// A frame that could not be simulated: bad inputs (a missing or wrongly
/// sized input tensor, an unknown input name) or a simulation error (an
/// access outside the SRAM), naming the tensor or the instruction, the unit
/// and the simulated cycle.
class SimError : public std::runtime_error {
public:
  explicit SimError(const std::string &message) : std::runtime_error(message) {}
};

struct SimOptions {
  /// Compute the values (true) or only the timing (false). Both modes give
  /// identical cycle counts; timing-only leaves SimResult::outputs empty and
  /// does not need the inputs.
  bool functional = true;
  /// When set, write a Chrome/Perfetto JSON timeline trace to this file.
  std::string tracePath;
};

/// Where the cycles of one unit or queue went (docs/simulator.md, "Stall
/// attribution"): every cycle of the frame falls in exactly one class, so
/// busy + depWait + dramWait + idle is the frame latency (or, per layer, the
/// layer's attributed cycles).
struct StallBreakdown {
  uint64_t busy = 0;     ///< Running an instruction (DMA: moving data).
  uint64_t depWait = 0;  ///< Waiting for a compute instruction's result.
  uint64_t dramWait = 0; ///< Waiting on DRAM: a transfer's latency, the
                         ///< bus, or a result of a DMA instruction.
  uint64_t idle = 0;     ///< Nothing to do (queue empty, other unit busy).
  /// The instruction whose completion the most dependency-wait cycles
  /// waited for (-1 if none) and those cycles.
  int64_t topBlocker = -1;
  uint64_t topBlockerCycles = 0;
  uint64_t total() const { return busy + depWait + dramWait + idle; }
};

/// Energy in picojoules by source (docs/chip-config.md, "Energy").
struct EnergyBreakdown {
  double macPj = 0;    ///< MACs x energy_mac_<precision>_pj.
  double vectorPj = 0; ///< Element-passes x energy_vector_op_pj.
  double sramPj = 0;   ///< SRAM bytes read + written x pJ/byte.
  double dramPj = 0;   ///< DRAM bus bytes x pJ/byte.
  double staticPj = 0; ///< static_power_w x the cycles' time.
  double dynamicPj() const { return macPj + vectorPj + sramPj + dramPj; }
  double totalPj() const { return dynamicPj() + staticPj; }
};

/// Time and traffic attributed to one layer of the program (the `layer`
/// field of its instructions).
struct LayerStats {
  std::string name;
  uint64_t startCycle = 0; ///< First instruction of the layer started.
  uint64_t endCycle = 0;   ///< Last instruction of the layer completed.
  /// Cycles by which this layer moved the end of the frame: endCycle minus
  /// the latest endCycle of the layers before it (0 if that is later). The
  /// attributed cycles of all layers sum to SimResult::totalCycles.
  uint64_t attributedCycles = 0;
  uint64_t busyCycles = 0;   ///< Matrix + vector unit cycles of its instrs.
  uint64_t matrixCycles = 0; ///< Matrix unit cycles.
  uint64_t vectorCycles = 0; ///< Vector unit cycles.
  uint64_t dmaCycles = 0;    ///< Load + store DMA cycles.
  uint64_t dramBytesRead = 0;
  uint64_t dramBytesWritten = 0;
  uint64_t macs = 0;
  uint64_t instructions = 0;
  /// The compute queue's cycles inside the layer's attributed window
  /// (matrix busy + vector busy + waits + idle = attributedCycles).
  uint64_t windowMatrixBusy = 0, windowVectorBusy = 0;
  uint64_t windowDepWait = 0, windowDramWait = 0, windowIdle = 0;
  /// Energy of the layer's instructions, plus static power over its
  /// attributed cycles; the layers' energies sum to the frame's.
  EnergyBreakdown energy;
};

/// One unit's or queue's breakdown, with the name the report prints.
struct UnitStalls {
  std::string name;
  StallBreakdown stalls;
};

/// One instruction's timing, for traces and tests.
struct InstrTiming {
  uint64_t headCycle = 0; ///< Reached the head of its queue.
  /// Issued to its unit: every dependency had completed. startCycle -
  /// headCycle is the time it waited on dependency tokens.
  uint64_t startCycle = 0;
  uint64_t endCycle = 0; ///< Completed (its dependency token signalled).
  /// The instruction whose completion it waited for last (-1: no wait).
  int64_t blocker = -1;
};

/// One NPU's share of a frame (docs/simulator.md, "Two NPUs").
struct NpuStats {
  uint64_t instructions = 0;
  uint64_t endCycle = 0; ///< Its last instruction completed.
  uint64_t matrixBusyCycles = 0, vectorBusyCycles = 0;
  uint64_t loadBusyCycles = 0, storeBusyCycles = 0; ///< Summed transfers.
  uint64_t macs = 0;
  /// macs / (frame cycles * matrix_rows * matrix_cols).
  double matrixUtilization = 0;
  uint64_t dramBytesRead = 0, dramBytesWritten = 0, dramBusBytes = 0;
  /// Shared-DRAM contention: cycles this NPU's transfers waited for the
  /// data bus while it moved another NPU's data, and while it moved this
  /// NPU's own (summed over its transfers).
  uint64_t dramWaitOtherNpuCycles = 0, dramWaitOwnCycles = 0;
};

struct SimResult {
  std::string chipName;
  /// NPUs the program ran on, and each one's figures (one entry with one
  /// NPU: the frame's own).
  uint32_t npuCount = 1;
  std::vector<NpuStats> npus;
  uint64_t totalCycles = 0; ///< Frame latency: last instruction completed.
  double frameMs = 0;       ///< totalCycles at the configured clock.
  uint64_t instructions = 0;
  uint64_t dramBytesRead = 0;    ///< Bytes the DMA loads moved (payload).
  uint64_t dramBytesWritten = 0; ///< Bytes the DMA stores moved (payload).
  /// Bytes on the DRAM bus after rounding to whole bursts (reads + writes).
  uint64_t dramBurstBytes = 0;
  uint64_t dramBusyCycles = 0; ///< Cycles the DRAM data bus was busy.
  /// dram_model = detailed: bursts that found their row open / had to
  /// activate it, and changes between reading and writing on a channel.
  uint64_t dramRowHits = 0, dramRowMisses = 0, dramTurnarounds = 0;
  /// SRAM bank conflicts (docs/timing-model.md, "SRAM"): DMA beats that
  /// waited for the compute instruction in flight on a shared bank, and the
  /// cycles that added to the DMA transfers' SRAM sides.
  uint64_t sramConflictBeats = 0, sramConflictCycles = 0;
  /// The most SRAM allocated at once (layers in flight, from the program's
  /// buffer table; 0 without one).
  uint64_t sramPeakAllocatedBytes = 0;
  uint64_t matrixBusyCycles = 0; ///< Cycles the matrix unit was running.
  uint64_t vectorBusyCycles = 0; ///< Cycles the vector unit was running.
  uint64_t loadBusyCycles = 0;   ///< Cycles a load DMA was in flight.
  uint64_t storeBusyCycles = 0;  ///< Cycles a store DMA was in flight.
  uint64_t macs = 0;             ///< Multiply-accumulates of all matmuls.
  /// macs / (totalCycles * matrix_rows * matrix_cols): the fraction of the
  /// array's peak (one MAC per PE per cycle, the INT8 rate) used over the
  /// frame. FP16 work can reach at most 1 / matrix_fp16_rate_divisor.
  double matrixUtilization = 0;
  /// macs / (matrixBusyCycles * matrix_rows * matrix_cols): the same while
  /// the matrix unit is running (fill, drain and unused PEs count as lost).
  double matrixBusyUtilization = 0;
  /// Sum of every transfer's cycles minus the cycles with at least one
  /// transfer in flight, per DMA queue: transfer time overlapped with other
  /// transfers of the same queue (DRAM latency hidden by
  /// dma_outstanding_transfers > 1).
  uint64_t loadOverlapCycles = 0, storeOverlapCycles = 0;
  /// Per unit and queue: load queue, compute queue, store queue, matrix
  /// unit, vector unit, DRAM bus.
  std::vector<UnitStalls> units;
  EnergyBreakdown energy; ///< The whole frame.
  double energyJ = 0;     ///< energy.totalPj() in joules.
  /// Average power at the budget's frame rate (1000 / frame_budget_ms fps):
  /// dynamic energy per frame x fps + static_power_w.
  double wattsAtBudgetFps = 0;
  std::vector<LayerStats> layers;
  std::vector<InstrTiming> instrTimings; ///< One per program instruction.
  std::vector<arch::Opcode> instrOps;    ///< Each instruction's opcode.
  /// Output tensors converted to float32 (functional mode only).
  std::map<std::string, std::vector<float>> outputs;
};

/// Simulates one frame. `inputs` maps every input tensor of the program to
/// its values as float32 (converted to the tensor's element type when the
/// DRAM image is filled). Can be called any number of times in one process
/// (the SystemC model is elaborated once and reset between frames); not
/// re-entrant. Throws arch::ContractError for a malformed program or chip
/// config, SimError for bad inputs and simulation errors.
SimResult simulateFrame(const arch::Program &program,
                        const arch::ChipConfig &chip,
                        const std::map<std::string, std::vector<float>> &inputs,
                        const SimOptions &options = {});

} // namespace tessera::sim

#endif // TESSERA_SIM_SIMULATOR_H
