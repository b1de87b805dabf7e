//===- KeepKv.cpp - K and V of the first heads kept in SRAM ---------------===//
//
// Part of Tessera. `tsr-keep-kv`, the source's split (docs/fusion.md):
//
//   for every whole-row attention group (softmax = "row") whose one input
//   (the packed q/k/v tensor) is a matmul group's result with no other
//   user, batch 1, the projection's rows being the key rows, on one NPU:
//     for k = heads .. 0: reserve the resident region of k heads' K and V
//       (k x 2 x al(Sk hd e) bytes) at the top of the SRAM; search both
//       kernels' tiles again under the rest (cost::searchMatMulGroup with
//       the kept columns not stored, cost::searchAttention without K/V
//       loads for h < k); price the two kernels back to back
//       (cost::evaluateSequence);
//     the lowest modelled latency wins, ties to the larger k;
//     k > 0: the projection group records the region as `tsr.keep_kv`, the
//       attention group moves right after it and records heads_on_chip = k;
//       both take the new tiles; both `why`s say k and the figures;
//     k = 0: a remark, and the attention's `why` says why.
//
// The chip config is `chip-config` (default: the reference chip);
// `sram-bytes` overrides its capacity.
//
//===----------------------------------------------------------------------===//
#include "PassChip.h"
#include "tessera/Transforms/Fusion.h"
#include "tessera/Transforms/SramAlloc.h"

#include "tessera/CostModel/CostModel.h"
#include "tessera/CostModel/SramPlan.h"
#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <map>
#include <optional>

namespace tessera::tsr {
#define GEN_PASS_DEF_TSRKEEPKV
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

using namespace mlir;
using namespace tessera;
using namespace tessera::tsr;

namespace {

/// One value of k, priced.
struct Priced {
  uint64_t heads = 0;
  cost::GemmTiling projTile;
  cost::AttentionTiling attTile;
  cost::Cost proj, att;
  uint64_t projCycles = 0, attCycles = 0, total = 0; ///< In sequence.
};

/// The decision for one projection + attention pair.
struct Decision {
  /// The winner; k = 0; the fastest with k > 0.
  std::optional<Priced> best, none, resident;
  cost::ResidentKv kv; ///< The winner's region.
  uint64_t budget = 0;
  std::string declined; ///< Why no k > 0 is priced (when none fits).
};

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1 << 20));
  return buf;
}

struct KeepKvPass : tessera::tsr::impl::TsrKeepKvBase<KeepKvPass> {
  using TsrKeepKvBase::TsrKeepKvBase;
  explicit KeepKvPass(const arch::ChipConfig &chip) : chip(chip) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!chip && !(chip = loadPassChip(module, chipConfig)))
      return signalPassFailure();
    SmallVector<GroupOp> todo;
    module.walk([&](GroupOp g) {
      if (g.getKind() == "attention")
        todo.push_back(g);
    });
    for (GroupOp g : todo)
      keep(g);
  }

  /// Prices k = heads .. 0 (memoized per shape: a 40-layer network decides
  /// once).
  const Decision &decide(const cost::MatMulGroupOp &mm,
                         const cost::AttentionOp &att) {
    std::string key =
        std::to_string(mm.m) + "," + std::to_string(mm.k) + "," +
        std::to_string(mm.n) + "," + std::to_string(mm.layernorm) +
        std::to_string(mm.bias) + std::to_string(mm.gelu) +
        std::to_string(mm.tanhGelu) + std::to_string(mm.residual) + "," +
        std::to_string(att.heads) + "," + std::to_string(att.headDim) + "," +
        std::to_string(att.sq) + "," + std::to_string(att.sk) + "," +
        std::to_string(att.qOffset) + "," + std::to_string(att.kOffset) + "," +
        std::to_string(att.vOffset);
    auto it = memo.find(key);
    if (it != memo.end())
      return it->second;
    Decision d;
    cost::Constraints full;
    full.sramBytes = sramBytes;
    d.budget = full.budget(*chip);
    for (uint64_t k = att.heads + 1; k-- > 0;) {
      cost::ResidentKv kv;
      kv.heads = k;
      kv.headDim = att.headDim;
      kv.rows = att.sk;
      kv.kColumn = att.kOffset;
      kv.vColumn = att.vOffset;
      uint64_t region = kv.bytes(full);
      if (region >= d.budget)
        continue;
      kv.offset = d.budget - region;
      cost::Constraints c = full;
      c.sramBytes = d.budget - region;
      cost::MatMulGroupOp p = mm;
      p.kv = kv;
      cost::AttentionOp a = att;
      a.kv = kv;
      auto pt = cost::searchMatMulGroup(*chip, p, c);
      auto at = cost::searchAttention(*chip, a, c);
      if (!pt || !at)
        continue;
      cost::SequenceCost seq =
          cost::evaluateSequence(*chip,
                                 {cost::matmulGroupKernel(p, pt->tiling, c),
                                  cost::attentionKernel(a, at->tiling, c)},
                                 {}, c);
      Priced o{k,
               pt->tiling,
               at->tiling,
               pt->cost,
               at->cost,
               seq.attributedCycles[0],
               seq.attributedCycles[1],
               seq.latencyCycles};
      if (!k)
        d.none = o;
      else if (!d.resident || o.total < d.resident->total)
        d.resident = o;
      if (!d.best || o.total < d.best->total) {
        d.best = o;
        d.kv = kv;
      }
    }
    return memo.emplace(key, std::move(d)).first->second;
  }

  void keep(GroupOp g) {
    auto notApplicable = [&](const Twine &why) {
      g.emitRemark() << "K and V not kept in SRAM: " << why;
    };
    if (g.getHeadsOnChip() && *g.getHeadsOnChip())
      return; // Decided already.
    if (chip->npus >= 2)
      return notApplicable(
          "the chip has " + std::to_string(chip->npus) +
          " NPUs: the projection's row tiles may be divided among them "
          "(docs/lowering.md, \"Two NPUs\") and a resident region is one "
          "NPU's SRAM (a region per NPU is not built)");
    if (!g.getSoftmax() || *g.getSoftmax() != "row")
      return notApplicable("the attention kernel is not the whole-row one "
                           "(softmax = \"row\"), the one that reads resident "
                           "heads");
    if (g.getInputs().size() != 1)
      return notApplicable("q, k and v are not columns of one packed "
                           "projection");
    Value src = g.getInputs()[0];
    auto proj = src.getDefiningOp<GroupOp>();
    if (!proj || proj.getKind() != "matmul" ||
        proj->getBlock() != g->getBlock())
      return notApplicable("the packed q/k/v tensor is not a fused matmul "
                           "group's result");
    if (!src.hasOneUse())
      return notApplicable("the projection's result has another user");
    auto attns = g.getBody().front().getOps<AttentionOp>();
    if (attns.empty())
      return;
    cost::AttentionOp att = attentionWorkload(*attns.begin());
    std::string error;
    FailureOr<MatMulGroupParts> parts = matchMatMulGroup(proj, error);
    if (failed(parts))
      return notApplicable(error);
    if (att.batch != 1)
      return notApplicable("batch " + std::to_string(att.batch) +
                           " (the resident region holds one batch's rows)");
    uint64_t n = uint64_t(parts->n);
    if (att.kRowStride != n || att.vRowStride != n ||
        uint64_t(parts->m) != att.sk)
      return notApplicable("the projection's rows are not the key rows");
    cost::MatMulGroupOp mm = matmulGroupWorkload(*parts);
    // One tensor between the two kernels: the sequence model sees the
    // attention read what the projection stores.
    mm.out = att.q = att.k = att.v = "qkv";
    att.out = "attention";

    const Decision &d = decide(mm, att);
    Builder b(g.getContext());
    auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(int64_t(v)); };
    if (!d.best)
      return notApplicable("neither kernel fits the SRAM");
    const Priced &best = *d.best;
    uint64_t e = 2;
    std::string figures = "modelled " + std::to_string(best.total) +
                          " cycles (projection " +
                          std::to_string(best.projCycles) + " + attention " +
                          std::to_string(best.attCycles) + ")";
    if (d.none && best.heads)
      figures += " against " + std::to_string(d.none->total) +
                 " with every head's K and V through DRAM (projection " +
                 std::to_string(d.none->projCycles) + " + attention " +
                 std::to_string(d.none->attCycles) + ")";
    std::string why;
    if (best.heads) {
      why = "K and V of the first " + std::to_string(best.heads) + " of " +
            std::to_string(att.heads) + " heads (" +
            std::to_string(d.kv.bytes()) +
            " B) stay in SRAM from the projection at [" +
            std::to_string(d.kv.offset) + ", " +
            std::to_string(d.kv.offset + d.kv.bytes()) + ") of " +
            mib(d.budget) + ": " +
            std::to_string(2 * best.heads * att.sk * att.headDim * e) +
            " B neither stored nor loaded; " + figures;
    } else {
      if (d.resident) {
        why = "K and V of every head through DRAM: no resident split is "
              "faster; " +
              figures + " against " + std::to_string(d.resident->total) +
              " with the fastest resident split (" +
              std::to_string(d.resident->heads) + " heads: projection " +
              std::to_string(d.resident->projCycles) + " + attention " +
              std::to_string(d.resident->attCycles) + ")";
      } else {
        cost::ResidentKv one;
        one.heads = 1;
        one.headDim = att.headDim;
        one.rows = att.sk;
        why = "K and V of every head through DRAM: no resident split fits "
              "(one head's K and V take " +
              std::to_string(one.bytes()) + " B of the " +
              std::to_string(d.budget) +
              " B of SRAM; the rest holds no tiles of both kernels); " +
              figures;
      }
      g.emitRemark() << "K and V not kept in SRAM: " << why;
    }
    g.setWhyAttr(b.getStringAttr(g.getWhy().str() + "; " + why));
    if (!best.heads)
      return;

    // The projection writes the kept columns into the region; the
    // attention reads them there, right after it.
    proj->setAttr(kKeepKvAttr, keepKvAttr(g.getContext(), d.kv));
    proj.setWhyAttr(b.getStringAttr(
        proj.getWhy().str() + "; K and V of the first " +
        std::to_string(best.heads) + " heads kept in SRAM for the attention"));
    setGemmTiling(proj, best.projTile, best.proj);
    g.setHeadsOnChipAttr(i64(best.heads));
    g->setAttr("tsr.tiling",
               b.getDictionaryAttr(
                   {b.getNamedAttr("tq", i64(best.attTile.tq)),
                    b.getNamedAttr("sram_bytes", i64(best.att.sramBytes)),
                    b.getNamedAttr("dram_bytes", i64(best.att.dramBytes())),
                    b.getNamedAttr("cycles", i64(best.att.latencyCycles))}));
    if (proj->getNextNode() != g.getOperation())
      g->moveAfter(proj);
  }

  std::optional<arch::ChipConfig> chip;
  std::map<std::string, Decision> memo;
};

} // namespace

std::unique_ptr<Pass>
tessera::tsr::createKeepKvPass(const arch::ChipConfig &chip) {
  return std::make_unique<KeepKvPass>(chip);
}
