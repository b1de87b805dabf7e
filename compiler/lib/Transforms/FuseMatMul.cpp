//===- FuseMatMul.cpp - prologue and epilogue fusion into a matmul --------===//
//
// Part of Tessera. Two passes that build `tsr.group` ops of kind "matmul"
// (docs/fusion.md), each its own flag so its effect is measured alone:
//
//   tsr-fuse-epilogue:  matmul -> bias add [-> gelu] [-> residual add]
//     (any non-empty ordered subset, through free reshapes/transposes,
//     every value with one user) becomes one group {epilogue = [...]};
//   tsr-fuse-layernorm: a last-axis layernorm whose users are all matrix
//     products' A (bare matmuls or matmul groups, through free moves)
//     becomes the prologue of each one's group {prologue = "layernorm"}.
//
// Each group's tile is the cost model's choice (cost::searchMatMulGroup,
// memoized per shape: a 40-layer network has a handful of distinct
// products) recorded as `tsr.tiling`, with the bytes weighed in `why`.
// A group is built only when its modelled latency is not above that of
// the unfused kernels it replaces, as the code generator would emit them
// (codegen::unfusedMatMulKernels, priced by cost::evaluateSequence); both
// figures go into `why`, or, when the pass declines, into a remark and the
// `tsr.not_fused` attribute of the op that stays. When no tile fits the
// SRAM the ops stay as they are, with a remark.
//
//===----------------------------------------------------------------------===//
#include "PassChip.h"
#include "tessera/Compiler/Codegen.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Transforms/Fusion.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/SetVector.h"

#include <map>
#include <optional>
#include <tuple>

namespace tessera::tsr {
#define GEN_PASS_DEF_TSRFUSEEPILOGUE
#define GEN_PASS_DEF_TSRFUSELAYERNORM
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

using namespace mlir;
using namespace tessera;
using namespace tessera::tsr;

namespace {

int64_t elements(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}
ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// The chip and budget of a fusion pass, and its memoized tile searches.
struct Planner {
  std::optional<arch::ChipConfig> chip;
  uint64_t sramBytes = 0;
  using Key =
      std::tuple<uint64_t, uint64_t, uint64_t, bool, bool, bool, bool, bool>;
  std::map<Key, std::optional<cost::Choice<cost::GemmTiling>>> memo;
  /// The unfused side's vector tilings (codegen::unfusedMatMulKernels).
  mutable codegen::VectorTilingMemo vectorTilings;

  LogicalResult init(ModuleOp module, const std::string &config) {
    if (!chip)
      chip = loadPassChip(module, config);
    return success(chip.has_value());
  }
  cost::Constraints constraints() const {
    cost::Constraints c;
    c.sramBytes = sramBytes;
    return c;
  }
  uint64_t budget() const { return constraints().budget(*chip); }
  const std::optional<cost::Choice<cost::GemmTiling>> &
  search(const cost::MatMulGroupOp &op) {
    Key key{op.m,    op.k,    op.n,        op.layernorm,
            op.bias, op.gelu, op.tanhGelu, op.residual};
    auto it = memo.find(key);
    if (it == memo.end())
      it = memo.emplace(key, cost::searchMatMulGroup(*chip, op, constraints()))
               .first;
    return it->second;
  }
  /// The smallest footprint, for the remark when nothing fits.
  uint64_t smallest(const cost::MatMulGroupOp &op) const {
    return cost::matmulGroupMinSramBytes(*chip, op, constraints());
  }
  /// The unfused kernels of `op` as the code generator emits them (empty
  /// when one of them does not fit the budget: the group is the only way).
  std::vector<cost::Kernel> unfused(const cost::MatMulGroupOp &op) const {
    try {
      return codegen::unfusedMatMulKernels(*chip, budget(), op, &vectorTilings);
    } catch (const std::exception &) {
      return {};
    }
  }
  /// Modelled latency of kernels run back to back, and each one's share.
  cost::SequenceCost price(const std::vector<cost::Kernel> &kernels) const {
    return cost::evaluateSequence(*chip, kernels, {}, constraints());
  }
};

/// The fused and unfused kernels' modelled latencies, as `why` states them.
struct Verdict {
  uint64_t fused = 0, unfused = 0;
  bool unfusedFits = true;
  std::string unfusedParts; ///< "layernorm 41252 + matmul 1056262 + ..."
  bool fuse() const { return !unfusedFits || fused <= unfused; }
  std::string text() const {
    if (!unfusedFits)
      return "modelled " + std::to_string(fused) +
             " cycles; the unfused kernels do not fit the SRAM";
    return "modelled " + std::to_string(fused) + " cycles against " +
           std::to_string(unfused) + " for the unfused kernels (" +
           unfusedParts + ")";
  }
};

/// Prices `unfused` (kernels labelled `labels`) against `fused`.
Verdict compare(const Planner &planner, const std::vector<cost::Kernel> &fused,
                const std::vector<cost::Kernel> &unfused,
                const std::vector<std::string> &labels) {
  Verdict v;
  v.fused = planner.price(fused).latencyCycles;
  if (unfused.empty()) {
    v.unfusedFits = false;
    return v;
  }
  cost::SequenceCost u = planner.price(unfused);
  v.unfused = u.latencyCycles;
  for (size_t i = 0; i < labels.size() && i < u.attributedCycles.size(); ++i)
    v.unfusedParts += (i ? " + " : "") + labels[i] + " " +
                      std::to_string(u.attributedCycles[i]);
  return v;
}

/// Labels of codegen::unfusedMatMulKernels' kernels for `op`.
std::vector<std::string> unfusedLabels(const cost::MatMulGroupOp &op) {
  std::vector<std::string> l;
  if (op.layernorm)
    l.push_back("layernorm");
  l.push_back("matmul");
  if (op.bias)
    l.push_back("bias");
  if (op.gelu)
    l.push_back(op.tanhGelu ? "gelu(tanh)" : "gelu");
  if (op.residual)
    l.push_back("residual");
  return l;
}

/// Records a declined fusion on the op that stays (and as a remark).
void decline(Operation *op, const std::string &what, const Verdict &v) {
  std::string text =
      what + " not fused: " + v.text() + "; the fused kernel would be slower";
  op->setAttr("tsr.not_fused", StringAttr::get(op->getContext(), text));
  op->emitRemark() << text;
}

std::string mib(uint64_t bytes) {
  if (bytes < (1u << 20))
    return std::to_string(bytes) + " B";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1 << 20));
  return buf;
}

/// The group's reason: what stays on chip and the bytes weighed.
std::string whyOf(const cost::MatMulGroupOp &op,
                  const cost::Choice<cost::GemmTiling> &best, uint64_t budget) {
  uint64_t e = 2, tile = op.m * op.n * e;
  std::string what, sep;
  unsigned trips = 0;
  if (op.layernorm) {
    what +=
        "the layernorm of A's rows (whole rows of K = " + std::to_string(op.k) +
        ", " + std::to_string(op.m * op.k * e) + " B normalized in SRAM)";
    sep = "; ";
    ++trips;
  }
  std::string ep;
  for (auto [on, name] :
       {std::pair{op.bias, "bias"},
        std::pair{op.gelu, op.tanhGelu ? "gelu(tanh)" : "gelu"},
        std::pair{op.residual, "residual"}})
    if (on) {
      ep += (ep.empty() ? "" : " + ") + std::string(name);
      ++trips;
    }
  if (!ep.empty())
    what += sep + ep + " applied to each output tile before its one store";
  uint64_t removed = (op.layernorm ? 2 * op.m * op.k * e : 0) +
                     2 * tile * (trips - (op.layernorm ? 1 : 0));
  return what + ": " + std::to_string(trips) + " DRAM round trip" +
         (trips == 1 ? "" : "s") + " (" + std::to_string(removed) +
         " B) removed; " + std::to_string(best.tiling.tm) + "x" +
         std::to_string(best.tiling.tk) + "x" + std::to_string(best.tiling.tn) +
         " tiles of the " + std::to_string(op.m) + "x" + std::to_string(op.k) +
         "x" + std::to_string(op.n) + " product use " +
         std::to_string(best.cost.sramBytes) + " B of " + mib(budget) +
         " of SRAM";
}

/// Moves `ops` (in program order, the last one's result the group's) into
/// a new tsr.group placed at the last op; `inline_` (optional) is an
/// existing group among `ops` whose body is inlined in its place.
GroupOp buildGroup(ArrayRef<Operation *> ops, ArrayAttr epilogue,
                   StringAttr prologue, StringRef why) {
  llvm::SmallPtrSet<Operation *, 8> inside(ops.begin(), ops.end());
  llvm::SetVector<Value> inputs;
  for (Operation *op : ops)
    for (Value v : op->getOperands())
      if (!inside.count(v.getDefiningOp()))
        inputs.insert(v);
  Operation *last = ops.back();
  OpBuilder b(last);
  Builder ab(last->getContext());
  auto group = b.create<GroupOp>(
      last->getLoc(), last->getResultTypes(), inputs.getArrayRef(),
      ab.getStringAttr("matmul"), IntegerAttr(), StringAttr(), epilogue,
      prologue, ab.getStringAttr(why));
  Block *body = b.createBlock(&group.getBody());
  IRMapping map;
  for (Value in : inputs)
    map.map(in, body->addArgument(in.getType(), in.getLoc()));
  b.setInsertionPointToStart(body);
  for (Operation *op : ops) {
    auto inner = dyn_cast<GroupOp>(op);
    if (!inner) {
      b.clone(*op, map);
      continue;
    }
    // Inline the existing group: its arguments are its operands' values.
    Block &ib = inner.getBody().front();
    for (auto [arg, operand] : llvm::zip(ib.getArguments(), inner.getInputs()))
      map.map(arg, map.lookupOrDefault(operand));
    for (Operation &x : ib.without_terminator())
      b.clone(x, map);
    auto yield = cast<YieldOp>(ib.getTerminator());
    map.map(inner.getResult(0), map.lookup(yield.getValues()[0]));
  }
  b.create<YieldOp>(last->getLoc(), map.lookup(last->getResult(0)));
  last->getResult(0).replaceAllUsesWith(group.getResult(0));
  for (Operation *op : llvm::reverse(ops))
    op->erase();
  return group;
}

ArrayAttr epilogueAttr(MLIRContext *ctx, const cost::MatMulGroupOp &op) {
  Builder b(ctx);
  SmallVector<Attribute> v;
  if (op.bias)
    v.push_back(b.getStringAttr("bias"));
  if (op.gelu)
    v.push_back(b.getStringAttr("gelu"));
  if (op.residual)
    v.push_back(b.getStringAttr("residual"));
  return v.empty() ? ArrayAttr() : b.getArrayAttr(v);
}

//===----------------------------------------------------------------------===//
// tsr-fuse-epilogue
//===----------------------------------------------------------------------===//

struct FuseEpiloguePass
    : tessera::tsr::impl::TsrFuseEpilogueBase<FuseEpiloguePass> {
  using TsrFuseEpilogueBase::TsrFuseEpilogueBase;
  explicit FuseEpiloguePass(const arch::ChipConfig &chip) {
    planner.chip = chip;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    planner.sramBytes = sramBytes;
    if (failed(planner.init(module, chipConfig)))
      return signalPassFailure();
    SmallVector<MatMulOp> todo;
    module.walk([&](MatMulOp mm) {
      if (!mm->getParentOfType<GroupOp>())
        todo.push_back(mm);
    });
    for (MatMulOp mm : todo)
      fuse(mm);
  }

  void fuse(MatMulOp mm) {
    ArrayRef<int64_t> bs = shapeOf(mm.getRhs());
    if (bs.size() != 2)
      return;
    cost::MatMulGroupOp op;
    op.k = uint64_t(bs[0]);
    op.n = uint64_t(bs[1]);
    op.m = uint64_t(elements(mm.getLhs())) / op.k;
    SmallVector<Operation *> ops{mm}, pending;
    // After each epilogue op taken: the ops up to it and the group's op.
    std::vector<std::pair<size_t, cost::MatMulGroupOp>> cuts;
    Value cur = mm.getResult();
    while (cur.hasOneUse()) {
      Operation *user = *cur.getUsers().begin();
      if (user->getBlock() != mm->getBlock())
        break;
      if (movesNoData(user)) {
        pending.push_back(user);
        cur = user->getResult(0);
        continue;
      }
      bool take = false;
      if (auto add = dyn_cast<AddOp>(user)) {
        Value other = add.getLhs() == cur ? add.getRhs() : add.getLhs();
        if (other == cur || shapeOf(add.getResult()) != shapeOf(cur))
          break;
        ArrayRef<int64_t> os = shapeOf(other);
        // N elements along the last axis: a bias (first, before GELU and
        // the residual); the product's own shape: a residual.
        if (!op.bias && !op.gelu && !op.residual && !os.empty() &&
            os.back() == int64_t(op.n) && elements(other) == int64_t(op.n)) {
          op.bias = take = true;
        } else if (!op.residual && os == shapeOf(cur)) {
          op.residual = take = true;
        }
      } else if (auto gelu = dyn_cast<GeluOp>(user)) {
        if (!op.gelu && !op.residual) {
          op.gelu = take = true;
          op.tanhGelu = gelu.getApproximate() == "tanh";
        }
      }
      if (!take)
        break;
      ops.append(pending.begin(), pending.end());
      pending.clear();
      ops.push_back(user);
      cur = user->getResult(0);
      cuts.push_back({ops.size(), op});
    }
    if (cuts.empty())
      return;
    const EpilogueDecision &d = decide(cuts);
    const std::optional<Option> &chosen = d.chosen;
    const std::optional<uint64_t> &whole = d.whole;
    const std::vector<std::string> &labels = d.labels;
    if (!chosen) {
      mm.emitRemark() << "matmul epilogue not fused: the smallest tile of the "
                      << op.m << "x" << op.k << "x" << op.n
                      << " product with its epilogue needs "
                      << planner.smallest(op)
                      << " bytes of SRAM, the budget is " << planner.budget();
      return;
    }
    Verdict v = d.verdict;
    if (!v.fuse()) {
      if (whole)
        v.fused = *whole; // The decline names the whole chain's figure.
      return decline(mm, "matmul epilogue", v);
    }
    const cost::MatMulGroupOp &gop = cuts[chosen->cut].second;
    std::string why = whyOf(gop, chosen->best, planner.budget()) + "; ";
    if (chosen->cut + 1 == cuts.size()) {
      why += v.text();
    } else {
      // A shorter group: the epilogue ops after the cut stay kernels.
      std::string rest;
      size_t left = labels.size() - (chosen->cut + 2);
      for (size_t i = chosen->cut + 2; i < labels.size(); ++i)
        rest += (i == chosen->cut + 2 ? "" : " and ") + labels[i];
      why += "modelled " + std::to_string(v.fused) + " cycles with the " +
             rest +
             (left == 1 ? " as its own kernel" : " as their own kernels");
      if (v.unfusedFits)
        why += ", against " + std::to_string(v.unfused) +
               " for the unfused kernels (" + v.unfusedParts + ")";
      why += "; the whole epilogue fused: " +
             (whole ? std::to_string(*whole) + " cycles"
                    : std::string("does not fit"));
    }
    ops.resize(cuts[chosen->cut].first);
    GroupOp g =
        buildGroup(ops, epilogueAttr(mm.getContext(), gop), StringAttr(), why);
    setGemmTiling(g, chosen->best.tiling, chosen->best.cost);
  }

  /// Each prefix of the chain fused (cut i: the product and epilogue ops
  /// 0..i, replacing unfused kernels 0..i+1), the rest as unfused kernels;
  /// the fastest wins, ties to the longer group. Memoized per chain (a
  /// 40-layer network has a handful).
  struct Option {
    size_t cut;
    cost::Choice<cost::GemmTiling> best;
    uint64_t latency;
  };
  struct EpilogueDecision {
    std::optional<Option> chosen;
    std::optional<uint64_t> whole; ///< The whole chain fused, if it fits.
    std::vector<std::string> labels;
    Verdict verdict;
  };
  const EpilogueDecision &
  decide(const std::vector<std::pair<size_t, cost::MatMulGroupOp>> &cuts) {
    const cost::MatMulGroupOp &op = cuts.back().second;
    Planner::Key key{op.m,    op.k,    op.n,        op.layernorm,
                     op.bias, op.gelu, op.tanhGelu, op.residual};
    auto it = decisions.find(key);
    if (it != decisions.end())
      return it->second;
    EpilogueDecision d;
    std::optional<Option> &chosen = d.chosen;
    std::optional<uint64_t> &whole = d.whole;
    // The whole chain unfused: the GEMM, then one kernel per epilogue op.
    std::vector<cost::Kernel> unfused = planner.unfused(op);
    d.labels = unfusedLabels(op);
    for (size_t i = cuts.size(); i-- > 0;) {
      const auto &best = planner.search(cuts[i].second);
      if (!best)
        continue;
      std::vector<cost::Kernel> seq;
      if (i + 1 == cuts.size() || unfused.empty()) {
        seq.push_back(cost::matmulGroupKernel(cuts[i].second, best->tiling));
      } else {
        // The group writes the tensor the first remaining kernel reads.
        cost::MatMulGroupOp g = cuts[i].second;
        for (const cost::Stream &st : unfused[i + 1].streams)
          if (st.store)
            g.out = st.tensor;
        seq.push_back(cost::matmulGroupKernel(g, best->tiling));
        seq.insert(seq.end(), unfused.begin() + i + 2, unfused.end());
      }
      uint64_t latency = planner.price(seq).latencyCycles;
      if (i + 1 == cuts.size())
        whole = latency;
      if (!chosen || latency < chosen->latency)
        chosen = Option{i, *best, latency};
      if (unfused.empty())
        break; // Nothing to compare with: the longest group that fits.
    }
    Verdict &v = d.verdict;
    if (chosen)
      v.fused = chosen->latency;
    if (unfused.empty()) {
      v.unfusedFits = false;
    } else {
      cost::SequenceCost u = planner.price(unfused);
      v.unfused = u.latencyCycles;
      for (size_t i = 0; i < d.labels.size(); ++i)
        v.unfusedParts += (i ? " + " : "") + d.labels[i] + " " +
                          std::to_string(u.attributedCycles[i]);
    }
    return decisions.emplace(key, std::move(d)).first->second;
  }

  std::map<Planner::Key, EpilogueDecision> decisions;
  Planner planner;
};

//===----------------------------------------------------------------------===//
// tsr-fuse-layernorm
//===----------------------------------------------------------------------===//

struct FuseLayerNormPass
    : tessera::tsr::impl::TsrFuseLayerNormBase<FuseLayerNormPass> {
  using TsrFuseLayerNormBase::TsrFuseLayerNormBase;
  explicit FuseLayerNormPass(const arch::ChipConfig &chip) {
    planner.chip = chip;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    planner.sramBytes = sramBytes;
    if (failed(planner.init(module, chipConfig)))
      return signalPassFailure();
    SmallVector<LayerNormOp> todo;
    module.walk([&](LayerNormOp ln) {
      if (!ln->getParentOfType<GroupOp>())
        todo.push_back(ln);
    });
    for (LayerNormOp ln : todo)
      fuse(ln);
  }

  /// One consumer of the layernorm: the free moves from it to a product's
  /// A, and the product (a bare matmul or a matmul group without prologue).
  struct Consumer {
    SmallVector<Operation *> moves;
    Operation *product = nullptr;
    cost::MatMulGroupOp op;
  };

  void fuse(LayerNormOp ln) {
    int64_t rank = int64_t(shapeOf(ln.getInput()).size());
    int64_t axis = int64_t(ln.getAxis());
    if ((axis < 0 ? axis + rank : axis) != rank - 1)
      return;
    SmallVector<Consumer, 2> consumers;
    for (OpOperand &use : ln.getResult().getUses()) {
      Consumer c;
      Value cur = ln.getResult();
      Operation *user = use.getOwner();
      while (movesNoData(user) && user->getBlock() == ln->getBlock() &&
             user->getResult(0).hasOneUse()) {
        c.moves.push_back(user);
        cur = user->getResult(0);
        user = *cur.getUsers().begin();
      }
      if (!consumerOf(c, user, cur)) {
        ln.emitRemark() << "layernorm not fused: its result also feeds '"
                        << user->getName() << "', not a projection's A";
        return;
      }
      consumers.push_back(std::move(c));
    }
    if (consumers.empty())
      return;
    // Every consumer's whole-K tiles must fit before anything moves.
    std::vector<cost::Choice<cost::GemmTiling>> choices;
    for (Consumer &c : consumers) {
      const auto &best = planner.search(c.op);
      if (!best) {
        ln.emitRemark() << "layernorm not fused: whole rows of K = " << c.op.k
                        << " for the " << c.op.m << "x" << c.op.k << "x"
                        << c.op.n << " product need " << planner.smallest(c.op)
                        << " bytes of SRAM, the budget is " << planner.budget();
        return;
      }
      choices.push_back(*best);
    }
    // The fused groups against the layernorm kernel and the products as
    // they are (a bare matmul, or a group with its recorded tile); memoized
    // per shape and tile (a 40-layer network has a handful).
    std::vector<uint64_t> key;
    for (Consumer &c : consumers) {
      std::optional<cost::GemmTiling> t;
      if (isa<GroupOp>(c.product))
        t = recordedTiling(c.product);
      key.insert(key.end(),
                 {c.op.m, c.op.k, c.op.n, uint64_t(c.op.bias),
                  uint64_t(c.op.gelu), uint64_t(c.op.tanhGelu),
                  uint64_t(c.op.residual), uint64_t(isa<GroupOp>(c.product)),
                  t ? t->tm : 0, t ? t->tk : 0, t ? t->tn : 0});
    }
    auto memo = verdicts.find(key);
    if (memo == verdicts.end())
      memo = verdicts.emplace(key, price(consumers, choices)).first;
    const Verdict &v = memo->second;
    if (!v.fuse())
      return decline(ln, "layernorm", v);
    MLIRContext *ctx = ln.getContext();
    for (auto [c, best] : llvm::zip(consumers, choices)) {
      SmallVector<Operation *> ops;
      // Each product gets its own copy of the prologue (one consumer in a
      // transformer; several recompute it from the same input).
      Operation *lnCopy = OpBuilder(ln).clone(*ln);
      ops.push_back(lnCopy);
      IRMapping map;
      map.map(ln.getResult(), lnCopy->getResult(0));
      Value prev = lnCopy->getResult(0);
      for (Operation *m : c.moves) {
        OpBuilder b(m);
        Operation *mc = b.clone(*m, map);
        map.map(m->getResult(0), mc->getResult(0));
        prev = mc->getResult(0);
        ops.push_back(mc);
      }
      // The product now reads the copy.
      Value old = c.moves.empty() ? Value(ln.getResult())
                                  : c.moves.back()->getResult(0);
      c.product->replaceUsesOfWith(old, prev);
      ops.push_back(c.product);
      GroupOp g = buildGroup(
          ops, epilogueAttr(ctx, c.op), StringAttr::get(ctx, "layernorm"),
          whyOf(c.op, best, planner.budget()) + "; " + v.text());
      setGemmTiling(g, best.tiling, best.cost);
    }
    for (Consumer &c : llvm::reverse(consumers))
      for (Operation *m : llvm::reverse(c.moves))
        if (m->use_empty())
          m->erase();
    if (ln->use_empty())
      ln.erase();
  }

  /// The layernorm fused into every consumer against the layernorm kernel
  /// and the consumers as they are.
  Verdict price(ArrayRef<Consumer> consumers,
                ArrayRef<cost::Choice<cost::GemmTiling>> choices) {
    std::vector<cost::Kernel> fused, unfused;
    std::vector<std::string> labels{"layernorm"};
    for (auto [i, c] : llvm::enumerate(consumers)) {
      fused.push_back(cost::matmulGroupKernel(c.op, choices[i].tiling));
      // [layernorm, product] of the bare product.
      cost::MatMulGroupOp plain = c.op;
      plain.bias = plain.gelu = plain.residual = false;
      std::vector<cost::Kernel> base = planner.unfused(plain);
      if (base.size() != 2) {
        unfused.clear();
        break;
      }
      if (i == 0)
        unfused.push_back(base[0]);
      if (!isa<GroupOp>(c.product)) {
        unfused.push_back(base[1]);
        labels.push_back("matmul");
        continue;
      }
      cost::MatMulGroupOp rest = c.op;
      rest.layernorm = false;
      rest.a = plain.a + ".normalized"; // The layernorm kernel's output.
      std::optional<cost::GemmTiling> t = recordedTiling(c.product);
      if (!t) {
        const auto &b = planner.search(rest);
        if (!b) {
          unfused.clear();
          break;
        }
        t = b->tiling;
      }
      unfused.push_back(cost::matmulGroupKernel(rest, *t));
      labels.push_back("matmul group");
    }
    return compare(planner, fused, unfused, labels);
  }

  std::map<std::vector<uint64_t>, Verdict> verdicts;

  /// The tile a matmul group records (tsr.tiling), if any.
  static std::optional<cost::GemmTiling> recordedTiling(Operation *g) {
    auto d = g->getAttrOfType<DictionaryAttr>("tsr.tiling");
    if (!d)
      return std::nullopt;
    cost::GemmTiling t;
    for (auto [name, field] : {std::pair{"tm", &t.tm}, std::pair{"tk", &t.tk},
                               std::pair{"tn", &t.tn}}) {
      auto a = d.getAs<IntegerAttr>(name);
      if (!a || a.getInt() <= 0)
        return std::nullopt;
      *field = uint64_t(a.getInt());
    }
    return t;
  }

  /// Whether `user` reads `v` as a product's A; fills the consumer.
  bool consumerOf(Consumer &c, Operation *user, Value v) {
    if (user->getBlock() != v.getParentBlock())
      return false;
    if (auto mm = dyn_cast<MatMulOp>(user)) {
      ArrayRef<int64_t> bs = shapeOf(mm.getRhs());
      if (mm.getLhs() != v || mm.getRhs() == v || bs.size() != 2)
        return false;
      c.product = mm;
      c.op.k = uint64_t(bs[0]);
      c.op.n = uint64_t(bs[1]);
      c.op.m = uint64_t(elements(v)) / c.op.k;
      c.op.layernorm = true;
      return true;
    }
    auto g = dyn_cast<GroupOp>(user);
    if (!g || g.getKind() != "matmul" || g.getPrologue())
      return false;
    std::string error;
    FailureOr<MatMulGroupParts> parts = matchMatMulGroup(g, error);
    if (failed(parts) || g.getInputs()[parts->a] != v)
      return false;
    // A must reach only the product (not also be the residual).
    for (auto [i, in] : llvm::enumerate(g.getInputs()))
      if (in == v && int(i) != parts->a)
        return false;
    if (!g.getBody().front().getArgument(parts->a).hasOneUse())
      return false;
    c.product = g;
    c.op = matmulGroupWorkload(*parts);
    c.op.layernorm = true;
    return true;
  }

  Planner planner;
};

} // namespace

std::unique_ptr<Pass>
tessera::tsr::createFuseEpiloguePass(const arch::ChipConfig &chip) {
  return std::make_unique<FuseEpiloguePass>(chip);
}

std::unique_ptr<Pass>
tessera::tsr::createFuseLayerNormPass(const arch::ChipConfig &chip) {
  return std::make_unique<FuseLayerNormPass>(chip);
}
