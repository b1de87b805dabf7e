//===- Codegen.cpp - graph to chip program --------------------------------===//
//
// Part of Tessera. The first lowering (docs/lowering.md): every node is its
// own kernel that loads tiles from DRAM into SRAM, computes on them and
// stores the results back. Tensors live in DRAM in FP16; matrix products
// accumulate in FP32. Tiles are sized so the kernel's whole working set
// (double-buffered) fits the configured SRAM, and every instruction's
// dependencies come from the byte ranges it reads and writes.
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler/Codegen.h"

#include "tessera/arch/Error.h"

#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

using namespace tessera;
using namespace tessera::codegen;
using arch::DType;
using arch::Instr;
using arch::Opcode;

//===----------------------------------------------------------------------===//
// HazardTracker
//===----------------------------------------------------------------------===//

std::vector<uint32_t> HazardTracker::add(const Instr &in, uint32_t index) {
  // Latest dependency per queue: a queue runs one instruction at a time, in
  // order, so waiting for its latest relevant instruction covers the earlier
  // ones, and the instruction's own queue orders it for free.
  int64_t latest[arch::kNumQueues] = {-1, -1, -1};
  std::vector<arch::Operand> ops = arch::operandsOf(in);
  struct Range {
    uint64_t begin, end;
    bool write, dense; ///< dense: every byte in [begin, end) is touched.
    int space;
  };
  std::vector<Range> ranges;
  for (const arch::Operand &o : ops) {
    // A strided operand counts its whole span (conservative for reads and
    // for the hazards of writes).
    uint64_t end =
        o.addr + (o.rows ? (o.rows - 1) * o.strideBytes : 0) + o.rowBytes;
    bool dense = o.rows <= 1 || o.strideBytes == o.rowBytes;
    ranges.push_back({o.addr, end, o.isWrite, dense, o.inDram ? 1 : 0});
  }
  for (const Range &r : ranges)
    for (const Access &a : spaces[r.space])
      if (a.begin < r.end && r.begin < a.end && (r.write || a.write)) {
        int64_t &l = latest[unsigned(a.queue)];
        l = std::max<int64_t>(l, a.instr);
      }
  std::vector<uint32_t> deps;
  for (unsigned q = 0; q < arch::kNumQueues; ++q)
    if (latest[q] >= 0 && q != unsigned(in.queue()))
      deps.push_back(uint32_t(latest[q]));
  std::sort(deps.begin(), deps.end());

  for (const Range &r : ranges) {
    std::vector<Access> &space = spaces[r.space];
    if (r.write && r.dense) {
      // Bytes a write overwrites are ordered after every earlier access of
      // them (the write waited): forget those parts of earlier accesses.
      std::vector<Access> kept;
      for (const Access &a : space) {
        if (a.end <= r.begin || r.end <= a.begin) {
          kept.push_back(a);
          continue;
        }
        if (a.begin < r.begin)
          kept.push_back({a.begin, r.begin, a.instr, a.write, a.queue});
        if (r.end < a.end)
          kept.push_back({r.end, a.end, a.instr, a.write, a.queue});
      }
      space.swap(kept);
    }
    space.push_back({r.begin, r.end, index, r.write, in.queue()});
  }
  return deps;
}

//===----------------------------------------------------------------------===//
// The emitter
//===----------------------------------------------------------------------===//

namespace {

constexpr uint64_t kSramAlign = 64;
/// Upper bound on one tile buffer: small enough that a kernel has several
/// tiles for loads, compute and stores to overlap, large enough that the
/// fixed per-instruction costs stay small.
constexpr uint64_t kMaxTileBytes = 128 << 10;
constexpr DType kAct = DType::F16;
constexpr uint64_t kEb = 2; // Bytes per FP16 element.

using Shape = std::vector<int64_t>;

int64_t product(const Shape &s, size_t from = 0, size_t to = SIZE_MAX) {
  int64_t n = 1;
  for (size_t i = from; i < std::min(to, s.size()); ++i)
    n *= s[i];
  return n;
}

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Row-major element strides.
std::vector<int64_t> stridesOf(const Shape &s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;)
    st[d - 1] = st[d] * s[d];
  return st;
}

/// Calls f(index) for every multi-index of `dims`, last dimension fastest.
template <typename F> void forEachIndex(const Shape &dims, F f) {
  std::vector<int64_t> idx(dims.size(), 0);
  int64_t total = product(dims);
  for (int64_t i = 0; i < total; ++i) {
    f(idx);
    for (size_t d = dims.size(); d-- > 0;) {
      if (++idx[d] < dims[d])
        break;
      idx[d] = 0;
    }
  }
}

class Emitter {
public:
  Emitter(const Graph &g, const arch::ChipConfig &chip,
          std::vector<cost::Kernel> *plans)
      : g(g), chip(chip), plans(plans) {}

  arch::Program run();

private:
  const Graph &g;
  const arch::ChipConfig &chip;
  std::vector<cost::Kernel> *plans; ///< Per layer, for the cost model.
  arch::Program prog;
  HazardTracker hazards;
  std::vector<int> tensorOf; ///< Graph value -> program tensor (-1: none).
  uint64_t dramTop = 0;
  uint64_t sramTop = 0;
  uint32_t layer = 0;
  std::string where; ///< "matmul 'name'" for errors.

  // -- Memory ---------------------------------------------------------------
  int placeTensor(int value, arch::TensorKind kind);
  uint64_t dram(int value) { return prog.tensors[tensorOf[value]].dramAddr; }
  void beginKernel() { sramTop = 0; }
  uint64_t sramAlloc(uint64_t bytes) {
    uint64_t addr = alignUp(sramTop, kSramAlign);
    if (addr + bytes > chip.sram_bytes)
      throw CodegenError(where + ": needs " + std::to_string(addr + bytes) +
                         " bytes of SRAM, the chip has " +
                         std::to_string(chip.sram_bytes));
    sramTop = addr + bytes;
    prog.sramBytesUsed = std::max(prog.sramBytesUsed, sramTop);
    return addr;
  }
  /// Bytes available for a kernel's buffers.
  uint64_t sramBudget() const { return chip.sram_bytes; }

  /// The DRAM tensor holding graph value `v` (aliases share it).
  std::string tensorName(int v) const {
    return tensorOf[v] >= 0 ? prog.tensors[tensorOf[v]].name : g.values[v].name;
  }
  /// Records the current layer's kernel (docs/cost-model.md). A layer
  /// emitted as several kernels is not one kernel of the model's: it stays
  /// undescribed (empty kind), as does a layer whose kernel records nothing.
  void plan(cost::Kernel k) {
    if (!plans)
      return;
    plans->resize(prog.layers.size());
    planCount.resize(prog.layers.size());
    (*plans)[layer] = ++planCount[layer] == 1 ? std::move(k) : cost::Kernel();
  }
  std::vector<unsigned> planCount; ///< plan() calls per layer.

  // -- Emission -------------------------------------------------------------
  void emit(Instr in) {
    in.layer = layer;
    uint32_t index = uint32_t(prog.instrs.size());
    in.deps = hazards.add(in, index);
    prog.instrs.push_back(std::move(in));
  }
  /// DmaLoad / DmaStore of `rows` rows of `bytes` bytes.
  void dma(Opcode op, uint64_t dramAddr, uint64_t dramStride, uint64_t sramAddr,
           uint64_t sramStride, uint64_t rows, uint64_t bytes) {
    Instr in;
    in.op = op;
    in.addr[0] = dramAddr;
    in.addr[1] = sramAddr;
    in.dims[0] = uint32_t(rows);
    in.dims[1] = uint32_t(bytes);
    in.strides[0] = uint32_t(rows > 1 ? dramStride : bytes);
    in.strides[1] = uint32_t(rows > 1 ? sramStride : bytes);
    emit(in);
  }
  void load(uint64_t dramAddr, uint64_t dramStride, uint64_t sramAddr,
            uint64_t sramStride, uint64_t rows, uint64_t bytes) {
    dma(Opcode::DmaLoad, dramAddr, dramStride, sramAddr, sramStride, rows,
        bytes);
  }
  void store(uint64_t dramAddr, uint64_t dramStride, uint64_t sramAddr,
             uint64_t sramStride, uint64_t rows, uint64_t bytes) {
    dma(Opcode::DmaStore, dramAddr, dramStride, sramAddr, sramStride, rows,
        bytes);
  }
  /// A vector instruction over `rows` x `cols` elements.
  Instr vec(Opcode op, uint64_t rows, uint64_t cols) {
    Instr in;
    in.op = op;
    in.dtype = kAct;
    in.outDtype = kAct;
    in.dims[0] = uint32_t(rows);
    in.dims[1] = uint32_t(cols);
    return in;
  }

  /// The scalar weight of a Mul or Div that becomes a VecScale immediate
  /// (the other operand has the result's shape), or -1.
  int immOperand(const GraphNode &n) const {
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

  // -- Kernels --------------------------------------------------------------
  void lowerNode(const GraphNode &n);
  void rowKernel(const GraphNode &n, int src, Opcode op, float imm);
  void binaryKernel(const GraphNode &n);
  void matmulKernel(const GraphNode &n);
  void transposeKernel(const GraphNode &n);
  void copyKernel(int src, int dst);
};

int Emitter::placeTensor(int value, arch::TensorKind kind) {
  const GraphValue &v = g.values[value];
  arch::TensorInfo t;
  t.name = v.name;
  t.kind = kind;
  t.dtype = kAct;
  t.shape = v.shape;
  dramTop = alignUp(dramTop, chip.dram_burst_bytes);
  t.dramAddr = dramTop;
  if (kind == arch::TensorKind::Weight) {
    t.data.resize(v.data.size() * kEb);
    for (size_t i = 0; i < v.data.size(); ++i) {
      Eigen::half h(v.data[i]);
      std::memcpy(t.data.data() + i * kEb, &h, kEb);
    }
  }
  dramTop += t.byteSize();
  prog.tensors.push_back(std::move(t));
  tensorOf[value] = int(prog.tensors.size()) - 1;
  return tensorOf[value];
}

arch::Program Emitter::run() {
  g.verify();
  prog.chipName = chip.name;
  tensorOf.assign(g.values.size(), -1);

  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].role == ValueRole::Input)
      placeTensor(int(i), arch::TensorKind::Input);

  for (const GraphNode &n : g.nodes) {
    where = std::string(nodeKindName(n.kind)) + " '" + n.name + "'";
    // Weights are placed at first use, except constants folded into an
    // instruction's immediate.
    for (int in : n.inputs)
      if (tensorOf[in] < 0 && g.values[in].role == ValueRole::Weight &&
          in != immOperand(n))
        placeTensor(in, arch::TensorKind::Weight);
    lowerNode(n);
  }

  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].role == ValueRole::Output && tensorOf[i] < 0)
      throw CodegenError("output '" + g.values[i].name + "' was not placed");
  prog.dramBytes = alignUp(dramTop, chip.dram_burst_bytes);
  try {
    prog.verify("<generated program>");
  } catch (const arch::ContractError &e) {
    throw CodegenError(std::string("internal error: ") + e.what());
  }
  return std::move(prog);
}

void Emitter::lowerNode(const GraphNode &n) {
  const GraphValue &out = g.values[n.output];
  int in0 = n.inputs[0];
  bool identity = n.kind == NodeKind::Reshape;
  if (n.kind == NodeKind::Transpose) {
    // Moving only axes of extent 1 keeps the element order.
    std::vector<int64_t> kept;
    for (int64_t p : n.perm)
      if (g.values[in0].shape[p] != 1)
        kept.push_back(p);
    identity = std::is_sorted(kept.begin(), kept.end());
  }
  if (identity) {
    // Same bytes, new shape. An intermediate is renamed in place; inputs,
    // weights and outputs keep their names, so their value is copied.
    arch::TensorInfo &t = prog.tensors[tensorOf[in0]];
    bool renamable = g.values[in0].role == ValueRole::Intermediate;
    if (out.role != ValueRole::Output) {
      tensorOf[n.output] = tensorOf[in0];
      return;
    }
    if (renamable) {
      t.name = out.name;
      t.kind = arch::TensorKind::Output;
      t.shape = out.shape;
      tensorOf[n.output] = tensorOf[in0];
      return;
    }
    prog.layers.push_back(n.name);
    layer = uint32_t(prog.layers.size() - 1);
    placeTensor(n.output, arch::TensorKind::Output);
    copyKernel(in0, n.output);
    return;
  }

  placeTensor(n.output, out.role == ValueRole::Output
                            ? arch::TensorKind::Output
                            : arch::TensorKind::Scratch);
  prog.layers.push_back(n.name);
  layer = uint32_t(prog.layers.size() - 1);
  beginKernel();
  switch (n.kind) {
  case NodeKind::MatMul:
    return matmulKernel(n);
  case NodeKind::Add:
  case NodeKind::Sub:
  case NodeKind::Mul:
  case NodeKind::Div:
    return binaryKernel(n);
  case NodeKind::LayerNorm:
    return rowKernel(n, in0, Opcode::VecLayerNorm, n.epsilon);
  case NodeKind::Softmax:
    if (n.axis != int64_t(g.values[in0].shape.size()) - 1)
      throw CodegenError(where + ": softmax over axis " +
                         std::to_string(n.axis) + " of " +
                         shapeString(g.values[in0].shape) +
                         "; the vector unit normalizes the last axis only");
    return rowKernel(n, in0, Opcode::VecSoftmax, 0);
  case NodeKind::Erf:
    return rowKernel(n, in0, Opcode::VecErf, 0);
  case NodeKind::Gelu:
    return rowKernel(n, in0, Opcode::VecGelu, 0);
  case NodeKind::Transpose:
    return transposeKernel(n);
  case NodeKind::Reshape:
    break;
  }
}

/// Tiles of a [rows, cols] view for a kernel whose buffers per tile element
/// cost `bytesPerElem` bytes in total (all rings included) after `fixed`
/// bytes of resident data. With `wholeRows`, a tile spans every column.
struct Tiles2D {
  int64_t tr, tc;
};
/// Calls f(tile, r, c, nr, nc) for the `tr` x `tc` tiles of a [rows, cols]
/// view, row-major; `tile` counts from 0 (ring slot: tile % 2).
template <typename F>
void forEachTile(int64_t rows, int64_t cols, Tiles2D t, F f) {
  int tile = 0;
  for (int64_t r = 0; r < rows; r += t.tr)
    for (int64_t c = 0; c < cols; c += t.tc, ++tile)
      f(tile, r, c, std::min(t.tr, rows - r), std::min(t.tc, cols - c));
}

Tiles2D pickTiles(int64_t rows, int64_t cols, uint64_t bytesPerElem,
                  uint64_t fixed, uint64_t budget, bool wholeRows,
                  const std::string &where) {
  // Each of a kernel's (at most eight) buffers may lose up to 63 bytes to
  // alignment.
  uint64_t slack = fixed + 8 * kSramAlign;
  uint64_t avail = budget > slack ? budget - slack : 0;
  // Each buffer stays under the tile cap, and together they fit what SRAM
  // has left.
  uint64_t maxElems = std::min(avail / bytesPerElem, kMaxTileBytes / kEb);
  if (int64_t(maxElems) >= cols) {
    int64_t tr = std::max<int64_t>(1, std::min<int64_t>(rows, maxElems / cols));
    return {tr, cols};
  }
  if (wholeRows) {
    // One row must fit, even above the tile cap.
    if (avail / bytesPerElem >= uint64_t(cols))
      return {1, cols};
    throw CodegenError(
        where + ": one row of " + std::to_string(cols) + " elements needs " +
        std::to_string(cols * bytesPerElem + fixed) +
        " bytes of SRAM, the chip has " + std::to_string(budget));
  }
  if (maxElems < 32)
    throw CodegenError(where + ": SRAM of " + std::to_string(budget) +
                       " bytes leaves no room for a tile");
  return {1, int64_t(maxElems / 32 * 32)};
}

void Emitter::copyKernel(int src, int dst) {
  beginKernel();
  int64_t n = g.values[src].numElements();
  // Rows of 64 elements (any split of a contiguous tensor will do).
  int64_t cols = n % 64 == 0 ? 64 : n, rows = n / cols;
  Tiles2D t = pickTiles(rows, cols, 2 * kEb, 0, sramBudget(), false, where);
  plan(cost::moveKernel({1, uint64_t(rows), uint64_t(cols), cols * kEb,
                         cols * kEb, false, tensorName(src), tensorName(dst)},
                        {uint64_t(t.tr), uint64_t(t.tc)}));
  uint64_t buf[2] = {sramAlloc(t.tr * t.tc * kEb),
                     sramAlloc(t.tr * t.tc * kEb)};
  forEachTile(
      rows, cols, t, [&](int i, int64_t r, int64_t c, int64_t nr, int64_t nc) {
        uint64_t off = (r * cols + c) * kEb;
        load(dram(src) + off, cols * kEb, buf[i % 2], nc * kEb, nr, nc * kEb);
        store(dram(dst) + off, cols * kEb, buf[i % 2], nc * kEb, nr, nc * kEb);
      });
}

/// Elementwise unary ops (and VecScale by `imm`) and row-wise
/// normalizations of `src` on a [rows, cols] view (cols: the trailing axes
/// from `axis` for layernorm, the last axis otherwise), double-buffered input
/// and output tiles.
void Emitter::rowKernel(const GraphNode &n, int srcValue, Opcode op,
                        float imm) {
  const Shape &xs = g.values[srcValue].shape;
  bool rowWise = op == Opcode::VecLayerNorm || op == Opcode::VecSoftmax;
  size_t splitAt = op == Opcode::VecLayerNorm
                       ? size_t(n.axis)
                       : (xs.empty() ? 0 : xs.size() - 1);
  int64_t cols = product(xs, splitAt), rows = product(xs, 0, splitAt);
  uint64_t fixed = 0;
  uint64_t gamma = 0, beta = 0;
  if (op == Opcode::VecLayerNorm)
    fixed = 2 * alignUp(cols * kEb, kSramAlign);
  Tiles2D t =
      pickTiles(rows, cols, 4 * kEb, fixed, sramBudget(), rowWise, where);
  {
    cost::VectorOp v;
    v.op = op;
    v.rows = uint64_t(rows);
    v.cols = uint64_t(cols);
    v.x = tensorName(srcValue);
    v.out = tensorName(n.output);
    if (op == Opcode::VecLayerNorm) {
      v.y = tensorName(n.inputs[1]);
      v.beta = tensorName(n.inputs[2]);
    }
    plan(cost::vectorKernel(v, {uint64_t(t.tr), uint64_t(t.tc)}));
  }
  if (op == Opcode::VecLayerNorm) {
    gamma = sramAlloc(cols * kEb);
    beta = sramAlloc(cols * kEb);
    load(dram(n.inputs[1]), cols * kEb, gamma, cols * kEb, 1, cols * kEb);
    load(dram(n.inputs[2]), cols * kEb, beta, cols * kEb, 1, cols * kEb);
  }
  uint64_t tileBytes = t.tr * t.tc * kEb;
  uint64_t inBuf[2] = {sramAlloc(tileBytes), sramAlloc(tileBytes)};
  uint64_t outBuf[2] = {sramAlloc(tileBytes), sramAlloc(tileBytes)};
  uint64_t src = dram(srcValue), dst = dram(n.output);
  forEachTile(
      rows, cols, t, [&](int i, int64_t r, int64_t c, int64_t nr, int64_t nc) {
        uint64_t off = (r * cols + c) * kEb;
        load(src + off, cols * kEb, inBuf[i % 2], nc * kEb, nr, nc * kEb);
        Instr in = vec(op, nr, nc);
        in.addr[0] = inBuf[i % 2];
        in.addr[2] = outBuf[i % 2];
        in.strides[0] = in.strides[2] = uint32_t(nc);
        in.imm = imm;
        if (op == Opcode::VecLayerNorm) {
          in.addr[1] = gamma;
          in.addr[3] = beta;
          in.strides[1] = in.strides[3] = uint32_t(nc);
        }
        emit(in);
        store(dst + off, cols * kEb, outBuf[i % 2], nc * kEb, nr, nc * kEb);
      });
}

/// a <op> b with numpy broadcasting, on the output's [rows, cols] view
/// (cols: the last axis). `b` must be the full shape, a row (broadcast over
/// the leading axes), a column (broadcast over the last axis) or a scalar;
/// for + and * the operands swap when `a` is the broadcast one. A product
/// with, or a quotient by, a scalar weight is a VecScale by a constant.
void Emitter::binaryKernel(const GraphNode &n) {
  const Shape &os = g.values[n.output].shape;
  int a = n.inputs[0], b = n.inputs[1];
  bool commutes = n.kind == NodeKind::Add || n.kind == NodeKind::Mul;
  int64_t cols = os.empty() ? 1 : os.back(), rows = product(os) / cols;
  uint64_t dst = dram(n.output);

  // Broadcast class of operand v against the output.
  enum Kind { Full, Row, Col, Scalar, Other };
  auto kindOf = [&](int v) {
    const Shape &s = g.values[v].shape;
    Shape pad(os.size() - s.size(), 1);
    pad.insert(pad.end(), s.begin(), s.end());
    if (pad == os)
      return Full;
    if (product(s) == 1)
      return Scalar;
    if (pad.back() == cols && product(pad) == cols)
      return Row;
    if (pad.back() == 1 && product(pad) == rows) {
      for (size_t d = 0; d + 1 < os.size(); ++d)
        if (pad[d] != os[d])
          return Other;
      return Col;
    }
    return Other;
  };
  int imm = immOperand(n);
  if (imm >= 0 ? imm == a : (kindOf(a) != Full && commutes))
    std::swap(a, b);

  if (imm >= 0) {
    float c = g.values[b].data[0];
    if (n.kind == NodeKind::Div && c == 0.0f)
      throw CodegenError(where + ": division by the constant 0");
    return rowKernel(n, a, Opcode::VecScale,
                     n.kind == NodeKind::Div ? 1.0f / c : c);
  }

  Kind kb = kindOf(b);
  if (kindOf(a) != Full || kb == Other)
    throw CodegenError(where + ": broadcasting " +
                       shapeString(g.values[n.inputs[0]].shape) + " with " +
                       shapeString(g.values[n.inputs[1]].shape) +
                       " is not supported (the second operand must be the "
                       "full shape, a row, a column or a scalar)");
  if (tensorOf[b] < 0)
    throw CodegenError(where + ": operand '" + g.values[b].name +
                       "' has no DRAM tensor");
  Opcode op = n.kind == NodeKind::Add   ? Opcode::VecAdd
              : n.kind == NodeKind::Sub ? Opcode::VecSub
              : n.kind == NodeKind::Mul ? Opcode::VecMul
                                        : Opcode::VecDiv;
  uint32_t flag = kb == Row      ? arch::kFlagBroadcastRow
                  : kb == Col    ? arch::kFlagBroadcastCol
                  : kb == Scalar ? arch::kFlagBroadcastScalar
                                 : 0;
  // Resident operand: the whole row or the scalar, loaded once.
  uint64_t fixed = kb == Row      ? alignUp(cols * kEb, kSramAlign)
                   : kb == Scalar ? kSramAlign
                                  : 0;
  // Rings of two for a, out and (full) b; a column's two buffers are at
  // most a fifth of the rest.
  uint64_t perElem = kb == Full ? 6 * kEb : kb == Col ? 5 * kEb : 4 * kEb;
  Tiles2D t = pickTiles(rows, cols, perElem, fixed, sramBudget(), false, where);
  {
    cost::VectorOp v;
    v.op = op;
    v.rows = uint64_t(rows);
    v.cols = uint64_t(cols);
    v.second = kb == Full  ? cost::Operand2::Full
               : kb == Row ? cost::Operand2::Row
               : kb == Col ? cost::Operand2::Col
                           : cost::Operand2::Scalar;
    v.x = tensorName(a);
    v.y = tensorName(b);
    v.out = tensorName(n.output);
    plan(cost::vectorKernel(v, {uint64_t(t.tr), uint64_t(t.tc)}));
  }
  uint64_t resident = 0;
  if (kb == Row || kb == Scalar) {
    uint64_t bytes = (kb == Row ? cols : 1) * kEb;
    resident = sramAlloc(bytes);
    load(dram(b), bytes, resident, bytes, 1, bytes);
  }
  uint64_t tileBytes = t.tr * t.tc * kEb;
  uint64_t aBuf[2] = {sramAlloc(tileBytes), sramAlloc(tileBytes)};
  uint64_t bBuf[2] = {0, 0};
  if (kb == Full) {
    bBuf[0] = sramAlloc(tileBytes);
    bBuf[1] = sramAlloc(tileBytes);
  } else if (kb == Col) {
    bBuf[0] = sramAlloc(t.tr * kEb);
    bBuf[1] = sramAlloc(t.tr * kEb);
  }
  uint64_t outBuf[2] = {sramAlloc(tileBytes), sramAlloc(tileBytes)};
  forEachTile(
      rows, cols, t, [&](int i, int64_t r, int64_t c, int64_t nr, int64_t nc) {
        uint64_t off = (r * cols + c) * kEb;
        load(dram(a) + off, cols * kEb, aBuf[i % 2], nc * kEb, nr, nc * kEb);
        Instr in = vec(op, nr, nc);
        in.flags = flag;
        in.addr[0] = aBuf[i % 2];
        in.addr[2] = outBuf[i % 2];
        in.strides[0] = in.strides[2] = uint32_t(nc);
        switch (kb) {
        case Full:
          load(dram(b) + off, cols * kEb, bBuf[i % 2], nc * kEb, nr, nc * kEb);
          in.addr[1] = bBuf[i % 2];
          in.strides[1] = uint32_t(nc);
          break;
        case Row:
          in.addr[1] = resident + c * kEb;
          in.strides[1] = uint32_t(nc);
          break;
        case Col:
          // Reloaded for every column tile of the same rows (tiny).
          load(dram(b) + r * kEb, kEb, bBuf[i % 2], kEb, 1, nr * kEb);
          in.addr[1] = bBuf[i % 2];
          in.strides[1] = 1;
          break;
        default:
          in.addr[1] = resident;
          in.strides[1] = 1;
          break;
        }
        emit(in);
        store(dst + off, cols * kEb, outBuf[i % 2], nc * kEb, nr, nc * kEb);
      });
}

//===----------------------------------------------------------------------===//
// MatMul
//===----------------------------------------------------------------------===//

/// A GEMM tiling: tile sizes and what it costs.
struct GemmPlan {
  int64_t tm = 0, tk = 0, tn = 0;
  uint64_t sramBytes = 0;
  uint64_t dramBytes = 0; ///< Loads and stores, per GEMM.
  uint64_t steps = 0;     ///< Matrix-unit instructions per GEMM.
};

/// Two tile slots per operand, least recently used replaced: a tile already
/// in a slot is not loaded again.
struct TileCache {
  int64_t key[2] = {-1, -1};
  uint64_t slot[2] = {0, 0};
  int next = 0;
  /// Returns the slot index holding `k`; sets `hit`.
  int get(int64_t k, bool &hit) {
    for (int s = 0; s < 2; ++s)
      if (key[s] == k) {
        hit = true;
        next = 1 - s;
        return s;
      }
    hit = false;
    int s = next;
    key[s] = k;
    next = 1 - s;
    return s;
  }
};

/// Candidate tile extents for a dimension of size `d`: the whole dimension,
/// multiples of the array's extent `unit`, and fractions of it for a small
/// SRAM.
std::vector<int64_t> tileCandidates(int64_t d, int64_t unit) {
  std::vector<int64_t> c{d};
  for (int64_t t = unit; t < d && c.size() < 24; t += unit)
    c.push_back(t);
  for (int64_t t = unit / 2; t >= 8; t /= 2)
    if (t < d)
      c.push_back(t);
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

GemmPlan planGemm(int64_t m, int64_t k, int64_t n, const arch::ChipConfig &chip,
                  uint64_t budget, const std::string &where) {
  GemmPlan best;
  double bestCost = std::numeric_limits<double>::infinity();
  // The plan's cost in cycles: the longer of DRAM time (transfer time plus
  // each DMA's latency) and the matrix unit's time for the products, plus a
  // quarter of the shorter (loads, products and stores overlap on the three
  // queues, but not perfectly at the start and end of the kernel); products
  // (docs/timing-model.md: per fold 2R + C + rows*d - 2 cycles; a partial
  // fold costs a whole one, so tiles that fill the array are cheaper).
  double bytesPerCycle = chip.dramBytesPerCycle();
  double perTransfer = double(chip.dramLatencyCycles());
  uint64_t r = chip.matrix_rows, c = chip.matrix_cols;
  uint64_t d = chip.matrix_fp16_rate_divisor;
  auto productCycles = [&](uint64_t rows, uint64_t kk, uint64_t nn) {
    return double(ceilDiv(kk, r) * ceilDiv(nn, c) * (2 * r + c + rows * d - 2));
  };
  std::vector<int64_t> ms = tileCandidates(m, 32);
  for (int64_t t : {8, 16})
    if (t < m)
      ms.push_back(t);
  // Operand tiles up to twice the tile cap leave the kernel several steps to
  // overlap loads with products; larger ones only when nothing else fits.
  // A weight-stationary matmul streams at most matrix_accumulator_rows rows
  // of A (docs/timing-model.md, "Accumulators").
  ms.erase(std::remove_if(ms.begin(), ms.end(),
                          [&](int64_t t) {
                            return t > int64_t(chip.matrix_accumulator_rows);
                          }),
           ms.end());
  if (ms.empty())
    ms.push_back(int64_t(chip.matrix_accumulator_rows));
  for (bool capped : {true, false}) {
    if (best.tm)
      break;
    for (int64_t tm : ms)
      for (int64_t tk : tileCandidates(k, chip.matrix_rows))
        for (int64_t tn : tileCandidates(n, chip.matrix_cols)) {
          int64_t nm = ceilDiv(m, tm), nk = ceilDiv(k, tk), nn = ceilDiv(n, tn);
          uint64_t sram = 2 * alignUp(tm * tk * kEb, kSramAlign) +
                          2 * alignUp(tk * tn * kEb, kSramAlign) +
                          2 * alignUp(tm * tn * kEb, kSramAlign) +
                          (nk > 1 ? 2 * alignUp(tm * tn * 4, kSramAlign) : 0);
          if (sram > budget || (capped && (tm * tk * kEb > 2 * kMaxTileBytes ||
                                           tk * tn * kEb > 2 * kMaxTileBytes)))
            continue;
          TileCache ca, cb;
          uint64_t bytes = uint64_t(m) * n * kEb, transfers = nm * nn;
          double compute = 0;
          for (int64_t i = 0; i < nm; ++i)
            for (int64_t j = 0; j < nn; ++j)
              for (int64_t l = 0; l < nk; ++l) {
                compute += productCycles(std::min(tm, m - i * tm),
                                         std::min(tk, k - l * tk),
                                         std::min(tn, n - j * tn));
                bool hit;
                ca.get(i * nk + l, hit);
                if (!hit) {
                  bytes +=
                      std::min(tm, m - i * tm) * std::min(tk, k - l * tk) * kEb;
                  ++transfers;
                }
                cb.get(l * nn + j, hit);
                if (!hit) {
                  bytes +=
                      std::min(tk, k - l * tk) * std::min(tn, n - j * tn) * kEb;
                  ++transfers;
                }
              }
          double dram =
              double(bytes) / bytesPerCycle + perTransfer * double(transfers);
          double cost =
              std::max(dram, compute) + 0.25 * std::min(dram, compute);
          if (cost < bestCost) {
            bestCost = cost;
            best = {tm, tk, tn, sram, bytes, uint64_t(nm * nn * nk)};
          }
        }
  }
  if (!best.tm)
    throw CodegenError(where + ": no tiling of a " + std::to_string(m) + "x" +
                       std::to_string(k) + "x" + std::to_string(n) +
                       " matrix product fits " + std::to_string(budget) +
                       " bytes of SRAM");
  return best;
}

void Emitter::matmulKernel(const GraphNode &n) {
  const Shape &as = g.values[n.inputs[0]].shape;
  const Shape &bs = g.values[n.inputs[1]].shape;
  const Shape &os = g.values[n.output].shape;
  int64_t m = as[as.size() - 2], k = as.back(), nn = bs.back();
  Shape batch(os.begin(), os.end() - 2);
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  // B shared by every batch: fold A's batch into M (one taller GEMM).
  if (product(bb) == 1) {
    m *= product(ab);
    batch.clear();
    ab.clear();
  }
  GemmPlan plan = planGemm(m, k, nn, chip, sramBudget(), where);
  this->plan(cost::gemmKernel(
      {uint64_t(product(batch)), uint64_t(m), uint64_t(k), uint64_t(nn),
       tensorName(n.inputs[0]), tensorName(n.inputs[1]), tensorName(n.output)},
      {uint64_t(plan.tm), uint64_t(plan.tk), uint64_t(plan.tn)}));
  int64_t nmT = ceilDiv(m, plan.tm), nkT = ceilDiv(k, plan.tk),
          nnT = ceilDiv(nn, plan.tn);

  uint64_t aSlot[2], bSlot[2], outSlot[2], accSlot[2] = {0, 0};
  for (int s = 0; s < 2; ++s) {
    aSlot[s] = sramAlloc(plan.tm * plan.tk * kEb);
    bSlot[s] = sramAlloc(plan.tk * plan.tn * kEb);
    outSlot[s] = sramAlloc(plan.tm * plan.tn * kEb);
    if (nkT > 1)
      accSlot[s] = sramAlloc(plan.tm * plan.tn * 4);
  }

  // Batch offsets (in matrices) of A and B for each output batch index,
  // broadcasting over axes of extent 1.
  auto batchOffset = [&](const Shape &s, const std::vector<int64_t> &idx) {
    size_t pad = batch.size() - s.size();
    int64_t off = 0, stride = 1;
    for (size_t d = s.size(); d-- > 0;) {
      if (s[d] != 1)
        off += idx[pad + d] * stride;
      stride *= s[d];
    }
    return off;
  };
  TileCache ca, cb;
  int tile = 0;
  forEachIndex(batch, [&](const std::vector<int64_t> &idx) {
    int64_t aMat = batchOffset(ab, idx), bMat = batchOffset(bb, idx);
    int64_t oMat = 0;
    for (size_t d = 0; d < batch.size(); ++d)
      oMat = oMat * batch[d] + idx[d];
    uint64_t aBase = dram(n.inputs[0]) + aMat * m * k * kEb;
    uint64_t bBase = dram(n.inputs[1]) + bMat * k * nn * kEb;
    uint64_t oBase = dram(n.output) + oMat * m * nn * kEb;
    for (int64_t i = 0; i < nmT; ++i)
      for (int64_t j = 0; j < nnT; ++j, ++tile) {
        int64_t tm = std::min(plan.tm, m - i * plan.tm);
        int64_t tn = std::min(plan.tn, nn - j * plan.tn);
        uint64_t out = outSlot[tile % 2], acc = accSlot[tile % 2];
        for (int64_t l = 0; l < nkT; ++l) {
          int64_t tk = std::min(plan.tk, k - l * plan.tk);
          bool hit;
          int sa = ca.get((aMat * nmT + i) * nkT + l, hit);
          if (!hit)
            load(aBase + (i * plan.tm * k + l * plan.tk) * kEb, k * kEb,
                 aSlot[sa], tk * kEb, tm, tk * kEb);
          int sb = cb.get((bMat * nkT + l) * nnT + j, hit);
          if (!hit)
            load(bBase + (l * plan.tk * nn + j * plan.tn) * kEb, nn * kEb,
                 bSlot[sb], tn * kEb, tk, tn * kEb);
          Instr in;
          in.op = Opcode::MatMul;
          in.dtype = kAct;
          in.accDtype = DType::F32;
          bool last = l == nkT - 1;
          in.outDtype = last ? kAct : DType::F32;
          in.dims[0] = uint32_t(tm);
          in.dims[1] = uint32_t(tk);
          in.dims[2] = uint32_t(tn);
          in.addr[0] = aSlot[sa];
          in.addr[1] = bSlot[sb];
          in.addr[2] = last ? out : acc;
          in.strides[0] = uint32_t(tk);
          in.strides[1] = uint32_t(tn);
          in.strides[2] = uint32_t(tn);
          if (l > 0) {
            in.flags = arch::kFlagAccumulate;
            in.addr[3] = acc;
            in.strides[3] = uint32_t(tn);
          }
          emit(in);
        }
        store(oBase + (i * plan.tm * nn + j * plan.tn) * kEb, nn * kEb, out,
              tn * kEb, tm, tn * kEb);
      }
  });
}

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

/// Two shapes of data movement. When the last axis stays last, whole rows
/// move: a strided DMA gathers them into SRAM and one store writes them out.
/// Otherwise each 2-D slice [in axis feeding out's last, in's last axis] is
/// loaded (strided), transposed by the vector unit and stored (strided).
void Emitter::transposeKernel(const GraphNode &n) {
  const Shape &xs = g.values[n.inputs[0]].shape;
  const Shape &os = g.values[n.output].shape;
  size_t rank = xs.size();
  std::vector<int64_t> inSt = stridesOf(xs), outSt = stridesOf(os);
  uint64_t src = dram(n.inputs[0]), dst = dram(n.output);
  int64_t last = int64_t(rank) - 1;

  if (n.perm[last] == last) {
    // Whole rows of C elements move. The DMAs walk the longest other output
    // axis (a strided run on both sides); the remaining axes are iterated.
    int64_t c = xs[last];
    int64_t rowsAxis = 0;
    for (int64_t d = 1; d < last; ++d)
      if (os[d] >= os[rowsAxis])
        rowsAxis = d;
    int64_t rows = os[rowsAxis];
    int64_t inRowStride = inSt[n.perm[rowsAxis]],
            outRowStride = outSt[rowsAxis];
    Shape outer;
    std::vector<int64_t> outerAxes;
    for (int64_t d = 0; d < last; ++d)
      if (d != rowsAxis) {
        outer.push_back(os[d]);
        outerAxes.push_back(d);
      }
    Tiles2D t = pickTiles(rows, c, 2 * kEb, 0, sramBudget(), false, where);
    plan(cost::moveKernel({uint64_t(product(outer)), uint64_t(rows),
                           uint64_t(c), uint64_t(inRowStride) * kEb,
                           uint64_t(outRowStride) * kEb, false,
                           tensorName(n.inputs[0]), tensorName(n.output)},
                          {uint64_t(t.tr), uint64_t(t.tc)}));
    uint64_t buf[2] = {sramAlloc(t.tr * t.tc * kEb),
                       sramAlloc(t.tr * t.tc * kEb)};
    int i = 0;
    forEachIndex(outer, [&](const std::vector<int64_t> &idx) {
      int64_t inOff = 0, outOff = 0;
      for (size_t d = 0; d < idx.size(); ++d) {
        inOff += idx[d] * inSt[n.perm[outerAxes[d]]];
        outOff += idx[d] * outSt[outerAxes[d]];
      }
      for (int64_t r = 0; r < rows; r += t.tr)
        for (int64_t c0 = 0; c0 < c; c0 += t.tc, ++i) {
          int64_t nr = std::min(t.tr, rows - r), nc = std::min(t.tc, c - c0);
          load(src + (inOff + r * inRowStride + c0) * kEb, inRowStride * kEb,
               buf[i % 2], nc * kEb, nr, nc * kEb);
          store(dst + (outOff + r * outRowStride + c0) * kEb,
                outRowStride * kEb, buf[i % 2], nc * kEb, nr, nc * kEb);
        }
    });
    return;
  }

  // Out's last axis reads in axis q; in's last axis lands on out axis j.
  int64_t q = n.perm[last];
  int64_t j = std::find(n.perm.begin(), n.perm.end(), last) - n.perm.begin();
  int64_t rowsIn = xs[q], colsIn = xs[last];
  Shape outer;
  std::vector<int64_t> outerAxes;
  for (int64_t d = 0; d < int64_t(rank); ++d)
    if (d != j && d != last) {
      outer.push_back(os[d]);
      outerAxes.push_back(d);
    }
  // Square-ish blocks: input tile tr x tc, output tile tc x tr, two of each.
  // Four buffers, each possibly losing 63 bytes to alignment.
  uint64_t usable =
      sramBudget() > 4 * kSramAlign ? sramBudget() - 4 * kSramAlign : 0;
  uint64_t maxElems = std::min(usable / (4 * kEb), kMaxTileBytes / kEb);
  int64_t tr = rowsIn, tc = colsIn;
  while (uint64_t(tr * tc) > maxElems && (tr > 1 || tc > 1)) {
    if (tr >= tc)
      tr = (tr + 1) / 2;
    else
      tc = (tc + 1) / 2;
  }
  if (uint64_t(tr * tc) > maxElems)
    throw CodegenError(where + ": SRAM too small for a transpose tile");
  plan(cost::moveKernel({uint64_t(product(outer)), uint64_t(rowsIn),
                         uint64_t(colsIn), uint64_t(inSt[q]) * kEb,
                         uint64_t(outSt[j]) * kEb, true,
                         tensorName(n.inputs[0]), tensorName(n.output)},
                        {uint64_t(tr), uint64_t(tc)}));
  uint64_t inBuf[2] = {sramAlloc(tr * tc * kEb), sramAlloc(tr * tc * kEb)};
  uint64_t outBuf[2] = {sramAlloc(tr * tc * kEb), sramAlloc(tr * tc * kEb)};
  int i = 0;
  forEachIndex(outer, [&](const std::vector<int64_t> &idx) {
    int64_t inOff = 0, outOff = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      inOff += idx[d] * inSt[n.perm[outerAxes[d]]];
      outOff += idx[d] * outSt[outerAxes[d]];
    }
    for (int64_t r = 0; r < rowsIn; r += tr)
      for (int64_t c = 0; c < colsIn; c += tc, ++i) {
        int64_t nr = std::min(tr, rowsIn - r), nc = std::min(tc, colsIn - c);
        load(src + (inOff + r * inSt[q] + c) * kEb, inSt[q] * kEb, inBuf[i % 2],
             nc * kEb, nr, nc * kEb);
        Instr in = vec(Opcode::VecTranspose, nr, nc);
        in.addr[0] = inBuf[i % 2];
        in.addr[2] = outBuf[i % 2];
        in.strides[0] = uint32_t(nc);
        in.strides[2] = uint32_t(nr);
        emit(in);
        // Out row (in's column c') starts at c' * outSt[j]; its elements
        // (in's rows) are contiguous along out's last axis.
        store(dst + (outOff + c * outSt[j] + r) * kEb, outSt[j] * kEb,
              outBuf[i % 2], nr * kEb, nc, nr * kEb);
      }
  });
}

} // namespace

arch::Program
tessera::codegen::generateProgram(const Graph &graph,
                                  const arch::ChipConfig &chip,
                                  std::vector<cost::Kernel> *plans) {
  if (plans)
    plans->clear();
  arch::Program prog = Emitter(graph, chip, plans).run();
  if (plans)
    plans->resize(prog.layers.size());
  return prog;
}
