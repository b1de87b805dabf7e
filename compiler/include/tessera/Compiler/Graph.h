//===- Graph.h - the network as code generation sees it ---------*- C++ -*-===//
//
// Part of Tessera. A flat, MLIR-free form of a tsr function: values with static
// shapes (inputs, outputs, weights with their f32 data, intermediates) and
// nodes in execution order. ToGraph.cpp extracts it from the tsr dialect;
// Codegen.cpp tiles and emits it; Reference.cpp executes it in FP32 as the
// reference the chip's outputs are compared with.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_COMPILER_GRAPH_H
#define TESSERA_COMPILER_GRAPH_H

#include "tessera/CostModel/SramPlan.h"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tessera::codegen {

enum class ValueRole : uint8_t { Input, Output, Weight, Intermediate };

struct GraphValue {
  std::string name;
  std::vector<int64_t> shape;
  ValueRole role = ValueRole::Intermediate;
  std::vector<float> data; ///< Weight role only: row-major f32 values.
  /// Input role only: an integer ONNX input (int64, int32, bool; the
  /// argument's tsr.dtype), held as int32 in the chip's DRAM.
  bool integer = false;
  /// Integer inputs read as data: the decisions recorded in the IR for
  /// their FP16 conversion kernel (the argument's `tsr.tiling` and
  /// `tsr.sram`, by tsr-select-tiling and tsr-allocate-sram; empty: none).
  /// normalizeGraph's Convert node carries them.
  std::map<std::string, int64_t> convertTiling;
  cost::SramPlan convertSram;

  int64_t numElements() const;
};

enum class NodeKind : uint8_t {
  MatMul, ///< inputs {a, b}: batched matmul with batch broadcasting.
  Add,    ///< inputs {a, b}: elementwise, numpy broadcasting.
  Sub,
  Mul,
  Div,
  LayerNorm, ///< inputs {x, scale, bias}; axis, epsilon.
  Softmax,   ///< inputs {x}; axis.
  // Transformer ops (issue 9, part 2).
  Slice,      ///< inputs {x}; offsets, steps (one per axis, steps >= 1).
  Concat,     ///< inputs {x0, x1, ...}; axis.
  Pow,        ///< inputs {x}; exponent.
  Sqrt,       ///< inputs {x}.
  Neg,        ///< inputs {x}.
  Tanh,       ///< inputs {x}.
  ReduceSum,  ///< inputs {x}; axes (sorted); the output shape says keepdims.
  ReduceMean, ///< inputs {x}; axes.
  ReduceMax,  ///< inputs {x}; axes.
  Erf,        ///< inputs {x}.
  Gelu,       ///< inputs {x}.
  Transpose,  ///< inputs {x}; perm.
  Reshape,    ///< inputs {x}: same elements, new shape (no data movement).
  // CNN and miscellaneous ops.
  Conv,        ///< inputs {x, w, b}: NCHW; strides, pads, dilations, groups.
  MaxPool,     ///< inputs {x}: NCHW; kernel, strides, pads.
  AvgPool,     ///< inputs {x}: NCHW; kernel, strides, pads, countIncludePad.
  Relu,        ///< inputs {x}.
  Sigmoid,     ///< inputs {x}.
  HardSwish,   ///< inputs {x}.
  HardSigmoid, ///< inputs {x}: min(max(alpha * x + beta, 0), 1).
  Clip,        ///< inputs {x}: min(max(x, lo), hi).
  Embedding,   ///< inputs {table, indices}: rows of the table.
  Equal,       ///< inputs {a, b}: 1 where a == b, else 0; broadcasting.
  Where,       ///< inputs {cond, a, b}: cond != 0 ? a : b; broadcasting.
  Expand,      ///< inputs {x}: broadcast to the output's shape.
  /// inputs {x}: the FP16 copy of an integer input (int32 in DRAM) that its
  /// readers of data take; inserted by normalizeGraph before the first one
  /// (docs/lowering.md, "Integer inputs").
  Convert,
  // Fused kernels (issue 10, docs/fusion.md).
  Attention, ///< inputs {q, k, v}: a tsr.group of kind "attention".
  /// inputs {a, b[, gamma, beta][, bias][, residual]}: a tsr.group of kind
  /// "matmul": out[M, N] = epilogue(prologue(a)[M, K] * b[K, N]), b a 2-D
  /// weight, a's leading axes folded into M, out M*N elements (any shape).
  FusedMatMul,
};
const char *nodeKindName(NodeKind k);

struct GraphNode {
  NodeKind kind = NodeKind::Add;
  std::string name; ///< The ONNX node name: the layer the report shows.
  std::vector<int> inputs;
  int output = -1;
  std::vector<int64_t> perm; ///< Transpose.
  int64_t axis = -1;         ///< LayerNorm, Softmax.
  float epsilon = 1e-5f;     ///< LayerNorm.
  // Transformer ops (issue 9, part 2).
  std::vector<int64_t> offsets, steps; ///< Slice.
  std::vector<int64_t> axes;           ///< Reduce*.
  float exponent = 1.0f;               ///< Pow.
  bool tanhGelu = false;               ///< Gelu: the tanh approximation.
  // CNN and miscellaneous ops.
  std::vector<int64_t> kernel;    ///< Pools: [kh, kw].
  std::vector<int64_t> strides;   ///< Conv, pools: [sh, sw].
  std::vector<int64_t> pads;      ///< Conv, pools: [top, left, bottom, right].
  std::vector<int64_t> dilations; ///< Conv: [dh, dw].
  int64_t groups = 1;             ///< Conv.
  bool countIncludePad = false;   ///< AvgPool.
  float alpha = 0, beta = 0;      ///< HardSigmoid.
  float lo = 0, hi = 0;           ///< Clip.
  // Fused kernels (issue 10, docs/fusion.md).
  /// Attention: multi-head attention on the [B, Sq, D] output. q, k and v
  /// are read in place from their input values (a packed QKV projection, a
  /// sequence-first tensor): row s of batch b of operand i starts at
  /// element qkvLayout[i] = {offset, batchStride, rowStride} as
  /// offset + b * batchStride + s * rowStride; its D columns are contiguous.
  int64_t heads = 0;
  int64_t seqK = 0;   ///< Attention: key/value rows per batch.
  float scale = 1.0f; ///< Attention: applied to Q.
  std::vector<std::vector<int64_t>> qkvLayout;
  int64_t tileRows = 0; ///< Attention: query rows per tile (0: search).
  /// Attention: the online (streaming) softmax form (the group's `softmax =
  /// "online"`) and its K/V rows per tile (tsr.tiling's tk; 0: search).
  bool onlineSoftmax = false;
  int64_t tileKeys = 0;
  /// FusedMatMul: a layernorm prologue on a's rows (epsilon above; gamma
  /// and beta inputs), the epilogue (a 1-D bias [N], GELU (tanhGelu above),
  /// a residual of M*N elements) and the tile recorded in the IR (0: search;
  /// MatMul: the same fields).
  bool layerNormPrologue = false, biasEpilogue = false, geluEpilogue = false,
       residualEpilogue = false;
  /// FusedMatMul: the bias added by the matrix unit (the group's
  /// `tsr.fold_bias`, tsr-fold-bias; cost::MatMulGroupOp::foldBias).
  bool foldBias = false;
  int64_t tileM = 0, tileK = 0, tileN = 0;
  /// MatMul: the tile above and the NPUs its output tiles are divided among
  /// as recorded by tsr-select-tiling (`tsr.tiling`'s tm, tk, tn, npus;
  /// 0: the code generator searches).
  int64_t npuParts = 0;
  /// Fused nodes (graph extraction fills it from the tsr.group): what the
  /// kernel fuses and what it keeps out of DRAM against the unfused
  /// pipeline (docs/fusion.md, "In the report").
  struct Fusion {
    /// "attention", or those of "layernorm", "bias", "gelu", "residual"
    /// the matmul kernel applies; empty: not a fused node.
    std::vector<std::string> applied;
    int64_t headsFused = 0, heads = 0; ///< Attention.
    /// The group's region lowered as the unfused pipeline lowers it: each
    /// value a kernel writes other than the group's result is an
    /// intermediate the unfused program stores to DRAM once (storeBytes)
    /// and its consuming kernels load (loads, loadBytes).
    uint64_t roundTrips = 0, loads = 0, storeBytes = 0, loadBytes = 0;
  } fusion;
  /// Every integer field of the op's `tsr.tiling` as a pass recorded it
  /// (graph extraction reads it for every node, one reader for every kind:
  /// tm, tk, tn, npus of a matmul; tr, tc of a row tiling; tq, tk of an
  /// attention ...). Empty: nothing recorded, the code generator decides
  /// with the same search (docs/lowering.md, "Decisions of the unfused
  /// kernels"). The named fields above (tileM ..., tileRows, tileKeys,
  /// npuParts) are filled from it.
  std::map<std::string, int64_t> tiling;
  /// A field of `tiling`, 0 when absent.
  int64_t tile(const std::string &field) const {
    auto it = tiling.find(field);
    return it == tiling.end() ? 0 : it->second;
  }
  /// The SRAM plan recorded in the IR for the recorded tiling
  /// (tsr-allocate-sram, `tsr.sram`; empty: none), on any node: the kernel
  /// takes its buffer addresses from it.
  cost::SramPlan sram;
  /// FusedMatMul: the output columns it keeps in SRAM for the attention
  /// right after it; Attention: the heads whose K and V it reads there
  /// (tsr-keep-kv, `tsr.keep_kv`; no heads: none).
  cost::ResidentKv kv;
};

struct Graph {
  std::string name;
  std::vector<GraphValue> values;
  std::vector<GraphNode> nodes;

  int addValue(GraphValue v) {
    values.push_back(std::move(v));
    return static_cast<int>(values.size()) - 1;
  }
  /// Checks shapes and references; throws CodegenError naming the node.
  void verify() const;
};

/// The network cannot be compiled for the chip (an unsupported shape or
/// layout, a working set that cannot fit SRAM): the message names the node.
class CodegenError : public std::runtime_error {
public:
  explicit CodegenError(const std::string &message)
      : std::runtime_error(message) {}
};

/// "1x128x256".
std::string shapeString(const std::vector<int64_t> &shape);
/// The product of `shape[from, to)` (1 when empty): elements of a shape, rows
/// or columns of a view.
int64_t product(const std::vector<int64_t> &shape, size_t from = 0,
                size_t to = SIZE_MAX);

/// Numpy broadcast of two shapes; throws CodegenError when they do not.
std::vector<int64_t> broadcastShapes(const std::vector<int64_t> &a,
                                     const std::vector<int64_t> &b,
                                     const std::string &where);

/// Executes the graph in FP32 (the reference the chip is checked against).
/// `inputs` maps input names to row-major values; returns every output.
std::map<std::string, std::vector<float>>
runReference(const Graph &graph,
             const std::map<std::string, std::vector<float>> &inputs);

} // namespace tessera::codegen

#endif // TESSERA_COMPILER_GRAPH_H
