//===- KernelDecisions.cpp - the decisions of the unfused kernels ---------===//
//
// Part of Tessera. See KernelDecisions.h and docs/lowering.md ("Decisions of
// the unfused kernels"). The dispatch points by kernel kind are
// decisionKindOf, chooseTiling, checkTiling and sramPlanOf.
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler/KernelDecisions.h"

#include <Eigen/Core>

#include <algorithm>
#include <limits>

using namespace tessera;
using namespace tessera::codegen;
using arch::Opcode;

namespace {

using Shape = std::vector<int64_t>;

std::string str(uint64_t v) { return std::to_string(v); }

/// The recorded (tr, tc), or nullopt when a field is missing or not
/// positive (`error` names it).
std::optional<cost::RowTiling> recordedRowTiling(const GraphNode &n,
                                                 std::string &error) {
  cost::RowTiling t;
  for (auto [name, out] :
       {std::pair<const char *, uint64_t *>{"tr", &t.tr}, {"tc", &t.tc}}) {
    auto it = n.tiling.find(name);
    if (it == n.tiling.end() || it->second <= 0) {
      error = std::string("tsr.tiling needs a positive integer '") + name + "'";
      return std::nullopt;
    }
    *out = uint64_t(it->second);
  }
  return t;
}

TilingChoice rowChoice(const cost::RowTiling &t, const cost::Cost &k) {
  return {{{"tr", int64_t(t.tr)}, {"tc", int64_t(t.tc)}}, {}, k};
}

/// noFit for a [rows, cols] view whose smallest tiling is `least`: "no
/// tiling of the RxC view fits B bytes of SRAM; the smallest tile (1 x 8)
/// needs N bytes", or for whole rows "...; one row of C elements needs N
/// bytes".
std::string rowNoFit(uint64_t rows, uint64_t cols, const cost::RowTiling &least,
                     bool wholeRows, uint64_t leastBytes, uint64_t budget) {
  return noFit(str(rows) + "x" + str(cols) + " view", leastBytes, budget,
               wholeRows ? "one row of " + str(least.tc) + " elements"
                         : "the smallest tile (" + str(least.tr) + " x " +
                               str(least.tc) + ")");
}

/// A [rows, cols] view of the output for elementwise chains: rows of 64
/// elements when they divide the tensor (any split of a contiguous tensor
/// will do).
std::pair<int64_t, int64_t> flatView(int64_t total) {
  int64_t cols = total % 64 == 0 ? 64 : total;
  return {cols ? total / cols : 0, cols};
}

/// The vector kernel of a view as the cost model prices it (its rows those
/// of one block when it repeats over blocks: the search tiles one block).
cost::VectorOp blockOp(const VectorView &v) {
  cost::VectorOp op = v.op;
  op.rows = v.blockRows();
  return op;
}

/// A product's decision as tsr.tiling records it: the tile and, on a chip
/// of several NPUs, the split of its output tiles (cost::chooseGemmSplit,
/// which may re-tile the rows: docs/lowering.md, "Two NPUs").
TilingChoice gemmChoice(const arch::ChipConfig &chip, const cost::GemmOp &op,
                        const cost::Choice<cost::GemmTiling> &best) {
  auto fieldsOf = [](const cost::GemmTiling &t) {
    return std::vector<std::pair<std::string, int64_t>>{
        {"tm", int64_t(t.tm)}, {"tk", int64_t(t.tk)}, {"tn", int64_t(t.tn)}};
  };
  if (chip.npus < 2)
    return {fieldsOf(best.tiling), {}, best.cost};
  cost::GemmSplit split = cost::chooseGemmSplit(chip, op, best.tiling);
  TilingChoice t{fieldsOf(split.tiling), {}, {}};
  t.fields.push_back({"npus", int64_t(split.parts)});
  if (split.parts > 1)
    t.labels.push_back({"split", cost::gemmSplitAxisName(split.axis)});
  t.cost.sramBytes = split.longest.sramBytes;
  t.cost.dramBytesRead = split.dramBytes;
  t.cost.latencyCycles = split.cycles;
  return t;
}

/// Why a product's recorded tiling cannot run on `chip`, or nullopt.
std::optional<std::string> checkGemmTiling(const Graph &g, const GraphNode &n,
                                           const arch::ChipConfig &chip,
                                           const cost::Constraints &c) {
  if (n.tiling.count("npus")) {
    int64_t parts = n.tile("npus");
    if (parts < 1 || uint64_t(parts) > chip.npus)
      return "tsr.tiling 'npus' must be an integer in [1, " + str(chip.npus) +
             "] (the chip's npus)";
  }
  cost::GemmTiling t;
  for (auto [name, out] : {std::pair<const char *, uint64_t *>{"tm", &t.tm},
                           {"tk", &t.tk},
                           {"tn", &t.tn}}) {
    if (n.tile(name) <= 0)
      return std::string("tsr.tiling needs a positive integer '") + name + "'";
    *out = uint64_t(n.tile(name));
  }
  cost::GemmOp op = matmulGemmOf(g, n);
  std::string tile = "tiling " + str(t.tm) + "x" + str(t.tk) + "x" + str(t.tn);
  if (t.tm > chip.matrix_accumulator_rows)
    return tile + ": tm " + str(t.tm) + " exceeds matrix_accumulator_rows " +
           str(chip.matrix_accumulator_rows);
  if (t.tm > op.m || t.tk > op.k || t.tn > op.n)
    return tile + " is larger than the " + str(op.m) + "x" + str(op.k) + "x" +
           str(op.n) + " product";
  if (std::optional<std::string> why =
          cost::checkFits(chip, cost::gemmKernel(op, t, c), c))
    return tile + " " + *why;
  return std::nullopt;
}

} // namespace

cost::GemmOp tessera::codegen::matmulGemmOf(const Graph &g,
                                            const GraphNode &n) {
  const Shape &as = g.values[n.inputs[0]].shape;
  const Shape &bs = g.values[n.inputs[1]].shape;
  const Shape &os = g.values[n.output].shape;
  cost::GemmOp op;
  op.m = uint64_t(as[as.size() - 2]);
  op.k = uint64_t(as.back());
  op.n = uint64_t(bs.back());
  op.batch = uint64_t(product(os, 0, os.size() - 2));
  if (product(bs, 0, bs.size() - 2) == 1) {
    op.m *= uint64_t(product(as, 0, as.size() - 2));
    op.batch = 1;
  }
  op.a = g.values[n.inputs[0]].name;
  op.b = g.values[n.inputs[1]].name;
  op.out = g.values[n.output].name;
  return op;
}

std::string tessera::codegen::noFit(const std::string &kernel, uint64_t least,
                                    uint64_t budget,
                                    const std::string &smallest) {
  return "no tiling of the " + kernel + " fits " + str(budget) +
         " bytes of SRAM; " + smallest + " needs " + str(least) + " bytes";
}

uint64_t tessera::codegen::leastGemmBytes(const arch::ChipConfig &chip,
                                          const cost::GemmOp &op,
                                          const cost::Constraints &c) {
  uint64_t least = UINT64_MAX;
  for (uint64_t tm : cost::tileCandidates(op.m, 32))
    for (uint64_t tk : cost::tileCandidates(op.k, chip.matrix_rows))
      for (uint64_t tn : cost::tileCandidates(op.n, chip.matrix_cols))
        least =
            std::min(least, cost::gemmKernel(op, {tm, tk, tn}, c).sramBytes);
  return least;
}

//===----------------------------------------------------------------------===//
// The dispatch
//===----------------------------------------------------------------------===//

DecisionKind tessera::codegen::decisionKindOf(const GraphNode &n) {
  switch (n.kind) {
  case NodeKind::MatMul:
    return DecisionKind::MatMul;
  case NodeKind::Add:
  case NodeKind::Sub:
  case NodeKind::Mul:
  case NodeKind::Div:
  case NodeKind::LayerNorm:
  case NodeKind::Softmax:
  case NodeKind::Erf:
  case NodeKind::Gelu:
  case NodeKind::Pow:
  case NodeKind::Sqrt:
  case NodeKind::Neg:
  case NodeKind::Tanh:
  case NodeKind::Equal:
    return DecisionKind::Vector;
  case NodeKind::ReduceSum:
  case NodeKind::ReduceMean:
  case NodeKind::ReduceMax:
    return DecisionKind::Reduce;
  case NodeKind::Relu:
  case NodeKind::Sigmoid:
  case NodeKind::HardSwish:
  case NodeKind::HardSigmoid:
  case NodeKind::Clip:
  case NodeKind::Convert:
    return DecisionKind::Chain;
  default:
    // The movement and CNN kernels (MovementDecisions.cpp); free reshapes
    // and fused groups (their own passes and FusedKernels.cpp): None.
    return movementKindOf(n);
  }
}

std::optional<TilingChoice>
tessera::codegen::chooseTiling(const Graph &g, const GraphNode &n,
                               const arch::ChipConfig &chip,
                               const cost::Constraints &c, std::string &error) {
  error.clear();
  uint64_t budget = c.budget(chip);
  switch (decisionKindOf(n)) {
  case DecisionKind::Vector: {
    std::optional<VectorView> v = vectorViewOf(g, n, error);
    if (!v)
      return std::nullopt;
    // The search tiles one block; the recorded cost is every block's.
    auto best = cost::searchVector(chip, blockOp(*v), c);
    if (!best) {
      bool whole = v->op.rowWise();
      cost::RowTiling least =
          cost::smallestRowTiling(v->blockRows(), v->op.cols, whole);
      error =
          rowNoFit(v->blockRows(), v->op.cols, least, whole,
                   cost::vectorKernel(blockOp(*v), least, c).sramBytes, budget);
      return std::nullopt;
    }
    if (v->blocks > 1)
      best->cost = cost::evaluate(
          chip, cost::vectorKernel(v->op, best->tiling, c), {}, c);
    return rowChoice(best->tiling, best->cost);
  }
  case DecisionKind::Reduce: {
    ReduceView r = reduceViewOf(g, n);
    auto best = cost::searchReduce(chip, r.op, r.rows, r.cols, c);
    if (!best) {
      cost::RowTiling least = cost::smallestRowTiling(r.rows, r.cols, true);
      error = rowNoFit(
          r.rows, r.cols, least, true,
          cost::reduceKernel(r.op, r.rows, r.cols, least.tr, "x", "out", c)
              .sramBytes,
          budget);
      return std::nullopt;
    }
    return rowChoice(best->tiling, best->cost);
  }
  case DecisionKind::Chain: {
    cost::ChainOp op = activationChainOp(g, n);
    auto best = cost::searchChain(chip, op, c);
    if (!best) {
      cost::RowTiling least = cost::smallestRowTiling(op.rows, op.cols, false);
      error = rowNoFit(op.rows, op.cols, least, false,
                       cost::chainKernel(op, least, c).sramBytes, budget);
      return std::nullopt;
    }
    return rowChoice(best->tiling, best->cost);
  }
  case DecisionKind::Move:
  case DecisionKind::Conv:
  case DecisionKind::Pool:
  case DecisionKind::Gather:
  case DecisionKind::Where: {
    std::optional<MovementView> v = movementViewOf(g, n);
    if (!v)
      return std::nullopt; // No kernel (a relabelling transpose).
    std::optional<MovementDecision> d = searchMovement(*v, chip, c, error);
    if (!d)
      return std::nullopt;
    return movementChoice(*v, *d, chip, c);
  }
  case DecisionKind::MatMul: {
    cost::GemmOp op = matmulGemmOf(g, n);
    std::optional<cost::Choice<cost::GemmTiling>> best =
        cost::searchGemm(chip, op, c);
    if (!best) {
      error = noFit(str(op.m) + "x" + str(op.k) + "x" + str(op.n) + " product",
                    leastGemmBytes(chip, op, c), budget);
      return std::nullopt;
    }
    return gemmChoice(chip, op, *best);
  }
  case DecisionKind::None:
    break;
  }
  return std::nullopt;
}

std::optional<std::string>
tessera::codegen::checkTiling(const Graph &g, const GraphNode &n,
                              const arch::ChipConfig &chip,
                              const cost::Constraints &c) {
  std::string error;
  DecisionKind kind = decisionKindOf(n);
  if (kind == DecisionKind::MatMul)
    return checkGemmTiling(g, n, chip, c);
  if (std::optional<MovementView> v = movementViewOf(g, n)) {
    std::optional<MovementDecision> d = recordedMovement(*v, n, error);
    if (!d)
      return error;
    return checkMovement(*v, *d, chip, c);
  }
  if (kind != DecisionKind::Vector && kind != DecisionKind::Reduce &&
      kind != DecisionKind::Chain)
    return std::nullopt;
  std::optional<cost::RowTiling> t = recordedRowTiling(n, error);
  if (!t)
    return error;
  std::string tile = "tiling " + str(t->tr) + "x" + str(t->tc);
  uint64_t rows = 0, cols = 0;
  bool whole = false;
  cost::Kernel k;
  switch (kind) {
  case DecisionKind::Vector: {
    std::optional<VectorView> v = vectorViewOf(g, n, error);
    if (!v)
      return error;
    rows = v->blockRows(), cols = v->op.cols, whole = v->op.rowWise();
    k = cost::vectorKernel(blockOp(*v), *t, c);
    break;
  }
  case DecisionKind::Reduce: {
    ReduceView r = reduceViewOf(g, n);
    rows = r.rows, cols = r.cols, whole = true;
    k = cost::reduceKernel(r.op, r.rows, r.cols, t->tr, "x", "out", c);
    break;
  }
  default: {
    cost::ChainOp op = activationChainOp(g, n);
    rows = op.rows, cols = op.cols;
    k = cost::chainKernel(op, *t, c);
    break;
  }
  }
  if (t->tr > rows || t->tc > cols)
    return tile + " is larger than the " + str(rows) + "x" + str(cols) +
           " view";
  if (whole && t->tc != cols)
    return tile + ": a row-wise kernel needs whole rows (tc = " + str(cols) +
           ")";
  if (std::optional<std::string> why = cost::checkFits(chip, k, c))
    return tile + " " + *why;
  return std::nullopt;
}

std::optional<cost::SramPlan>
tessera::codegen::sramPlanOf(const Graph &g, const GraphNode &n,
                             const arch::ChipConfig &chip,
                             const cost::Constraints &c, std::string &error) {
  error.clear();
  DecisionKind kind = decisionKindOf(n);
  if (kind == DecisionKind::None)
    return std::nullopt;
  if (n.tiling.empty()) {
    error = "no tiling recorded (tsr.tiling): run tsr-select-tiling first";
    return std::nullopt;
  }
  if (std::optional<std::string> why = checkTiling(g, n, chip, c)) {
    error = *why;
    return std::nullopt;
  }
  if (kind == DecisionKind::MatMul)
    return cost::gemmSramPlan(matmulGemmOf(g, n),
                              {uint64_t(n.tile("tm")), uint64_t(n.tile("tk")),
                               uint64_t(n.tile("tn"))},
                              c);
  if (std::optional<MovementView> v = movementViewOf(g, n)) {
    std::optional<MovementDecision> d = recordedMovement(*v, n, error);
    if (!d)
      return std::nullopt;
    return movementSramPlan(*v, *d, c);
  }
  cost::RowTiling t{uint64_t(n.tile("tr")), uint64_t(n.tile("tc"))};
  switch (kind) {
  case DecisionKind::Vector: {
    std::optional<VectorView> v = vectorViewOf(g, n, error);
    if (!v)
      return std::nullopt;
    return cost::vectorSramPlan(v->op, t, c);
  }
  case DecisionKind::Reduce: {
    ReduceView r = reduceViewOf(g, n);
    return cost::reduceSramPlan(r.rows, r.cols, t.tr, c);
  }
  case DecisionKind::Chain:
    return cost::chainSramPlan(activationChainOp(g, n), t, c);
  default:
    return std::nullopt;
  }
}

cost::SramPlan tessera::codegen::applyRecordedPlan(const std::string &where,
                                                   const GraphNode &n,
                                                   cost::SramPlan need,
                                                   bool recordedTile,
                                                   uint64_t budget) {
  if (!recordedTile || n.sram.empty())
    return need;
  for (cost::SramBuffer &b : need.buffers) {
    std::string name = "'" + cost::sramBufferName(b, need) + "'";
    const cost::SramBuffer *r = n.sram.find(b.name, b.slot);
    if (!r)
      throw CodegenError(where +
                         ": the SRAM plan recorded in the IR (tsr.sram) "
                         "has no buffer " +
                         name);
    if (r->bytes < b.bytes)
      throw CodegenError(where +
                         ": the SRAM plan recorded in the IR "
                         "(tsr.sram) gives buffer " +
                         name + " " + std::to_string(r->bytes) +
                         " bytes, the kernel needs " + std::to_string(b.bytes));
    b.offset = r->offset;
  }
  if (std::optional<std::string> why = cost::checkSramPlan(need, budget))
    throw CodegenError(where +
                       ": the SRAM plan recorded in the IR "
                       "(tsr.sram): " +
                       *why);
  return need;
}

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

int tessera::codegen::immOperand(const Graph &g, const GraphNode &n) {
  if (n.kind != NodeKind::Mul && n.kind != NodeKind::Div)
    return -1;
  const Shape &os = g.values[n.output].shape;
  for (int i = 1; i >= (n.kind == NodeKind::Mul ? 0 : 1); --i) {
    int c = n.inputs[i], x = n.inputs[1 - i];
    if (g.values[c].role == ValueRole::Weight &&
        g.values[c].numElements() == 1 && g.values[x].shape == os)
      return c;
  }
  return -1;
}

namespace {

/// Elementwise unary ops and the row-wise normalizations of `src` (the
/// emitter's rowKernel): cols the trailing axes from `axis` for layernorm,
/// the last axis otherwise.
VectorView unaryView(const Graph &g, const GraphNode &n, int src, Opcode op,
                     float imm) {
  const Shape &xs = g.values[src].shape;
  size_t splitAt = op == Opcode::VecLayerNorm
                       ? size_t(n.axis)
                       : (xs.empty() ? 0 : xs.size() - 1);
  VectorView v;
  v.op.op = op;
  v.op.cols = uint64_t(product(xs, splitAt));
  v.op.rows = uint64_t(product(xs, 0, splitAt));
  v.op.x = g.values[src].name;
  v.op.out = g.values[n.output].name;
  v.src = src;
  v.imm = imm;
  if (op == Opcode::VecLayerNorm) {
    v.y = n.inputs[1];
    v.op.y = g.values[n.inputs[1]].name;
    v.op.beta = g.values[n.inputs[2]].name;
  }
  return v;
}

/// a <op> b with numpy broadcasting (the emitter's binaryKernel), on the
/// output's [rows, cols] view (cols: the last axis). `b` must be the full
/// shape, a row (broadcast over the leading axes), a column (broadcast over
/// the last axis) or a scalar; for + and * the operands swap when `a` is the
/// broadcast one. A product with, or a quotient by, a scalar weight is a
/// VecScale by a constant. When `b` matches the output on some leading axes
/// and is one of those kinds on the rest (a padding mask [B, 1, 1, S] added
/// to scores [B, H, S, S]), the kernel repeats per index of those leading
/// axes.
std::optional<VectorView> binaryView(const Graph &g, const GraphNode &n,
                                     std::string &error) {
  const Shape &os = g.values[n.output].shape;
  int a = n.inputs[0], b = n.inputs[1];
  bool commutes = n.kind == NodeKind::Add || n.kind == NodeKind::Mul;
  std::string where = std::string(nodeKindName(n.kind)) + " '" + n.name + "'";
  using Kind = Broadcast;
  // Broadcast class of operand v against the output's axes from `lead`
  // (v must equal the output on the axes before it).
  auto kindOf = [&](int v, size_t lead) {
    const Shape &s = g.values[v].shape;
    Shape pad(os.size() - s.size(), 1);
    pad.insert(pad.end(), s.begin(), s.end());
    for (size_t d = 0; d < lead; ++d)
      if (pad[d] != os[d])
        return Kind::Other;
    Shape ps(pad.begin() + lead, pad.end()), sub(os.begin() + lead, os.end());
    int64_t cols = sub.empty() ? 1 : sub.back(), rows = product(sub) / cols;
    if (ps == sub)
      return Kind::Full;
    if (product(ps) == 1)
      return Kind::Scalar;
    if (ps.back() == cols && product(ps) == cols)
      return Kind::Row;
    if (ps.back() == 1 && product(ps) == rows) {
      for (size_t d = 0; d + 1 < sub.size(); ++d)
        if (ps[d] != sub[d])
          return Kind::Other;
      return Kind::Col;
    }
    return Kind::Other;
  };
  int imm = immOperand(g, n);
  if (imm >= 0 ? imm == a : (kindOf(a, 0) != Kind::Full && commutes))
    std::swap(a, b);

  if (imm >= 0) {
    float c = g.values[b].data.empty() ? 1.0f : g.values[b].data[0];
    if (n.kind == NodeKind::Div && c == 0.0f) {
      error = where + ": division by the constant 0";
      return std::nullopt;
    }
    return unaryView(g, n, a, Opcode::VecScale,
                     n.kind == NodeKind::Div ? 1.0f / c : c);
  }

  size_t lead = 0;
  while (lead + 1 < os.size() && kindOf(b, lead) == Kind::Other)
    ++lead;
  Kind kb = kindOf(b, lead);
  // A block of trailing axes broadcast over the leading ones (a position
  // embedding [1, S, D] added to [B, S, D]) is a row of the [R, S*D] view.
  int64_t viewCols = 0;
  if (kb == Kind::Other) {
    const Shape &bs = g.values[b].shape;
    Shape pad(os.size() - bs.size(), 1);
    pad.insert(pad.end(), bs.begin(), bs.end());
    size_t j = os.size();
    while (j > 0 && pad[j - 1] == os[j - 1])
      --j;
    if (j < os.size() && product(pad, 0, j) == 1) {
      kb = Kind::Row;
      lead = 0;
      viewCols = product(os, j);
    }
  }
  if (kb == Kind::Other && kindOf(a, 0) == Kind::Full) {
    // A per-channel operand ([C, 1, 1] against [N, C, H, W]: batch norm's
    // scale, a squeeze-excitation gate) is a column of the view whose rows
    // are the axes up to b's last non-unit axis.
    const Shape &s = g.values[b].shape;
    Shape pad(os.size() - s.size(), 1);
    pad.insert(pad.end(), s.begin(), s.end());
    size_t j = pad.size();
    while (j > 0 && pad[j - 1] == 1)
      --j;
    if (j > 0 && j < os.size() &&
        std::equal(pad.begin(), pad.begin() + j, os.begin())) {
      kb = Kind::Col;
      lead = 0;
      viewCols = product(os, j);
    }
  }
  if (kindOf(a, 0) != Kind::Full || kb == Kind::Other) {
    error = where + ": broadcasting " +
            shapeString(g.values[n.inputs[0]].shape) + " with " +
            shapeString(g.values[n.inputs[1]].shape) +
            " is not supported (the second operand must be the full shape, "
            "a row, a column or a scalar, after leading axes it matches)";
    return std::nullopt;
  }
  Shape sub(os.begin() + lead, os.end());
  int64_t cols = viewCols ? viewCols : sub.empty() ? 1 : sub.back();
  int64_t rows = product(sub) / cols;
  int64_t blocks = product(os, 0, lead);
  VectorView v;
  v.src = a;
  v.y = b;
  v.kind = kb;
  v.blocks = uint64_t(blocks);
  v.yBlock = blocks > 0 ? g.values[b].numElements() / blocks : 0;
  v.op.op = n.kind == NodeKind::Add   ? Opcode::VecAdd
            : n.kind == NodeKind::Sub ? Opcode::VecSub
            : n.kind == NodeKind::Mul ? Opcode::VecMul
                                      : Opcode::VecDiv;
  v.op.rows = uint64_t(rows * blocks); // Every block's tiles.
  v.op.cols = uint64_t(cols);
  v.op.second = kb == Kind::Full  ? cost::Operand2::Full
                : kb == Kind::Row ? cost::Operand2::Row
                : kb == Kind::Col ? cost::Operand2::Col
                                  : cost::Operand2::Scalar;
  v.op.x = g.values[a].name;
  v.op.y = g.values[b].name;
  v.op.out = g.values[n.output].name;
  return v;
}

} // namespace

std::optional<VectorView> tessera::codegen::vectorViewOf(const Graph &g,
                                                         const GraphNode &n,
                                                         std::string &error) {
  int in0 = n.inputs[0];
  switch (n.kind) {
  case NodeKind::Add:
  case NodeKind::Sub:
  case NodeKind::Mul:
  case NodeKind::Div:
    return binaryView(g, n, error);
  case NodeKind::LayerNorm:
    return unaryView(g, n, in0, Opcode::VecLayerNorm, n.epsilon);
  case NodeKind::Softmax:
    if (n.axis != int64_t(g.values[in0].shape.size()) - 1) {
      error = "softmax '" + n.name + "': softmax over axis " +
              std::to_string(n.axis) + " of " +
              shapeString(g.values[in0].shape) +
              "; the vector unit normalizes the last axis only";
      return std::nullopt;
    }
    return unaryView(g, n, in0, Opcode::VecSoftmax, 0);
  case NodeKind::Erf:
    return unaryView(g, n, in0, Opcode::VecErf, 0);
  case NodeKind::Gelu:
    return unaryView(g, n, in0,
                     n.tanhGelu ? Opcode::VecGeluTanh : Opcode::VecGelu, 0);
  case NodeKind::Pow:
    return unaryView(g, n, in0, Opcode::VecPow, n.exponent);
  case NodeKind::Sqrt:
    return unaryView(g, n, in0, Opcode::VecSqrt, 0);
  case NodeKind::Neg:
    return unaryView(g, n, in0, Opcode::VecScale, -1.0f);
  case NodeKind::Tanh:
    return unaryView(g, n, in0, Opcode::VecTanh, 0);
  case NodeKind::Equal: {
    // normalizeMaskOps leaves x == c with c a scalar weight; the vector
    // unit compares the FP16 value with c rounded to FP16.
    const std::vector<float> &c = g.values[n.inputs[1]].data;
    return unaryView(g, n, in0, Opcode::VecEqImm,
                     c.empty() ? 0.0f : float(Eigen::half(c[0])));
  }
  default:
    error = std::string(nodeKindName(n.kind)) + " '" + n.name +
            "' is not a vector-unit kernel";
    return std::nullopt;
  }
}

ReduceView tessera::codegen::reduceViewOf(const Graph &g, const GraphNode &n) {
  const Shape &xs = g.values[n.inputs[0]].shape;
  size_t first = xs.size() - n.axes.size();
  ReduceView r;
  r.op = n.kind == NodeKind::ReduceMax ? Opcode::VecReduceMax
                                       : Opcode::VecReduceSum;
  r.cols = uint64_t(product(xs, first));
  r.rows = uint64_t(product(xs, 0, first));
  return r;
}

std::vector<std::pair<Opcode, float>>
tessera::codegen::activationChain(const GraphNode &n) {
  std::vector<std::pair<Opcode, float>> chain;
  switch (n.kind) {
  case NodeKind::Convert: // vec.copy int32 -> FP16.
    chain = {{Opcode::VecCopy, 0.0f}};
    break;
  case NodeKind::Relu:
    chain = {{Opcode::VecMaxImm, 0.0f}};
    break;
  case NodeKind::Sigmoid:
    chain = {{Opcode::VecSigmoid, 0.0f}};
    break;
  case NodeKind::HardSwish:
    chain = {{Opcode::VecHardSwish, 0.0f}};
    break;
  case NodeKind::HardSigmoid:
    chain = {{Opcode::VecScale, n.alpha},
             {Opcode::VecAddImm, n.beta},
             {Opcode::VecMaxImm, 0.0f},
             {Opcode::VecMinImm, 1.0f}};
    break;
  default: // Clip
    if (n.lo > -std::numeric_limits<float>::infinity())
      chain.push_back({Opcode::VecMaxImm, n.lo});
    if (n.hi < std::numeric_limits<float>::infinity())
      chain.push_back({Opcode::VecMinImm, n.hi});
    if (chain.empty())
      chain.push_back({Opcode::VecCopy, 0.0f});
    break;
  }
  return chain;
}

cost::ChainOp tessera::codegen::activationChainOp(const Graph &g,
                                                  const GraphNode &n) {
  auto [rows, cols] = flatView(g.values[n.inputs[0]].numElements());
  cost::ChainOp c;
  c.rows = uint64_t(rows);
  c.cols = uint64_t(cols);
  c.inputs = {g.values[n.inputs[0]].name};
  // The conversion reads int32 and writes its FP16 result straight into the
  // work tile; the activations work in FP32.
  bool convert = n.kind == NodeKind::Convert;
  c.inputBytes = {convert ? 4u : 2u};
  for (const auto &[op, imm] : activationChain(n))
    c.chain.push_back(op);
  c.out = g.values[n.output].name;
  c.workBytes = convert ? 2 : 4;
  return c;
}

bool tessera::codegen::readsAsData(NodeKind kind, size_t operand) {
  // An embedding's ids are row indices the gather DMA reads as int32; a
  // conversion reads the int32 tensor it converts.
  return !(kind == NodeKind::Embedding && operand == 1) &&
         kind != NodeKind::Convert;
}

GraphNode tessera::codegen::conversionNode(Graph &g, int value) {
  GraphValue copy;
  copy.name = g.values[value].name + ".f16";
  copy.shape = g.values[value].shape;
  GraphNode n;
  n.kind = NodeKind::Convert;
  n.name = g.values[value].name + " (int32 to fp16)";
  n.inputs = {value};
  n.tiling = g.values[value].convertTiling;
  n.sram = g.values[value].convertSram;
  n.output = g.addValue(std::move(copy));
  return n;
}
