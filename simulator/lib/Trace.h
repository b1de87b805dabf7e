//===- Trace.h - Chrome/Perfetto JSON timeline of a frame --------*- C++
//-*-===//
#ifndef TESSERA_SIM_LIB_TRACE_H
#define TESSERA_SIM_LIB_TRACE_H

#include "tessera/Sim/Modules.h"
#include "tessera/Sim/Simulator.h"
#include "tessera/arch/Program.h"

#include <string>

namespace tessera::sim {

/// Writes the frame's timeline in the Chrome trace-event JSON format (read
/// by ui.perfetto.dev and chrome://tracing): a track per queue and unit, a
/// slice per instruction, a track of per-layer slices (the attributed
/// windows), counters of DRAM bytes, DRAM bandwidth and transfers in flight.
/// Throws SimError when the file cannot be written.
void writeTrace(const std::string &path, const arch::Program &program,
                const FrameState &frame, const SimResult &result);

} // namespace tessera::sim

#endif // TESSERA_SIM_LIB_TRACE_H
