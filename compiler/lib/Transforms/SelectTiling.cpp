//===- SelectTiling.cpp - tiling chosen by the cost model, kept in the IR -===//
//
// Part of Tessera. The select/verify pair of issue 10, IREE
// `lowering_config` style, for the unfused kernels:
//
//   tsr-select-tiling  for every tsr.matmul, fold its batch as the code
//                      generator does (a B shared by every batch makes one
//                      taller product), enumerate the tilings that fit the
//                      SRAM and keep the cost model's lowest-latency one
//                      (cost::searchGemm); record it with its modelled
//                      cost as `tsr.tiling = {tm, tk, tn, sram_bytes,
//                      dram_bytes, cycles}`. For every other op outside a
//                      group whose kernel kind records its decisions
//                      (codegen::decisionKindOf: the vector family), the
//                      search of its kind (codegen::chooseTiling), recorded
//                      as `tsr.tiling = {tr, tc, sram_bytes, dram_bytes,
//                      cycles}`. No tiling fits: an error naming the op and
//                      the bytes the smallest tile needs. The FP16
//                      conversion of an integer input read as data is such a
//                      kernel (codegen::conversionNode): its tiling is
//                      recorded on the function argument. On a chip of
//                      several NPUs, each fused matmul group's division of
//                      its row tiles among them (cost::
//                      chooseMatMulGroupSplit) is added to the tsr.tiling
//                      its fusion pass recorded: `npus`, `split = "rows"`,
//                      the tile the parts run and their modelled cost.
//   tsr-verify-tiling  every recorded `tsr.tiling` has positive tile sizes
//                      and fits the SRAM budget (codegen::checkTiling for
//                      the kinds beyond the matmul), else an error naming
//                      the op and the bytes it needs; a group's `npus` is
//                      within the chip's, and 1 with a resident K/V
//                      region.
//
// Both read the chip config given by `chip-config` (default: the reference
// chip); `sram-bytes` overrides its capacity.
//
//===----------------------------------------------------------------------===//
#include "PassChip.h"
#include "tessera/Transforms/Tiling.h"

#include "tessera/Compiler/Compile.h"
#include "tessera/Compiler/KernelDecisions.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Transforms/Fusion.h"
#include "tessera/Transforms/SramAlloc.h"
#include "tessera/arch/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

#include <map>
#include <optional>
#include <tuple>
#include <vector>

using namespace mlir;
using namespace tessera;

namespace {

constexpr llvm::StringLiteral kTilingAttr = "tsr.tiling";

/// The product a tsr.matmul becomes: batch x [M, K] x [K, N].
std::optional<cost::GemmOp> gemmOf(tsr::MatMulOp op) {
  auto a = dyn_cast<RankedTensorType>(op.getLhs().getType());
  auto b = dyn_cast<RankedTensorType>(op.getRhs().getType());
  auto out = dyn_cast<RankedTensorType>(op.getResult().getType());
  if (!a || !b || !out || !a.hasStaticShape() || !b.hasStaticShape() ||
      !out.hasStaticShape() || a.getRank() < 2 || b.getRank() < 2)
    return std::nullopt;
  auto prod = [](ArrayRef<int64_t> s) {
    uint64_t n = 1;
    for (int64_t d : s)
      n *= uint64_t(d);
    return n;
  };
  cost::GemmOp g;
  ArrayRef<int64_t> as = a.getShape(), bs = b.getShape(), os = out.getShape();
  g.m = uint64_t(as[as.size() - 2]);
  g.k = uint64_t(as.back());
  g.n = uint64_t(bs.back());
  g.batch = prod(os.drop_back(2));
  if (prod(bs.drop_back(2)) == 1) {
    g.m *= prod(as.drop_back(2));
    g.batch = 1;
  }
  return g;
}

#define TILING_PASS_OPTIONS                                                    \
  Option<std::string> chipConfig{                                              \
      *this, "chip-config",                                                    \
      llvm::cl::desc("Chip config file (default: the reference chip)"),        \
      llvm::cl::init("")};                                                     \
  Option<uint64_t> sramBytes{                                                  \
      *this, "sram-bytes",                                                     \
      llvm::cl::desc("SRAM budget in bytes (default: the chip's sram_bytes)"), \
      llvm::cl::init(0)};                                                      \
  cost::Constraints constraints() const {                                      \
    cost::Constraints c;                                                       \
    c.sramBytes = sramBytes;                                                   \
    return c;                                                                  \
  }

struct SelectTilingPass
    : PassWrapper<SelectTilingPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(SelectTilingPass)
  SelectTilingPass() = default;
  explicit SelectTilingPass(const arch::ChipConfig &chip) : chip(chip) {}
  SelectTilingPass(const SelectTilingPass &o) : PassWrapper(o), chip(o.chip) {}
  TILING_PASS_OPTIONS
  std::optional<arch::ChipConfig> chip; ///< Given by the pipeline.
  StringRef getArgument() const final { return "tsr-select-tiling"; }
  StringRef getDescription() const final {
    return "Record the cost model's tiling and modelled cost (tsr.tiling) "
           "on every op outside a fused group whose kernel records its "
           "decisions: tsr.matmul (tm, tk, tn and the NPU split), the vector "
           "family (elementwise, layernorm, softmax, binary with "
           "broadcasting, reductions, activations: tr, tc), the movement and "
           "CNN kernels; and on each integer input read as data, its FP16 "
           "conversion's (tr, tc)";
  }

  void runOnOperation() override {
    std::optional<arch::ChipConfig> c =
        chip ? chip : tsr::loadPassChip(getOperation(), chipConfig);
    if (!c)
      return signalPassFailure();
    cost::Constraints cons = constraints();
    // One search per product shape: a 40-layer network has a handful.
    std::map<std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>,
             std::optional<cost::Choice<cost::GemmTiling>>>
        searched;
    WalkResult r = getOperation().walk([&](tsr::MatMulOp op) {
      // A fused group's product is tiled by its fusion pass.
      if (op->getParentOfType<tsr::GroupOp>())
        return WalkResult::advance();
      std::optional<cost::GemmOp> g = gemmOf(op);
      if (!g) {
        op.emitOpError("needs static ranked shapes to be tiled");
        return WalkResult::interrupt();
      }
      auto key = std::make_tuple(g->batch, g->m, g->k, g->n);
      auto hit = searched.find(key);
      if (hit == searched.end())
        hit = searched.emplace(key, cost::searchGemm(*c, *g, cons)).first;
      const std::optional<cost::Choice<cost::GemmTiling>> &best = hit->second;
      if (!best) {
        // The smallest candidate footprint, for the message.
        uint64_t least = UINT64_MAX;
        for (uint64_t tm : cost::tileCandidates(g->m, 32))
          for (uint64_t tk : cost::tileCandidates(g->k, c->matrix_rows))
            for (uint64_t tn : cost::tileCandidates(g->n, c->matrix_cols))
              least = std::min(
                  least, cost::gemmKernel(*g, {tm, tk, tn}, cons).sramBytes);
        op.emitOpError("no tiling of the ")
            << g->m << "x" << g->k << "x" << g->n << " product fits "
            << cons.budget(*c) << " bytes of SRAM; the smallest needs " << least
            << " bytes";
        return WalkResult::interrupt();
      }
      Builder b(op.getContext());
      const cost::Cost &k = best->cost;
      auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(int64_t(v)); };
      SmallVector<NamedAttribute> fields{
          b.getNamedAttr("tm", i64(best->tiling.tm)),
          b.getNamedAttr("tk", i64(best->tiling.tk)),
          b.getNamedAttr("tn", i64(best->tiling.tn)),
          b.getNamedAttr("sram_bytes", i64(k.sramBytes)),
          b.getNamedAttr("dram_bytes", i64(k.dramBytes())),
          b.getNamedAttr("cycles", i64(k.latencyCycles))};
      // On a chip of several NPUs, the split of the output tiles among
      // them (docs/lowering.md, "Two NPUs"): its tiling (a split may
      // re-tile the rows) and the modelled cycles of the parts together.
      if (c->npus > 1) {
        cost::GemmSplit split = cost::chooseGemmSplit(*c, *g, best->tiling);
        fields = {b.getNamedAttr("tm", i64(split.tiling.tm)),
                  b.getNamedAttr("tk", i64(split.tiling.tk)),
                  b.getNamedAttr("tn", i64(split.tiling.tn)),
                  b.getNamedAttr("sram_bytes", i64(split.longest.sramBytes)),
                  b.getNamedAttr("dram_bytes", i64(split.dramBytes)),
                  b.getNamedAttr("cycles", i64(split.cycles)),
                  b.getNamedAttr("npus", i64(split.parts))};
        if (split.parts > 1)
          fields.push_back(b.getNamedAttr(
              "split", b.getStringAttr(cost::gemmSplitAxisName(split.axis))));
      }
      op->setAttr(kTilingAttr, b.getDictionaryAttr(fields));
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      return signalPassFailure();
    if (failed(selectBare(*c, cons)) || failed(selectConversions(*c, cons)) ||
        failed(selectGroupSplits(*c, cons)))
      signalPassFailure();
  }

  /// On a chip of several NPUs, each fused matmul group's division of its
  /// row tiles among them (cost::chooseMatMulGroupSplit, docs/lowering.md
  /// "Two NPUs"), recorded in the tsr.tiling its fusion pass chose: `npus`
  /// (1: the whole on NPU 0) and, when divided, `split = "rows"`, the tile
  /// the parts run (a split may re-tile the rows) and their modelled cost.
  /// A group without a legal recorded tile is left to tsr-allocate-sram,
  /// which chooses it again or names the bytes.
  LogicalResult selectGroupSplits(const arch::ChipConfig &chip,
                                  const cost::Constraints &cons) {
    if (chip.npus < 2)
      return success();
    WalkResult r = getOperation().walk([&](tsr::GroupOp g) {
      auto t = g->getAttrOfType<DictionaryAttr>(kTilingAttr);
      if (g.getKind() != "matmul" || !t)
        return WalkResult::advance();
      std::string error;
      FailureOr<tsr::MatMulGroupParts> parts = tsr::matchMatMulGroup(g, error);
      FailureOr<cost::ResidentKv> kv =
          failed(parts) ? FailureOr<cost::ResidentKv>(failure())
                        : tsr::residentKvOf(g, error);
      if (failed(kv)) {
        g.emitOpError() << error;
        return WalkResult::interrupt();
      }
      cost::MatMulGroupOp op = tsr::matmulGroupWorkload(*parts);
      op.kv = *kv;
      cost::Constraints c = cons;
      if (kv->heads)
        c.sramBytes = kv->offset;
      auto field = [&](StringRef name) -> uint64_t {
        auto v = t.getAs<IntegerAttr>(name);
        return v && v.getInt() > 0 ? uint64_t(v.getInt()) : 0;
      };
      cost::GemmTiling tile{field("tm"), field("tk"), field("tn")};
      if (cost::checkMatMulGroup(chip, op, tile, c))
        return WalkResult::advance();
      cost::GemmSplit split = cost::chooseMatMulGroupSplit(chip, op, tile, c);
      Builder b(g.getContext());
      auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(int64_t(v)); };
      NamedAttrList fields(t);
      fields.set("npus", i64(split.parts));
      if (split.parts > 1) {
        fields.set("tm", i64(split.tiling.tm));
        fields.set("tk", i64(split.tiling.tk));
        fields.set("tn", i64(split.tiling.tn));
        fields.set("sram_bytes", i64(split.longest.sramBytes));
        fields.set("dram_bytes", i64(split.dramBytes));
        fields.set("cycles", i64(split.cycles));
        fields.set("split", b.getStringAttr(
                                cost::gemmSplitAxisName(split.axis)));
      }
      g->setAttr(kTilingAttr, fields.getDictionary(g.getContext()));
      return WalkResult::advance();
    });
    return failure(r.wasInterrupted());
  }

  /// The integer inputs read as data: their FP16 conversion's tiling
  /// (codegen::chooseTiling), recorded on the function argument.
  LogicalResult selectConversions(const arch::ChipConfig &chip,
                                  const cost::Constraints &cons) {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      for (BlockArgument arg : fn.getArguments()) {
        std::optional<tsr::BareKernel> k = tsr::conversionKernelOf(arg);
        if (!k)
          continue;
        std::string error;
        std::optional<codegen::TilingChoice> t =
            codegen::chooseTiling(k->graph, k->node(), chip, cons, error);
        if (!t)
          return fn.emitOpError()
                 << k->who() << ": " << (error.empty() ? "no tiling" : error);
        fn.setArgAttr(arg.getArgNumber(), kTilingAttr,
                      tilingAttr(fn.getContext(), *t));
      }
    return success();
  }

  /// `tsr.tiling` of a choice: its fields in order, then its modelled
  /// cost.
  static DictionaryAttr tilingAttr(MLIRContext *ctx,
                                   const codegen::TilingChoice &choice) {
    Builder b(ctx);
    auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
    SmallVector<NamedAttribute> fields;
    for (const auto &[name, v] : choice.fields)
      fields.push_back(b.getNamedAttr(name, i64(v)));
    fields.push_back(
        b.getNamedAttr("sram_bytes", i64(int64_t(choice.cost.sramBytes))));
    fields.push_back(
        b.getNamedAttr("dram_bytes", i64(int64_t(choice.cost.dramBytes()))));
    fields.push_back(
        b.getNamedAttr("cycles", i64(int64_t(choice.cost.latencyCycles))));
    return b.getDictionaryAttr(fields);
  }

  /// Every other kernel kind with its decisions in the IR: its own search
  /// (codegen::chooseTiling), once per workload (op, operand and result
  /// types, which operands are weights, attributes).
  LogicalResult selectBare(const arch::ChipConfig &chip,
                           const cost::Constraints &cons) {
    std::map<std::vector<const void *>,
             std::pair<std::optional<codegen::TilingChoice>, std::string>>
        chosen;
    WalkResult r = getOperation().walk([&](Operation *op) {
      if (isa<tsr::MatMulOp>(op))
        return WalkResult::advance();
      std::optional<tsr::BareKernel> k = tsr::bareKernelOf(op);
      if (!k)
        return WalkResult::advance();
      std::vector<const void *> key{
          op->getName().getAsOpaquePointer(),
          op->getAttrDictionary().getAsOpaquePointer(),
          op->getResult(0).getType().getAsOpaquePointer()};
      for (Value v : op->getOperands()) {
        key.push_back(v.getType().getAsOpaquePointer());
        auto w = v.getDefiningOp<tsr::WeightOp>();
        key.push_back(w ? w.getValue().getAsOpaquePointer() : nullptr);
      }
      auto hit = chosen.find(key);
      if (hit == chosen.end()) {
        std::string error;
        std::optional<codegen::TilingChoice> t =
            codegen::chooseTiling(k->graph, k->node(), chip, cons, error);
        hit = chosen.emplace(key, std::make_pair(std::move(t), error)).first;
      }
      const auto &[choice, error] = hit->second;
      if (!choice) {
        if (error.empty())
          return WalkResult::advance();
        op->emitOpError(
            error.rfind(k->who(), 0) == 0 ? error : k->who() + ": " + error);
        return WalkResult::interrupt();
      }
      op->setAttr(kTilingAttr, tilingAttr(op->getContext(), *choice));
      return WalkResult::advance();
    });
    return failure(r.wasInterrupted());
  }
};

struct VerifyTilingPass
    : PassWrapper<VerifyTilingPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(VerifyTilingPass)
  VerifyTilingPass() = default;
  explicit VerifyTilingPass(const arch::ChipConfig &chip) : chip(chip) {}
  VerifyTilingPass(const VerifyTilingPass &o) : PassWrapper(o), chip(o.chip) {}
  TILING_PASS_OPTIONS
  std::optional<arch::ChipConfig> chip; ///< Given by the pipeline.
  StringRef getArgument() const final { return "tsr-verify-tiling"; }
  StringRef getDescription() const final {
    return "Reject a recorded tsr.tiling the chip cannot run";
  }

  void runOnOperation() override {
    std::optional<arch::ChipConfig> c =
        chip ? chip : tsr::loadPassChip(getOperation(), chipConfig);
    if (!c)
      return signalPassFailure();
    cost::Constraints cons = constraints();
    WalkResult bare = getOperation().walk([&](Operation *op) {
      if (isa<tsr::MatMulOp>(op) || !op->hasAttr(kTilingAttr))
        return WalkResult::advance();
      std::optional<tsr::BareKernel> k = tsr::bareKernelOf(op);
      if (!k)
        return WalkResult::advance();
      if (std::optional<std::string> why =
              codegen::checkTiling(k->graph, k->node(), *c, cons)) {
        op->emitOpError(k->who() + ": " + *why);
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (bare.wasInterrupted())
      return signalPassFailure();
    // The integer inputs' conversions, recorded on the arguments.
    for (auto fn : getOperation().getOps<func::FuncOp>())
      for (BlockArgument arg : fn.getArguments()) {
        if (!fn.getArgAttr(arg.getArgNumber(), kTilingAttr))
          continue;
        std::optional<tsr::BareKernel> k = tsr::conversionKernelOf(arg);
        if (!k)
          continue;
        if (std::optional<std::string> why =
                codegen::checkTiling(k->graph, k->node(), *c, cons)) {
          fn.emitOpError() << k->who() << ": " << *why;
          return signalPassFailure();
        }
      }
    // A fused matmul group's NPU split (its tile is checked by
    // tsr-allocate-sram, which places its buffers).
    WalkResult groups = getOperation().walk([&](tsr::GroupOp g) {
      auto t = g->getAttrOfType<DictionaryAttr>(kTilingAttr);
      Attribute parts = t ? t.get("npus") : Attribute();
      if (!parts)
        return WalkResult::advance();
      auto v = dyn_cast<IntegerAttr>(parts);
      if (!v || v.getInt() < 1 || uint64_t(v.getInt()) > c->npus) {
        g.emitOpError("tsr.tiling 'npus' must be an integer in [1, ")
            << c->npus << "] (the chip's npus)";
        return WalkResult::interrupt();
      }
      if (v.getInt() > 1 && g->hasAttr(tsr::kKeepKvAttr)) {
        g.emitOpError("tsr.tiling 'npus' = ")
            << v.getInt()
            << " with tsr.keep_kv: the resident K/V region is one NPU's "
               "SRAM, the group runs on one NPU";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (groups.wasInterrupted())
      return signalPassFailure();
    WalkResult r = getOperation().walk([&](tsr::MatMulOp op) {
      auto t = op->getAttrOfType<DictionaryAttr>(kTilingAttr);
      if (!t)
        return WalkResult::advance();
      if (auto parts = t.get("npus")) {
        auto v = dyn_cast<IntegerAttr>(parts);
        if (!v || v.getInt() < 1 || uint64_t(v.getInt()) > c->npus) {
          op.emitOpError("tsr.tiling 'npus' must be an integer in [1, ")
              << c->npus << "] (the chip's npus)";
          return WalkResult::interrupt();
        }
      }
      uint64_t size[3];
      const char *names[3] = {"tm", "tk", "tn"};
      for (int i = 0; i < 3; ++i) {
        auto v = t.getAs<IntegerAttr>(names[i]);
        if (!v || v.getInt() <= 0) {
          op.emitOpError("tsr.tiling needs a positive integer '")
              << names[i] << "'";
          return WalkResult::interrupt();
        }
        size[i] = uint64_t(v.getInt());
      }
      std::optional<cost::GemmOp> g = gemmOf(op);
      if (!g) {
        op.emitOpError("needs static ranked shapes to be tiled");
        return WalkResult::interrupt();
      }
      if (size[0] > c->matrix_accumulator_rows) {
        op.emitOpError("tiling ")
            << size[0] << "x" << size[1] << "x" << size[2] << ": tm " << size[0]
            << " exceeds matrix_accumulator_rows "
            << c->matrix_accumulator_rows;
        return WalkResult::interrupt();
      }
      cost::Kernel k = cost::gemmKernel(*g, {size[0], size[1], size[2]}, cons);
      if (std::optional<std::string> why = cost::checkFits(*c, k, cons)) {
        op.emitOpError("tiling ")
            << size[0] << "x" << size[1] << "x" << size[2] << " " << *why;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass>
tessera::tsr::createSelectTilingPass(const arch::ChipConfig &chip) {
  return std::make_unique<SelectTilingPass>(chip);
}

std::unique_ptr<Pass>
tessera::tsr::createVerifyTilingPass(const arch::ChipConfig &chip) {
  return std::make_unique<VerifyTilingPass>(chip);
}

void tessera::tsr::registerTilingPasses() {
  PassRegistration<SelectTilingPass>();
  PassRegistration<VerifyTilingPass>();
}

std::optional<tessera::arch::ChipConfig>
tessera::tsr::loadPassChip(mlir::ModuleOp m, const std::string &path) {
  try {
    return path.empty() ? arch::ChipConfig::reference()
                        : arch::ChipConfig::load(path);
  } catch (const std::exception &e) {
    m.emitError() << e.what();
    return std::nullopt;
  }
}

std::string tessera::tsr::BareKernel::who() const {
  return std::string(codegen::nodeKindName(node().kind)) + " '" + node().name +
         "'";
}

std::optional<tessera::tsr::BareKernel>
tessera::tsr::conversionKernelOf(BlockArgument arg) {
  llvm::Expected<std::optional<codegen::Graph>> g =
      compiler::conversionGraph(arg);
  if (!g) {
    llvm::consumeError(g.takeError());
    return std::nullopt;
  }
  if (!*g)
    return std::nullopt;
  BareKernel k;
  k.graph = std::move(**g);
  k.index = 0;
  return k;
}

std::string tessera::tsr::inputName(BlockArgument arg) {
  auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  auto name =
      fn ? fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "tsr.name")
         : StringAttr();
  return "input '" +
         (name ? name.str() : "arg" + std::to_string(arg.getArgNumber())) + "'";
}

std::optional<tessera::tsr::BareKernel>
tessera::tsr::bareKernelOf(Operation *op) {
  if (!op->getDialect() || !isa<tsr::TsrDialect>(op->getDialect()) ||
      isa<tsr::GroupOp, tsr::WeightOp, tsr::YieldOp>(op) ||
      op->getParentOfType<tsr::GroupOp>())
    return std::nullopt;
  llvm::Expected<codegen::Graph> g = compiler::opGraph(op);
  if (!g) {
    llvm::consumeError(g.takeError());
    return std::nullopt;
  }
  BareKernel k;
  k.graph = codegen::normalizeGraph(*g);
  size_t i = k.graph.nodes.size();
  // A Convert node carries its input's decisions, recorded on the argument
  // (conversionKernelOf), not the reader's.
  while (i > 0 && (k.graph.nodes[i - 1].kind == codegen::NodeKind::Reshape ||
                   k.graph.nodes[i - 1].kind == codegen::NodeKind::Convert))
    --i;
  if (i == 0)
    return std::nullopt;
  k.index = i - 1;
  if (codegen::decisionKindOf(k.node()) == codegen::DecisionKind::None)
    return std::nullopt;
  return k;
}
