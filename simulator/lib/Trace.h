//===- Trace.h - Chrome/Perfetto JSON timeline of a frame --------*- C++
//-*-===//
#ifndef TESSERA_SIM_LIB_TRACE_H
#define TESSERA_SIM_LIB_TRACE_H

#include "tessera/Sim/Modules.h"
#include "tessera/arch/Program.h"

#include <string>

namespace tessera::sim {

/// Writes the frame's timeline in the Chrome trace-event JSON format (read
/// by ui.perfetto.dev and chrome://tracing): a track per queue and unit, a
/// slice per instruction, counters of DRAM bytes. Throws SimError when the
/// file cannot be written.
void writeTrace(const std::string &path, const arch::Program &program,
                const FrameState &frame);

} // namespace tessera::sim

#endif // TESSERA_SIM_LIB_TRACE_H
