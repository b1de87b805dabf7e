//===- MovementTiling.h - Decisions of the movement and CNN kernels -*- C++
//-*-===//
//
// Part of Tessera. The tsr-select-tiling, tsr-verify-tiling,
// tsr-allocate-sram and tsr-verify-sram steps for the ops whose kernels
// move data or work in bands (docs/lowering.md, "Kernels"): tsr.conv (its
// im2col band kernel and its GEMM per group), tsr.maxpool / tsr.avgpool
// (the band kernel, or a GEMM for a global average), tsr.transpose,
// tsr.slice, tsr.concat (one copy per input), tsr.expand (one copy per
// broadcast index), tsr.embedding (the gather) and tsr.where. Each decides
// on the same workload the code generator emits (the views of
// cost/MovementKernels.h) and records:
//
//   tsr.tiling = {cb, toh, tm, tk, tn[, npus, split], sram_bytes, dram_bytes,
//                 cycles}                                    conv
//                {cb, toh, ...} / {tm, tk, tn, ...}          pooling / global
//                {tr, tc, ...}                               copies, where
//                {inputs = [{tr, tc}, ...], ...}             concat
//                {tr, ...}                                   embedding
//   tsr.sram   = the kernel's plan (conv: the im2col kernel's; concat:
//                `inputs`, one plan per input copy)
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TRANSFORMS_MOVEMENTTILING_H
#define TESSERA_TRANSFORMS_MOVEMENTTILING_H

#include "tessera/CostModel/MovementKernels.h"
#include "tessera/arch/ChipConfig.h"

#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

#include <string>
#include <vector>

namespace tessera::tsr {

/// A recorded decision, read back (Compile.cpp hands it to the code
/// generator): the copies' tiles (concat: one per input; embedding: tr ids
/// per tile), the band, the GEMM tile and its NPU split, and the plans.
struct MovementDecision {
  std::vector<cost::RowTiling> tiles;
  cost::BandTiling band;
  cost::GemmTiling gemm;
  uint64_t npus = 0;
  std::vector<cost::SramPlan> plans; ///< tsr.sram (concat: one per input).
};
/// The op's `tsr.tiling` and `tsr.sram` (absent: an empty decision), or
/// failure with `error` set when they are malformed.
mlir::FailureOr<MovementDecision> readMovementDecision(mlir::Operation *op,
                                                       std::string &error);

/// Whether `op` is one of the ops above (a transpose that only relabels
/// axes of extent 1 has no kernel: false).
bool isMovementOp(mlir::Operation *op);

/// tsr-select-tiling: searches the op's kernel(s) and records `tsr.tiling`;
/// when nothing fits, an error naming the op, the budget and the bytes the
/// smallest tile needs.
mlir::LogicalResult selectMovementTiling(mlir::Operation *op,
                                         const arch::ChipConfig &chip,
                                         const cost::Constraints &c);
/// tsr-verify-tiling: a recorded `tsr.tiling` has positive tiles, every
/// field its kernel needs, and fits the SRAM budget (else an error naming
/// the op and the bytes).
mlir::LogicalResult verifyMovementTiling(mlir::Operation *op,
                                         const arch::ChipConfig &chip,
                                         const cost::Constraints &c);
/// tsr-allocate-sram: the SRAM plan of the recorded tiling as `tsr.sram`.
mlir::LogicalResult allocateMovementSram(mlir::Operation *op,
                                         const arch::ChipConfig &chip,
                                         const cost::Constraints &c);
/// tsr-verify-sram: a recorded `tsr.sram` is well formed, holds every
/// buffer the recorded tiling needs with at least its bytes, fits the SRAM
/// and no two buffers live in a common phase share a byte.
mlir::LogicalResult verifyMovementSram(mlir::Operation *op,
                                       const arch::ChipConfig &chip,
                                       const cost::Constraints &c);

} // namespace tessera::tsr

#endif // TESSERA_TRANSFORMS_MOVEMENTTILING_H
