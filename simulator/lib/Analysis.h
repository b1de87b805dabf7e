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

} // namespace tessera::sim

#endif // TESSERA_SIM_ANALYSIS_H
