//===- Tiling.h - tiling decisions recorded in the tsr IR --------*- C++
//-*-===//
//
// Part of Tessera. `tsr-select-tiling` asks the cost model
// (docs/cost-model.md) for each matrix product's tiling and records the
// choice and its modelled cost on the op as a `tsr.tiling` attribute;
// `tsr-verify-tiling` rejects a recorded tiling the chip cannot run.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TRANSFORMS_TILING_H
#define TESSERA_TRANSFORMS_TILING_H

#include "tessera/arch/ChipConfig.h"

#include "mlir/Pass/Pass.h"

#include <memory>

namespace tessera::tsr {

/// Registers `tsr-select-tiling` and `tsr-verify-tiling`.
void registerTilingPasses();

/// `tsr-select-tiling` / `tsr-verify-tiling` for `chip` (the pipeline's).
std::unique_ptr<mlir::Pass>
createSelectTilingPass(const arch::ChipConfig &chip);
std::unique_ptr<mlir::Pass>
createVerifyTilingPass(const arch::ChipConfig &chip);

} // namespace tessera::tsr

#endif // TESSERA_TRANSFORMS_TILING_H
