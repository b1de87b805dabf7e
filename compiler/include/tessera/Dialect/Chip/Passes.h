//===- Passes.h - passes into the chip dialect -------------------*- C++
//-*-===//
//
// Part of Tessera. tsr-lower-to-chip (Passes.td, lib/Dialect/Chip/
// LowerToChip.cpp): the decided tsr module becomes one chip.program.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_DIALECT_CHIP_PASSES_H
#define TESSERA_DIALECT_CHIP_PASSES_H

#include "tessera/Compiler/Graph.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/Dialect/Chip/Chip.h"
#include "tessera/arch/ChipConfig.h"

#include "mlir/Pass/Pass.h"

#include <memory>
#include <vector>

namespace tessera::chip {

#define GEN_PASS_DECL
#include "tessera/Dialect/Chip/Passes.h.inc"

/// `tsr-lower-to-chip` for `chip` (the pipeline's chip, not the option's).
/// When given, `graph` receives the graph the program was generated from
/// (for the FP32 reference executor) and `plans` the cost model's kernel of
/// each layer (codegen::generateProgram's).
std::unique_ptr<mlir::Pass>
createLowerToChipPass(const arch::ChipConfig &chip,
                      codegen::Graph *graph = nullptr,
                      std::vector<cost::Kernel> *plans = nullptr);

/// Registers the chip passes (tsr-lower-to-chip) with the global registry.
void registerPasses();

} // namespace tessera::chip

#endif // TESSERA_DIALECT_CHIP_PASSES_H
