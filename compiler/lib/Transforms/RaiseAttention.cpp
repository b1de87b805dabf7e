//===- RaiseAttention.cpp - form tsr.attention from exported attention ----===//
//
// Part of Tessera. The pattern is rooted at the product P x V whose P is a
// softmax over the last axis, and walks back and forth from it:
//
//   scores = Q' x K'^T   (each operand a reshape/transpose chain of a
//                         [B, S, D] or [S, B, D] tensor, possibly scaled by
//                         a constant on the way: Mul or Div)
//   scores' = scores * c or / c (any number), then + mask (either order)
//   P = softmax(scores', last axis);  ctx = P x V'
//   merged = a reshape/transpose chain of ctx that is [B, S, D], [B*S, D],
//            [S, B, D] or [S*B, D]
//
// Exporters split heads differently (nn.MultiheadAttention:
// [S, B, D] -> [S, B*H, hd] -> [B*H, S, hd]; hand-written: [B, S, D] ->
// [B, S, H, hd] -> [B, H, S, hd], K^T by one more transpose or one
// permutation). Rather than listing the chains, the pattern composes the
// index map of whatever chain it finds and checks that element (b, h, s, e)
// of the head-split value is element (b, s, h*hd + e) of the source (in its
// layout): on every element when the tensor has at most 2^16 of them,
// otherwise on the grid of indices {0, 1, 2, n/2, n-2, n-1} per coordinate
// (a chain of reshapes and transposes that agrees there and differs
// elsewhere would have to split or merge an axis at a size not on the grid
// in two different ways, which a head split does not do). The merge chain
// is checked the same way. Anything that does not check leaves the IR as
// it was.
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <set>

namespace tessera::tsr {
#define GEN_PASS_DEF_TSRRAISEATTENTION
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

using namespace mlir;
using namespace tessera::tsr;

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// The one value of a one-element weight, or nullopt.
std::optional<double> scalarValue(Value v) {
  auto w = v.getDefiningOp<WeightOp>();
  auto dense = w ? dyn_cast<DenseElementsAttr>(w.getValue()) : nullptr;
  if (!dense || dense.getNumElements() != 1)
    return std::nullopt;
  return (*dense.getValues<APFloat>().begin()).convertToDouble();
}

/// `v` = Mul(x, c) / Mul(c, x) / Div(x, c) with a scalar constant c and x of
/// v's type: returns x and multiplies `scale` by c (or 1/c).
Value peelScale(Value v, double &scale) {
  if (auto m = v.getDefiningOp<MulOp>()) {
    for (auto [x, c] :
         {std::pair(m.getLhs(), m.getRhs()), std::pair(m.getRhs(), m.getLhs())})
      if (auto s = scalarValue(c); s && x.getType() == v.getType()) {
        scale *= *s;
        return x;
      }
  }
  if (auto d = v.getDefiningOp<DivOp>())
    if (auto s = scalarValue(d.getRhs());
        s && *s != 0 && d.getLhs().getType() == v.getType()) {
      scale /= *s;
      return d.getLhs();
    }
  return {};
}

/// Maps a multi-index of the last value of `chain` (ops in forward order,
/// each a reshape, a transpose or a scalar scale) back to the linear index
/// into the chain's first operand.
int64_t mapBack(ArrayRef<Operation *> chain, SmallVector<int64_t> idx,
                ArrayRef<int64_t> firstShape) {
  for (Operation *op : llvm::reverse(chain)) {
    if (auto t = dyn_cast<TransposeOp>(op)) {
      SmallVector<int64_t> in(idx.size());
      for (size_t i = 0; i < idx.size(); ++i)
        in[t.getPerm()[i]] = idx[i];
      idx = std::move(in);
    } else if (isa<ReshapeOp>(op)) {
      ArrayRef<int64_t> out = shapeOf(op->getResult(0));
      ArrayRef<int64_t> in = shapeOf(op->getOperand(0));
      int64_t lin = 0;
      for (size_t i = 0; i < out.size(); ++i)
        lin = lin * out[i] + idx[i];
      idx.assign(in.size(), 0);
      for (size_t i = in.size(); i-- > 0;) {
        idx[i] = lin % in[i];
        lin /= in[i];
      }
    }
    // Scales keep the index.
  }
  int64_t lin = 0;
  for (size_t i = 0; i < firstShape.size(); ++i)
    lin = lin * firstShape[i] + idx[i];
  return lin;
}

/// The shape of attention as one head-split tensor sees it.
struct Geometry {
  int64_t b = 0, s = 0, h = 0, hd = 0;
  int64_t width() const { return h * hd; }
};

/// How a [B, S, D]-like tensor lays its elements out.
enum class Layout { BatchFirst, SeqFirst };

int64_t seqLinear(const Geometry &g, Layout l, int64_t b, int64_t s, int64_t h,
                  int64_t e) {
  int64_t row = l == Layout::BatchFirst ? b * g.s + s : s * g.b + b;
  return row * g.width() + h * g.hd + e;
}

/// Linear index of (b, h, s, e) in a head-split [B(*)H, S, hd] tensor, or
/// [B(*)H, hd, S] when `transposed`.
int64_t headLinear(const Geometry &g, bool transposed, int64_t b, int64_t h,
                   int64_t s, int64_t e) {
  int64_t bh = b * g.h + h;
  return transposed ? (bh * g.hd + e) * g.s + s : (bh * g.s + s) * g.hd + e;
}

SmallVector<int64_t> delinearize(int64_t lin, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> idx(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    idx[i] = lin % shape[i];
    lin /= shape[i];
  }
  return idx;
}

/// Probe coordinates along an extent n: all of them when `all`, else a grid.
SmallVector<int64_t> probes(int64_t n, bool all) {
  std::set<int64_t> p;
  if (all) {
    for (int64_t i = 0; i < n; ++i)
      p.insert(i);
  } else {
    for (int64_t i : {int64_t(0), int64_t(1), int64_t(2), n / 2, n - 2, n - 1})
      if (i >= 0 && i < n)
        p.insert(i);
  }
  return SmallVector<int64_t>(p.begin(), p.end());
}

/// Calls f(b, h, s, e) over the probe grid of `g`; stops at the first false.
template <typename F> bool forProbes(const Geometry &g, F f) {
  bool all = g.b * g.h * g.s * g.hd <= (int64_t(1) << 16);
  for (int64_t b : probes(g.b, all))
    for (int64_t h : probes(g.h, all))
      for (int64_t s : probes(g.s, all))
        for (int64_t e : probes(g.hd, all))
          if (!f(b, h, s, e))
            return false;
  return true;
}

/// A head-split operand traced to its [B, S, D]-like source.
struct HeadSource {
  Value source;
  Layout layout = Layout::BatchFirst;
  Geometry geo;
  double scale = 1.0;
};

/// Traces the head-split value `x` ([B, H, S, hd] or [B*H, S, hd]; with
/// `transposed` [.., hd, S]) back through reshapes, transposes and scalar
/// scales, and returns the farthest value on the way that is x's source in
/// a [B, S, D], [S, B, D], [B*S, D] or [S*B, D] layout.
std::optional<HeadSource> traceHeads(Value x, bool transposed, int64_t heads) {
  ArrayRef<int64_t> xs = shapeOf(x);
  if (xs.size() != 3 && xs.size() != 4)
    return std::nullopt;
  // Walk back; remember every value and the chain to it.
  SmallVector<Operation *> chain; // Reverse order while walking.
  SmallVector<std::pair<Value, double>> candidates{{x, 1.0}};
  double scale = 1.0;
  Value v = x;
  while (true) {
    Operation *op = v.getDefiningOp();
    Value next;
    if (isa_and_nonnull<ReshapeOp, TransposeOp>(op))
      next = op->getOperand(0);
    else if (Value peeled = peelScale(v, scale))
      next = peeled;
    if (!next)
      break;
    chain.push_back(op);
    candidates.push_back({next, scale});
    v = next;
  }
  // Farthest candidate first: the source before any view of it.
  for (size_t c = candidates.size(); c-- > 0;) {
    auto [src, s] = candidates[c];
    ArrayRef<int64_t> ss = shapeOf(src);
    if (ss.size() != 2 && ss.size() != 3)
      continue;
    Geometry g;
    g.hd = transposed ? xs[xs.size() - 2] : xs.back();
    g.s = transposed ? xs.back() : xs[xs.size() - 2];
    int64_t width = ss.back();
    if (xs.size() == 4) {
      g.b = xs[0];
      g.h = xs[1];
    } else {
      if (g.hd == 0 || width % g.hd)
        continue;
      g.h = width / g.hd;
      if (g.h == 0 || xs[0] % g.h)
        continue;
      g.b = xs[0] / g.h;
    }
    if ((heads && g.h != heads) || g.width() != width ||
        numElements(ss) != g.b * g.s * width)
      continue;
    SmallVector<Operation *> forward(chain.begin(), chain.begin() + c);
    std::reverse(forward.begin(), forward.end());
    for (Layout l : {Layout::BatchFirst, Layout::SeqFirst}) {
      if (ss.size() == 3 &&
          (l == Layout::BatchFirst ? (ss[0] != g.b || ss[1] != g.s)
                                   : (ss[0] != g.s || ss[1] != g.b)))
        continue;
      bool ok = forProbes(g, [&](int64_t b, int64_t h, int64_t sq, int64_t e) {
        int64_t want = seqLinear(g, l, b, sq, h, e);
        int64_t got =
            forward.empty()
                ? headLinear(g, transposed, b, h, sq, e)
                : mapBack(
                      forward,
                      delinearize(headLinear(g, transposed, b, h, sq, e), xs),
                      ss);
        return want == got;
      });
      if (ok)
        return HeadSource{src, l, g, s};
    }
  }
  return std::nullopt;
}

/// `source` as [B, S, D] (batch first), adding a reshape and/or transpose.
Value toBatchFirst(PatternRewriter &rewriter, Location loc,
                   const HeadSource &hs) {
  Type f32 = rewriter.getF32Type();
  const Geometry &g = hs.geo;
  Value v = hs.source;
  if (hs.layout == Layout::BatchFirst) {
    if (shapeOf(v).size() == 2)
      v = rewriter.create<ReshapeOp>(
          loc, RankedTensorType::get({g.b, g.s, g.width()}, f32), v);
    return v;
  }
  if (shapeOf(v).size() == 2)
    v = rewriter.create<ReshapeOp>(
        loc, RankedTensorType::get({g.s, g.b, g.width()}, f32), v);
  return rewriter.create<TransposeOp>(
      loc, RankedTensorType::get({g.b, g.s, g.width()}, f32), v,
      rewriter.getDenseI64ArrayAttr({1, 0, 2}));
}

struct RaiseAttention : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatMulOp root,
                                PatternRewriter &rewriter) const override {
    auto softmax = root.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax)
      return rewriter.notifyMatchFailure(root, "lhs is not a softmax");
    ArrayRef<int64_t> ps = shapeOf(softmax.getResult());
    int64_t rank = ps.size();
    int64_t axis = static_cast<int64_t>(softmax.getAxis());
    if ((rank != 3 && rank != 4) || (axis != rank - 1 && axis != -1))
      return rewriter.notifyMatchFailure(root, "softmax not over the keys");

    // Scores: (Q' x K'^T) scaled, plus a mask.
    Value t = softmax.getInput(), mask;
    double scale = 1.0;
    while (Value p = peelScale(t, scale))
      t = p;
    if (auto add = t.getDefiningOp<AddOp>()) {
      for (auto [s, m] : {std::pair(add.getLhs(), add.getRhs()),
                          std::pair(add.getRhs(), add.getLhs())}) {
        Value inner = s;
        double sc = 1.0;
        while (Value p = peelScale(inner, sc))
          inner = p;
        if (inner.getDefiningOp<MatMulOp>() && s.getType() == t.getType()) {
          mask = m;
          t = inner;
          scale *= sc;
          break;
        }
      }
      if (!mask)
        return rewriter.notifyMatchFailure(root, "add without scores");
    }
    auto scores = t.getDefiningOp<MatMulOp>();
    if (!scores || shapeOf(scores.getResult()) != ps)
      return rewriter.notifyMatchFailure(root, "no Q x K^T");

    std::optional<HeadSource> q = traceHeads(scores.getLhs(), false, 0);
    if (!q)
      return rewriter.notifyMatchFailure(root, "query head split not found");
    std::optional<HeadSource> k = traceHeads(scores.getRhs(), true, q->geo.h);
    std::optional<HeadSource> v = traceHeads(root.getRhs(), false, q->geo.h);
    if (!k || !v)
      return rewriter.notifyMatchFailure(root, "key/value head split");
    if (k->geo.b != q->geo.b || v->geo.b != q->geo.b ||
        k->geo.hd != q->geo.hd || v->geo.hd != q->geo.hd ||
        v->geo.s != k->geo.s ||
        shapeOf(root.getResult()).size() != size_t(rank))
      return rewriter.notifyMatchFailure(root, "inconsistent heads");
    scale *= q->scale * k->scale * v->scale;
    if (v->scale != 1.0)
      return rewriter.notifyMatchFailure(root, "value is scaled");

    // The head merge after the product.
    Geometry out = q->geo;
    Operation *merge = nullptr;
    Layout mergeLayout = Layout::BatchFirst;
    SmallVector<Operation *> chain;
    Value cur = root.getResult();
    while (!merge && cur.hasOneUse()) {
      Operation *user = *cur.getUsers().begin();
      if (!isa<ReshapeOp, TransposeOp>(user))
        break;
      chain.push_back(user);
      cur = user->getResult(0);
      ArrayRef<int64_t> ys = shapeOf(cur);
      if ((ys.size() != 2 && ys.size() != 3) || ys.back() != out.width())
        continue;
      for (Layout l : {Layout::BatchFirst, Layout::SeqFirst}) {
        if (ys.size() == 3 &&
            (l == Layout::BatchFirst ? (ys[0] != out.b || ys[1] != out.s)
                                     : (ys[0] != out.s || ys[1] != out.b)))
          continue;
        if (ys.size() == 2 && ys[0] != out.b * out.s)
          continue;
        bool ok =
            forProbes(out, [&](int64_t b, int64_t h, int64_t s, int64_t e) {
              int64_t y = seqLinear(out, l, b, s, h, e);
              return mapBack(chain, delinearize(y, ys),
                             shapeOf(root.getResult())) ==
                     headLinear(out, false, b, h, s, e);
            });
        if (ok) {
          merge = user;
          mergeLayout = l;
          break;
        }
      }
    }
    if (!merge)
      return rewriter.notifyMatchFailure(root, "head merge not found");

    // The mask, as something that broadcasts to [B, H, Sq, Sk].
    Location loc =
        FusedLoc::get(getContext(), {softmax.getLoc(), root.getLoc()});
    rewriter.setInsertionPoint(merge);
    Type f32 = rewriter.getF32Type();
    if (mask && rank == 3) {
      ArrayRef<int64_t> ms = shapeOf(mask);
      SmallVector<int64_t> shape(ms);
      if (ms.size() == 3 && ms[0] == out.b * out.h)
        shape = {out.b, out.h, ms[1], ms[2]};
      else if (ms.size() == 3 && ms[0] == 1)
        shape = {ms[1], ms[2]};
      else if (ms.size() == 3)
        return rewriter.notifyMatchFailure(root, "mask batch");
      if (ArrayRef<int64_t>(shape) != ms)
        mask = rewriter.create<ReshapeOp>(
            loc, RankedTensorType::get(shape, f32), mask);
    }
    Value qv = toBatchFirst(rewriter, loc, *q);
    Value kv = toBatchFirst(rewriter, loc, *k);
    Value vv = toBatchFirst(rewriter, loc, *v);
    auto resultType = RankedTensorType::get({out.b, out.s, out.width()}, f32);
    Value att = rewriter.create<AttentionOp>(
        loc, resultType, qv, kv, vv, mask, rewriter.getI64IntegerAttr(out.h),
        rewriter.getI64IntegerAttr(out.hd),
        rewriter.getF32FloatAttr(static_cast<float>(scale)));
    ArrayRef<int64_t> ys = shapeOf(merge->getResult(0));
    Value result = att;
    if (mergeLayout == Layout::SeqFirst)
      result = rewriter.create<TransposeOp>(
          loc, RankedTensorType::get({out.s, out.b, out.width()}, f32), att,
          rewriter.getDenseI64ArrayAttr({1, 0, 2}));
    if (shapeOf(result) != ys)
      result = rewriter.create<ReshapeOp>(loc, merge->getResult(0).getType(),
                                          result);
    rewriter.replaceOp(merge, result);
    return success();
  }
};

struct RaiseAttentionPass
    : tessera::tsr::impl::TsrRaiseAttentionBase<RaiseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseAttention>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> tessera::tsr::createRaiseAttentionPass() {
  return std::make_unique<RaiseAttentionPass>();
}
