//===- FuseAttention.cpp - tsr.attention as one fused chip kernel ---------===//
//
// Part of Tessera. `tsr-fuse-attention` (docs/fusion.md):
//
//   for every tsr.attention outside a group, without a mask:
//     trace q, k and v to the tensor they are cut from (a slice along the
//       last axis of a packed QKV projection, a [1, 0, 2] transpose of a
//       sequence-first tensor): the kernel reads them in place;
//     ask the cost model for the tile of each form: whole score rows
//       (cost::searchAttention: one head's K and V plus a tile of query
//       rows fit SRAM) and the online softmax (cost::searchOnlineAttention:
//       K/V tiles of tk rows, query tiles of tq);
//     neither fits: leave the attention unfused, with a remark saying the
//       bytes; else move the attention (and the traced slices/transposes)
//       into a tsr.group {kind = "attention", heads_on_chip = 0, softmax,
//       why} carrying the chosen tile as `tsr.tiling` (every head's K and V
//       through DRAM; tsr-keep-kv may keep the first heads' on chip when
//       softmax = "row"): softmax = "row" when whole rows fit, else
//       "online" with tq and tk.
//
// The chip config is `chip-config` (default: the reference chip);
// `sram-bytes` overrides its capacity.
//
//===----------------------------------------------------------------------===//
#include "PassChip.h"
#include "tessera/Transforms/Fusion.h"

#include "tessera/CostModel/CostModel.h"
#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/SetVector.h"

#include <map>
#include <optional>
#include <vector>

namespace tessera::tsr {
#define GEN_PASS_DEF_TSRFUSEATTENTION
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

using namespace mlir;
using namespace tessera;
using namespace tessera::tsr;

OperandLayout tessera::tsr::traceAttentionOperand(Value x) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(x.getType()).getShape();
  int64_t b = shape[0], s = shape[1];
  OperandLayout l;
  Value cur = x;
  bool seqFirst = false;
  if (auto t = cur.getDefiningOp<TransposeOp>();
      t && t.getPerm() == ArrayRef<int64_t>{1, 0, 2} && t->hasOneUse()) {
    seqFirst = true;
    l.chain.push_back(t);
    cur = t.getInput();
  }
  ArrayRef<int64_t> cs = cast<RankedTensorType>(cur.getType()).getShape();
  int64_t width = cs[2];
  if (auto sl = cur.getDefiningOp<SliceOp>(); sl && sl->hasOneUse()) {
    ArrayRef<int64_t> in =
        cast<RankedTensorType>(sl.getInput().getType()).getShape();
    ArrayRef<int64_t> off = sl.getOffsets(), steps = sl.getSteps();
    if (in.size() == 3 && in[0] == cs[0] && in[1] == cs[1] && off[0] == 0 &&
        off[1] == 0 && llvm::all_of(steps, [](int64_t v) { return v == 1; })) {
      l.offset = off[2];
      width = in[2];
      l.chain.push_back(sl);
      cur = sl.getInput();
    }
  }
  l.source = cur;
  l.batchStride = seqFirst ? width : s * width;
  l.rowStride = seqFirst ? b * width : width;
  return l;
}

cost::MatMulGroupOp
tessera::tsr::matmulGroupWorkload(const MatMulGroupParts &parts) {
  cost::MatMulGroupOp op;
  op.m = uint64_t(parts.m);
  op.k = uint64_t(parts.k);
  op.n = uint64_t(parts.n);
  op.layernorm = bool(parts.layernorm);
  op.bias = parts.bias >= 0;
  op.gelu = parts.gelu;
  op.tanhGelu = parts.tanhGelu;
  op.residual = parts.residual >= 0;
  op.foldBias = parts.foldBias;
  return op;
}

void tessera::tsr::setGemmTiling(GroupOp g, const cost::GemmTiling &t,
                                 const cost::Cost &c) {
  Builder b(g.getContext());
  auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(int64_t(v)); };
  g->setAttr("tsr.tiling",
             b.getDictionaryAttr(
                 {b.getNamedAttr("tm", i64(t.tm)),
                  b.getNamedAttr("tk", i64(t.tk)),
                  b.getNamedAttr("tn", i64(t.tn)),
                  b.getNamedAttr("sram_bytes", i64(c.sramBytes)),
                  b.getNamedAttr("dram_bytes", i64(c.dramBytes())),
                  b.getNamedAttr("cycles", i64(c.latencyCycles))}));
}

cost::AttentionOp tessera::tsr::attentionWorkload(Operation *attention) {
  auto a = cast<AttentionOp>(attention);
  OperandLayout l[3] = {traceAttentionOperand(a.getQuery()),
                        traceAttentionOperand(a.getKey()),
                        traceAttentionOperand(a.getValue())};
  ArrayRef<int64_t> qs =
      cast<RankedTensorType>(a.getQuery().getType()).getShape();
  cost::AttentionOp op;
  op.batch = uint64_t(qs[0]);
  op.sq = uint64_t(qs[1]);
  op.sk = uint64_t(cast<RankedTensorType>(a.getKey().getType()).getShape()[1]);
  op.heads = uint64_t(a.getHeads());
  op.headDim = uint64_t(a.getHeadDim());
  op.qOffset = l[0].offset;
  op.qBatchStride = l[0].batchStride;
  op.qRowStride = l[0].rowStride;
  op.kOffset = l[1].offset;
  op.kBatchStride = l[1].batchStride;
  op.kRowStride = l[1].rowStride;
  op.vOffset = l[2].offset;
  op.vBatchStride = l[2].batchStride;
  op.vRowStride = l[2].rowStride;
  op.outRowStride = op.heads * op.headDim;
  op.outBatchStride = op.sq * op.outRowStride;
  return op;
}

namespace {

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1 << 20));
  return buf;
}

struct FuseAttentionPass
    : tessera::tsr::impl::TsrFuseAttentionBase<FuseAttentionPass> {
  using TsrFuseAttentionBase::TsrFuseAttentionBase;
  explicit FuseAttentionPass(const arch::ChipConfig &chip) : chip(chip) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!chip && !(chip = loadPassChip(module, chipConfig)))
      return signalPassFailure();
    SmallVector<AttentionOp> todo;
    module.walk([&](AttentionOp a) {
      if (!a->getParentOfType<GroupOp>())
        todo.push_back(a);
    });
    for (AttentionOp a : todo)
      fuse(a);
  }

  void fuse(AttentionOp a) {
    if (a.getMask()) {
      a.emitRemark() << "attention not fused: the fused kernel has no mask "
                        "input yet";
      return;
    }
    OperandLayout l[3] = {traceAttentionOperand(a.getQuery()),
                          traceAttentionOperand(a.getKey()),
                          traceAttentionOperand(a.getValue())};
    cost::AttentionOp op = attentionWorkload(a);
    cost::Constraints c;
    c.sramBytes = sramBytes;
    uint64_t budget = c.budget(*chip);
    const Searched &found = search(op, c);
    const auto &best = found.row;
    const auto &online = found.online;
    uint64_t e = 2;
    uint64_t rowMin =
        cost::attentionSramBytes(op, {std::min<uint64_t>(8, op.sq)}, c);
    if (!best && !online) {
      cost::OnlineAttentionTiling small = cost::onlineAttentionMinTiling(op);
      a.emitRemark() << "attention not fused: K and V of one head and 8 "
                        "query rows of scores need "
                     << rowMin << " bytes of SRAM, the online softmax's "
                     << "smallest tiles (" << small.tq << " query rows, "
                     << small.tk << " key rows) need "
                     << cost::onlineAttentionSramBytes(op, small, c)
                     << ", the budget is " << budget;
      return;
    }
    // Whole score rows whenever they fit: the online form is taken only
    // when they do not. (Where both fit, the online form is modelled at
    // most about 0.1% faster on the perception layer, 686566 against 687412
    // cycles at 1 MiB, and the whole-row kernel is the one tsr-keep-kv can
    // give resident K/V heads.)
    bool useOnline = online && !best;
    std::string why, softmax = useOnline ? "online" : "row";
    uint64_t tq = useOnline ? online->tiling.tq : best->tiling.tq;
    const cost::Cost &chosen = useOnline ? online->cost : best->cost;
    std::string scores = std::to_string(op.batch * op.heads) + " x " +
                         std::to_string(op.sq) + " x " + std::to_string(op.sk) +
                         " scores and probabilities stay on chip";
    if (!useOnline) {
      why = "K and V of a head (2 x " + std::to_string(op.sk * op.headDim * e) +
            " B, double-buffered) and " + std::to_string(tq) +
            " query rows of whole score rows (FP32 " +
            std::to_string(tq * op.sk * 4) + " B, FP16 probabilities " +
            std::to_string(tq * op.sk * e) + " B) fit " + mib(budget) +
            " of SRAM (" + std::to_string(best->cost.sramBytes) +
            " B used): the " + scores;
    } else {
      uint64_t tk = online->tiling.tk, hd = op.headDim;
      why = (best ? "online softmax modelled at " +
                        std::to_string(online->cost.latencyCycles) +
                        " cycles against " +
                        std::to_string(best->cost.latencyCycles) +
                        " for whole score rows (" +
                        std::to_string(best->cost.sramBytes) + " B)"
                  : "whole score rows do not fit (K and V of a head and 8 "
                    "query rows of scores need " +
                        std::to_string(rowMin) + " B)") +
            ": online softmax over K and V tiles of " + std::to_string(tk) +
            " rows (2 x 2 x " + std::to_string(tk * hd * e) +
            " B, double-buffered) with " + std::to_string(tq) +
            " query rows (FP32 scores " + std::to_string(tq * tk * 4) +
            " B, FP16 probabilities " + std::to_string(tq * tk * e) +
            " B, FP32 context " + std::to_string(tq * hd * 4) + " B) fits " +
            mib(budget) + " of SRAM (" + std::to_string(chosen.sramBytes) +
            " B used): the " + scores;
    }

    // The group's operands: each traced source once.
    llvm::SetVector<Value> inputs;
    for (const OperandLayout &x : l)
      inputs.insert(x.source);
    OpBuilder b(a);
    auto group = b.create<GroupOp>(
        a.getLoc(), TypeRange{a.getType()}, inputs.getArrayRef(),
        b.getStringAttr("attention"), b.getI64IntegerAttr(0),
        b.getStringAttr(softmax), /*epilogue=*/ArrayAttr(),
        /*prologue=*/StringAttr(), b.getStringAttr(why));
    MLIRContext *ctx = a.getContext();
    SmallVector<NamedAttribute> tile{
        b.getNamedAttr("tq", b.getI64IntegerAttr(int64_t(tq)))};
    if (useOnline)
      tile.push_back(b.getNamedAttr(
          "tk", b.getI64IntegerAttr(int64_t(online->tiling.tk))));
    tile.push_back(b.getNamedAttr(
        "sram_bytes", b.getI64IntegerAttr(int64_t(chosen.sramBytes))));
    tile.push_back(b.getNamedAttr(
        "dram_bytes", b.getI64IntegerAttr(int64_t(chosen.dramBytes()))));
    tile.push_back(b.getNamedAttr(
        "cycles", b.getI64IntegerAttr(int64_t(chosen.latencyCycles))));
    group->setAttr("tsr.tiling", DictionaryAttr::get(ctx, tile));
    Block *body = b.createBlock(&group.getBody());
    IRMapping map;
    for (Value in : inputs)
      map.map(in, body->addArgument(in.getType(), in.getLoc()));
    b.setInsertionPointToStart(body);
    for (const OperandLayout &x : l)
      for (Operation *chainOp : llvm::reverse(x.chain))
        if (!map.contains(chainOp->getResult(0)))
          b.clone(*chainOp, map);
    Operation *inner = b.clone(*a, map);
    b.create<YieldOp>(a.getLoc(), inner->getResults());
    a.getResult().replaceAllUsesWith(group.getResult(0));
    a.erase();
    for (const OperandLayout &x : l)
      for (Operation *chainOp : x.chain)
        if (chainOp->use_empty())
          chainOp->erase();
  }

  /// Both forms' best tiles for one workload: a network repeats the same
  /// attention in every layer, so each shape is searched once.
  struct Searched {
    std::optional<cost::Choice<cost::AttentionTiling>> row;
    std::optional<cost::Choice<cost::OnlineAttentionTiling>> online;
  };
  const Searched &search(const cost::AttentionOp &op,
                         const cost::Constraints &c) {
    std::vector<uint64_t> key{
        op.batch,        op.heads,        op.sq,           op.sk,
        op.headDim,      op.qOffset,      op.kOffset,      op.vOffset,
        op.qRowStride,   op.kRowStride,   op.vRowStride,   op.outRowStride,
        op.qBatchStride, op.kBatchStride, op.vBatchStride, op.outBatchStride,
        c.sramBytes};
    auto it = searched.find(key);
    if (it != searched.end())
      return it->second;
    Searched s;
    s.row = cost::searchAttention(*chip, op, c);
    s.online = cost::searchOnlineAttention(*chip, op, c);
    return searched.emplace(key, std::move(s)).first->second;
  }

  std::optional<arch::ChipConfig> chip;
  std::map<std::vector<uint64_t>, Searched> searched;
};

} // namespace

std::unique_ptr<Pass>
tessera::tsr::createFuseAttentionPass(const arch::ChipConfig &chip) {
  return std::make_unique<FuseAttentionPass>(chip);
}
