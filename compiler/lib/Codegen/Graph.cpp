//===- Graph.cpp - the flat graph: shapes and checks ----------------------===//
//
// Part of Tessera. See Graph.h.
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler/Graph.h"

#include <algorithm>

using namespace tessera::codegen;

int64_t GraphValue::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

const char *tessera::codegen::nodeKindName(NodeKind k) {
  switch (k) {
  case NodeKind::MatMul:
    return "matmul";
  case NodeKind::Add:
    return "add";
  case NodeKind::Sub:
    return "sub";
  case NodeKind::Mul:
    return "mul";
  case NodeKind::Div:
    return "div";
  case NodeKind::LayerNorm:
    return "layernorm";
  case NodeKind::Softmax:
    return "softmax";
  case NodeKind::Slice:
    return "slice";
  case NodeKind::Concat:
    return "concat";
  case NodeKind::Pow:
    return "pow";
  case NodeKind::Sqrt:
    return "sqrt";
  case NodeKind::Neg:
    return "neg";
  case NodeKind::Tanh:
    return "tanh";
  case NodeKind::ReduceSum:
    return "reduce_sum";
  case NodeKind::ReduceMean:
    return "reduce_mean";
  case NodeKind::ReduceMax:
    return "reduce_max";
  case NodeKind::Erf:
    return "erf";
  case NodeKind::Gelu:
    return "gelu";
  case NodeKind::Transpose:
    return "transpose";
  case NodeKind::Reshape:
    return "reshape";
  case NodeKind::Conv:
    return "conv";
  case NodeKind::MaxPool:
    return "maxpool";
  case NodeKind::AvgPool:
    return "avgpool";
  case NodeKind::Relu:
    return "relu";
  case NodeKind::Sigmoid:
    return "sigmoid";
  case NodeKind::HardSwish:
    return "hardswish";
  case NodeKind::HardSigmoid:
    return "hardsigmoid";
  case NodeKind::Clip:
    return "clip";
  case NodeKind::Embedding:
    return "embedding";
  case NodeKind::Equal:
    return "equal";
  case NodeKind::Where:
    return "where";
  case NodeKind::Expand:
    return "expand";
  case NodeKind::Convert:
    return "convert";
  case NodeKind::Attention:
    return "attention";
  case NodeKind::FusedMatMul:
    return "fused matmul";
  }
  return "?";
}

int64_t tessera::codegen::product(const std::vector<int64_t> &shape,
                                  size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < std::min(to, shape.size()); ++i)
    p *= shape[i];
  return p;
}

std::string tessera::codegen::shapeString(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

std::vector<int64_t>
tessera::codegen::broadcastShapes(const std::vector<int64_t> &a,
                                  const std::vector<int64_t> &b,
                                  const std::string &where) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw CodegenError(where + ": shapes " + shapeString(a) + " and " +
                         shapeString(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void Graph::verify() const {
  auto valueOk = [&](int v) { return v >= 0 && size_t(v) < values.size(); };
  for (const GraphValue &v : values) {
    for (int64_t d : v.shape)
      if (d <= 0)
        throw CodegenError("value '" + v.name + "': dimension " +
                           std::to_string(d) + " is not positive");
    if (v.role == ValueRole::Weight &&
        int64_t(v.data.size()) != v.numElements())
      throw CodegenError("weight '" + v.name +
                         "': " + std::to_string(v.data.size()) +
                         " values for shape " + shapeString(v.shape));
  }
  std::vector<bool> defined(values.size(), false);
  for (size_t i = 0; i < values.size(); ++i)
    defined[i] = values[i].role == ValueRole::Input ||
                 values[i].role == ValueRole::Weight;
  for (const GraphNode &n : nodes) {
    std::string where = std::string(nodeKindName(n.kind)) + " '" + n.name + "'";
    size_t arity =
        (n.kind == NodeKind::LayerNorm || n.kind == NodeKind::Conv ||
         n.kind == NodeKind::Where || n.kind == NodeKind::Attention)
            ? 3
        : (n.kind == NodeKind::MatMul || n.kind == NodeKind::Add ||
           n.kind == NodeKind::Sub || n.kind == NodeKind::Mul ||
           n.kind == NodeKind::Div || n.kind == NodeKind::Embedding ||
           n.kind == NodeKind::Equal)
            ? 2
            : 1;
    if (n.kind == NodeKind::Concat)
      arity = std::max<size_t>(1, n.inputs.size());
    if (n.kind == NodeKind::FusedMatMul)
      arity = 2 + (n.layerNormPrologue ? 2 : 0) + (n.biasEpilogue ? 1 : 0) +
              (n.residualEpilogue ? 1 : 0);
    if (n.inputs.size() != arity)
      throw CodegenError(where + ": expected " + std::to_string(arity) +
                         " inputs, got " + std::to_string(n.inputs.size()));
    for (int in : n.inputs)
      if (!valueOk(in) || !defined[in])
        throw CodegenError(where + ": input is not defined before the node");
    if (!valueOk(n.output) || defined[n.output])
      throw CodegenError(where + ": output is missing or defined twice");
    defined[n.output] = true;

    const auto &out = values[n.output].shape;
    const auto &x = values[n.inputs[0]].shape;
    auto expect = [&](const std::vector<int64_t> &want) {
      if (want != out)
        throw CodegenError(where + ": result shape " + shapeString(out) +
                           ", expected " + shapeString(want));
    };
    switch (n.kind) {
    case NodeKind::Add:
    case NodeKind::Sub:
    case NodeKind::Mul:
    case NodeKind::Div:
      expect(broadcastShapes(x, values[n.inputs[1]].shape, where));
      break;
    case NodeKind::MatMul: {
      const auto &y = values[n.inputs[1]].shape;
      if (x.size() < 2 || y.size() < 2 || x.back() != y[y.size() - 2])
        throw CodegenError(where + ": cannot multiply " + shapeString(x) +
                           " by " + shapeString(y));
      std::vector<int64_t> want = broadcastShapes(
          {x.begin(), x.end() - 2}, {y.begin(), y.end() - 2}, where);
      want.push_back(x[x.size() - 2]);
      want.push_back(y.back());
      expect(want);
      break;
    }
    case NodeKind::LayerNorm: {
      if (n.axis < 0 || n.axis >= int64_t(x.size()))
        throw CodegenError(where + ": axis " + std::to_string(n.axis) +
                           " out of range for " + shapeString(x));
      std::vector<int64_t> tail(x.begin() + n.axis, x.end());
      int64_t tailElems = 1;
      for (int64_t d : tail)
        tailElems *= d;
      for (int i = 1; i < 3; ++i)
        if (values[n.inputs[i]].numElements() != tailElems)
          throw CodegenError(where + ": scale/bias have " +
                             shapeString(values[n.inputs[i]].shape) +
                             ", expected " + shapeString(tail));
      expect(x);
      break;
    }
    case NodeKind::Softmax:
      if (n.axis < 0 || n.axis >= int64_t(x.size()))
        throw CodegenError(where + ": axis " + std::to_string(n.axis) +
                           " out of range for " + shapeString(x));
      expect(x);
      break;
    case NodeKind::Erf:
    case NodeKind::Gelu:
    case NodeKind::Pow:
    case NodeKind::Sqrt:
    case NodeKind::Neg:
    case NodeKind::Tanh:
      expect(x);
      break;
    case NodeKind::Slice: {
      if (n.offsets.size() != x.size() || n.steps.size() != x.size() ||
          out.size() != x.size())
        throw CodegenError(where + ": offsets/steps do not match rank " +
                           std::to_string(x.size()));
      for (size_t d = 0; d < x.size(); ++d)
        if (n.steps[d] < 1 || n.offsets[d] < 0 ||
            n.offsets[d] + (out[d] - 1) * n.steps[d] >= x[d])
          throw CodegenError(where + ": window " + shapeString(out) +
                             " does not fit " + shapeString(x) + " on axis " +
                             std::to_string(d));
      break;
    }
    case NodeKind::Concat: {
      if (n.axis < 0 || n.axis >= int64_t(x.size()))
        throw CodegenError(where + ": axis " + std::to_string(n.axis) +
                           " out of range for " + shapeString(x));
      std::vector<int64_t> want = x;
      want[n.axis] = 0;
      for (int in : n.inputs) {
        std::vector<int64_t> s = values[in].shape;
        if (s.size() != x.size())
          throw CodegenError(where + ": inputs differ in rank");
        want[n.axis] += s[n.axis];
        s[n.axis] = x[n.axis];
        if (s != x)
          throw CodegenError(where + ": input " +
                             shapeString(values[in].shape) +
                             " differs off the concat axis");
      }
      expect(want);
      break;
    }
    case NodeKind::ReduceSum:
    case NodeKind::ReduceMean:
    case NodeKind::ReduceMax: {
      std::vector<int64_t> keep, drop;
      size_t next = 0;
      for (size_t d = 0; d < x.size(); ++d) {
        bool reduced = next < n.axes.size() && n.axes[next] == int64_t(d);
        next += reduced;
        keep.push_back(reduced ? 1 : x[d]);
        if (!reduced)
          drop.push_back(x[d]);
      }
      if (n.axes.empty() || next != n.axes.size())
        throw CodegenError(where + ": axes must be sorted and in range");
      if (out != keep && out != drop)
        throw CodegenError(where + ": result shape " + shapeString(out) +
                           ", expected " + shapeString(keep) + " or " +
                           shapeString(drop));
      break;
    }
    case NodeKind::Transpose: {
      std::vector<int64_t> sorted = n.perm, want;
      std::sort(sorted.begin(), sorted.end());
      for (size_t i = 0; i < sorted.size(); ++i)
        if (sorted[i] != int64_t(i) || sorted.size() != x.size())
          throw CodegenError(where + ": perm is not a permutation of " +
                             std::to_string(x.size()) + " axes");
      for (int64_t p : n.perm)
        want.push_back(x[p]);
      expect(want);
      break;
    }
    case NodeKind::Reshape:
      if (values[n.output].numElements() != values[n.inputs[0]].numElements())
        throw CodegenError(where + ": reshape " + shapeString(x) + " to " +
                           shapeString(out) + " changes the element count");
      break;
    case NodeKind::Conv:
    case NodeKind::MaxPool:
    case NodeKind::AvgPool: {
      bool conv = n.kind == NodeKind::Conv;
      const auto &w = conv ? values[n.inputs[1]].shape : n.kernel;
      std::vector<int64_t> kernel =
          conv && w.size() == 4 ? std::vector<int64_t>{w[2], w[3]} : n.kernel;
      std::vector<int64_t> dil =
          conv ? n.dilations : std::vector<int64_t>{1, 1};
      if (x.size() != 4 || kernel.size() != 2 || n.strides.size() != 2 ||
          n.pads.size() != 4 || dil.size() != 2 || (conv && w.size() != 4))
        throw CodegenError(where + ": expects NCHW input " + shapeString(x) +
                           " and 2-D window attributes");
      std::vector<int64_t> want{x[0], conv ? w[0] : x[1]};
      for (int i = 0; i < 2; ++i) {
        int64_t span =
            x[2 + i] + n.pads[i] + n.pads[i + 2] - dil[i] * (kernel[i] - 1) - 1;
        if (span < 0 || n.strides[i] < 1 || dil[i] < 1 || kernel[i] < 1)
          throw CodegenError(where + ": window does not fit " + shapeString(x));
        want.push_back(span / n.strides[i] + 1);
      }
      if (conv &&
          (n.groups < 1 || x[1] != w[1] * n.groups || w[0] % n.groups != 0 ||
           values[n.inputs[2]].numElements() != w[0]))
        throw CodegenError(where + ": weight " + shapeString(w) +
                           " and groups " + std::to_string(n.groups) +
                           " do not fit input " + shapeString(x));
      expect(want);
      break;
    }
    case NodeKind::Relu:
    case NodeKind::Sigmoid:
    case NodeKind::HardSwish:
    case NodeKind::HardSigmoid:
    case NodeKind::Clip:
      expect(x);
      break;
    case NodeKind::Convert:
      if (values[n.inputs[0]].role != ValueRole::Input ||
          !values[n.inputs[0]].integer)
        throw CodegenError(where + ": converts '" + values[n.inputs[0]].name +
                           "', which is not an integer graph input");
      expect(x);
      break;
    case NodeKind::Embedding: {
      std::vector<int64_t> want = values[n.inputs[1]].shape;
      if (x.empty())
        throw CodegenError(where + ": table must have rank >= 1");
      want.insert(want.end(), x.begin() + 1, x.end());
      expect(want);
      break;
    }
    case NodeKind::Equal:
      expect(broadcastShapes(x, values[n.inputs[1]].shape, where));
      break;
    case NodeKind::Where:
      expect(broadcastShapes(x,
                             broadcastShapes(values[n.inputs[1]].shape,
                                             values[n.inputs[2]].shape, where),
                             where));
      break;
    case NodeKind::Expand:
      expect(broadcastShapes(x, out, where));
      break;
    case NodeKind::FusedMatMul: {
      // a [..., K] (rows folded into M), b [K, N]; the extra inputs in
      // order; the result any shape of M * N elements.
      const auto &y = values[n.inputs[1]].shape;
      if (x.empty() || y.size() != 2 || x.back() != y[0])
        throw CodegenError(where + ": cannot multiply " + shapeString(x) +
                           " by " + shapeString(y) + " (b must be [K, N])");
      int64_t k = y[0], nn = y[1], m = values[n.inputs[0]].numElements() / k;
      if (values[n.output].numElements() != m * nn)
        throw CodegenError(where + ": result " + shapeString(out) +
                           " does not hold the " + std::to_string(m) + "x" +
                           std::to_string(nn) + " product");
      size_t i = 2;
      if (n.layerNormPrologue)
        for (int j = 0; j < 2; ++j, ++i)
          if (values[n.inputs[i]].numElements() != k)
            throw CodegenError(where + ": layernorm scale/bias must have " +
                               std::to_string(k) + " elements, got " +
                               shapeString(values[n.inputs[i]].shape));
      if (n.biasEpilogue && values[n.inputs[i++]].numElements() != nn)
        throw CodegenError(where + ": bias must have " + std::to_string(nn) +
                           " elements, got " +
                           shapeString(values[n.inputs[i - 1]].shape));
      if (n.residualEpilogue && values[n.inputs[i++]].numElements() != m * nn)
        throw CodegenError(where + ": residual must have " +
                           std::to_string(m * nn) + " elements, got " +
                           shapeString(values[n.inputs[i - 1]].shape));
      break;
    }
    case NodeKind::Attention: {
      // Every row of q (Sq per batch), k and v (seqK) inside its input.
      if (out.size() != 3 || n.heads < 1 || out[2] % n.heads != 0 ||
          n.seqK < 1 || n.qkvLayout.size() != 3)
        throw CodegenError(where + ": expects a [B, Sq, D] result with D a "
                                   "multiple of the heads and a layout per "
                                   "q, k and v");
      for (int i = 0; i < 3; ++i) {
        const std::vector<int64_t> &l = n.qkvLayout[i];
        int64_t rows = i == 0 ? out[1] : n.seqK;
        int64_t last = l.size() == 3 ? l[0] + (out[0] - 1) * l[1] +
                                           (rows - 1) * l[2] + out[2]
                                     : -1;
        if (l.size() != 3 || l[0] < 0 || l[1] < 0 || l[2] < out[2] ||
            last > values[n.inputs[i]].numElements())
          throw CodegenError(where + ": operand " + std::to_string(i) +
                             " reads outside its input " +
                             shapeString(values[n.inputs[i]].shape));
      }
      break;
    }
    }
  }
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].role == ValueRole::Output && !defined[i])
      throw CodegenError("output '" + values[i].name + "' is never computed");
}
