//===- RaiseGelu.cpp - form tsr.gelu from the exported erf chain ----------===//
//
// Part of Tessera. PyTorch exports nn.GELU() (erf form) at opset 17 as
//   y = (x * (erf(x / sqrt(2)) + 1)) * 0.5
// and some code writes it as (x * 0.5) * (1 + erf(x / sqrt(2))). Both are one
// GELU: one vector instruction on the chip instead of five, and one round to
// FP16 instead of five. The pattern matches both orders of every commutative
// op and x / sqrt(2) written as x * (1 / sqrt(2)).
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

using namespace mlir;
using namespace tessera::tsr;

namespace {

/// True when `v` is a one-element weight whose value is within 1e-6
/// (relative) of `expected`.
bool isScalarConstant(Value v, double expected) {
  auto w = v.getDefiningOp<WeightOp>();
  if (!w)
    return false;
  auto dense = dyn_cast<DenseElementsAttr>(w.getValue());
  if (!dense || dense.getNumElements() != 1)
    return false;
  double value = (*dense.getValues<APFloat>().begin()).convertToDouble();
  return std::fabs(value - expected) <= 1e-6 * std::fabs(expected);
}

/// Matches `op(a, b)` in either operand order where `isConst(b)`; returns a.
template <typename OpTy>
Value matchWithConstant(Value v, double constant) {
  auto op = v.getDefiningOp<OpTy>();
  if (!op)
    return {};
  if (isScalarConstant(op.getRhs(), constant))
    return op.getLhs();
  if (std::is_same<OpTy, DivOp>::value || std::is_same<OpTy, SubOp>::value)
    return {};
  if (isScalarConstant(op.getLhs(), constant))
    return op.getRhs();
  return {};
}

/// Matches 1 + erf(x / sqrt 2) and returns x.
Value matchOnePlusErf(Value v) {
  Value erfValue = matchWithConstant<AddOp>(v, 1.0);
  auto erf = erfValue ? erfValue.getDefiningOp<ErfOp>() : ErfOp();
  if (!erf)
    return {};
  Value x = matchWithConstant<DivOp>(erf.getInput(), std::sqrt(2.0));
  if (!x)
    x = matchWithConstant<MulOp>(erf.getInput(), 1.0 / std::sqrt(2.0));
  return x;
}

struct RaiseGelu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp root,
                                PatternRewriter &rewriter) const override {
    Value x = findInput(root);
    if (!x || x.getType() != root.getType())
      return rewriter.notifyMatchFailure(root, "not an erf-GELU chain");
    rewriter.replaceOpWithNewOp<GeluOp>(root, root.getType(), x);
    return success();
  }

  static Value findInput(MulOp root) {
    // (x * (1 + erf(x/sqrt2))) * 0.5
    if (Value inner = matchWithConstant<MulOp>(root.getResult(), 0.5))
      if (auto mul = inner.getDefiningOp<MulOp>())
        for (auto [x, other] : {std::pair(mul.getLhs(), mul.getRhs()),
                                std::pair(mul.getRhs(), mul.getLhs())})
          if (matchOnePlusErf(other) == x)
            return x;
    // (x * 0.5) * (1 + erf(x/sqrt2))
    for (auto [half, other] : {std::pair(root.getLhs(), root.getRhs()),
                               std::pair(root.getRhs(), root.getLhs())})
      if (Value x = matchWithConstant<MulOp>(half, 0.5))
        if (matchOnePlusErf(other) == x)
          return x;
    return {};
  }
};

struct RaiseGeluPass
    : PassWrapper<RaiseGeluPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(RaiseGeluPass)

  StringRef getArgument() const override { return "tsr-raise-gelu"; }
  StringRef getDescription() const override {
    return "Replace the exported erf-GELU chain with tsr.gelu";
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseGelu>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> tessera::tsr::createRaiseGeluPass() {
  return std::make_unique<RaiseGeluPass>();
}

void tessera::tsr::registerPasses() {
  PassRegistration<RaiseGeluPass>();
}
