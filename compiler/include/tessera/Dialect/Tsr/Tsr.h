//===- Tsr.h - the tsr graph dialect -----------------------------*- C++
//-*-===//
//
// Part of Tessera. The graph-level dialect the ONNX importer produces and the
// code generator consumes; the ops are defined in TsrOps.td and documented in
// docs/dialects/tsr.md.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_DIALECT_TSR_TSR_H
#define TESSERA_DIALECT_TSR_TSR_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "tessera/Dialect/Tsr/TsrDialect.h.inc"

#define GET_OP_CLASSES
#include "tessera/Dialect/Tsr/TsrOps.h.inc"

#include "mlir/Pass/Pass.h"
#include "tessera/arch/ChipConfig.h"

#include <memory>

namespace tessera::tsr {

// The passes of Passes.td: createTsrRaiseGelu() etc.
#define GEN_PASS_DECL
#include "tessera/Dialect/Tsr/Passes.h.inc"

/// `tsr-raise-gelu`: replaces PyTorch's exported erf-GELU chain
/// (x * 0.5 * (1 + erf(x / sqrt 2)), in either multiplication order) and
/// the tanh-GELU chain with `tsr.gelu`.
std::unique_ptr<mlir::Pass> createRaiseGeluPass();
/// `tsr-raise-layernorm`: the decomposed LayerNorm chain of opsets < 17.
std::unique_ptr<mlir::Pass> createRaiseLayerNormPass();
/// `tsr-raise-attention`: multi-head attention as one `tsr.attention`.
std::unique_ptr<mlir::Pass> createRaiseAttentionPass();
/// `tsr-pack-qkv`: sibling projections of one input as one packed matmul
/// (lib/Transforms/PackQkv.cpp, docs/fusion.md).
std::unique_ptr<mlir::Pass> createPackQkvPass();
/// `tsr-expand-attention`: `tsr.attention` back into the chip's kernels.
std::unique_ptr<mlir::Pass> createExpandAttentionPass();

/// `tsr-fuse-attention` for `chip` (the pass's options read a config file).
std::unique_ptr<mlir::Pass>
createFuseAttentionPass(const arch::ChipConfig &chip);

/// `tsr-fuse-epilogue` / `tsr-fuse-layernorm` for `chip`
/// (lib/Transforms/FuseMatMul.cpp, docs/fusion.md).
std::unique_ptr<mlir::Pass>
createFuseEpiloguePass(const arch::ChipConfig &chip);
std::unique_ptr<mlir::Pass>
createFuseLayerNormPass(const arch::ChipConfig &chip);

/// `tsr-keep-kv` for `chip` (lib/Transforms/KeepKv.cpp, docs/fusion.md).
std::unique_ptr<mlir::Pass> createKeepKvPass(const arch::ChipConfig &chip);

/// `tsr-fold-bias` for `chip` (lib/Transforms/FoldBias.cpp, docs/fusion.md).
std::unique_ptr<mlir::Pass> createFoldBiasPass(const arch::ChipConfig &chip);

/// `tsr-allocate-sram` / `tsr-verify-sram` for `chip`
/// (lib/Transforms/AllocateSram.cpp, docs/lowering.md "SRAM allocation").
std::unique_ptr<mlir::Pass>
createAllocateSramPass(const arch::ChipConfig &chip);
std::unique_ptr<mlir::Pass> createVerifySramPass(const arch::ChipConfig &chip);

/// True for a tsr.reshape, and for a tsr.transpose that moves only axes of
/// extent 1: the element order is unchanged (no data moves on the chip).
bool movesNoData(mlir::Operation *op);

/// The parts of a tsr.group of kind "matmul", matched against its
/// `prologue` and `epilogue` attributes (the group verifier, the passes and
/// graph extraction share this). Operand fields are indices of the group's
/// operands (-1: absent).
struct MatMulGroupParts {
  MatMulOp matmul;
  LayerNormOp layernorm; ///< Null without a prologue.
  int a = -1, b = -1, gamma = -1, beta = -1, bias = -1, residual = -1;
  bool gelu = false, tanhGelu = false;
  /// `tsr.fold_bias` (tsr-fold-bias): the matrix unit adds the bias.
  bool foldBias = false;
  int64_t m = 0, k = 0, n = 0; ///< The product, A's rows folded into M.
};
/// The unit attribute tsr-fold-bias sets on a matmul group whose bias the
/// matrix unit adds (cost::MatMulGroupOp::foldBias, docs/fusion.md).
inline constexpr llvm::StringLiteral kFoldBiasAttr = "tsr.fold_bias";
/// Fails with a message (for the verifier) when the region does not hold
/// what the attributes say.
mlir::FailureOr<MatMulGroupParts> matchMatMulGroup(GroupOp g,
                                                   std::string &error);

/// Registers Tessera's tsr passes with the global pass registry.
void registerPasses();

} // namespace tessera::tsr

#endif // TESSERA_DIALECT_TSR_TSR_H
