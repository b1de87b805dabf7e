//===- ExpandAttention.cpp - tsr.attention back into the chip's kernels ---===//
//
// Part of Tessera. The chip has no attention kernel yet, so the compiler
// runs this right before code generation. Each tsr.attention becomes
//   Q_h = transpose(reshape(q, [B, Sq, H, hd]), [0, 2, 1, 3]) * scale
//   K_h^T = transpose(reshape(k, [B, Sk, H, hd]), [0, 2, 3, 1])
//   V_h = transpose(reshape(v, [B, Sk, H, hd]), [0, 2, 1, 3])
//   out = reshape(transpose(softmax(Q_h K_h^T (+ mask)) V_h, [0, 2, 1, 3]))
// The scale goes on Q (B*Sq*D elements) rather than on the scores
// (B*H*Sq*Sk). A sequence-first source (q = transpose(x, [1, 0, 2]), as
// tsr-raise-attention leaves nn.MultiheadAttention) is split directly from
// x with one permutation, and a result consumed only by transposes back to
// sequence-first is merged directly into that layout: no data movement is
// added over the exported graph.
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera::tsr {
#define GEN_PASS_DEF_TSREXPANDATTENTION
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

using namespace mlir;
using namespace tessera::tsr;

namespace {

/// `v` is transpose(x, [1, 0, 2]): returns x.
Value seqFirstSource(Value v) {
  auto t = v.getDefiningOp<TransposeOp>();
  if (t && t.getPerm() == ArrayRef<int64_t>{1, 0, 2})
    return t.getInput();
  return {};
}

struct ExpandAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    // A fused group's attention is lowered by its own kernel.
    if (op->getParentOfType<GroupOp>())
      return failure();
    // Every kernel is named "<attention>/<part>" (the report's layer names),
    // the attention's name being the first name in its location.
    std::string name = "attention";
    if (auto n = dyn_cast<NameLoc>(op.getLoc()))
      name = n.getName().str();
    else if (auto f = dyn_cast<FusedLoc>(op.getLoc()))
      for (Location l : f.getLocations())
        if (auto n = dyn_cast<NameLoc>(l)) {
          name = n.getName().str();
          break;
        }
    auto at = [&](StringRef part) -> Location {
      return NameLoc::get(rewriter.getStringAttr(name + "/" + part.str()),
                          op.getLoc());
    };
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    auto type = [&](ArrayRef<int64_t> s) {
      return RankedTensorType::get(s, f32);
    };
    ArrayRef<int64_t> qs =
        cast<RankedTensorType>(op.getQuery().getType()).getShape();
    int64_t b = qs[0], sq = qs[1], d = qs[2];
    int64_t sk = cast<RankedTensorType>(op.getKey().getType()).getShape()[1];
    int64_t h = static_cast<int64_t>(op.getHeads()), hd = d / h;

    // [B, S, D] (or its [S, B, D] source) -> heads; `keyT`: [B, H, hd, S].
    auto split = [&](Value x, int64_t s, bool keyT, StringRef part) -> Value {
      Location loc = at(part);
      SmallVector<int64_t> perm;
      if (Value src = seqFirstSource(x)) {
        x = rewriter.create<ReshapeOp>(loc, type({s, b, h, hd}), src);
        perm = keyT ? SmallVector<int64_t>{1, 2, 3, 0}
                    : SmallVector<int64_t>{1, 2, 0, 3};
      } else {
        x = rewriter.create<ReshapeOp>(loc, type({b, s, h, hd}), x);
        perm = keyT ? SmallVector<int64_t>{0, 2, 3, 1}
                    : SmallVector<int64_t>{0, 2, 1, 3};
      }
      SmallVector<int64_t> shape = keyT ? SmallVector<int64_t>{b, h, hd, s}
                                        : SmallVector<int64_t>{b, h, s, hd};
      return rewriter.create<TransposeOp>(loc, type(shape), x,
                                          rewriter.getDenseI64ArrayAttr(perm));
    };
    Value qh = split(op.getQuery(), sq, false, "q_heads");
    float scale = op.getScale().convertToFloat();
    if (scale != 1.0f) {
      auto st = type({});
      Value c = rewriter.create<WeightOp>(
          loc, st, rewriter.getStringAttr(name + ".scale"),
          DenseElementsAttr::get(st, scale));
      qh = rewriter.create<MulOp>(at("scale"), qh.getType(), qh, c);
    }
    Value kt = split(op.getKey(), sk, true, "k_heads_t");
    Value vh = split(op.getValue(), sk, false, "v_heads");
    Value scores =
        rewriter.create<MatMulOp>(at("scores"), type({b, h, sq, sk}), qh, kt);
    if (Value mask = op.getMask())
      scores =
          rewriter.create<AddOp>(at("mask"), scores.getType(), scores, mask);
    Value p = rewriter.create<SoftmaxOp>(at("softmax"), scores.getType(),
                                         scores, rewriter.getI64IntegerAttr(3));
    Value ctx =
        rewriter.create<MatMulOp>(at("context"), type({b, h, sq, hd}), p, vh);
    loc = at("merge");

    // Consumed only as sequence-first: merge into [Sq, B, D] directly.
    bool seqFirstUsers = !op->use_empty();
    for (Operation *user : op->getUsers()) {
      auto t = dyn_cast<TransposeOp>(user);
      seqFirstUsers &= t && t.getPerm() == ArrayRef<int64_t>{1, 0, 2};
    }
    if (seqFirstUsers) {
      Value m = rewriter.create<TransposeOp>(
          loc, type({sq, b, h, hd}), ctx,
          rewriter.getDenseI64ArrayAttr({2, 0, 1, 3}));
      Value merged = rewriter.create<ReshapeOp>(loc, type({sq, b, d}), m);
      for (Operation *user : llvm::make_early_inc_range(op->getUsers()))
        rewriter.replaceOp(user, merged);
      rewriter.eraseOp(op);
      return success();
    }
    Value m = rewriter.create<TransposeOp>(
        loc, type({b, sq, h, hd}), ctx,
        rewriter.getDenseI64ArrayAttr({0, 2, 1, 3}));
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), m);
    return success();
  }
};

struct ExpandAttentionPass
    : tessera::tsr::impl::TsrExpandAttentionBase<ExpandAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandAttention>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> tessera::tsr::createExpandAttentionPass() {
  return std::make_unique<ExpandAttentionPass>();
}
