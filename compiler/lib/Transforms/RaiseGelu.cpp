//===- RaiseGelu.cpp - form tsr.gelu from the exported GELU chains --------===//
//
// Part of Tessera. PyTorch exports nn.GELU() (erf form) at opset 17 as
//   y = (x * (erf(x / sqrt(2)) + 1)) * 0.5
// and some code writes it as (x * 0.5) * (1 + erf(x / sqrt(2))). Both are one
// GELU: one vector instruction on the chip instead of five, and one round to
// FP16 instead of five. The pattern matches both orders of every commutative
// op and x / sqrt(2) written as x * (1 / sqrt(2)).
//
// nn.GELU(approximate="tanh") exports as
//   0.5 * (x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * (x * (x * x))))))
// (x^3 may also be a tsr.pow by 3); the same two outer shapes with tanh in
// place of erf become tsr.gelu {approximate = "tanh"}.
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace tessera::tsr {
#define GEN_PASS_DEF_TSRRAISEGELU
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

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

/// Matches x * x * x (either nesting and order) or x ** 3; returns x.
Value matchCube(Value v) {
  if (auto p = v.getDefiningOp<PowOp>())
    return p.getExponent().convertToDouble() == 3.0 ? p.getInput() : Value();
  auto outer = v.getDefiningOp<MulOp>();
  if (!outer)
    return {};
  for (auto [x, sq] : {std::pair(outer.getLhs(), outer.getRhs()),
                       std::pair(outer.getRhs(), outer.getLhs())})
    if (auto inner = sq.getDefiningOp<MulOp>())
      if (inner.getLhs() == x && inner.getRhs() == x)
        return x;
  return {};
}

/// Matches sqrt(2/pi) * (x + 0.044715 * x^3) and returns x.
Value matchTanhArgument(Value v) {
  Value sum = matchWithConstant<MulOp>(v, std::sqrt(2.0 / M_PI));
  auto add = sum ? sum.getDefiningOp<AddOp>() : AddOp();
  if (!add)
    return {};
  for (auto [x, term] : {std::pair(add.getLhs(), add.getRhs()),
                         std::pair(add.getRhs(), add.getLhs())})
    if (Value cube = matchWithConstant<MulOp>(term, 0.044715))
      if (matchCube(cube) == x)
        return x;
  return {};
}

/// Matches 1 + erf(x / sqrt 2) (or 1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))
/// when `tanh`) and returns x.
Value matchOnePlus(Value v, bool tanh) {
  Value inner = matchWithConstant<AddOp>(v, 1.0);
  if (!inner)
    return {};
  if (tanh) {
    auto t = inner.getDefiningOp<TanhOp>();
    return t ? matchTanhArgument(t.getInput()) : Value();
  }
  auto erf = inner.getDefiningOp<ErfOp>();
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
    for (bool tanh : {false, true}) {
      Value x = findInput(root, tanh);
      if (!x || x.getType() != root.getType())
        continue;
      rewriter.replaceOpWithNewOp<GeluOp>(root, root.getType(), x,
                                          tanh ? "tanh" : "none");
      return success();
    }
    return rewriter.notifyMatchFailure(root, "not a GELU chain");
  }

  static Value findInput(MulOp root, bool tanh) {
    // (x * (1 + f(x))) * 0.5
    if (Value inner = matchWithConstant<MulOp>(root.getResult(), 0.5))
      if (auto mul = inner.getDefiningOp<MulOp>())
        for (auto [x, other] : {std::pair(mul.getLhs(), mul.getRhs()),
                                std::pair(mul.getRhs(), mul.getLhs())})
          if (matchOnePlus(other, tanh) == x)
            return x;
    // (x * 0.5) * (1 + f(x))
    for (auto [half, other] : {std::pair(root.getLhs(), root.getRhs()),
                               std::pair(root.getRhs(), root.getLhs())})
      if (Value x = matchWithConstant<MulOp>(half, 0.5))
        if (matchOnePlus(other, tanh) == x)
          return x;
    return {};
  }
};

struct RaiseGeluPass
    : tessera::tsr::impl::TsrRaiseGeluBase<RaiseGeluPass> {
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

namespace tessera::tsr {
namespace {
#define GEN_PASS_REGISTRATION
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace
} // namespace tessera::tsr

void tessera::tsr::registerPasses() { registerTsrPasses(); }
