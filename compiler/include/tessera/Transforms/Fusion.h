//===- Fusion.h - what the fusion passes and graph extraction share -*- C++
//-*-===//
//
// Part of Tessera. tsr-fuse-attention (lib/Transforms/FuseAttention.cpp)
// reads q, k and v of a tsr.attention in place from the tensor they are cut
// from; graph extraction (lib/Compile/Compile.cpp) turns the resulting
// tsr.group into the code generator's Attention node with the same layout.
// docs/fusion.md describes both.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TRANSFORMS_FUSION_H
#define TESSERA_TRANSFORMS_FUSION_H

#include "tessera/CostModel/CostModel.h"
#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>

namespace tessera::tsr {

/// Where the [B, S, D] operand of an attention lives: row s of batch b
/// starts at element `offset + b * batchStride + s * rowStride` of
/// `source` (contiguous row-major); its D elements are contiguous. `chain`
/// holds the ops between `source` and the operand (a slice along the last
/// axis, a [1, 0, 2] transpose), operand first; each has one use.
struct OperandLayout {
  mlir::Value source;
  int64_t offset = 0, batchStride = 0, rowStride = 0;
  llvm::SmallVector<mlir::Operation *, 2> chain;
};

/// Traces an attention operand `x` ([B, S, D]) back through an optional
/// tsr.transpose [1, 0, 2] (from [S, B, W]) and an optional tsr.slice along
/// the last axis (steps 1). With `stopAt` set, the trace stops at values
/// that are block arguments of that block (graph extraction).
OperandLayout traceAttentionOperand(mlir::Value x);

/// The cost model's workload of a tsr.attention (shapes and the traced
/// q/k/v layouts), as tsr-fuse-attention and tsr-keep-kv price it.
cost::AttentionOp attentionWorkload(mlir::Operation *attention);

/// The cost model's workload of a matched matmul group (shapes, prologue,
/// epilogue, a folded bias; not its resident K/V region), as the passes
/// that price or place it read it.
cost::MatMulGroupOp matmulGroupWorkload(const MatMulGroupParts &parts);

/// Records a matmul group's tile and its modelled cost as `tsr.tiling =
/// {tm, tk, tn, sram_bytes, dram_bytes, cycles}` (the fusion passes,
/// tsr-keep-kv and tsr-fold-bias).
void setGemmTiling(GroupOp g, const cost::GemmTiling &t, const cost::Cost &c);

} // namespace tessera::tsr

#endif // TESSERA_TRANSFORMS_FUSION_H
