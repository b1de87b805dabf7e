//===- RaiseLayerNorm.cpp - form tsr.layernorm from the decomposed chain --===//
//
// Part of Tessera. ONNX has LayerNormalization only from opset 17; below it
// PyTorch exports nn.LayerNorm as
//   m = ReduceMean(x, axes)            d = Sub(x, m)
//   v = ReduceMean(Pow(d, 2), axes)    n = Div(d, Sqrt(Add(v, eps)))
//   y = Add(Mul(n, weight), bias)
// over the trailing `axes` (keepdims). The pattern is rooted at the Div,
// checks every link (same d in the numerator and the variance, the same
// trailing axes in both means, exponent 2 or d * d, a positive constant
// eps), takes the affine Mul/Add when the normalized value feeds exactly one
// of each with a parameter of the normalized shape, and otherwise uses
// weights of ones/zeros. One vector instruction per tile instead of nine
// kernels, and one FP16 rounding.
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera::tsr {
#define GEN_PASS_DEF_TSRRAISELAYERNORM
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

using namespace mlir;
using namespace tessera::tsr;

namespace {

/// The one value of a one-element weight, or nullopt.
std::optional<double> scalarValue(Value v) {
  auto w = v.getDefiningOp<WeightOp>();
  auto dense = w ? dyn_cast<DenseElementsAttr>(w.getValue()) : nullptr;
  if (!dense || dense.getNumElements() != 1)
    return std::nullopt;
  return (*dense.getValues<APFloat>().begin()).convertToDouble();
}

/// The first reduced axis when `mean` reduces exactly the trailing axes of
/// its input with keepdims, else -1.
int64_t trailingMeanAxis(ReduceMeanOp mean) {
  if (!mean || !mean.getKeepdims())
    return -1;
  int64_t rank = cast<RankedTensorType>(mean.getInput().getType()).getRank();
  ArrayRef<int64_t> axes = mean.getAxes();
  int64_t first = rank - static_cast<int64_t>(axes.size());
  for (size_t k = 0; k < axes.size(); ++k)
    if (axes[k] != first + static_cast<int64_t>(k))
      return -1;
  return first;
}

/// A weight whose elements are exactly the normalized axes' (any leading
/// 1s, last dim equal), as tsr.layernorm wants its scale and bias.
bool isParameter(Value v, ArrayRef<int64_t> normalized) {
  if (!v.getDefiningOp<WeightOp>())
    return false;
  ArrayRef<int64_t> s = cast<RankedTensorType>(v.getType()).getShape();
  int64_t n = 1, want = 1;
  for (int64_t d : s)
    n *= d;
  for (int64_t d : normalized)
    want *= d;
  return n == want && !s.empty() && s.back() == normalized.back();
}

/// The operand of the binary op `op` that is not `v` (or null).
template <typename OpTy> Value otherOperand(OpTy op, Value v) {
  if (op.getLhs() == v)
    return op.getRhs();
  if (op.getRhs() == v)
    return op.getLhs();
  return {};
}

struct RaiseLayerNorm : OpRewritePattern<DivOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DivOp div,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(div.getType());
    Value d = div.getLhs();
    auto sub = d.getDefiningOp<SubOp>();
    auto sqrt = div.getRhs().getDefiningOp<SqrtOp>();
    if (!sub || !sqrt || d.getType() != type)
      return rewriter.notifyMatchFailure(div, "not (x - mean) / sqrt(...)");
    Value x = sub.getLhs();
    auto mean = sub.getRhs().getDefiningOp<ReduceMeanOp>();
    int64_t axis = trailingMeanAxis(mean);
    if (axis < 0 || mean.getInput() != x || x.getType() != type)
      return rewriter.notifyMatchFailure(div, "no trailing mean of x");
    auto add = sqrt.getInput().getDefiningOp<AddOp>();
    if (!add)
      return rewriter.notifyMatchFailure(div, "no variance + eps");
    ReduceMeanOp var;
    std::optional<double> eps;
    for (auto [a, b] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())})
      if (auto m = a.getDefiningOp<ReduceMeanOp>())
        if ((eps = scalarValue(b)))
          var = m;
    if (!var || !eps || !(*eps > 0) || trailingMeanAxis(var) != axis ||
        var.getAxes() != mean.getAxes())
      return rewriter.notifyMatchFailure(div, "no mean((x - mean)^2) + eps");
    Value squared = var.getInput();
    auto pow = squared.getDefiningOp<PowOp>();
    auto mul = squared.getDefiningOp<MulOp>();
    bool square = (pow && pow.getInput() == d &&
                   pow.getExponent().convertToDouble() == 2.0) ||
                  (mul && mul.getLhs() == d && mul.getRhs() == d);
    if (!square)
      return rewriter.notifyMatchFailure(div, "variance is not of (x-mean)^2");

    // The affine tail, when the normalized value feeds one Mul (and it one
    // Add) with parameters of the normalized shape.
    ArrayRef<int64_t> normalized = type.getShape().drop_front(axis);
    Operation *last = div;
    Value scale, bias;
    if (div->hasOneUse())
      if (auto m = dyn_cast<MulOp>(*div->user_begin()))
        if (Value w = otherOperand(m, div.getResult());
            w && isParameter(w, normalized) && m.getType() == type) {
          scale = w;
          last = m;
          if (m->hasOneUse())
            if (auto a = dyn_cast<AddOp>(*m->user_begin()))
              if (Value b = otherOperand(a, m.getResult());
                  b && isParameter(b, normalized) && a.getType() == type) {
                bias = b;
                last = a;
              }
        }
    auto constant = [&](float value, StringRef suffix) -> Value {
      auto t = RankedTensorType::get(normalized, rewriter.getF32Type());
      std::string name = "layernorm";
      if (auto n = dyn_cast<NameLoc>(div.getLoc()))
        name = n.getName().str();
      return rewriter.create<WeightOp>(
          div.getLoc(), t, rewriter.getStringAttr(name + "." + suffix.str()),
          DenseElementsAttr::get(t, value));
    };
    rewriter.setInsertionPoint(last);
    if (!scale)
      scale = constant(1.0f, "ln_scale");
    if (!bias)
      bias = constant(0.0f, "ln_bias");
    rewriter.replaceOpWithNewOp<LayerNormOp>(
        last, type, x, scale, bias, rewriter.getI64IntegerAttr(axis),
        rewriter.getF32FloatAttr(static_cast<float>(*eps)));
    return success();
  }
};

struct RaiseLayerNormPass
    : tessera::tsr::impl::TsrRaiseLayerNormBase<RaiseLayerNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseLayerNorm>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> tessera::tsr::createRaiseLayerNormPass() {
  return std::make_unique<RaiseLayerNormPass>();
}
