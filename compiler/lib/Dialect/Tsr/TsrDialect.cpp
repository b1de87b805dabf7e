//===- TsrDialect.cpp - tsr dialect, ops and verifiers --------------------===//
//
// Part of Tessera. Every verifier states the shape rule of its op, so that a
// malformed graph is rejected where it is built (importer) or parsed
// (tessera-opt), naming the op and its location.
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace tessera::tsr;

#include "tessera/Dialect/Tsr/TsrDialect.cpp.inc"

void TsrDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "tessera/Dialect/Tsr/TsrOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "tessera/Dialect/Tsr/TsrOps.cpp.inc"

namespace {

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s + "]";
}

RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Checks that `result` has the numpy-broadcast shape of `lhs` and `rhs`.
LogicalResult verifyBroadcast(Operation *op, ArrayRef<int64_t> lhs,
                              ArrayRef<int64_t> rhs, ArrayRef<int64_t> result) {
  SmallVector<int64_t> expected;
  if (!OpTrait::util::getBroadcastedShape(lhs, rhs, expected))
    return op->emitOpError() << "operand shapes " << shapeStr(lhs) << " and "
                             << shapeStr(rhs) << " do not broadcast";
  if (ArrayRef<int64_t>(expected) != result)
    return op->emitOpError()
           << "result shape " << shapeStr(result) << " should be "
           << shapeStr(expected) << " (the broadcast of the operands)";
  return success();
}

LogicalResult verifyAxis(Operation *op, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return op->emitOpError()
           << "axis " << axis << " is out of range for rank " << rank;
  return success();
}

} // namespace

LogicalResult WeightOp::verify() {
  auto valueType = dyn_cast<ShapedType>(getValue().getType());
  if (!valueType || valueType != getResult().getType())
    return emitOpError() << "value type " << getValue().getType()
                         << " does not match the result type "
                         << getResult().getType();
  if (getName().empty())
    return emitOpError() << "needs a non-empty name";
  return success();
}

template <typename BinaryOp> static LogicalResult verifyBinary(BinaryOp op) {
  return verifyBroadcast(op, tensorOf(op.getLhs()).getShape(),
                         tensorOf(op.getRhs()).getShape(),
                         tensorOf(op.getResult()).getShape());
}
LogicalResult AddOp::verify() { return verifyBinary(*this); }
LogicalResult SubOp::verify() { return verifyBinary(*this); }
LogicalResult MulOp::verify() { return verifyBinary(*this); }
LogicalResult DivOp::verify() { return verifyBinary(*this); }

LogicalResult MatMulOp::verify() {
  ArrayRef<int64_t> a = tensorOf(getLhs()).getShape();
  ArrayRef<int64_t> b = tensorOf(getRhs()).getShape();
  ArrayRef<int64_t> c = tensorOf(getResult()).getShape();
  if (a.size() < 2 || b.size() < 2)
    return emitOpError() << "operands must have rank >= 2, got " << shapeStr(a)
                         << " and " << shapeStr(b);
  if (a.back() != b[b.size() - 2])
    return emitOpError() << "contraction mismatch: lhs " << shapeStr(a)
                         << " has K = " << a.back() << ", rhs " << shapeStr(b)
                         << " has K = " << b[b.size() - 2];
  SmallVector<int64_t> batch;
  if (!OpTrait::util::getBroadcastedShape(a.drop_back(2), b.drop_back(2),
                                          batch))
    return emitOpError() << "batch dimensions of " << shapeStr(a) << " and "
                         << shapeStr(b) << " do not broadcast";
  batch.push_back(a[a.size() - 2]);
  batch.push_back(b.back());
  if (ArrayRef<int64_t>(batch) != c)
    return emitOpError() << "result shape " << shapeStr(c) << " should be "
                         << shapeStr(batch);
  return success();
}

LogicalResult LayerNormOp::verify() {
  ArrayRef<int64_t> x = tensorOf(getInput()).getShape();
  int64_t rank = x.size();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (failed(verifyAxis(*this, axis, rank)))
    return failure();
  if (axis < 0)
    axis += rank;
  ArrayRef<int64_t> normalized = x.drop_front(axis);
  for (Value param : {getScale(), getBias()}) {
    ArrayRef<int64_t> p = tensorOf(param).getShape();
    // ONNX allows the parameters to broadcast against the normalized axes;
    // the chip needs them as exactly those axes (leading 1s are fine).
    int64_t elems = 1, want = 1;
    for (int64_t d : p)
      elems *= d;
    for (int64_t d : normalized)
      want *= d;
    if (elems != want || p.empty() || p.back() != normalized.back())
      return emitOpError() << "scale/bias shape " << shapeStr(p)
                           << " must match the normalized axes "
                           << shapeStr(normalized);
  }
  if (tensorOf(getResult()).getShape() != x)
    return emitOpError() << "result must have the input's shape";
  if (getEpsilon().convertToFloat() <= 0)
    return emitOpError() << "epsilon must be positive";
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return verifyAxis(*this, static_cast<int64_t>(getAxis()),
                    tensorOf(getInput()).getRank());
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> in = tensorOf(getInput()).getShape();
  ArrayRef<int64_t> perm = getPerm();
  if (perm.size() != in.size())
    return emitOpError() << "perm has " << perm.size()
                         << " entries for an input of rank " << in.size();
  SmallVector<bool> seen(in.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(in.size()) || seen[p])
      return emitOpError() << "perm is not a permutation of 0.."
                           << in.size() - 1;
    seen[p] = true;
    expected.push_back(in[p]);
  }
  if (ArrayRef<int64_t>(expected) != tensorOf(getResult()).getShape())
    return emitOpError() << "result shape "
                         << shapeStr(tensorOf(getResult()).getShape())
                         << " should be " << shapeStr(expected);
  return success();
}

LogicalResult ReshapeOp::verify() {
  RankedTensorType in = tensorOf(getInput()), out = tensorOf(getResult());
  if (in.getNumElements() != out.getNumElements())
    return emitOpError() << "cannot reshape " << shapeStr(in.getShape()) << " ("
                         << in.getNumElements() << " elements) to "
                         << shapeStr(out.getShape()) << " ("
                         << out.getNumElements() << " elements)";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  // reshape(x) to x's own type is x; reshape(reshape(x)) reshapes x directly.
  if (getInput().getType() == getResult().getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// Transformer ops
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::verify() {
  ArrayRef<int64_t> in = tensorOf(getInput()).getShape();
  ArrayRef<int64_t> out = tensorOf(getResult()).getShape();
  ArrayRef<int64_t> offsets = getOffsets(), steps = getSteps();
  if (out.size() != in.size() || offsets.size() != in.size() ||
      steps.size() != in.size())
    return emitOpError() << "input " << shapeStr(in) << ", result "
                         << shapeStr(out) << ", " << offsets.size()
                         << " offsets and " << steps.size()
                         << " steps must all have the same rank";
  for (size_t d = 0; d < in.size(); ++d) {
    if (steps[d] < 1)
      return emitOpError() << "step " << steps[d] << " on axis " << d
                           << " must be positive";
    if (offsets[d] < 0 || out[d] < 1 ||
        offsets[d] + (out[d] - 1) * steps[d] >= in[d])
      return emitOpError() << "window of " << out[d] << " elements from "
                           << offsets[d] << " with step " << steps[d]
                           << " does not fit axis " << d << " of "
                           << shapeStr(in);
  }
  return success();
}

LogicalResult ConcatOp::verify() {
  ArrayRef<int64_t> out = tensorOf(getResult()).getShape();
  int64_t rank = out.size();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  if (axis < 0 || axis >= rank)
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << rank;
  int64_t total = 0;
  for (Value v : getInputs()) {
    ArrayRef<int64_t> s = tensorOf(v).getShape();
    bool ok = static_cast<int64_t>(s.size()) == rank;
    for (int64_t d = 0; ok && d < rank; ++d)
      ok = d == axis || s[d] == out[d];
    if (!ok)
      return emitOpError() << "input " << shapeStr(s)
                           << " does not match the result " << shapeStr(out)
                           << " off axis " << axis;
    total += s[axis];
  }
  if (total != out[axis])
    return emitOpError() << "inputs add up to " << total << " along axis "
                         << axis << ", the result has " << out[axis];
  return success();
}

LogicalResult PowOp::verify() {
  if (!std::isfinite(getExponent().convertToFloat()))
    return emitOpError() << "exponent must be finite";
  return success();
}

/// Shared by the three reductions.
static LogicalResult verifyReduce(Operation *op, Value input, Value result,
                                  ArrayRef<int64_t> axes, bool keepdims) {
  ArrayRef<int64_t> in = tensorOf(input).getShape();
  ArrayRef<int64_t> out = tensorOf(result).getShape();
  if (axes.empty())
    return op->emitOpError() << "needs at least one axis";
  SmallVector<int64_t> expected;
  size_t next = 0;
  for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d) {
    bool reduced = next < axes.size() && axes[next] == d;
    if (reduced)
      ++next;
    if (!reduced)
      expected.push_back(in[d]);
    else if (keepdims)
      expected.push_back(1);
  }
  if (next != axes.size())
    return op->emitOpError()
           << "axes must be sorted, distinct and in 0.." << in.size() - 1;
  if (ArrayRef<int64_t>(expected) != out)
    return op->emitOpError() << "result shape " << shapeStr(out)
                             << " should be " << shapeStr(expected);
  return success();
}
LogicalResult ReduceMeanOp::verify() {
  return verifyReduce(*this, getInput(), getResult(), getAxes(), getKeepdims());
}
LogicalResult ReduceSumOp::verify() {
  return verifyReduce(*this, getInput(), getResult(), getAxes(), getKeepdims());
}
LogicalResult ReduceMaxOp::verify() {
  return verifyReduce(*this, getInput(), getResult(), getAxes(), getKeepdims());
}

LogicalResult AttentionOp::verify() {
  ArrayRef<int64_t> q = tensorOf(getQuery()).getShape();
  ArrayRef<int64_t> k = tensorOf(getKey()).getShape();
  ArrayRef<int64_t> v = tensorOf(getValue()).getShape();
  if (q.size() != 3 || k.size() != 3 || v.size() != 3)
    return emitOpError() << "query, key and value must be [B, S, D], got "
                         << shapeStr(q) << ", " << shapeStr(k) << ", "
                         << shapeStr(v);
  if (k != v || k[0] != q[0] || k[2] != q[2])
    return emitOpError() << "key " << shapeStr(k) << " and value "
                         << shapeStr(v) << " must be [B, Sk, D] for query "
                         << shapeStr(q);
  int64_t heads = static_cast<int64_t>(getHeads());
  int64_t headDim = static_cast<int64_t>(getHeadDim());
  if (heads < 1 || headDim < 1 || heads * headDim != q[2])
    return emitOpError() << "heads (" << heads << ") x head_dim (" << headDim
                         << ") must equal the model width " << q[2];
  if (!std::isfinite(getScale().convertToFloat()))
    return emitOpError() << "scale must be finite";
  if (tensorOf(getResult()).getShape() != q)
    return emitOpError() << "result must have the query's shape "
                         << shapeStr(q);
  if (Value mask = getMask()) {
    SmallVector<int64_t> scores{q[0], heads, q[1], k[1]}, b;
    ArrayRef<int64_t> m = tensorOf(mask).getShape();
    if (!OpTrait::util::getBroadcastedShape(m, scores, b) ||
        ArrayRef<int64_t>(b) != ArrayRef<int64_t>(scores))
      return emitOpError() << "mask " << shapeStr(m)
                           << " does not broadcast to the scores "
                           << shapeStr(scores);
  }
  return success();
}

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError() << "approximate must be \"none\" or \"tanh\", got \""
                         << getApproximate() << "\"";
  return success();
}

//===----------------------------------------------------------------------===//
// CNN and miscellaneous ops
//===----------------------------------------------------------------------===//

namespace {

/// Checks the common 2-D window attributes (kernel extents come from the
/// caller) and returns the spatial output size in `oh`, `ow`.
LogicalResult verifyWindow(Operation *op, ArrayRef<int64_t> in,
                           ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                           ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                           int64_t &oh, int64_t &ow) {
  if (in.size() != 4)
    return op->emitOpError()
           << "input must be NCHW (rank 4), got " << shapeStr(in);
  if (kernel.size() != 2 || strides.size() != 2 || dilations.size() != 2 ||
      pads.size() != 4)
    return op->emitOpError() << "expects 2 kernel extents, 2 strides, 2 "
                                "dilations and 4 pads";
  for (int i = 0; i < 2; ++i)
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1)
      return op->emitOpError()
             << "kernel, strides and dilations must be positive";
  for (int64_t p : pads)
    if (p < 0)
      return op->emitOpError() << "pads must not be negative";
  int64_t out[2];
  for (int i = 0; i < 2; ++i) {
    int64_t span =
        in[2 + i] + pads[i] + pads[i + 2] - dilations[i] * (kernel[i] - 1) - 1;
    if (span < 0)
      return op->emitOpError()
             << "window " << shapeStr(kernel) << " does not fit the padded "
             << "input " << shapeStr(in);
    out[i] = span / strides[i] + 1;
  }
  oh = out[0];
  ow = out[1];
  return success();
}

} // namespace

LogicalResult ConvOp::verify() {
  ArrayRef<int64_t> x = tensorOf(getInput()).getShape();
  ArrayRef<int64_t> w = tensorOf(getWeight()).getShape();
  ArrayRef<int64_t> b = tensorOf(getBias()).getShape();
  if (w.size() != 4)
    return emitOpError() << "weight must be [O, C/groups, kh, kw], got "
                         << shapeStr(w);
  int64_t oh, ow;
  if (failed(verifyWindow(*this, x, w.drop_front(2), getStrides(), getPads(),
                          getDilations(), oh, ow)))
    return failure();
  int64_t groups = static_cast<int64_t>(getGroups());
  if (groups < 1 || x[1] % groups != 0 || w[0] % groups != 0)
    return emitOpError() << "groups " << groups << " must divide the " << x[1]
                         << " input and " << w[0] << " output channels";
  if (w[1] * groups != x[1])
    return emitOpError() << "weight " << shapeStr(w) << " expects "
                         << w[1] * groups << " input channels, the input has "
                         << x[1];
  if (b.size() != 1 || b[0] != w[0])
    return emitOpError() << "bias must be [" << w[0] << "], got "
                         << shapeStr(b);
  SmallVector<int64_t> want{x[0], w[0], oh, ow};
  if (ArrayRef<int64_t>(want) != tensorOf(getResult()).getShape())
    return emitOpError() << "result shape "
                         << shapeStr(tensorOf(getResult()).getShape())
                         << " should be " << shapeStr(want);
  return success();
}

template <typename PoolOp> static LogicalResult verifyPool(PoolOp op) {
  ArrayRef<int64_t> x = tensorOf(op.getInput()).getShape();
  int64_t oh, ow;
  int64_t ones[2] = {1, 1};
  if (failed(verifyWindow(op, x, op.getKernel(), op.getStrides(), op.getPads(),
                          ones, oh, ow)))
    return failure();
  ArrayRef<int64_t> k = op.getKernel(), p = op.getPads();
  if (p[0] >= k[0] || p[2] >= k[0] || p[1] >= k[1] || p[3] >= k[1])
    return op.emitOpError() << "pads must be smaller than the kernel";
  SmallVector<int64_t> want{x[0], x[1], oh, ow};
  if (ArrayRef<int64_t>(want) != tensorOf(op.getResult()).getShape())
    return op.emitOpError()
           << "result shape " << shapeStr(tensorOf(op.getResult()).getShape())
           << " should be " << shapeStr(want);
  return success();
}
LogicalResult MaxPoolOp::verify() { return verifyPool(*this); }
LogicalResult AvgPoolOp::verify() { return verifyPool(*this); }

LogicalResult ClipOp::verify() {
  if (!(getMin().convertToFloat() <= getMax().convertToFloat()))
    return emitOpError() << "min " << getMin().convertToFloat()
                         << " must not exceed max "
                         << getMax().convertToFloat();
  return success();
}

LogicalResult EmbeddingOp::verify() {
  ArrayRef<int64_t> t = tensorOf(getTable()).getShape();
  if (t.empty())
    return emitOpError() << "table must have rank >= 1";
  SmallVector<int64_t> want(tensorOf(getIndices()).getShape());
  want.append(t.begin() + 1, t.end());
  if (ArrayRef<int64_t>(want) != tensorOf(getResult()).getShape())
    return emitOpError() << "result shape "
                         << shapeStr(tensorOf(getResult()).getShape())
                         << " should be " << shapeStr(want)
                         << " (indices shape + table row shape)";
  return success();
}

LogicalResult EqualOp::verify() {
  return verifyBroadcast(*this, tensorOf(getLhs()).getShape(),
                         tensorOf(getRhs()).getShape(),
                         tensorOf(getResult()).getShape());
}

LogicalResult WhereOp::verify() {
  SmallVector<int64_t> ab, all;
  if (!OpTrait::util::getBroadcastedShape(tensorOf(getLhs()).getShape(),
                                          tensorOf(getRhs()).getShape(), ab) ||
      !OpTrait::util::getBroadcastedShape(tensorOf(getCond()).getShape(), ab,
                                          all))
    return emitOpError() << "operand shapes "
                         << shapeStr(tensorOf(getCond()).getShape()) << ", "
                         << shapeStr(tensorOf(getLhs()).getShape()) << " and "
                         << shapeStr(tensorOf(getRhs()).getShape())
                         << " do not broadcast";
  if (ArrayRef<int64_t>(all) != tensorOf(getResult()).getShape())
    return emitOpError() << "result shape "
                         << shapeStr(tensorOf(getResult()).getShape())
                         << " should be " << shapeStr(all);
  return success();
}

LogicalResult ExpandOp::verify() {
  ArrayRef<int64_t> in = tensorOf(getInput()).getShape();
  ArrayRef<int64_t> out = tensorOf(getResult()).getShape();
  SmallVector<int64_t> b;
  if (!OpTrait::util::getBroadcastedShape(in, out, b) ||
      ArrayRef<int64_t>(b) != out)
    return emitOpError() << "input " << shapeStr(in)
                         << " does not broadcast to the result "
                         << shapeStr(out);
  return success();
}

bool tessera::tsr::movesNoData(Operation *op) {
  if (isa<ReshapeOp>(op))
    return true;
  auto t = dyn_cast<TransposeOp>(op);
  if (!t)
    return false;
  ArrayRef<int64_t> in = tensorOf(t.getInput()).getShape();
  int64_t prev = -1;
  for (int64_t p : t.getPerm())
    if (in[p] != 1) {
      if (p < prev)
        return false;
      prev = p;
    }
  return true;
}

FailureOr<MatMulGroupParts> tessera::tsr::matchMatMulGroup(GroupOp g,
                                                           std::string &error) {
  Block &body = g.getBody().front();
  MatMulGroupParts parts;
  auto fail = [&](const std::string &msg) -> FailureOr<MatMulGroupParts> {
    error = msg;
    return failure();
  };
  auto argIndex = [&](Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &body ? int(arg.getArgNumber()) : -1;
  };
  auto mms = body.getOps<MatMulOp>();
  if (std::distance(mms.begin(), mms.end()) != 1)
    return fail("kind \"matmul\" holds exactly one tsr.matmul");
  parts.matmul = *mms.begin();
  unsigned used = 1;
  ArrayRef<int64_t> bs = tensorOf(parts.matmul.getRhs()).getShape();
  parts.b = argIndex(parts.matmul.getRhs());
  if (parts.b < 0 || bs.size() != 2)
    return fail("the matmul's B must be a 2-D group operand (a weight)");
  parts.k = bs[0];
  parts.n = bs[1];
  parts.m = tensorOf(parts.matmul.getLhs()).getNumElements() / parts.k;
  // A: a group operand, or the layernorm prologue, through free moves.
  Value a = parts.matmul.getLhs();
  while (Operation *def = a.getDefiningOp()) {
    if (!movesNoData(def))
      break;
    if (!def->hasOneUse())
      return fail("an op between the prologue and the matmul has another "
                  "user");
    ++used;
    a = def->getOperand(0);
  }
  std::optional<StringRef> prologue = g.getPrologue();
  if (prologue && *prologue != "layernorm")
    return fail("unknown prologue \"" + prologue->str() +
                "\" (expected \"layernorm\")");
  if (prologue) {
    auto ln = a.getDefiningOp<LayerNormOp>();
    if (!ln || !ln->hasOneUse())
      return fail("prologue \"layernorm\" needs a tsr.layernorm feeding "
                  "only the matmul's A");
    int64_t rank = int64_t(tensorOf(ln.getInput()).getRank());
    int64_t axis = int64_t(ln.getAxis());
    if ((axis < 0 ? axis + rank : axis) != rank - 1)
      return fail("the layernorm prologue normalizes the last axis only");
    parts.layernorm = ln;
    parts.a = argIndex(ln.getInput());
    parts.gamma = argIndex(ln.getScale());
    parts.beta = argIndex(ln.getBias());
    if (parts.a < 0 || parts.gamma < 0 || parts.beta < 0)
      return fail("the layernorm's operands must be group operands");
    ++used;
  } else {
    parts.a = argIndex(a);
    if (parts.a < 0)
      return fail("the matmul's A must be a group operand (through free "
                  "reshapes and transposes)");
  }
  // The epilogue: a chain of single-use ops from the product to the yield.
  SmallVector<StringRef> want;
  if (std::optional<ArrayAttr> ep = g.getEpilogue())
    for (Attribute e : *ep)
      want.push_back(cast<StringAttr>(e).getValue());
  static const char *const kOrder[] = {"bias", "gelu", "residual"};
  size_t order = 0;
  for (StringRef w : want) {
    while (order < 3 && w != kOrder[order])
      ++order;
    if (order == 3)
      return fail("epilogue must be an ordered subset of [\"bias\", "
                  "\"gelu\", \"residual\"]");
    ++order;
  }
  if (want.empty() && !prologue)
    return fail("kind \"matmul\" fuses a prologue or an epilogue");
  Value cur = parts.matmul.getResult();
  size_t next = 0;
  auto yield = cast<YieldOp>(body.getTerminator());
  while (true) {
    if (!cur.hasOneUse())
      return fail("an epilogue value has more than one user");
    Operation *user = *cur.getUsers().begin();
    if (user == yield.getOperation())
      break;
    ++used;
    if (movesNoData(user)) {
      cur = user->getResult(0);
      continue;
    }
    StringRef got = isa<GeluOp>(user) ? "gelu" : isa<AddOp>(user) ? "add" : "";
    if (got.empty())
      return fail("'" + user->getName().getStringRef().str() +
                  "' is not an epilogue op (bias, gelu, residual)");
    if (next == want.size())
      return fail("the region has more epilogue ops than the epilogue "
                  "attribute names");
    StringRef w = want[next++];
    if ((w == "gelu") != isa<GeluOp>(user))
      return fail("epilogue op " + std::to_string(next - 1) + " is \"" +
                  w.str() + "\" but the region has " +
                  user->getName().getStringRef().str());
    if (auto gelu = dyn_cast<GeluOp>(user)) {
      parts.gelu = true;
      parts.tanhGelu = gelu.getApproximate() == "tanh";
    } else {
      auto add = cast<AddOp>(user);
      Value other = add.getLhs() == cur ? add.getRhs() : add.getLhs();
      int idx = argIndex(other);
      if (w == "gelu" || idx < 0 ||
          tensorOf(add.getResult()).getShape() != tensorOf(cur).getShape())
        return fail("epilogue op " + std::to_string(next - 1) + " (\"" +
                    w.str() +
                    "\") must add a group operand without broadcasting the "
                    "product");
      if (w == "bias") {
        ArrayRef<int64_t> s = tensorOf(other).getShape();
        if (s.empty() || s.back() != parts.n ||
            tensorOf(other).getNumElements() != parts.n)
          return fail("the bias must have N = " + std::to_string(parts.n) +
                      " elements along the last axis");
        parts.bias = idx;
      } else {
        if (tensorOf(other).getShape() != tensorOf(cur).getShape())
          return fail("the residual must have the product's shape");
        parts.residual = idx;
      }
    }
    cur = user->getResult(0);
  }
  if (next != want.size())
    return fail("the epilogue attribute names " + std::to_string(want.size()) +
                " ops, the region has " + std::to_string(next));
  if (yield.getValues().size() != 1 || g.getNumResults() != 1)
    return fail("kind \"matmul\" has one result");
  if (used + 1 != body.getOperations().size())
    return fail("the region holds ops that are neither the prologue, the "
                "matmul nor the epilogue");
  if (Attribute fold = g->getAttr(kFoldBiasAttr)) {
    if (!isa<UnitAttr>(fold))
      return fail("tsr.fold_bias is a unit attribute");
    if (parts.bias < 0)
      return fail("tsr.fold_bias needs a \"bias\" epilogue");
    parts.foldBias = true;
  }
  return parts;
}

LogicalResult GroupOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError() << "region has " << body.getNumArguments()
                         << " arguments for " << getInputs().size()
                         << " operands";
  for (auto [arg, in] : llvm::zip(body.getArguments(), getInputs()))
    if (arg.getType() != in.getType())
      return emitOpError() << "region argument " << arg.getArgNumber()
                           << " has type " << arg.getType() << ", its operand "
                           << in.getType();
  auto yield = cast<YieldOp>(body.getTerminator());
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError() << "yields " << yield.getValues().size()
                         << " values whose types differ from the group's "
                         << getNumResults() << " results";
  auto tiling = (*this)->getAttrOfType<DictionaryAttr>("tsr.tiling");
  auto tile = [&](StringRef name) -> int64_t {
    auto v = tiling ? tiling.getAs<IntegerAttr>(name) : IntegerAttr();
    return v ? v.getInt() : -1;
  };
  if (getKind() == "matmul") {
    if (getHeadsOnChip() || getSoftmax())
      return emitOpError() << "heads_on_chip and softmax are attention "
                              "attributes";
    std::string error;
    FailureOr<MatMulGroupParts> parts = matchMatMulGroup(*this, error);
    if (failed(parts))
      return emitOpError() << error;
    if (tiling) {
      int64_t tm = tile("tm"), tk = tile("tk"), tn = tile("tn");
      if (tm < 1 || tk < 1 || tn < 1 || tm > parts->m || tk > parts->k ||
          tn > parts->n)
        return emitOpError() << "tiling " << tm << "x" << tk << "x" << tn
                             << " is not a tile of the " << parts->m << "x"
                             << parts->k << "x" << parts->n << " product";
      if (parts->layernorm && tk != parts->k)
        return emitOpError()
               << "a layernorm prologue normalizes whole rows: tk must be K = "
               << parts->k << ", got " << tk;
    }
    return success();
  }
  if (getKind() != "attention")
    return emitOpError() << "unknown kind \"" << getKind()
                         << "\" (expected \"attention\" or \"matmul\")";
  if (!getSoftmax() || !getHeadsOnChip())
    return emitOpError() << "kind \"attention\" needs softmax and "
                            "heads_on_chip";
  if (getEpilogue() || getPrologue())
    return emitOpError() << "epilogue and prologue are matmul attributes";
  if (*getSoftmax() != "row" && *getSoftmax() != "online")
    return emitOpError() << "softmax must be \"row\" or \"online\", got \""
                         << *getSoftmax() << "\"";
  auto attns = body.getOps<AttentionOp>();
  if (std::distance(attns.begin(), attns.end()) != 1)
    return emitOpError() << "kind \"attention\" holds exactly one "
                            "tsr.attention";
  AttentionOp a = *attns.begin();
  int64_t heads = static_cast<int64_t>(a.getHeads());
  if (static_cast<int64_t>(*getHeadsOnChip()) < 0 ||
      static_cast<int64_t>(*getHeadsOnChip()) > heads)
    return emitOpError() << "heads_on_chip must be in [0, " << heads
                         << "], got " << *getHeadsOnChip();
  if (tiling && tile("tq") < 1)
    return emitOpError() << "tiling tq must be positive";
  if (tiling && *getSoftmax() == "online") {
    // The online form walks K and V in tiles of tk rows.
    int64_t sq = cast<RankedTensorType>(a.getQuery().getType()).getShape()[1];
    int64_t sk = cast<RankedTensorType>(a.getKey().getType()).getShape()[1];
    int64_t tk = tile("tk");
    if (tk < 1 || tk > sk)
      return emitOpError() << "the online softmax walks K and V in tiles of "
                              "tk rows: tiling tk must be in [1, "
                           << sk << "], got " << tk;
    if (tile("tq") > sq)
      return emitOpError() << "tiling tq = " << tile("tq") << " exceeds the "
                           << sq << " query rows";
  } else if (tiling && tiling.get("tk")) {
    return emitOpError() << "tiling tk is a tile of the online softmax; "
                            "softmax = \"row\" computes whole score rows";
  }
  return success();
}
