//===- Codegen.h - graph to chip program -------------------------*- C++
//-*-===//
//
// Part of Tessera. The first lowering: every graph node becomes its own kernel
// (DMA loads from DRAM, compute in SRAM, DMA stores to DRAM), data in FP16,
// matmuls accumulating in FP32, tiled so every working set fits the chip's
// SRAM, dependencies derived from the memory ranges every instruction touches.
// docs/lowering.md describes the kernels and the tiling rules.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_COMPILER_CODEGEN_H
#define TESSERA_COMPILER_CODEGEN_H

#include "tessera/Compiler/Graph.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Program.h"

namespace tessera::codegen {

/// Emits the verified program for `graph` on `chip`. Throws CodegenError.
/// With `plans`, also returns what was decided for each program layer (same
/// index as Program::layers): the kernel by tile class, as the cost model
/// prices it (docs/cost-model.md); a kernel of empty `kind` was not
/// described.
arch::Program generateProgram(const Graph &graph, const arch::ChipConfig &chip,
                              std::vector<cost::Kernel> *plans = nullptr);

/// The dependency rule of the code generator, exposed for tests: for each
/// instruction, the earlier instructions it must wait for so that every read
/// sees the last write before it (RAW) and no write lands before an earlier
/// access of the same bytes has finished (WAR, WAW), in SRAM and in DRAM.
class HazardTracker {
public:
  /// Returns the dependencies of instruction `index` (ascending, unique) and
  /// records its accesses.
  std::vector<uint32_t> add(const arch::Instr &in, uint32_t index);

private:
  struct Access {
    uint64_t begin, end;
    uint32_t instr;
    bool write;
    arch::Queue queue;
  };
  std::vector<Access> spaces[2]; ///< [0] SRAM, [1] DRAM.
};

} // namespace tessera::codegen

#endif // TESSERA_COMPILER_CODEGEN_H
