//===- Analysis.h - Stall attribution and energy of a simulated frame -----===//
//
// Derived figures computed from what the modules recorded: where every cycle
// of every unit and queue went (busy, waiting on a dependency, waiting on
// DRAM, idle), per unit and per layer, the DMA overlap, and the energy. The
// definitions are in docs/simulator.md ("Stall attribution") and
// docs/chip-config.md ("Energy").
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_SIM_ANALYSIS_H
#define TESSERA_SIM_ANALYSIS_H

#include "tessera/Sim/Modules.h"
#include "tessera/Sim/Simulator.h"

namespace tessera::sim {

/// The dynamic energy of one instruction (static power is per cycle).
EnergyBreakdown instrEnergy(const arch::ChipConfig &chip, const arch::Instr &in,
                            uint64_t dramBusBytes);

/// Fills r.units, r.loadOverlapCycles, r.storeOverlapCycles, the blockers of
/// r.instrTimings, the energy and the window columns of r.layers (whose
/// attributed cycles must already be set).
void analyzeFrame(const arch::Program &prog, const FrameState &frame,
                  SimResult &r);

/// SRAM allocated over the frame (a program with a buffer table): a step
/// function as (cycle, bytes) points, bytes from that cycle on. A layer's
/// buffers are allocated over its span (first instruction issued to last
/// completed); the bytes are those of the union of the buffers of the
/// layers in flight (consecutive kernels reuse the same addresses).
std::vector<std::pair<uint64_t, uint64_t>>
sramOccupancy(const arch::Program &prog, const std::vector<LayerStats> &layers);

} // namespace tessera::sim

#endif // TESSERA_SIM_ANALYSIS_H
