//===- AllocateSram.cpp - SRAM placement of the fused groups, in the IR ---===//
//
// Part of Tessera. Issue 10's SRAM allocation by liveness, as a decision
// recorded in the IR and checked by a verifier pass (docs/lowering.md,
// "SRAM allocation"):
//
//   tsr-allocate-sram  for every tsr.group of kind "attention" or "matmul":
//                      the kernel's buffers for the group's tsr.tiling
//                      (cost::attentionSramPlan, its online-softmax form
//                      cost::onlineAttentionSramPlan,
//                      cost::matmulGroupSramPlan:
//                      bytes and live range over the kernel's phases),
//                      placed by liveness (cost::allocateSram), recorded as
//                      `tsr.sram`. A recorded tile that does not fit the
//                      SRAM is chosen again by the cost model (a remark);
//                      nothing fits: an error naming the group and bytes.
//                      For every op outside a group whose kernel kind
//                      records its decisions (codegen::decisionKindOf: the
//                      bare matmul, the vector family), the plan of its
//                      recorded tsr.tiling (codegen::sramPlanOf: the
//                      per-kind builders of cost/SramPlan.h), recorded the
//                      same way; a tiling that does not fit: an error
//                      naming the op and the bytes. An integer input's FP16
//                      conversion: its plan recorded on the function
//                      argument, next to its tsr.tiling.
//   tsr-verify-sram    every recorded `tsr.sram` is well formed, holds
//                      every buffer the tiling needs, fits the SRAM, and no
//                      two buffers live in a common phase share a byte.
//
// Both read the chip config given by `chip-config` (default: the reference
// chip); `sram-bytes` overrides its capacity.
//
//===----------------------------------------------------------------------===//
#include "PassChip.h"
#include "tessera/Transforms/Fusion.h"
#include "tessera/Transforms/SramAlloc.h"

#include "tessera/Compiler/KernelDecisions.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <optional>

namespace tessera::tsr {
#define GEN_PASS_DEF_TSRALLOCATESRAM
#define GEN_PASS_DEF_TSRVERIFYSRAM
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

using namespace mlir;
using namespace tessera;
using namespace tessera::tsr;

DictionaryAttr tessera::tsr::sramPlanAttr(MLIRContext *ctx,
                                          const cost::SramPlan &plan) {
  Builder b(ctx);
  auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(int64_t(v)); };
  SmallVector<Attribute> buffers, phases;
  for (const std::string &p : plan.phases)
    phases.push_back(b.getStringAttr(p));
  for (const cost::SramBuffer &x : plan.buffers)
    buffers.push_back(b.getDictionaryAttr({
        b.getNamedAttr("name", b.getStringAttr(x.name)),
        b.getNamedAttr("slot", i64(x.slot)),
        b.getNamedAttr("offset", i64(x.offset)),
        b.getNamedAttr("bytes", i64(x.bytes)),
        b.getNamedAttr("live", b.getDenseI64ArrayAttr(
                                   {int64_t(x.first), int64_t(x.last)})),
    }));
  return b.getDictionaryAttr({
      b.getNamedAttr("total", i64(plan.total)),
      b.getNamedAttr("phases", b.getArrayAttr(phases)),
      b.getNamedAttr("buffers", b.getArrayAttr(buffers)),
  });
}

FailureOr<cost::SramPlan> tessera::tsr::readSramPlan(DictionaryAttr attr,
                                                     std::string &error) {
  cost::SramPlan plan;
  auto total = attr.getAs<IntegerAttr>("total");
  auto phases = attr.getAs<ArrayAttr>("phases");
  auto buffers = attr.getAs<ArrayAttr>("buffers");
  if (!total || total.getInt() < 0 || !phases || !buffers) {
    error = "tsr.sram needs a non-negative integer 'total' and arrays "
            "'phases' and 'buffers'";
    return failure();
  }
  plan.total = uint64_t(total.getInt());
  for (Attribute p : phases) {
    auto s = dyn_cast<StringAttr>(p);
    if (!s) {
      error = "tsr.sram: 'phases' must hold strings";
      return failure();
    }
    plan.phases.push_back(s.str());
  }
  for (auto [i, a] : llvm::enumerate(buffers)) {
    std::string where = "tsr.sram: buffer " + std::to_string(i);
    auto d = dyn_cast<DictionaryAttr>(a);
    if (!d) {
      error = where + " is not a dictionary";
      return failure();
    }
    cost::SramBuffer x;
    auto name = d.getAs<StringAttr>("name");
    auto live = d.getAs<DenseI64ArrayAttr>("live");
    if (!name || !live || live.size() != 2 || live[0] < 0 || live[1] < 0) {
      error = where + " needs a 'name' and 'live' = array<i64: first, last>";
      return failure();
    }
    x.name = name.str();
    x.first = unsigned(live[0]);
    x.last = unsigned(live[1]);
    for (auto [field, out] :
         {std::pair<const char *, uint64_t *>{"slot", nullptr},
          {"offset", &x.offset},
          {"bytes", &x.bytes}}) {
      auto v = d.getAs<IntegerAttr>(field);
      if (!v || v.getInt() < 0) {
        error = where + " ('" + x.name + "') needs a non-negative integer '" +
                field + "'";
        return failure();
      }
      if (out)
        *out = uint64_t(v.getInt());
      else
        x.slot = unsigned(v.getInt());
    }
    plan.buffers.push_back(std::move(x));
  }
  return plan;
}

DictionaryAttr tessera::tsr::keepKvAttr(MLIRContext *ctx,
                                        const cost::ResidentKv &kv) {
  Builder b(ctx);
  auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(int64_t(v)); };
  return b.getDictionaryAttr({
      b.getNamedAttr("heads", i64(kv.heads)),
      b.getNamedAttr("head_dim", i64(kv.headDim)),
      b.getNamedAttr("rows", i64(kv.rows)),
      b.getNamedAttr("k_column", i64(kv.kColumn)),
      b.getNamedAttr("v_column", i64(kv.vColumn)),
      b.getNamedAttr("offset", i64(kv.offset)),
      b.getNamedAttr("bytes", i64(kv.bytes())),
  });
}

FailureOr<cost::ResidentKv> tessera::tsr::readKeepKv(DictionaryAttr attr,
                                                     std::string &error) {
  cost::ResidentKv kv;
  uint64_t bytes = 0;
  for (auto [field, out] :
       {std::pair<const char *, uint64_t *>{"heads", &kv.heads},
        {"head_dim", &kv.headDim},
        {"rows", &kv.rows},
        {"k_column", &kv.kColumn},
        {"v_column", &kv.vColumn},
        {"offset", &kv.offset},
        {"bytes", &bytes}}) {
    auto v = attr.getAs<IntegerAttr>(field);
    if (!v || v.getInt() < 0) {
      error = std::string("tsr.keep_kv needs a non-negative integer '") +
              field + "'";
      return failure();
    }
    *out = uint64_t(v.getInt());
  }
  if (bytes != kv.bytes()) {
    error = "tsr.keep_kv: 'bytes' = " + std::to_string(bytes) + ", but " +
            std::to_string(kv.heads) + " heads of K and V (" +
            std::to_string(kv.rows) + " x " + std::to_string(kv.headDim) +
            " each) take " + std::to_string(kv.bytes());
    return failure();
  }
  return kv;
}

FailureOr<cost::ResidentKv> tessera::tsr::residentKvOf(Operation *op,
                                                       std::string &error) {
  auto g = cast<GroupOp>(op);
  if (g.getKind() == "matmul") {
    auto attr = g->getAttrOfType<DictionaryAttr>(kKeepKvAttr);
    return attr ? readKeepKv(attr, error) : cost::ResidentKv{};
  }
  uint64_t heads = g.getHeadsOnChip() ? uint64_t(*g.getHeadsOnChip()) : 0;
  if (g.getKind() != "attention" || !heads)
    return cost::ResidentKv{};
  GroupOp proj = g.getInputs().size() == 1
                     ? g.getInputs()[0].getDefiningOp<GroupOp>()
                     : GroupOp();
  auto attr = proj ? proj->getAttrOfType<DictionaryAttr>(kKeepKvAttr)
                   : DictionaryAttr();
  if (!attr) {
    error = "heads_on_chip = " + std::to_string(heads) +
            " but the group's one input is not a projection group that keeps "
            "K and V in SRAM (tsr.keep_kv)";
    return failure();
  }
  FailureOr<cost::ResidentKv> kv = readKeepKv(attr, error);
  if (succeeded(kv) && kv->heads != heads) {
    error = "heads_on_chip = " + std::to_string(heads) +
            " but the projection keeps K and V of " +
            std::to_string(kv->heads) + " heads (tsr.keep_kv)";
    return failure();
  }
  return kv;
}

namespace {

/// "tsr.group 'name' (attention)" for messages: the ONNX node name the
/// location carries, when it has one.
std::string groupName(GroupOp g) {
  std::string name;
  Location loc = g.getLoc();
  if (auto f = dyn_cast<FusedLoc>(loc); f && !f.getLocations().empty())
    loc = f.getLocations().front();
  if (auto n = dyn_cast<NameLoc>(loc))
    name = " '" + n.getName().str() + "'";
  return "group" + name + " (" + g.getKind().str() + ")";
}

/// What the plan of a group is computed from: the kernel's workload and the
/// recorded tile.
struct GroupKernel {
  bool attention = false;
  cost::AttentionOp att;
  cost::AttentionTiling attTile;
  /// softmax = "online": the streaming kernel and its (tq, tk) tile.
  bool online = false;
  cost::OnlineAttentionTiling onlineTile;
  cost::MatMulGroupOp mm;
  cost::GemmTiling mmTile;
};

int64_t tilingField(GroupOp g, StringRef name) {
  auto t = g->getAttrOfType<DictionaryAttr>("tsr.tiling");
  auto v = t ? t.getAs<IntegerAttr>(name) : IntegerAttr();
  return v ? v.getInt() : 0;
}

/// The group's kernel, or nullopt (not a group the code generator lowers
/// with an SRAM plan; `error` set when it is malformed).
std::optional<GroupKernel> kernelOf(GroupOp g, std::string &error) {
  GroupKernel k;
  FailureOr<cost::ResidentKv> kv = residentKvOf(g, error);
  if (failed(kv))
    return std::nullopt;
  k.att.kv = k.mm.kv = *kv;
  if (g.getKind() == "attention") {
    auto attns = g.getBody().front().getOps<AttentionOp>();
    if (attns.empty())
      return std::nullopt;
    AttentionOp a = *attns.begin();
    ArrayRef<int64_t> qs =
        cast<RankedTensorType>(a.getQuery().getType()).getShape();
    ArrayRef<int64_t> ks =
        cast<RankedTensorType>(a.getKey().getType()).getShape();
    k.attention = true;
    k.att.batch = uint64_t(qs[0]);
    k.att.sq = uint64_t(qs[1]);
    k.att.sk = uint64_t(ks[1]);
    k.att.heads = uint64_t(a.getHeads());
    k.att.headDim = uint64_t(a.getHeadDim());
    k.attTile.tq = uint64_t(std::max<int64_t>(0, tilingField(g, "tq")));
    k.online = g.getSoftmax() && *g.getSoftmax() == "online";
    k.onlineTile = {k.attTile.tq,
                    uint64_t(std::max<int64_t>(0, tilingField(g, "tk")))};
    return k;
  }
  if (g.getKind() != "matmul")
    return std::nullopt;
  FailureOr<MatMulGroupParts> parts = matchMatMulGroup(g, error);
  if (failed(parts))
    return std::nullopt;
  cost::ResidentKv kept = k.mm.kv;
  k.mm = matmulGroupWorkload(*parts);
  k.mm.kv = kept;
  k.mmTile = {uint64_t(std::max<int64_t>(0, tilingField(g, "tm"))),
              uint64_t(std::max<int64_t>(0, tilingField(g, "tk"))),
              uint64_t(std::max<int64_t>(0, tilingField(g, "tn")))};
  return k;
}

/// The plan the kernel needs for its recorded tile, placed: the kernel's
/// own buffers around the resident K/V region, when it has one.
cost::SramPlan needOf(const GroupKernel &k, const cost::Constraints &c) {
  if (k.online)
    return cost::onlineAttentionSramPlan(k.att, k.onlineTile, c);
  return k.attention
             ? cost::withResidentKv(
                   cost::attentionSramPlan(k.att, k.attTile, c), k.att.kv, c)
             : cost::withResidentKv(
                   cost::matmulGroupSramPlan(k.mm, k.mmTile, c), k.mm.kv, c);
}

/// The kernel's own budget: the SRAM below the resident region.
cost::Constraints ownBudget(const GroupKernel &k, cost::Constraints c) {
  if (k.mm.kv.heads)
    c.sramBytes = k.mm.kv.offset;
  return c;
}

/// The kernels whose SRAM plans the passes record and prove, in this
/// order: every fused group (`group`), every op (`bare`: those outside a
/// group with decisions in the IR), every function argument (`input`: an
/// integer input's FP16 conversion). Stops at the first failure.
LogicalResult
forEachKernel(ModuleOp module, function_ref<LogicalResult(GroupOp)> group,
              function_ref<LogicalResult(Operation *)> bare,
              function_ref<LogicalResult(func::FuncOp, BlockArgument)> input) {
  if (module
          .walk([&](GroupOp g) {
            return succeeded(group(g)) ? WalkResult::advance()
                                       : WalkResult::interrupt();
          })
          .wasInterrupted() ||
      module
          .walk([&](Operation *op) {
            return succeeded(bare(op)) ? WalkResult::advance()
                                       : WalkResult::interrupt();
          })
          .wasInterrupted())
    return failure();
  for (auto fn : module.getOps<func::FuncOp>())
    for (BlockArgument arg : fn.getArguments())
      if (failed(input(fn, arg)))
        return failure();
  return success();
}

struct AllocateSramPass
    : tessera::tsr::impl::TsrAllocateSramBase<AllocateSramPass> {
  using TsrAllocateSramBase::TsrAllocateSramBase;
  explicit AllocateSramPass(const arch::ChipConfig &chip) : chip(chip) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!chip && !(chip = loadPassChip(module, chipConfig)))
      return signalPassFailure();
    cost::Constraints c;
    c.sramBytes = sramBytes;
    if (failed(forEachKernel(
            module, [&](GroupOp g) { return allocate(g, c); },
            [&](Operation *op) { return allocateBare(op, c); },
            [&](func::FuncOp fn, BlockArgument arg) {
              return allocateConversion(fn, arg, c);
            })))
      signalPassFailure();
  }

  /// An integer input read as data: the plan of its FP16 conversion for
  /// the tiling recorded on the argument, recorded there too.
  LogicalResult allocateConversion(func::FuncOp fn, BlockArgument arg,
                                   const cost::Constraints &c) {
    if (!fn.getArgAttr(arg.getArgNumber(), "tsr.tiling"))
      return success();
    std::optional<cost::SramPlan> plan;
    if (failed(planOf(fn, conversionKernelOf(arg), c, plan)))
      return failure();
    if (plan)
      fn.setArgAttr(arg.getArgNumber(), kSramPlanAttr,
                    sramPlanAttr(fn.getContext(), *plan));
    return success();
  }

  /// The plan of kernel `k` (reported on `at`) for its recorded tiling
  /// (codegen::sramPlanOf) into `plan`; no kernel or no plan: nullopt.
  LogicalResult planOf(Operation *at, const std::optional<BareKernel> &k,
                       const cost::Constraints &c,
                       std::optional<cost::SramPlan> &plan) {
    if (!k)
      return success();
    std::string error;
    plan = codegen::sramPlanOf(k->graph, k->node(), *chip, c, error);
    if (!plan && !error.empty())
      return at->emitOpError() << k->who() << ": " << error;
    uint64_t budget = c.budget(*chip);
    if (plan && plan->total > budget)
      return at->emitOpError()
             << k->who() << ": the recorded tiling's buffers need "
             << plan->total << " bytes of SRAM, the budget is " << budget;
    return success();
  }

  /// An op outside any group: the plan of its kernel for its recorded
  /// tiling (none recorded: nothing to place).
  LogicalResult allocateBare(Operation *op, const cost::Constraints &c) {
    if (!op->hasAttr("tsr.tiling"))
      return success();
    std::optional<cost::SramPlan> plan;
    if (failed(planOf(op, bareKernelOf(op), c, plan)))
      return failure();
    if (plan)
      op->setAttr(kSramPlanAttr, sramPlanAttr(op->getContext(), *plan));
    return success();
  }

  /// Records the tile's cost as tsr-fuse-* do.
  static void setTiling(GroupOp g, ArrayRef<NamedAttribute> tile,
                        const cost::Cost &k) {
    Builder b(g.getContext());
    auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(int64_t(v)); };
    SmallVector<NamedAttribute> fields(tile.begin(), tile.end());
    fields.push_back(b.getNamedAttr("sram_bytes", i64(k.sramBytes)));
    fields.push_back(b.getNamedAttr("dram_bytes", i64(k.dramBytes())));
    fields.push_back(b.getNamedAttr("cycles", i64(k.latencyCycles)));
    g->setAttr("tsr.tiling", b.getDictionaryAttr(fields));
  }

  LogicalResult allocate(GroupOp g, const cost::Constraints &full) {
    std::string error;
    std::optional<GroupKernel> k = kernelOf(g, error);
    if (!k) {
      if (!error.empty())
        return g.emitOpError() << groupName(g) << ": " << error;
      return success();
    }
    const cost::ResidentKv &kv = k->mm.kv;
    if (kv.heads && kv.offset + kv.bytes() > full.budget(*chip))
      return g.emitOpError()
             << groupName(g) << ": the resident K/V region [" << kv.offset
             << ", " << kv.offset + kv.bytes() << ") ends past the "
             << full.budget(*chip) << " bytes of SRAM";
    // The tiles fit below the resident region (tsr-keep-kv).
    cost::Constraints c = ownBudget(*k, full);
    uint64_t budget = c.budget(*chip);
    Builder b(g.getContext());
    auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(int64_t(v)); };
    // The recorded tile, unless the SRAM (or the chip) cannot run it: then
    // the cost model's choice for this SRAM, as the fusion passes make it.
    if (k->online) {
      const cost::OnlineAttentionTiling t = k->onlineTile;
      if (std::optional<std::string> why =
              cost::checkOnlineAttention(*chip, k->att, t, c)) {
        auto best = cost::searchOnlineAttention(*chip, k->att, c);
        if (!best)
          return g.emitOpError()
                 << groupName(g) << ": no online-softmax tile fits " << budget
                 << " bytes of SRAM; the smallest ("
                 << cost::onlineAttentionMinTiling(k->att).tq << "x"
                 << cost::onlineAttentionMinTiling(k->att).tk << ") needs "
                 << cost::onlineAttentionSramBytes(
                        k->att, cost::onlineAttentionMinTiling(k->att), c)
                 << " bytes";
        g.emitRemark() << groupName(g) << ": the recorded online tile " << *why
                       << "; tile chosen again: tq = " << best->tiling.tq
                       << ", tk = " << best->tiling.tk;
        k->onlineTile = best->tiling;
        setTiling(g,
                  {b.getNamedAttr("tq", i64(best->tiling.tq)),
                   b.getNamedAttr("tk", i64(best->tiling.tk))},
                  best->cost);
      }
    } else if (k->attention) {
      const cost::AttentionTiling t = k->attTile;
      if (!t.tq || t.tq > chip->matrix_accumulator_rows ||
          cost::attentionSramPlan(k->att, t, c).total > budget) {
        auto best = cost::searchAttention(*chip, k->att, c);
        if (!best)
          return g.emitOpError()
                 << groupName(g) << ": no query tile fits " << budget
                 << " bytes of SRAM; 8 rows need "
                 << cost::attentionSramBytes(
                        k->att, {std::min<uint64_t>(8, k->att.sq)}, c)
                 << " bytes";
        if (t.tq)
          g.emitRemark() << groupName(g) << ": the recorded tile tq = " << t.tq
                         << " needs "
                         << cost::attentionSramPlan(k->att, t, c).total
                         << " bytes of SRAM, the budget is " << budget
                         << "; tile chosen again: tq = " << best->tiling.tq;
        k->attTile = best->tiling;
        setTiling(g, {b.getNamedAttr("tq", i64(best->tiling.tq))}, best->cost);
      }
    } else {
      const cost::GemmTiling t = k->mmTile;
      if (std::optional<std::string> why =
              cost::checkMatMulGroup(*chip, k->mm, t, c)) {
        auto best = cost::searchMatMulGroup(*chip, k->mm, c);
        if (!best)
          return g.emitOpError()
                 << groupName(g) << ": no tiling of the " << k->mm.m << "x"
                 << k->mm.k << "x" << k->mm.n << " product fits " << budget
                 << " bytes of SRAM; the smallest needs "
                 << cost::matmulGroupMinSramBytes(*chip, k->mm, c) << " bytes";
        if (t.tm || t.tk || t.tn)
          g.emitRemark() << groupName(g) << ": the recorded " << *why
                         << "; tile chosen again: " << best->tiling.tm << "x"
                         << best->tiling.tk << "x" << best->tiling.tn;
        k->mmTile = best->tiling;
        setTiling(g,
                  {b.getNamedAttr("tm", i64(best->tiling.tm)),
                   b.getNamedAttr("tk", i64(best->tiling.tk)),
                   b.getNamedAttr("tn", i64(best->tiling.tn))},
                  best->cost);
      }
    }
    cost::SramPlan plan = needOf(*k, full);
    g->setAttr(kSramPlanAttr, sramPlanAttr(g.getContext(), plan));
    return success();
  }

  std::optional<arch::ChipConfig> chip;
};

struct VerifySramPass : tessera::tsr::impl::TsrVerifySramBase<VerifySramPass> {
  using TsrVerifySramBase::TsrVerifySramBase;
  explicit VerifySramPass(const arch::ChipConfig &chip) : chip(chip) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!chip && !(chip = loadPassChip(module, chipConfig)))
      return signalPassFailure();
    cost::Constraints c;
    c.sramBytes = sramBytes;
    if (failed(forEachKernel(
            module, [&](GroupOp g) { return verify(g, c); },
            [&](Operation *op) { return verifyBare(op, c); },
            [&](func::FuncOp fn, BlockArgument arg) {
              return verifyConversion(fn, arg, c);
            })))
      signalPassFailure();
  }

  /// The plan recorded on an integer input for its FP16 conversion.
  LogicalResult verifyConversion(func::FuncOp fn, BlockArgument arg,
                                 const cost::Constraints &c) {
    Attribute any = fn.getArgAttr(arg.getArgNumber(), kSramPlanAttr);
    if (!any)
      return success();
    std::optional<BareKernel> k = conversionKernelOf(arg);
    return verifyPlan(fn, k ? k->who() : inputName(arg), any, k, c);
  }

  /// The plan `any` recorded for kernel `k` (named `who`, reported on
  /// `at`): read and proved on its own, then holding every buffer the
  /// kernel needs for its recorded tiling.
  LogicalResult verifyPlan(Operation *at, const std::string &who, Attribute any,
                           const std::optional<BareKernel> &k,
                           const cost::Constraints &c) {
    auto attr = dyn_cast<DictionaryAttr>(any);
    if (!attr)
      return at->emitOpError() << who << ": tsr.sram must be a dictionary";
    std::optional<cost::SramPlan> plan = readAndCheck(at, who, attr, c);
    if (!plan)
      return failure();
    if (!k)
      return success();
    std::string error;
    std::optional<cost::SramPlan> need =
        codegen::sramPlanOf(k->graph, k->node(), *chip, c, error);
    if (!need)
      return error.empty() ? success()
                           : at->emitOpError() << who << ": " << error;
    return covers(at, who, *plan, *need);
  }

  /// The recorded plan of `op` (named `who` in messages) read and proved
  /// on its own: well formed, no two live buffers overlapping, inside the
  /// total and the budget. nullopt after reporting.
  std::optional<cost::SramPlan> readAndCheck(Operation *op,
                                             const std::string &who,
                                             DictionaryAttr attr,
                                             const cost::Constraints &c) {
    std::string error;
    FailureOr<cost::SramPlan> plan = readSramPlan(attr, error);
    if (failed(plan)) {
      op->emitOpError() << who << ": " << error;
      return std::nullopt;
    }
    uint64_t budget = c.budget(*chip);
    if (std::optional<std::string> why = cost::checkSramPlan(*plan, budget)) {
      op->emitOpError() << who << ": " << *why;
      return std::nullopt;
    }
    for (const cost::SramBuffer &x : plan->buffers)
      if (x.offset + x.bytes > plan->total) {
        op->emitOpError() << who << ": buffer '"
                          << cost::sramBufferName(x, *plan) << "' ends at "
                          << x.offset + x.bytes << ", past the recorded total "
                          << plan->total;
        return std::nullopt;
      }
    if (plan->total > budget) {
      op->emitOpError() << who << ": the plan needs " << plan->total
                        << " bytes of SRAM, the budget is " << budget;
      return std::nullopt;
    }
    return std::move(*plan);
  }

  /// Every buffer the kernel needs for the recorded tile (`need`) is in the
  /// recorded plan, large enough, live at least as long.
  static LogicalResult covers(Operation *op, const std::string &who,
                              const cost::SramPlan &plan,
                              const cost::SramPlan &need) {
    for (const cost::SramBuffer &x : need.buffers) {
      const cost::SramBuffer *r = plan.find(x.name, x.slot);
      if (!r)
        return op->emitOpError() << who << ": tsr.sram has no buffer '"
                                 << cost::sramBufferName(x, need) << "' ("
                                 << x.bytes << " bytes for the recorded tile)";
      if (r->bytes < x.bytes)
        return op->emitOpError()
               << who << ": buffer '" << cost::sramBufferName(x, need)
               << "' has " << r->bytes << " bytes, the recorded tile needs "
               << x.bytes;
      if (r->first > x.first || r->last < x.last)
        return op->emitOpError()
               << who << ": buffer '" << cost::sramBufferName(x, need)
               << "' is recorded live over phases " << r->first << ".."
               << r->last << ", the kernel uses it over " << x.first << ".."
               << x.last;
    }
    return success();
  }

  LogicalResult verify(GroupOp g, const cost::Constraints &c) {
    auto attr = g->getAttrOfType<DictionaryAttr>(kSramPlanAttr);
    if (!attr) {
      if (g->hasAttr(kSramPlanAttr))
        return g.emitOpError() << groupName(g)
                               << ": tsr.sram must be a "
                                  "dictionary";
      return success();
    }
    std::optional<cost::SramPlan> plan = readAndCheck(g, groupName(g), attr, c);
    if (!plan)
      return failure();
    // Every buffer the kernel needs for the recorded tile, large enough.
    std::string error;
    std::optional<GroupKernel> k = kernelOf(g, error);
    if (!k)
      return error.empty() ? success()
                           : g.emitOpError() << groupName(g) << ": " << error;
    cost::SramPlan need = needOf(*k, c);
    if (failed(verifyResident(g, *k, *plan)))
      return failure();
    return covers(g, groupName(g), *plan, need);
  }

  /// An op outside any group (the bare kernels, KernelDecisions.h).
  LogicalResult verifyBare(Operation *op, const cost::Constraints &c) {
    if (isa<GroupOp>(op) || !op->hasAttr(kSramPlanAttr) ||
        op->getParentOfType<GroupOp>())
      return success();
    std::optional<BareKernel> k = bareKernelOf(op);
    return verifyPlan(op, k ? k->who() : op->getName().getStringRef().str(),
                      op->getAttr(kSramPlanAttr), k, c);
  }

  /// The resident K/V region (tsr-keep-kv): where tsr.keep_kv puts it in
  /// this plan; on the projection, the attention group comes next (no
  /// kernel between the two touches the region), reads as many heads and
  /// its plan places the region at the same bytes.
  LogicalResult verifyResident(GroupOp g, const GroupKernel &k,
                               const cost::SramPlan &plan) {
    const cost::ResidentKv &kv = k.mm.kv;
    if (!kv.heads)
      return success();
    auto range = [](uint64_t a, uint64_t n) {
      return "[" + std::to_string(a) + ", " + std::to_string(a + n) + ")";
    };
    const cost::SramBuffer *r = plan.find(cost::kResidentKvBuffer);
    if (!r)
      return success(); // The buffer check names it.
    if (r->offset != kv.offset || r->bytes != kv.bytes())
      return g.emitOpError()
             << groupName(g) << ": buffer 'kv' at "
             << range(r->offset, r->bytes)
             << ", but tsr.keep_kv places the resident K/V region at "
             << range(kv.offset, kv.bytes());
    if (g.getKind() != "matmul")
      return success();
    auto att = dyn_cast_or_null<GroupOp>(g->getNextNode());
    if (!att || att.getKind() != "attention" || att.getInputs().size() != 1 ||
        att.getInputs()[0] != g.getResult(0) || !g.getResult(0).hasOneUse())
      return g.emitOpError()
             << groupName(g)
             << ": keeps K and V in SRAM (tsr.keep_kv) but the next op is "
                "not the attention group reading its result alone (the "
                "region must not be live across another kernel)";
    auto attPlanAttr = att->getAttrOfType<DictionaryAttr>(kSramPlanAttr);
    if (!attPlanAttr)
      return success(); // A plan-less consumer: nothing to compare.
    std::string error;
    FailureOr<cost::SramPlan> attPlan = readSramPlan(attPlanAttr, error);
    if (failed(attPlan))
      return success(); // The attention group's own check reports it.
    const cost::SramBuffer *ar = attPlan->find(cost::kResidentKvBuffer);
    if (!ar || ar->offset != r->offset || ar->bytes != r->bytes)
      return g.emitOpError()
             << groupName(g) << " and " << groupName(att)
             << " disagree on the resident K/V region: "
             << range(r->offset, r->bytes) << " against "
             << (ar ? range(ar->offset, ar->bytes) : std::string("none"));
    return success();
  }

  std::optional<arch::ChipConfig> chip;
};

} // namespace

std::unique_ptr<Pass>
tessera::tsr::createAllocateSramPass(const arch::ChipConfig &chip) {
  return std::make_unique<AllocateSramPass>(chip);
}

std::unique_ptr<Pass>
tessera::tsr::createVerifySramPass(const arch::ChipConfig &chip) {
  return std::make_unique<VerifySramPass>(chip);
}
