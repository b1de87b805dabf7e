//===- SelectTiling.cpp - tiling chosen by the cost model, kept in the IR -===//
//
// Part of Tessera. The select/verify pair of issue 10, IREE
// `lowering_config` style, for the unfused kernels:
//
//   tsr-select-tiling  for every op outside a group whose kernel kind
//                      records its decisions (codegen::decisionKindOf: the
//                      bare tsr.matmul, the vector family, the movement and
//                      CNN kernels), the search of its kind through the one
//                      dispatch (codegen::chooseTiling; a product:
//                      cost::searchGemm on its batch folded as the code
//                      generator folds it, and on a chip of several NPUs
//                      the split, cost::chooseGemmSplit), recorded with its
//                      modelled cost as `tsr.tiling = {tm, tk, tn[, npus,
//                      split] | tr, tc | ..., sram_bytes, dram_bytes,
//                      cycles}`, once per workload. No tiling fits: an error
//                      naming the op and the bytes the smallest tile needs.
//                      The FP16 conversion of an integer input read as data
//                      is such a kernel (codegen::conversionNode): its
//                      tiling is recorded on the function argument. On a
//                      chip of several NPUs, each fused matmul group's
//                      division of its row tiles among them (cost::
//                      chooseMatMulGroupSplit) is added to the tsr.tiling
//                      its fusion pass recorded: `npus`, `split = "rows"`,
//                      the tile the parts run and their modelled cost.
//   tsr-verify-tiling  every recorded `tsr.tiling` is legal on the chip
//                      (codegen::checkTiling: positive tiles within the
//                      view, a product's tm within the accumulator rows and
//                      npus within the chip's, the buffers within the SRAM
//                      budget), else an error naming the op; a fused
//                      matmul group's `npus` within the chip's, and 1 with
//                      a resident K/V region.
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
      } else {
        fields.erase("split");
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

  /// `tsr.tiling` of a choice: its fields in order, its labels (a split
  /// product's axis), then its modelled cost.
  static DictionaryAttr tilingAttr(MLIRContext *ctx,
                                   const codegen::TilingChoice &choice) {
    Builder b(ctx);
    auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
    SmallVector<NamedAttribute> fields;
    for (const auto &[name, v] : choice.fields)
      fields.push_back(b.getNamedAttr(name, i64(v)));
    for (const auto &[name, v] : choice.labels)
      fields.push_back(b.getNamedAttr(name, b.getStringAttr(v)));
    fields.push_back(
        b.getNamedAttr("sram_bytes", i64(int64_t(choice.cost.sramBytes))));
    fields.push_back(
        b.getNamedAttr("dram_bytes", i64(int64_t(choice.cost.dramBytes()))));
    fields.push_back(
        b.getNamedAttr("cycles", i64(int64_t(choice.cost.latencyCycles))));
    return b.getDictionaryAttr(fields);
  }

  /// Every op outside a group whose kernel kind records its decisions in
  /// the IR: its kind's search (codegen::chooseTiling), once per workload
  /// (op, operand and result types, which operands are weights and the
  /// weight values the kernel reads, attributes).
  LogicalResult selectBare(const arch::ChipConfig &chip,
                           const cost::Constraints &cons) {
    std::map<std::vector<const void *>,
             std::pair<std::optional<codegen::TilingChoice>, std::string>>
        chosen;
    WalkResult r = getOperation().walk([&](Operation *op) {
      std::optional<tsr::BareKernel> k = tsr::bareKernelOf(op);
      if (!k)
        return WalkResult::advance();
      // The op, its attributes and types, which operands are weights and
      // the weights' values the kernel reads at compile time (scalars, the
      // mask ops' operands: compiler::opGraph loads exactly those), so
      // every product of one shape shares one search.
      std::vector<const void *> key{
          op->getName().getAsOpaquePointer(),
          op->getAttrDictionary().getAsOpaquePointer(),
          op->getResult(0).getType().getAsOpaquePointer()};
      for (auto [i, v] : llvm::enumerate(op->getOperands())) {
        key.push_back(v.getType().getAsOpaquePointer());
        auto w = v.getDefiningOp<tsr::WeightOp>();
        bool read = w && !k->graph.values[i].data.empty();
        static const char aWeight = 0; // A weight whose value is not read.
        key.push_back(!w     ? nullptr
                      : read ? w.getValue().getAsOpaquePointer()
                             : &aWeight);
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
      if (!op->hasAttr(kTilingAttr))
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
      if (Attribute axis = t.get("split");
          axis && (!isa<StringAttr>(axis) ||
                   cast<StringAttr>(axis).getValue() != "rows")) {
        g.emitOpError("tsr.tiling 'split' of a fused matmul group must be "
                      "\"rows\" (its row tiles are divided)");
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
