//===- MovementDecisions.cpp - decisions of the movement and CNN kernels --===//
//
// Part of Tessera. The cases of KernelDecisions.h's dispatch for the kernels
// that move data or work in bands: slice, transpose, concat, expand (copies
// and the vector transpose), conv (the im2col band kernel and one GEMM per
// group), max/average pooling (a band kernel; a global average is a GEMM),
// embedding (the gather DMA) and where (docs/lowering.md, "Kernels";
// docs/cost-model.md, "Movement and CNN kernels").
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler/KernelDecisions.h"

#include "tessera/CostModel/MovementKernels.h"

#include <algorithm>

using namespace tessera;
using namespace tessera::codegen;

namespace {

using Shape = std::vector<int64_t>;
constexpr uint64_t kEb = 2; // FP16 bytes per element.

std::string str(uint64_t v) { return std::to_string(v); }

bool hasGemm(const MovementView &v) {
  return v.kind == DecisionKind::Conv ||
         (v.kind == DecisionKind::Pool && v.global);
}

} // namespace

DecisionKind tessera::codegen::movementKindOf(const GraphNode &n) {
  switch (n.kind) {
  case NodeKind::Slice:
  case NodeKind::Transpose:
  case NodeKind::Concat:
  case NodeKind::Expand:
    return DecisionKind::Move;
  case NodeKind::Conv:
    return DecisionKind::Conv;
  case NodeKind::MaxPool:
  case NodeKind::AvgPool:
    return DecisionKind::Pool;
  case NodeKind::Embedding:
    return DecisionKind::Gather;
  case NodeKind::Where:
    return DecisionKind::Where;
  default:
    return DecisionKind::None;
  }
}

std::optional<MovementView>
tessera::codegen::movementViewOf(const Graph &g, const GraphNode &n) {
  MovementView v;
  v.kind = movementKindOf(n);
  const Shape &os = g.values[n.output].shape;
  auto in = [&](size_t i) -> const Shape & {
    return g.values[n.inputs[i]].shape;
  };
  auto addCopy = [&](const cost::CopyView &c, const std::string &x) {
    v.views.push_back(c);
    v.moves.push_back(c.move(x, g.values[n.output].name, kEb));
  };
  switch (n.kind) {
  case NodeKind::Slice: {
    const Shape &xs = in(0);
    Shape st = cost::rowMajorStrides(xs), step(xs.size());
    for (size_t d = 0; d < xs.size(); ++d)
      step[d] = st[d] * n.steps[d];
    addCopy(cost::copyView(os, step, cost::rowMajorStrides(os)),
            g.values[n.inputs[0]].name);
    return v;
  }
  case NodeKind::Transpose: {
    cost::TransposeView t = cost::transposeView(in(0), n.perm);
    if (t.identity)
      return std::nullopt;
    addCopy(t.view, g.values[n.inputs[0]].name);
    v.moves[0].transpose = t.transpose;
    return v;
  }
  case NodeKind::Concat: {
    Shape outSt = cost::rowMajorStrides(os);
    for (size_t i = 0; i < n.inputs.size(); ++i)
      addCopy(cost::copyView(in(i), cost::rowMajorStrides(in(i)), outSt),
              g.values[n.inputs[i]].name);
    return v;
  }
  case NodeKind::Expand: {
    Shape xs(os.size() - in(0).size(), 1);
    xs.insert(xs.end(), in(0).begin(), in(0).end());
    Shape window = os;
    for (size_t d = 0; d < os.size(); ++d)
      if (xs[d] == 1 && os[d] > 1) {
        v.repeat *= uint64_t(os[d]);
        window[d] = 1;
      }
    addCopy(cost::copyView(window, cost::rowMajorStrides(xs),
                           cost::rowMajorStrides(os)),
            g.values[n.inputs[0]].name);
    return v;
  }
  case NodeKind::Conv: {
    const Shape &xs = in(0), &ws = in(1);
    cost::ConvOp &c = v.conv;
    c.batch = uint64_t(xs[0]);
    c.channels = uint64_t(xs[1]);
    c.height = uint64_t(xs[2]);
    c.width = uint64_t(xs[3]);
    c.outChannels = uint64_t(ws[0]);
    c.kernelH = uint64_t(ws[2]);
    c.kernelW = uint64_t(ws[3]);
    c.groups = uint64_t(std::max<int64_t>(1, n.groups));
    c.outH = uint64_t(os[2]);
    c.outW = uint64_t(os[3]);
    c.strideH = n.strides[0];
    c.strideW = n.strides[1];
    c.dilationH = n.dilations[0];
    c.dilationW = n.dilations[1];
    c.padTop = n.pads[0];
    c.padLeft = n.pads[1];
    c.x = g.values[n.inputs[0]].name;
    c.im2col = n.name + ".im2col";
    c.wmat = n.name + ".wmat";
    c.out = g.values[n.output].name;
    v.gemm = cost::convGemm(c);
    return v;
  }
  case NodeKind::MaxPool:
  case NodeKind::AvgPool: {
    const Shape &xs = in(0);
    cost::PoolOp &p = v.pool;
    p.planes = uint64_t(xs[0] * xs[1]);
    p.height = uint64_t(xs[2]);
    p.width = uint64_t(xs[3]);
    p.outH = uint64_t(os[2]);
    p.outW = uint64_t(os[3]);
    p.kernelH = uint64_t(n.kernel[0]);
    p.kernelW = uint64_t(n.kernel[1]);
    p.strideH = n.strides[0];
    p.strideW = n.strides[1];
    p.padTop = n.pads[0];
    p.padLeft = n.pads[1];
    p.max = n.kind == NodeKind::MaxPool;
    p.countIncludePad = n.countIncludePad;
    p.x = g.values[n.inputs[0]].name;
    p.divisors = n.name + ".divisors";
    p.out = g.values[n.output].name;
    v.global = p.global(n.pads[2], n.pads[3]);
    if (v.global) {
      v.gemm = cost::poolGemm(p);
      v.gemm.b = n.name + ".mean";
    }
    return v;
  }
  case NodeKind::Embedding:
    v.count = g.values[n.inputs[1]].numElements();
    v.rowBytes = uint64_t(product(in(0), 1)) * kEb;
    return v;
  case NodeKind::Where: {
    cost::CopyView flat = cost::contiguousView(int64_t(product(os)));
    v.chain.rows = uint64_t(flat.rows);
    v.chain.cols = uint64_t(flat.cols);
    for (int i : n.inputs) {
      v.chain.inputs.push_back(g.values[i].name);
      v.chain.inputBytes.push_back(kEb);
    }
    v.chain.chain = {arch::Opcode::VecSelect};
    v.chain.out = g.values[n.output].name;
    return v;
  }
  default:
    return std::nullopt;
  }
}

std::optional<MovementDecision>
tessera::codegen::recordedMovement(const MovementView &v, const GraphNode &n,
                                   std::string &error) {
  MovementDecision d;
  auto field = [&](const std::string &name, uint64_t &out) {
    int64_t x = n.tile(name);
    if (x <= 0) {
      error = "tsr.tiling needs a positive integer '" + name + "'";
      return false;
    }
    out = uint64_t(x);
    return true;
  };
  switch (v.kind) {
  case DecisionKind::Move:
    for (size_t i = 0; i < v.moves.size(); ++i) {
      // Several copies (a concat's inputs): tr0, tc0, tr1, ...; one copy
      // (a one-input concat too): tr, tc. As movementChoice records them.
      std::string k = v.moves.size() > 1 ? str(i) : "";
      cost::RowTiling t;
      if (!field("tr" + k, t.tr) || !field("tc" + k, t.tc))
        return std::nullopt;
      d.tiles.push_back(t);
    }
    break;
  case DecisionKind::Where: {
    cost::RowTiling t;
    if (!field("tr", t.tr) || !field("tc", t.tc))
      return std::nullopt;
    d.tiles.push_back(t);
    break;
  }
  case DecisionKind::Gather: {
    cost::RowTiling t{0, 1};
    if (!field("tr", t.tr))
      return std::nullopt;
    d.tiles.push_back(t);
    break;
  }
  case DecisionKind::Conv:
  case DecisionKind::Pool:
    if (!v.global && (!field("cb", d.band.cb) || !field("toh", d.band.toh)))
      return std::nullopt;
    break;
  default:
    break;
  }
  if (hasGemm(v)) {
    if (!field("tm", d.gemm.tm) || !field("tk", d.gemm.tk) ||
        !field("tn", d.gemm.tn))
      return std::nullopt;
    // Recorded without `npus` (decided for a chip of one NPU): one part,
    // so the emitter never re-decides the split (which may re-tile the
    // product its SRAM plan was made for).
    d.npus = uint64_t(std::max<int64_t>(1, n.tile("npus")));
  }
  return d;
}

std::optional<MovementDecision> tessera::codegen::searchMovement(
    const MovementView &v, const arch::ChipConfig &chip,
    const cost::Constraints &c, std::string &error) {
  error.clear();
  uint64_t budget = c.budget(chip);
  MovementDecision d;
  auto band = [&](const std::optional<cost::Choice<cost::BandTiling>> &b,
                  const std::string &what, uint64_t least) {
    if (!b) {
      error = noFit(what, least, budget);
      return false;
    }
    d.band = b->tiling;
    return true;
  };
  switch (v.kind) {
  case DecisionKind::Move:
    for (const cost::MoveOp &m : v.moves) {
      std::optional<cost::Choice<cost::RowTiling>> best =
          cost::searchMove(chip, m, c);
      if (!best) {
        error = noFit(m.transpose ? "transpose" : "copy",
                      cost::moveSramPlan(m, {1, 1}, c).total, budget);
        return std::nullopt;
      }
      d.tiles.push_back(best->tiling);
    }
    break;
  case DecisionKind::Where: {
    std::optional<cost::Choice<cost::RowTiling>> best =
        cost::searchChain(chip, v.chain, c);
    if (!best) {
      error =
          noFit("where", cost::chainSramPlan(v.chain, {1, 1}, c).total, budget);
      return std::nullopt;
    }
    d.tiles.push_back(best->tiling);
    break;
  }
  case DecisionKind::Gather: {
    std::optional<cost::Choice<uint64_t>> best =
        cost::searchGather(chip, v.count, v.rowBytes, c);
    if (!best) {
      error =
          noFit("gather of rows of " + str(v.rowBytes) + " bytes",
                cost::gatherSramPlan(v.count, 1, v.rowBytes, c).total, budget);
      return std::nullopt;
    }
    d.tiles.push_back({best->tiling, 1});
    break;
  }
  case DecisionKind::Conv:
    if (!band(cost::searchIm2col(chip, v.conv, c), "im2col kernel",
              cost::im2colSramPlan(v.conv, {1, 1}, c).total))
      return std::nullopt;
    break;
  case DecisionKind::Pool:
    if (!v.global && !band(cost::searchPool(chip, v.pool, c), "pooling kernel",
                           cost::poolSramPlan(v.pool, {1, 1}, c).total))
      return std::nullopt;
    break;
  default:
    return std::nullopt;
  }
  if (hasGemm(v)) {
    std::optional<cost::Choice<cost::GemmTiling>> best =
        cost::searchGemm(chip, v.gemm, c);
    if (!best) {
      error = noFit(str(v.gemm.m) + "x" + str(v.gemm.k) + "x" + str(v.gemm.n) +
                        " product",
                    leastGemmBytes(chip, v.gemm, c), budget);
      return std::nullopt;
    }
    d.gemm = best->tiling;
    if (chip.npus > 1) {
      cost::GemmSplit split = cost::chooseGemmSplit(chip, v.gemm, d.gemm);
      d.gemm = split.tiling;
      d.npus = split.parts;
    }
  }
  return d;
}

cost::Kernel tessera::codegen::movementKernel(const MovementView &v,
                                              const MovementDecision &d,
                                              const cost::Constraints &c) {
  cost::Kernel k;
  switch (v.kind) {
  case DecisionKind::Move:
    for (size_t i = 0; i < v.moves.size(); ++i)
      for (uint64_t r = 0; r < v.repeat; ++r)
        cost::appendPart(k, cost::moveKernel(v.moves[i], d.tiles[i], c));
    return k;
  case DecisionKind::Where:
    return cost::chainKernel(v.chain, d.tiles[0], c);
  case DecisionKind::Gather:
    return cost::gatherKernel(v.count, d.tiles[0].tr, v.rowBytes, "ids",
                              "table", "out", c);
  case DecisionKind::Conv:
    return cost::convKernel(v.conv, d.band, d.gemm, c);
  case DecisionKind::Pool:
    return v.global ? cost::gemmKernel(v.gemm, d.gemm, c)
                    : cost::poolKernel(v.pool, d.band, c);
  default:
    return k;
  }
}

std::optional<std::string> tessera::codegen::checkMovement(
    const MovementView &v, const MovementDecision &d,
    const arch::ChipConfig &chip, const cost::Constraints &c) {
  std::string tile;
  switch (v.kind) {
  case DecisionKind::Move:
  case DecisionKind::Where:
    for (const cost::RowTiling &t : d.tiles)
      tile += (tile.empty() ? "" : ", ") + str(t.tr) + "x" + str(t.tc);
    break;
  case DecisionKind::Gather:
    tile = "tr = " + str(d.tiles[0].tr);
    break;
  default:
    if (!v.global)
      tile = "cb = " + str(d.band.cb) + ", toh = " + str(d.band.toh);
    if (hasGemm(v))
      tile += (tile.empty() ? "" : ", GEMM ") + str(d.gemm.tm) + "x" +
              str(d.gemm.tk) + "x" + str(d.gemm.tn);
    break;
  }
  tile = "tiling " + tile;
  // A copy's tile within its view (rows x cols of one copy).
  if (v.kind == DecisionKind::Move)
    for (size_t i = 0; i < d.tiles.size() && i < v.moves.size(); ++i)
      if (d.tiles[i].tr > v.moves[i].rows || d.tiles[i].tc > v.moves[i].cols)
        return tile + ": a tile is larger than its copy's " +
               str(v.moves[i].rows) + "x" + str(v.moves[i].cols);
  if (hasGemm(v) && d.gemm.tm > chip.matrix_accumulator_rows)
    return tile + ": tm " + str(d.gemm.tm) +
           " exceeds matrix_accumulator_rows " +
           str(chip.matrix_accumulator_rows);
  if (d.npus > chip.npus)
    return tile + ": npus " + str(d.npus) + " exceeds the chip's " +
           str(chip.npus);
  if (hasGemm(v) &&
      (d.gemm.tm > v.gemm.m || d.gemm.tk > v.gemm.k || d.gemm.tn > v.gemm.n))
    return tile + ": the GEMM tile is larger than its " + str(v.gemm.m) + "x" +
           str(v.gemm.k) + "x" + str(v.gemm.n) + " product";
  cost::Kernel k = movementKernel(v, d, c);
  uint64_t need = k.sramBytes;
  for (const cost::Kernel &p : k.parts)
    need = std::max(need, p.sramBytes);
  if (need > c.budget(chip))
    return tile + " needs " + str(need) + " bytes of SRAM, the budget is " +
           str(c.budget(chip));
  return std::nullopt;
}

TilingChoice tessera::codegen::movementChoice(const MovementView &v,
                                              const MovementDecision &d,
                                              const arch::ChipConfig &chip,
                                              const cost::Constraints &c) {
  TilingChoice t;
  switch (v.kind) {
  case DecisionKind::Move:
    for (size_t i = 0; i < d.tiles.size(); ++i) {
      std::string k = v.moves.size() > 1 ? str(i) : "";
      t.fields.push_back({"tr" + k, int64_t(d.tiles[i].tr)});
      t.fields.push_back({"tc" + k, int64_t(d.tiles[i].tc)});
    }
    break;
  case DecisionKind::Where:
    t.fields = {{"tr", int64_t(d.tiles[0].tr)}, {"tc", int64_t(d.tiles[0].tc)}};
    break;
  case DecisionKind::Gather:
    t.fields = {{"tr", int64_t(d.tiles[0].tr)}};
    break;
  default:
    if (!v.global)
      t.fields = {{"cb", int64_t(d.band.cb)}, {"toh", int64_t(d.band.toh)}};
    break;
  }
  if (hasGemm(v)) {
    t.fields.push_back({"tm", int64_t(d.gemm.tm)});
    t.fields.push_back({"tk", int64_t(d.gemm.tk)});
    t.fields.push_back({"tn", int64_t(d.gemm.tn)});
    if (chip.npus > 1)
      t.fields.push_back({"npus", int64_t(d.npus)});
  }
  t.cost = cost::evaluate(chip, movementKernel(v, d, c), {}, c);
  return t;
}

cost::SramPlan tessera::codegen::movementSramPlan(const MovementView &v,
                                                  const MovementDecision &d,
                                                  const cost::Constraints &c) {
  switch (v.kind) {
  case DecisionKind::Move: {
    if (v.moves.size() == 1)
      return cost::moveSramPlan(v.moves[0], d.tiles[0], c);
    std::vector<cost::SramPlan> parts;
    for (size_t i = 0; i < v.moves.size(); ++i)
      parts.push_back(cost::moveSramPlan(v.moves[i], d.tiles[i], c));
    return cost::sequenceSramPlan(parts, c);
  }
  case DecisionKind::Where:
    return cost::chainSramPlan(v.chain, d.tiles[0], c);
  case DecisionKind::Gather:
    return cost::gatherSramPlan(v.count, d.tiles[0].tr, v.rowBytes, c);
  case DecisionKind::Conv:
    return cost::convSramPlan(v.conv, d.band, v.gemm, d.gemm, c);
  case DecisionKind::Pool:
    return v.global ? cost::gemmSramPlan(v.gemm, d.gemm, c)
                    : cost::poolSramPlan(v.pool, d.band, c);
  default:
    return {};
  }
}
