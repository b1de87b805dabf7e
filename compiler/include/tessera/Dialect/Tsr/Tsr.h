//===- Tsr.h - the tsr graph dialect -----------------------------*- C++ -*-===//
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
/// `tsr-expand-attention`: `tsr.attention` back into the chip's kernels.
std::unique_ptr<mlir::Pass> createExpandAttentionPass();

/// `tsr-fuse-attention` for `chip` (the pass's options read a config file).
std::unique_ptr<mlir::Pass>
createFuseAttentionPass(const arch::ChipConfig &chip);

/// Registers Tessera's tsr passes with the global pass registry.
void registerPasses();

} // namespace tessera::tsr

#endif // TESSERA_DIALECT_TSR_TSR_H
