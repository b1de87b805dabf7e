//===- FoldBias.cpp - the bias added by the matrix unit -------------------===//
//
// Part of Tessera. `tsr-fold-bias` (docs/fusion.md, "tsr-fold-bias"):
//
//   for every matmul group with a "bias" epilogue:
//     price its kernel as recorded (the bias a vec.add on each output
//     tile, tsr.tiling's tile) and with the bias folded into the product
//     (cost::MatMulGroupOp::foldBias: a column of ones after A's columns
//     in its slots, the bias as one more row of B's, the last K step
//     multiplying k_last + 1), the folded kernel's tile searched again
//     under the same budget (the SRAM below a resident K/V region);
//     the folded kernel wins when it is modelled strictly faster: the
//     group records `tsr.fold_bias`, the new tile and its figures in
//     tsr.tiling, and its `why` says so; otherwise a remark says why not.
//
// On the weight-stationary array the extra row is free when the last K
// step leaves a spare array row (k_last mod matrix_rows != 0); when it does
// not, it costs a whole fold and the search picks another tk or declines.
// The chip config is `chip-config` (default: the reference chip);
// `sram-bytes` overrides its capacity.
//
//===----------------------------------------------------------------------===//
#include "PassChip.h"
#include "tessera/Transforms/Fusion.h"
#include "tessera/Transforms/SramAlloc.h"

#include "tessera/CostModel/CostModel.h"
#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <map>
#include <optional>
#include <tuple>

namespace tessera::tsr {
#define GEN_PASS_DEF_TSRFOLDBIAS
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

using namespace mlir;
using namespace tessera;
using namespace tessera::tsr;

namespace {

/// The decision for one group shape, tile and budget.
struct Decision {
  cost::Cost recorded;                            ///< As recorded.
  std::optional<cost::Choice<cost::GemmTiling>> folded; ///< Its best tile.
  bool fold = false;
};

struct FoldBiasPass : tessera::tsr::impl::TsrFoldBiasBase<FoldBiasPass> {
  using TsrFoldBiasBase::TsrFoldBiasBase;
  explicit FoldBiasPass(const arch::ChipConfig &chip) : chip(chip) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!chip && !(chip = loadPassChip(module, chipConfig)))
      return signalPassFailure();
    SmallVector<GroupOp> todo;
    module.walk([&](GroupOp g) {
      if (g.getKind() == "matmul" && !g->hasAttr(kFoldBiasAttr))
        todo.push_back(g);
    });
    for (GroupOp g : todo)
      if (failed(fold(g)))
        return signalPassFailure();
  }

  LogicalResult fold(GroupOp g) {
    std::string error;
    FailureOr<MatMulGroupParts> parts = matchMatMulGroup(g, error);
    if (failed(parts))
      return g.emitOpError() << error;
    if (parts->bias < 0)
      return success();
    cost::MatMulGroupOp op = matmulGroupWorkload(*parts);
    FailureOr<cost::ResidentKv> kv = residentKvOf(g, error);
    if (failed(kv))
      return g.emitOpError() << error;
    op.kv = *kv;
    // The kernel's own budget: the SRAM below a resident region.
    cost::Constraints c;
    c.sramBytes = kv->heads ? kv->offset : sramBytes;
    auto tiling = g->getAttrOfType<DictionaryAttr>("tsr.tiling");
    auto field = [&](StringRef name) -> uint64_t {
      auto v = tiling ? tiling.getAs<IntegerAttr>(name) : IntegerAttr();
      return v && v.getInt() > 0 ? uint64_t(v.getInt()) : 0;
    };
    cost::GemmTiling t{field("tm"), field("tk"), field("tn")};
    if (cost::checkMatMulGroup(*chip, op, t, c)) {
      // No legal recorded tile: the unfolded kernel's own choice.
      std::optional<cost::Choice<cost::GemmTiling>> best =
          cost::searchMatMulGroup(*chip, op, c);
      if (!best)
        return success(); // tsr-allocate-sram names the group and bytes.
      t = best->tiling;
    }
    const Decision &d = decide(op, t, c);
    if (!d.fold) {
      InFlightDiagnostic r = g.emitRemark() << "bias not folded into the "
                                               "product: ";
      if (!d.folded)
        r << "no tile of the folded kernel fits the SRAM";
      else
        r << "modelled " << d.folded->cost.latencyCycles << " cycles ("
          << tileText(d.folded->tiling) << ") against "
          << d.recorded.latencyCycles << " with the bias a vec.add ("
          << tileText(t) << ")";
      return success();
    }
    const cost::GemmTiling &ft = d.folded->tiling;
    uint64_t steps = (op.k + ft.tk - 1) / ft.tk;
    uint64_t kLast = op.k - (steps - 1) * ft.tk;
    Builder b(g.getContext());
    g->setAttr(kFoldBiasAttr, b.getUnitAttr());
    setGemmTiling(g, ft, d.folded->cost);
    std::string why =
        "bias added by the matrix unit instead of a vec.add per output "
        "tile: the last K step multiplies " +
        std::to_string(kLast) + " + 1 rows (a column of ones in A, the bias "
        "as a row of B); " +
        tileText(ft) + " tiles, modelled " +
        std::to_string(d.folded->cost.latencyCycles) + " cycles against " +
        std::to_string(d.recorded.latencyCycles);
    g.setWhyAttr(b.getStringAttr(g.getWhy().str() + "; " + why));
    return success();
  }

  static std::string tileText(const cost::GemmTiling &t) {
    return std::to_string(t.tm) + "x" + std::to_string(t.tk) + "x" +
           std::to_string(t.tn);
  }

  /// Memoized per workload, tile and budget (a 40-layer network has a
  /// handful).
  const Decision &decide(const cost::MatMulGroupOp &op,
                         const cost::GemmTiling &t, const cost::Constraints &c) {
    auto key = std::make_tuple(
        op.m, op.k, op.n, op.layernorm, op.gelu, op.tanhGelu, op.residual,
        op.kv.heads, op.kv.headDim, op.kv.rows, op.kv.kColumn, op.kv.vColumn,
        op.kv.offset, t.tm, t.tk, t.tn, c.sramBytes);
    auto it = memo.find(key);
    if (it != memo.end())
      return it->second;
    Decision d;
    d.recorded = cost::evaluate(*chip, cost::matmulGroupKernel(op, t, c));
    cost::MatMulGroupOp f = op;
    f.foldBias = true;
    d.folded = cost::searchMatMulGroup(*chip, f, c);
    d.fold = d.folded &&
             d.folded->cost.latencyCycles < d.recorded.latencyCycles;
    return memo.emplace(key, std::move(d)).first->second;
  }

  std::optional<arch::ChipConfig> chip;
  std::map<std::tuple<uint64_t, uint64_t, uint64_t, bool, bool, bool, bool,
                      uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                      uint64_t, uint64_t, uint64_t, uint64_t, uint64_t>,
           Decision>
      memo;
};

} // namespace

std::unique_ptr<Pass>
tessera::tsr::createFoldBiasPass(const arch::ChipConfig &chip) {
  return std::make_unique<FoldBiasPass>(chip);
}
