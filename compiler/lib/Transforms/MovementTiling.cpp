//===- MovementTiling.cpp - Decisions of the movement and CNN kernels -----===//
//
// Part of Tessera. See tessera/Transforms/MovementTiling.h and
// docs/lowering.md ("Kernels", "SRAM allocation").
//
//===----------------------------------------------------------------------===//
#include "tessera/Transforms/MovementTiling.h"

#include "tessera/CostModel/MovementKernels.h"
#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Transforms/SramAlloc.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"

#include <optional>

using namespace mlir;
using namespace tessera;
using namespace tessera::tsr;

namespace {

constexpr llvm::StringLiteral kTilingAttr = "tsr.tiling";
constexpr uint64_t kEb = 2; // FP16 bytes per element.

using Shape = std::vector<int64_t>;

std::optional<Shape> shapeOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape())
    return std::nullopt;
  return Shape(t.getShape().begin(), t.getShape().end());
}

uint64_t product(const Shape &s, size_t from = 0) {
  uint64_t n = 1;
  for (size_t i = from; i < s.size(); ++i)
    n *= uint64_t(s[i]);
  return n;
}

/// The kernel(s) an op becomes (docs/lowering.md, "Kernels").
struct Workload {
  enum Kind { Copy, Transpose, Concat, Conv, Pool, PoolGemm, Gather, Where };
  Kind kind = Copy;
  /// Copy: moves[0], `repeat` times (an expand: one copy per broadcast
  /// index); Transpose: moves[0]; Concat: one per input.
  std::vector<cost::MoveOp> moves;
  uint64_t repeat = 1;
  cost::ConvOp conv;
  cost::PoolOp pool;
  cost::GemmOp gemm; ///< Conv: one group's; PoolGemm: the global average's.
  uint64_t count = 0, rowBytes = 0; ///< Gather.
  cost::ChainOp chain;              ///< Where.
};

std::optional<Workload> workloadOf(Operation *op) {
  std::optional<Workload> w;
  auto copyOf = [](const cost::CopyView &v) { return v.move("x", "out", kEb); };
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](tsr::ConvOp o) {
        auto xs = shapeOf(o.getInput()), ws = shapeOf(o.getWeight()),
             os = shapeOf(o.getResult());
        if (!xs || !ws || !os || xs->size() != 4 || ws->size() != 4 ||
            os->size() != 4 || o.getGroups() < 1)
          return;
        cost::ConvOp c;
        c.batch = (*xs)[0];
        c.channels = (*xs)[1];
        c.height = (*xs)[2];
        c.width = (*xs)[3];
        c.outChannels = (*ws)[0];
        c.kernelH = (*ws)[2];
        c.kernelW = (*ws)[3];
        c.groups = uint64_t(o.getGroups());
        c.outH = (*os)[2];
        c.outW = (*os)[3];
        c.strideH = o.getStrides()[0];
        c.strideW = o.getStrides()[1];
        c.dilationH = o.getDilations()[0];
        c.dilationW = o.getDilations()[1];
        c.padTop = o.getPads()[0];
        c.padLeft = o.getPads()[1];
        w = Workload();
        w->kind = Workload::Conv;
        w->conv = c;
        w->gemm = cost::convGemm(c);
      })
      .Case<tsr::MaxPoolOp, tsr::AvgPoolOp>([&](auto o) {
        auto xs = shapeOf(o.getInput()), os = shapeOf(o.getResult());
        if (!xs || !os || xs->size() != 4 || os->size() != 4)
          return;
        cost::PoolOp p;
        p.planes = (*xs)[0] * (*xs)[1];
        p.height = (*xs)[2];
        p.width = (*xs)[3];
        p.outH = (*os)[2];
        p.outW = (*os)[3];
        p.kernelH = o.getKernel()[0];
        p.kernelW = o.getKernel()[1];
        p.strideH = o.getStrides()[0];
        p.strideW = o.getStrides()[1];
        p.padTop = o.getPads()[0];
        p.padLeft = o.getPads()[1];
        p.max = isa<tsr::MaxPoolOp>(op);
        if (auto avg = dyn_cast<tsr::AvgPoolOp>(op))
          p.countIncludePad = avg.getCountIncludePad();
        w = Workload();
        w->pool = p;
        if (p.global(o.getPads()[2], o.getPads()[3])) {
          w->kind = Workload::PoolGemm;
          w->gemm = cost::poolGemm(p);
        } else {
          w->kind = Workload::Pool;
        }
      })
      .Case([&](tsr::TransposeOp o) {
        auto xs = shapeOf(o.getInput());
        if (!xs)
          return;
        Shape perm(o.getPerm().begin(), o.getPerm().end());
        cost::TransposeView t = cost::transposeView(*xs, perm);
        if (t.identity)
          return;
        w = Workload();
        w->kind = t.transpose ? Workload::Transpose : Workload::Copy;
        w->moves = {copyOf(t.view)};
        w->moves[0].transpose = t.transpose;
      })
      .Case([&](tsr::SliceOp o) {
        auto xs = shapeOf(o.getInput()), os = shapeOf(o.getResult());
        if (!xs || !os)
          return;
        Shape in = cost::rowMajorStrides(*xs), step(xs->size());
        for (size_t d = 0; d < xs->size(); ++d)
          step[d] = in[d] * o.getSteps()[d];
        w = Workload();
        w->moves = {copyOf(cost::copyView(*os, step, cost::rowMajorStrides(*os)))};
      })
      .Case([&](tsr::ConcatOp o) {
        auto os = shapeOf(o.getResult());
        if (!os)
          return;
        Shape outSt = cost::rowMajorStrides(*os);
        Workload c;
        c.kind = Workload::Concat;
        for (Value in : o.getInputs()) {
          auto s = shapeOf(in);
          if (!s)
            return;
          c.moves.push_back(
              copyOf(cost::copyView(*s, cost::rowMajorStrides(*s), outSt)));
        }
        w = c;
      })
      .Case([&](tsr::ExpandOp o) {
        auto is = shapeOf(o.getInput()), os = shapeOf(o.getResult());
        if (!is || !os || is->size() > os->size())
          return;
        Shape xs(os->size() - is->size(), 1);
        xs.insert(xs.end(), is->begin(), is->end());
        Shape window = *os;
        uint64_t copies = 1;
        for (size_t d = 0; d < os->size(); ++d)
          if (xs[d] == 1 && (*os)[d] > 1) {
            copies *= uint64_t((*os)[d]);
            window[d] = 1;
          }
        w = Workload();
        w->moves = {copyOf(cost::copyView(window, cost::rowMajorStrides(xs),
                                          cost::rowMajorStrides(*os)))};
        w->repeat = copies;
      })
      .Case([&](tsr::EmbeddingOp o) {
        auto ts = shapeOf(o.getTable()), is = shapeOf(o.getIndices());
        if (!ts || !is || ts->empty())
          return;
        w = Workload();
        w->kind = Workload::Gather;
        w->count = product(*is);
        w->rowBytes = product(*ts, 1) * kEb;
      })
      .Case([&](tsr::WhereOp o) {
        auto os = shapeOf(o.getResult());
        if (!os)
          return;
        cost::CopyView v = cost::contiguousView(int64_t(product(*os)));
        cost::ChainOp c;
        c.rows = uint64_t(v.rows);
        c.cols = uint64_t(v.cols);
        c.inputs = {"cond", "x", "y"};
        c.inputBytes = {kEb, kEb, kEb};
        c.chain = {arch::Opcode::VecSelect};
        w = Workload();
        w->kind = Workload::Where;
        w->chain = c;
      });
  return w;
}

/// "'tsr.conv' op" is MLIR's prefix; the ONNX node name for the messages.
std::string nameOf(Operation *op) {
  Location loc = op->getLoc();
  if (auto f = dyn_cast<FusedLoc>(loc); f && !f.getLocations().empty())
    loc = f.getLocations().front();
  if (auto n = dyn_cast<NameLoc>(loc))
    return "'" + n.getName().str() + "' ";
  return "";
}

/// The kernel (a kernel of parts for several) of workload `w` with
/// decision `d`.
cost::Kernel kernelOf(const Workload &w, const MovementDecision &d,
                      const cost::Constraints &c) {
  switch (w.kind) {
  case Workload::Copy:
  case Workload::Transpose: {
    cost::Kernel k;
    for (uint64_t i = 0; i < w.repeat; ++i)
      cost::appendPart(k, cost::moveKernel(w.moves[0], d.tiles[0], c));
    return k;
  }
  case Workload::Concat: {
    cost::Kernel k;
    for (size_t i = 0; i < w.moves.size(); ++i)
      cost::appendPart(k, cost::moveKernel(w.moves[i], d.tiles[i], c));
    return k;
  }
  case Workload::Conv:
    return cost::convKernel(w.conv, d.band, d.gemm, c);
  case Workload::Pool:
    return cost::poolKernel(w.pool, d.band, c);
  case Workload::PoolGemm:
    return cost::gemmKernel(w.gemm, d.gemm, c);
  case Workload::Gather:
    return cost::gatherKernel(w.count, d.tiles[0].tr, w.rowBytes, "ids",
                              "table", "out", c);
  case Workload::Where:
    return cost::chainKernel(w.chain, d.tiles[0], c);
  }
  return {};
}

/// The SRAM plans of workload `w` with decision `d` (none for a GEMM: the
/// matrix kernel places its own).
std::vector<cost::SramPlan> plansOf(const Workload &w,
                                    const MovementDecision &d,
                                    const cost::Constraints &c) {
  switch (w.kind) {
  case Workload::Copy:
  case Workload::Transpose:
    return {cost::moveSramPlan(w.moves[0], d.tiles[0], c)};
  case Workload::Concat: {
    std::vector<cost::SramPlan> v;
    for (size_t i = 0; i < w.moves.size(); ++i)
      v.push_back(cost::moveSramPlan(w.moves[i], d.tiles[i], c));
    return v;
  }
  case Workload::Conv:
    return {cost::im2colSramPlan(w.conv, d.band, c)};
  case Workload::Pool:
    return {cost::poolSramPlan(w.pool, d.band, c)};
  case Workload::PoolGemm:
    return {};
  case Workload::Gather:
    return {cost::gatherSramPlan(w.count, d.tiles[0].tr, w.rowBytes, c)};
  case Workload::Where:
    return {cost::chainSramPlan(w.chain, d.tiles[0], c)};
  }
  return {};
}

/// The smallest GEMM tile the search considers (what the message names).
uint64_t leastGemmBytes(const arch::ChipConfig &chip, const cost::GemmOp &g,
                        const cost::Constraints &c) {
  uint64_t least = UINT64_MAX;
  for (uint64_t tm : cost::tileCandidates(g.m, 32))
    for (uint64_t tk : cost::tileCandidates(g.k, chip.matrix_rows))
      for (uint64_t tn : cost::tileCandidates(g.n, chip.matrix_cols))
        least = std::min(least, cost::gemmKernel(g, {tm, tk, tn}, c).sramBytes);
  return least;
}

} // namespace

bool tessera::tsr::isMovementOp(Operation *op) {
  return workloadOf(op).has_value();
}

//===----------------------------------------------------------------------===//
// tsr-select-tiling
//===----------------------------------------------------------------------===//

LogicalResult tessera::tsr::selectMovementTiling(Operation *op,
                                                 const arch::ChipConfig &chip,
                                                 const cost::Constraints &c) {
  std::optional<Workload> w = workloadOf(op);
  if (!w)
    return success();
  uint64_t budget = c.budget(chip);
  MovementDecision d;
  auto none = [&](const std::string &what, uint64_t least) {
    return op->emitOpError()
           << nameOf(op) << "no tiling of the " << what << " fits " << budget
           << " bytes of SRAM; the smallest needs " << least << " bytes";
  };
  auto move = [&](const cost::MoveOp &m) -> LogicalResult {
    std::optional<cost::Choice<cost::RowTiling>> best =
        cost::searchMove(chip, m, c);
    if (!best)
      return none(m.transpose ? "transpose" : "copy",
                  cost::moveSramPlan(m, {1, 1}, c).total);
    d.tiles.push_back(best->tiling);
    return success();
  };
  auto gemm = [&](const cost::GemmOp &g) -> LogicalResult {
    std::optional<cost::Choice<cost::GemmTiling>> best =
        cost::searchGemm(chip, g, c);
    if (!best)
      return none("matrix product", leastGemmBytes(chip, g, c));
    d.gemm = best->tiling;
    if (chip.npus > 1) {
      cost::GemmSplit split = cost::chooseGemmSplit(chip, g, best->tiling);
      d.gemm = split.tiling;
      d.npus = split.parts;
    }
    return success();
  };
  Builder b(op->getContext());
  auto i64 = [&](uint64_t v) { return b.getI64IntegerAttr(int64_t(v)); };
  SmallVector<NamedAttribute> fields;
  switch (w->kind) {
  case Workload::Copy:
  case Workload::Transpose:
    if (failed(move(w->moves[0])))
      return failure();
    fields.push_back(b.getNamedAttr("tr", i64(d.tiles[0].tr)));
    fields.push_back(b.getNamedAttr("tc", i64(d.tiles[0].tc)));
    break;
  case Workload::Concat: {
    SmallVector<Attribute> inputs;
    for (const cost::MoveOp &m : w->moves) {
      if (failed(move(m)))
        return failure();
      inputs.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("tr", i64(d.tiles.back().tr)),
           b.getNamedAttr("tc", i64(d.tiles.back().tc))}));
    }
    fields.push_back(b.getNamedAttr("inputs", b.getArrayAttr(inputs)));
    break;
  }
  case Workload::Conv: {
    std::optional<cost::Choice<cost::BandTiling>> band =
        cost::searchIm2col(chip, w->conv, c);
    if (!band)
      return none("im2col kernel",
                  cost::im2colSramPlan(w->conv, {1, 1}, c).total);
    d.band = band->tiling;
    if (failed(gemm(w->gemm)))
      return failure();
    fields.push_back(b.getNamedAttr("cb", i64(d.band.cb)));
    fields.push_back(b.getNamedAttr("toh", i64(d.band.toh)));
    break;
  }
  case Workload::Pool: {
    std::optional<cost::Choice<cost::BandTiling>> band =
        cost::searchPool(chip, w->pool, c);
    if (!band)
      return none("pooling kernel",
                  cost::poolSramPlan(w->pool, {1, 1}, c).total);
    d.band = band->tiling;
    fields.push_back(b.getNamedAttr("cb", i64(d.band.cb)));
    fields.push_back(b.getNamedAttr("toh", i64(d.band.toh)));
    break;
  }
  case Workload::PoolGemm:
    if (failed(gemm(w->gemm)))
      return failure();
    break;
  case Workload::Gather: {
    std::optional<cost::Choice<uint64_t>> best =
        cost::searchGather(chip, w->count, w->rowBytes, c);
    if (!best)
      return none("gather",
                  cost::gatherSramPlan(w->count, 1, w->rowBytes, c).total);
    d.tiles.push_back({best->tiling, 1});
    fields.push_back(b.getNamedAttr("tr", i64(best->tiling)));
    break;
  }
  case Workload::Where: {
    std::optional<cost::Choice<cost::RowTiling>> best =
        cost::searchChain(chip, w->chain, c);
    if (!best)
      return none("where", cost::chainSramPlan(w->chain, {1, 1}, c).total);
    d.tiles.push_back(best->tiling);
    fields.push_back(b.getNamedAttr("tr", i64(best->tiling.tr)));
    fields.push_back(b.getNamedAttr("tc", i64(best->tiling.tc)));
    break;
  }
  }
  if (w->kind == Workload::Conv || w->kind == Workload::PoolGemm) {
    fields.push_back(b.getNamedAttr("tm", i64(d.gemm.tm)));
    fields.push_back(b.getNamedAttr("tk", i64(d.gemm.tk)));
    fields.push_back(b.getNamedAttr("tn", i64(d.gemm.tn)));
    if (chip.npus > 1)
      fields.push_back(b.getNamedAttr("npus", i64(d.npus)));
  }
  // The modelled cost of the layer (on one NPU).
  cost::Cost k = cost::evaluate(chip, kernelOf(*w, d, c), {}, c);
  fields.push_back(b.getNamedAttr("sram_bytes", i64(k.sramBytes)));
  fields.push_back(b.getNamedAttr("dram_bytes", i64(k.dramBytes())));
  fields.push_back(b.getNamedAttr("cycles", i64(k.latencyCycles)));
  op->setAttr(kTilingAttr, b.getDictionaryAttr(fields));
  return success();
}

//===----------------------------------------------------------------------===//
// Reading a decision back
//===----------------------------------------------------------------------===//

namespace {

/// The decision recorded on `op` for workload `w`; failure with `error`
/// when a field the kernel needs is missing or not a positive integer.
FailureOr<MovementDecision> readTiling(Operation *op, const Workload &w,
                                       DictionaryAttr t, std::string &error) {
  MovementDecision d;
  auto field = [&](DictionaryAttr dict, StringRef name,
                   uint64_t &out) -> bool {
    auto v = dict.getAs<IntegerAttr>(name);
    if (!v || v.getInt() <= 0) {
      error = "tsr.tiling needs a positive integer '" + name.str() + "'";
      return false;
    }
    out = uint64_t(v.getInt());
    return true;
  };
  switch (w.kind) {
  case Workload::Copy:
  case Workload::Transpose:
  case Workload::Where: {
    cost::RowTiling r;
    if (!field(t, "tr", r.tr) || !field(t, "tc", r.tc))
      return failure();
    d.tiles.push_back(r);
    break;
  }
  case Workload::Gather: {
    cost::RowTiling r{0, 1};
    if (!field(t, "tr", r.tr))
      return failure();
    d.tiles.push_back(r);
    break;
  }
  case Workload::Concat: {
    auto inputs = t.getAs<ArrayAttr>("inputs");
    if (!inputs || inputs.size() != w.moves.size()) {
      error = "tsr.tiling needs an array 'inputs' of " +
              std::to_string(w.moves.size()) + " tilings (one per input)";
      return failure();
    }
    for (Attribute a : inputs) {
      auto dict = dyn_cast<DictionaryAttr>(a);
      cost::RowTiling r;
      if (!dict) {
        error = "tsr.tiling 'inputs' must hold dictionaries {tr, tc}";
        return failure();
      }
      if (!field(dict, "tr", r.tr) || !field(dict, "tc", r.tc))
        return failure();
      d.tiles.push_back(r);
    }
    break;
  }
  case Workload::Conv:
  case Workload::Pool:
    if (!field(t, "cb", d.band.cb) || !field(t, "toh", d.band.toh))
      return failure();
    break;
  case Workload::PoolGemm:
    break;
  }
  if (w.kind == Workload::Conv || w.kind == Workload::PoolGemm) {
    if (!field(t, "tm", d.gemm.tm) || !field(t, "tk", d.gemm.tk) ||
        !field(t, "tn", d.gemm.tn))
      return failure();
    if (auto n = t.getAs<IntegerAttr>("npus"))
      d.npus = uint64_t(std::max<int64_t>(0, n.getInt()));
  }
  (void)op;
  return d;
}

FailureOr<std::vector<cost::SramPlan>> readPlans(const Workload &w,
                                                 DictionaryAttr attr,
                                                 std::string &error) {
  std::vector<cost::SramPlan> plans;
  if (w.kind == Workload::Concat) {
    auto inputs = attr.getAs<ArrayAttr>("inputs");
    if (!inputs || inputs.size() != w.moves.size()) {
      error = "tsr.sram needs an array 'inputs' of " +
              std::to_string(w.moves.size()) + " plans (one per input)";
      return failure();
    }
    for (Attribute a : inputs) {
      auto dict = dyn_cast<DictionaryAttr>(a);
      if (!dict) {
        error = "tsr.sram 'inputs' must hold plans";
        return failure();
      }
      FailureOr<cost::SramPlan> p = readSramPlan(dict, error);
      if (failed(p))
        return failure();
      plans.push_back(std::move(*p));
    }
    return plans;
  }
  FailureOr<cost::SramPlan> p = readSramPlan(attr, error);
  if (failed(p))
    return failure();
  plans.push_back(std::move(*p));
  return plans;
}

} // namespace

FailureOr<MovementDecision>
tessera::tsr::readMovementDecision(Operation *op, std::string &error) {
  std::optional<Workload> w = workloadOf(op);
  auto t = op->getAttrOfType<DictionaryAttr>(kTilingAttr);
  if (!w || !t)
    return MovementDecision();
  FailureOr<MovementDecision> d = readTiling(op, *w, t, error);
  if (failed(d))
    return failure();
  if (auto s = op->getAttrOfType<DictionaryAttr>(kSramPlanAttr)) {
    FailureOr<std::vector<cost::SramPlan>> plans = readPlans(*w, s, error);
    if (failed(plans))
      return failure();
    d->plans = std::move(*plans);
  }
  return d;
}

//===----------------------------------------------------------------------===//
// tsr-verify-tiling
//===----------------------------------------------------------------------===//

namespace {

std::string tilingText(const Workload &w, const MovementDecision &d) {
  auto rt = [](const cost::RowTiling &r) {
    return std::to_string(r.tr) + "x" + std::to_string(r.tc);
  };
  std::string gemm = std::to_string(d.gemm.tm) + "x" +
                     std::to_string(d.gemm.tk) + "x" +
                     std::to_string(d.gemm.tn);
  std::string band = "cb = " + std::to_string(d.band.cb) +
                     ", toh = " + std::to_string(d.band.toh);
  switch (w.kind) {
  case Workload::Conv:
    return band + ", GEMM " + gemm;
  case Workload::Pool:
    return band;
  case Workload::PoolGemm:
    return gemm;
  case Workload::Gather:
    return "tr = " + std::to_string(d.tiles[0].tr);
  case Workload::Concat: {
    std::string s;
    for (const cost::RowTiling &r : d.tiles)
      s += (s.empty() ? "" : ", ") + rt(r);
    return s;
  }
  default:
    return rt(d.tiles[0]);
  }
}

} // namespace

LogicalResult tessera::tsr::verifyMovementTiling(Operation *op,
                                                 const arch::ChipConfig &chip,
                                                 const cost::Constraints &c) {
  std::optional<Workload> w = workloadOf(op);
  auto t = op->getAttrOfType<DictionaryAttr>(kTilingAttr);
  if (!w || !t)
    return success();
  std::string error;
  FailureOr<MovementDecision> d = readTiling(op, *w, t, error);
  if (failed(d))
    return op->emitOpError() << nameOf(op) << error;
  if ((w->kind == Workload::Conv || w->kind == Workload::PoolGemm) &&
      d->gemm.tm > chip.matrix_accumulator_rows)
    return op->emitOpError()
           << nameOf(op) << "tiling " << tilingText(*w, *d) << ": tm "
           << d->gemm.tm << " exceeds matrix_accumulator_rows "
           << chip.matrix_accumulator_rows;
  if (d->npus > chip.npus)
    return op->emitOpError()
           << nameOf(op) << "tsr.tiling 'npus' must be an integer in [1, "
           << chip.npus << "] (the chip's npus)";
  cost::Kernel k = kernelOf(*w, *d, c);
  uint64_t need = k.sramBytes;
  for (const cost::Kernel &p : k.parts)
    need = std::max(need, p.sramBytes);
  if (need > c.budget(chip))
    return op->emitOpError()
           << nameOf(op) << "tiling " << tilingText(*w, *d) << " needs "
           << need << " bytes of SRAM, the budget is " << c.budget(chip);
  return success();
}

//===----------------------------------------------------------------------===//
// tsr-allocate-sram, tsr-verify-sram
//===----------------------------------------------------------------------===//

LogicalResult tessera::tsr::allocateMovementSram(Operation *op,
                                                 const arch::ChipConfig &chip,
                                                 const cost::Constraints &c) {
  std::optional<Workload> w = workloadOf(op);
  auto t = op->getAttrOfType<DictionaryAttr>(kTilingAttr);
  if (!w || !t)
    return success();
  std::string error;
  FailureOr<MovementDecision> d = readTiling(op, *w, t, error);
  if (failed(d))
    return op->emitOpError() << nameOf(op) << error;
  std::vector<cost::SramPlan> plans = plansOf(*w, *d, c);
  if (plans.empty())
    return success();
  for (const cost::SramPlan &p : plans)
    if (p.total > c.budget(chip))
      return op->emitOpError()
             << nameOf(op) << "the recorded tiling " << tilingText(*w, *d)
             << " needs " << p.total << " bytes of SRAM, the budget is "
             << c.budget(chip);
  MLIRContext *ctx = op->getContext();
  if (w->kind == Workload::Concat) {
    SmallVector<Attribute> inputs;
    for (const cost::SramPlan &p : plans)
      inputs.push_back(sramPlanAttr(ctx, p));
    Builder b(ctx);
    op->setAttr(kSramPlanAttr,
                b.getDictionaryAttr(
                    {b.getNamedAttr("inputs", b.getArrayAttr(inputs))}));
  } else {
    op->setAttr(kSramPlanAttr, sramPlanAttr(ctx, plans[0]));
  }
  return success();
}

LogicalResult tessera::tsr::verifyMovementSram(Operation *op,
                                               const arch::ChipConfig &chip,
                                               const cost::Constraints &c) {
  std::optional<Workload> w = workloadOf(op);
  if (!w || !op->hasAttr(kSramPlanAttr))
    return success();
  auto attr = op->getAttrOfType<DictionaryAttr>(kSramPlanAttr);
  if (!attr)
    return op->emitOpError() << nameOf(op) << "tsr.sram must be a dictionary";
  std::string error;
  FailureOr<std::vector<cost::SramPlan>> plans = readPlans(*w, attr, error);
  if (failed(plans))
    return op->emitOpError() << nameOf(op) << error;
  uint64_t budget = c.budget(chip);
  for (const cost::SramPlan &p : *plans)
    if (std::optional<std::string> why = cost::checkSramPlan(p, budget))
      return op->emitOpError() << nameOf(op) << *why;
  auto t = op->getAttrOfType<DictionaryAttr>(kTilingAttr);
  if (!t)
    return success();
  FailureOr<MovementDecision> d = readTiling(op, *w, t, error);
  if (failed(d))
    return op->emitOpError() << nameOf(op) << error;
  std::vector<cost::SramPlan> need = plansOf(*w, *d, c);
  if (need.size() != plans->size())
    return op->emitOpError() << nameOf(op) << "tsr.sram holds "
                             << plans->size() << " plans, the tiling needs "
                             << need.size();
  for (size_t i = 0; i < need.size(); ++i)
    for (const cost::SramBuffer &b : need[i].buffers) {
      const cost::SramBuffer *r = (*plans)[i].find(b.name, b.slot);
      std::string name = cost::sramBufferName(b, need[i]);
      if (!r)
        return op->emitOpError()
               << nameOf(op) << "tsr.sram has no buffer '" << name << "'";
      if (r->bytes < b.bytes)
        return op->emitOpError()
               << nameOf(op) << "buffer '" << name << "' has " << r->bytes
               << " bytes, the recorded tile needs " << b.bytes;
    }
  return success();
}
