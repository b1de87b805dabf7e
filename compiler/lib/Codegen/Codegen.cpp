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

#include "FusedKernels.h"
#include "tessera/CostModel/MovementKernels.h"

#include "tessera/Compiler/KernelDecisions.h"
#include "tessera/arch/Error.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <tuple>

using namespace tessera;
using namespace tessera::codegen;
using arch::DType;
using arch::Instr;
using arch::Opcode;

//===----------------------------------------------------------------------===//
// HazardTracker
//===----------------------------------------------------------------------===//

void HazardTracker::split(Space &space, uint64_t at) {
  auto it = space.upper_bound(at);
  if (it == space.begin())
    return;
  --it;
  if (it->first < at && at < it->second.end) {
    Segment tail = it->second;
    it->second.end = at;
    space.emplace_hint(std::next(it), at, tail);
  }
}

std::vector<uint32_t> HazardTracker::add(const Instr &in, uint32_t index) {
  // Latest dependency per queue: a queue runs one instruction at a time, in
  // order, so waiting for its latest relevant instruction covers the earlier
  // ones, and the instruction's own queue orders it for free. Each NPU has
  // its own queues and SRAM; the DRAM is shared.
  int64_t latest[kQueues];
  std::fill(std::begin(latest), std::end(latest), -1);
  const unsigned dramSpace = arch::Program::kMaxNpus;
  struct Range {
    uint64_t begin, end;
    bool write, dense; ///< dense: every byte in [begin, end) is touched.
    int space;
  };
  std::vector<Range> ranges;
  for (const arch::Operand &o : arch::operandsOf(in)) {
    // A strided operand counts its whole span (conservative for reads and
    // for the hazards of writes).
    uint64_t end =
        o.addr + (o.rows ? (o.rows - 1) * o.strideBytes : 0) + o.rowBytes;
    bool dense = o.rows <= 1 || o.strideBytes == o.rowBytes;
    if (end > o.addr)
      ranges.push_back(
          {o.addr, end, o.isWrite, dense, int(o.inDram ? dramSpace : in.npu)});
  }
  // A read waits for the latest writer of any byte it reads; a write for the
  // latest accessor of any byte it writes.
  for (const Range &r : ranges) {
    const Space &space = spaces[r.space];
    auto it = space.upper_bound(r.begin);
    if (it != space.begin() && std::prev(it)->second.end > r.begin)
      --it;
    for (; it != space.end() && it->first < r.end; ++it)
      for (unsigned q = 0; q < kQueues; ++q)
        latest[q] = std::max(latest[q], r.write ? it->second.lastAccess[q]
                                                : it->second.lastWrite[q]);
  }
  unsigned queue = in.npu * arch::kNumQueues + unsigned(in.queue());
  std::vector<uint32_t> deps;
  for (unsigned q = 0; q < kQueues; ++q)
    if (latest[q] >= 0 && q != queue)
      deps.push_back(uint32_t(latest[q]));
  std::sort(deps.begin(), deps.end());

  for (const Range &r : ranges) {
    Space &space = spaces[r.space];
    split(space, r.begin);
    split(space, r.end);
    auto it = space.lower_bound(r.begin);
    if (r.write && r.dense) {
      // Bytes a write overwrites are ordered after every earlier access of
      // them (the write waited): forget those accesses, keep this one.
      while (it != space.end() && it->first < r.end)
        it = space.erase(it);
      Segment s = emptySegment(r.end);
      s.lastWrite[queue] = s.lastAccess[queue] = index;
      space.emplace_hint(it, r.begin, s);
      continue;
    }
    // Add this access to the segments in [begin, end), filling the gaps.
    uint64_t pos = r.begin;
    while (pos < r.end) {
      if (it != space.end() && it->first == pos) {
        Segment &s = it->second;
        s.lastAccess[queue] = std::max<int64_t>(s.lastAccess[queue], index);
        if (r.write)
          s.lastWrite[queue] = std::max<int64_t>(s.lastWrite[queue], index);
        pos = s.end;
        ++it;
        continue;
      }
      uint64_t gapEnd =
          it != space.end() && it->first < r.end ? it->first : r.end;
      Segment s = emptySegment(gapEnd);
      s.lastAccess[queue] = index;
      if (r.write)
        s.lastWrite[queue] = index;
      space.emplace_hint(it, pos, s);
      pos = gapEnd;
    }
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

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Row-major element strides.
std::vector<int64_t> stridesOf(const Shape &s) {
  return cost::rowMajorStrides(s);
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

/// A GEMM tiling: tile sizes and what it costs.
struct GemmPlan {
  int64_t tm = 0, tk = 0, tn = 0;
};

class Emitter {
public:
  Emitter(const Graph &g, const arch::ChipConfig &chip,
          std::vector<cost::Kernel> *plans, ProgramSink *sink = nullptr)
      : g(g), chip(chip), plans(plans), sink(sink) {}

  arch::Program run();

private:
  const Graph &g;
  const arch::ChipConfig &chip;
  std::vector<cost::Kernel> *plans; ///< Per layer, for the cost model.
  /// When set, receives layers, buffers and instructions instead of `prog`.
  ProgramSink *sink;
  arch::Program prog;
  uint32_t instrCount = 0; ///< Instructions emitted.
  /// An instruction of the next emit()'s own queue it must wait for (the
  /// gather's index load), -1 none.
  int64_t extraDep = -1;
  void addBuffer(uint64_t addr, uint64_t bytes) {
    if (sink)
      sink->buffer(addr, bytes);
    else
      prog.sramBuffers.push_back({layer, addr, bytes});
  }
  HazardTracker hazards;
  std::vector<int> tensorOf; ///< Graph value -> program tensor (-1: none).
  uint64_t dramTop = 0;
  /// DRAM of intermediates that are no longer live: address -> bytes
  /// (burst-aligned, coalesced), reused first-fit by placeTensor.
  std::map<uint64_t, uint64_t> dramFree;
  /// Graph value -> index of the last node reading it (-1: none).
  std::vector<int> lastUse;
  /// Program tensor -> graph values that name it (aliases share a tensor).
  std::map<int, std::vector<int>> valuesOf;
  /// Returns the DRAM of scratch tensors none of whose values is read after
  /// node `node` (docs/lowering.md, "DRAM reuse").
  void releaseDead(const GraphNode &n, int node);
  uint32_t layer = 0;
  /// The NPU whose queues the instructions being emitted run on (0 but
  /// inside a GEMM split across the NPUs; docs/lowering.md, "Two NPUs").
  uint8_t npu = 0;
  std::map<std::string, unsigned> layerNames; ///< Uses of each layer name.
  std::string where;                          ///< "matmul 'name'" for errors.

  // -- Memory ---------------------------------------------------------------
  int placeTensor(int value, arch::TensorKind kind);
  uint64_t dram(int value) { return prog.tensors[tensorOf[value]].dramAddr; }
  /// Registers a buffer at `addr` that a pass placed (a fused group's
  /// recorded SRAM plan, docs/lowering.md "SRAM allocation").
  void sramPlace(uint64_t addr, uint64_t bytes) {
    if (addr + bytes > chip.sram_bytes)
      throw CodegenError(where + ": a buffer at SRAM address " +
                         std::to_string(addr) + " of " + std::to_string(bytes) +
                         " bytes ends past the chip's " +
                         std::to_string(chip.sram_bytes));
    prog.sramBytesUsed = std::max(prog.sramBytesUsed, addr + bytes);
    if (bytes)
      addBuffer(addr, bytes);
  }
  /// Bytes available for a kernel's buffers.
  uint64_t sramBudget() const { return chip.sram_bytes; }
  /// The budget as the cost model's constraints.
  cost::Constraints budget() const {
    cost::Constraints c;
    c.sramBytes = sramBudget();
    return c;
  }
  /// A kernel's buffers (docs/lowering.md, "Decisions of the unfused
  /// kernels"): `need` (its plan builder's, placed) with the offsets of the
  /// plan recorded in the IR when the kernel runs the recorded tiling, else
  /// `need`'s own; each registered in the buffer table, in listing order.
  cost::SramPlan takeBuffers(const GraphNode &n, cost::SramPlan need,
                             bool recordedTile) {
    need = applyRecordedPlan(where, n, std::move(need), recordedTile,
                             sramBudget());
    for (const cost::SramBuffer &b : need.buffers)
      sramPlace(b.offset, b.bytes);
    return need;
  }
  /// The address of buffer `name`, slot `slot`, of a plan the kernel took.
  static uint64_t bufferAt(const cost::SramPlan &plan, const char *name,
                           unsigned slot = 0) {
    const cost::SramBuffer *b = plan.find(name, slot);
    if (!b)
      throw CodegenError(std::string("internal error: no buffer '") + name +
                         "' in the kernel's SRAM plan");
    return b->offset;
  }
  /// The (tr, tc) tiling of node `n`'s kernel: the one recorded in the IR
  /// when it is legal on this chip (`recorded` set), else the cost model's
  /// search (KernelDecisions.h); CodegenError naming the node and the bytes
  /// when nothing fits.
  cost::RowTiling rowTiling(const GraphNode &n, bool &recorded) {
    recorded = false;
    if (!n.tiling.empty() && !checkTiling(g, n, chip, budget())) {
      recorded = true;
      return {uint64_t(n.tile("tr")), uint64_t(n.tile("tc"))};
    }
    std::string error;
    std::optional<TilingChoice> t = chooseTiling(g, n, chip, budget(), error);
    if (!t)
      throw CodegenError(where + ": " +
                         (error.empty() ? "internal error: no tiling" : error));
    cost::RowTiling r;
    for (const auto &[field, v] : t->fields)
      (field == "tr" ? r.tr : r.tc) = uint64_t(v);
    return r;
  }
  /// Registers the buffers of a plan no pass recorded (a kernel no graph
  /// node decides: a reshape's copy, a conv's GEMMs).
  cost::SramPlan placeOwn(cost::SramPlan p) {
    for (const cost::SramBuffer &b : p.buffers)
      sramPlace(b.offset, b.bytes);
    return p;
  }
  /// The cost model's tile of a copy or transpose (cost::searchMove), one
  /// search per workload.
  std::map<std::tuple<uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, bool>,
           cost::RowTiling>
      moveTiles;
  cost::RowTiling moveTiling(const cost::MoveOp &op);
  /// The decision of a movement or CNN node (KernelDecisions.h): the one
  /// recorded in the IR when it is legal on this chip (`recorded` set),
  /// else the cost model's search; CodegenError naming the bytes when
  /// nothing fits.
  MovementDecision movementDecision(const MovementView &v, const GraphNode &n,
                                    bool &recorded);
  /// `n`'s view with the DRAM tensors' names (aliases share a tensor).
  MovementView movementView(const GraphNode &n);
  /// The copy `op` of window `v` from DRAM `src` to DRAM `dst` in tiles
  /// `t`, through the ring `buf` (the store drains the slot the load
  /// filled); records its kernel.
  void copyWindow(uint64_t src, uint64_t dst, const cost::CopyView &v,
                  const cost::MoveOp &op, const cost::RowTiling &t,
                  const uint64_t buf[2]);

  /// The DRAM tensor holding graph value `v` (aliases share it).
  std::string tensorName(int v) const {
    return tensorOf[v] >= 0 ? prog.tensors[tensorOf[v]].name : g.values[v].name;
  }
  /// Records the current layer's kernel (docs/cost-model.md). A layer
  /// emitted as several kernels (conv, concat, expand) records each: they
  /// become the parts of the layer's kernel.
  void plan(cost::Kernel k) {
    if (!plans)
      return;
    plans->resize(prog.layers.size());
    cost::appendPart((*plans)[layer], std::move(k));
  }

  // -- Emission -------------------------------------------------------------
  /// Starts the next layer (report row). Node names need not be unique in
  /// ONNX; a repeated name gets " #2", " #3", ... so every layer has its own
  /// row.
  void beginLayer(const std::string &name) {
    unsigned seen = ++layerNames[name];
    std::string unique = seen == 1 ? name : name + " #" + std::to_string(seen);
    while (seen > 1 && layerNames.count(unique))
      unique += "'";
    if (seen > 1)
      layerNames[unique] = 1;
    prog.layers.push_back(unique);
    layer = uint32_t(prog.layers.size() - 1);
    if (sink)
      sink->layer(layer, unique);
  }
  void emit(Instr in) {
    if (instrCount >= arch::Program::kMaxInstructions)
      throw CodegenError(where + ": the program would have more than " +
                         std::to_string(arch::Program::kMaxInstructions) +
                         " instructions, the limit of a program "
                         "(docs/limits-and-errors.md)");
    in.layer = layer;
    in.npu = npu;
    prog.npus = std::max<uint32_t>(prog.npus, npu + 1u);
    uint32_t index = instrCount++;
    in.deps = hazards.add(in, index);
    if (extraDep >= 0 &&
        std::find(in.deps.begin(), in.deps.end(), extraDep) == in.deps.end()) {
      in.deps.push_back(uint32_t(extraDep));
      std::sort(in.deps.begin(), in.deps.end());
    }
    extraDep = -1;
    if (sink)
      sink->instr(in, index);
    else
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

  /// One K-step of a tiled GEMM: out (tm x tn) = a (tm x tk) * b (tk x tn),
  /// dense tiles in SRAM. Every step but the first accumulates into the FP32
  /// tile `acc`; the last writes FP16 to `out`, the others FP32 to `acc`.
  Instr matmulTile(int64_t tm, int64_t tk, int64_t tn, uint64_t a, uint64_t b,
                   uint64_t out, uint64_t acc, bool first, bool last) {
    Instr in;
    in.op = Opcode::MatMul;
    in.dtype = kAct;
    in.accDtype = DType::F32;
    in.outDtype = last ? kAct : DType::F32;
    in.dims[0] = uint32_t(tm);
    in.dims[1] = uint32_t(tk);
    in.dims[2] = uint32_t(tn);
    in.addr[0] = a;
    in.addr[1] = b;
    in.addr[2] = last ? out : acc;
    in.strides[0] = uint32_t(tk);
    in.strides[1] = uint32_t(tn);
    in.strides[2] = uint32_t(tn);
    if (!first) {
      in.flags = arch::kFlagAccumulate;
      in.addr[3] = acc;
      in.strides[3] = uint32_t(tn);
    }
    return in;
  }

  // -- Kernels --------------------------------------------------------------
  void lowerNode(const GraphNode &n);
  void vectorKernel(const GraphNode &n);
  void matmulKernel(const GraphNode &n);
  void transposeKernel(const GraphNode &n);
  void copyKernel(int src, int dst);
  // Transformer ops (issue 9, part 2).
  void sliceKernel(const GraphNode &n);
  void concatKernel(const GraphNode &n);
  void reduceKernel(const GraphNode &n);
  // CNN and miscellaneous ops.
  /// A tensor that is not a graph value (a rearranged conv weight, an
  /// im2col matrix); `data` set for weights. Returns its DRAM address.
  uint64_t addTensor(const std::string &name, const Shape &shape,
                     arch::TensorKind kind, const std::vector<float> *data);
  void activationKernel(const GraphNode &n);
  /// out[m, n] = a[m, k] * b[k, n] (row strides lda, ldb, ldo in elements)
  /// as one tiled kernel.
  void gemm(uint64_t a, int64_t lda, uint64_t b, int64_t ldb, uint64_t out,
            int64_t ldo, int64_t m, int64_t k, int64_t n,
            const std::string &aName, const std::string &bName,
            const std::string &outName, const cost::GemmTiling &tile,
            uint64_t npus, const GraphNode *recorded = nullptr,
            const std::string &prefix = "");
  void convKernel(const GraphNode &n);
  void poolKernel(const GraphNode &n);
  /// The band tilings of the im2col and pooling kernels: the cost model's
  /// searches (cost::searchIm2col, cost::searchPool).
  cost::BandTiling poolTiling(const cost::PoolOp &op, const GraphNode &n,
                              bool &recorded);
  /// A fused group (FusedKernels.cpp, docs/fusion.md).
  void fusedKernel(const GraphNode &n);
  // Embeddings and masks (BERT).
  /// An integer input's int32 tensor, for the gather DMA's indices; other
  /// readers take its FP16 copy (a Convert node, normalizeGraph).
  std::map<int, int> intTensor;
  void embeddingKernel(const GraphNode &n);
  void whereKernel(const GraphNode &n);
  void expandKernel(const GraphNode &n);
};

int Emitter::placeTensor(int value, arch::TensorKind kind) {
  const GraphValue &v = g.values[value];
  arch::TensorInfo t;
  t.name = v.name;
  t.kind = kind;
  // An integer input is int32 in DRAM (docs/onnx-import.md, "Integer
  // inputs"): the gather DMA reads its row indices exactly.
  bool i32 = v.role == ValueRole::Input && v.integer;
  t.dtype = i32 ? DType::I32 : kAct;
  t.shape = v.shape;
  dramTop = alignUp(dramTop, chip.dram_burst_bytes);
  t.dramAddr = dramTop;
  // The DRAM image is bounded before anything is allocated or emitted for
  // the tensor (overflow-checked: shapes come from the input).
  uint64_t elements = 1, bytes = 0, end = 0;
  bool overflow = false;
  for (int64_t d : v.shape)
    overflow |=
        d < 0 || __builtin_mul_overflow(elements, uint64_t(d), &elements);
  overflow |= __builtin_mul_overflow(elements, i32 ? 4 : kEb, &bytes);
  // An intermediate takes the first free range of a dead one that fits.
  if (!overflow && kind == arch::TensorKind::Scratch) {
    uint64_t need = alignUp(bytes, chip.dram_burst_bytes);
    for (auto it = dramFree.begin(); it != dramFree.end(); ++it)
      if (it->second >= need) {
        auto [addr, size] = *it;
        dramFree.erase(it);
        if (size > need)
          dramFree[addr + need] = size - need;
        t.dramAddr = addr;
        prog.tensors.push_back(std::move(t));
        tensorOf[value] = int(prog.tensors.size()) - 1;
        valuesOf[tensorOf[value]].push_back(value);
        return tensorOf[value];
      }
  }
  overflow |= __builtin_add_overflow(dramTop, bytes, &end);
  if (overflow || end > arch::Program::kMaxDramBytes)
    throw CodegenError(
        where + ": " + arch::tensorKindName(kind) + " tensor '" + v.name +
        "' (" +
        (overflow ? std::string("more than 2^64") : std::to_string(bytes)) +
        " bytes) takes the DRAM image past the limit of " +
        std::to_string(arch::Program::kMaxDramBytes) +
        " bytes (docs/limits-and-errors.md)");
  if (kind == arch::TensorKind::Weight) {
    t.data.resize(v.data.size() * kEb);
    for (size_t i = 0; i < v.data.size(); ++i) {
      // FP16 holds magnitudes up to 65504; a larger weight would become
      // infinity on the chip.
      if (std::isfinite(v.data[i]) && std::fabs(v.data[i]) > 65504.0f)
        throw CodegenError("weight '" + v.name + "': element " +
                           std::to_string(i) + " is " +
                           std::to_string(v.data[i]) +
                           ", outside FP16's range (magnitude <= 65504)");
      Eigen::half h(v.data[i]);
      std::memcpy(t.data.data() + i * kEb, &h, kEb);
    }
  }
  dramTop = end;
  prog.tensors.push_back(std::move(t));
  tensorOf[value] = int(prog.tensors.size()) - 1;
  valuesOf[tensorOf[value]].push_back(value);
  return tensorOf[value];
}

void Emitter::releaseDead(const GraphNode &n, int node) {
  std::vector<int> touched = n.inputs;
  touched.push_back(n.output);
  for (int v : touched) {
    int t = tensorOf[v];
    if (t < 0 || prog.tensors[t].kind != arch::TensorKind::Scratch)
      continue;
    auto it = valuesOf.find(t);
    if (it == valuesOf.end())
      continue; // Already released, or not a graph value's tensor.
    // A later alias needs a later read of one of these values, so none
    // read after `node` means the tensor is dead for good.
    bool live = false;
    for (int alias : it->second)
      live |= lastUse[alias] > node;
    if (live)
      continue;
    valuesOf.erase(it);
    const arch::TensorInfo &info = prog.tensors[t];
    uint64_t addr = info.dramAddr;
    uint64_t size = alignUp(info.byteSize(), chip.dram_burst_bytes);
    // Coalesce with the free neighbours.
    auto next = dramFree.lower_bound(addr);
    if (next != dramFree.end() && addr + size == next->first) {
      size += next->second;
      next = dramFree.erase(next);
    }
    if (next != dramFree.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == addr) {
        addr = prev->first;
        size += prev->second;
        dramFree.erase(prev);
      }
    }
    dramFree[addr] = size;
  }
}

arch::Program Emitter::run() {
  g.verify();
  bool hasOutput = false;
  for (const GraphValue &v : g.values)
    hasOutput |= v.role == ValueRole::Output;
  if (!hasOutput)
    throw CodegenError("the graph has no outputs: there is nothing to "
                       "compute");
  where = "input";
  prog.chipName = chip.name;
  prog.hasSramBuffers = true;
  tensorOf.assign(g.values.size(), -1);

  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].role == ValueRole::Input) {
      placeTensor(int(i), arch::TensorKind::Input);
      if (g.values[i].integer)
        intTensor[int(i)] = tensorOf[i];
    }

  lastUse.assign(g.values.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (int in : g.nodes[i].inputs)
      lastUse[in] = int(i);

  for (size_t node = 0; node < g.nodes.size(); ++node) {
    const GraphNode &n = g.nodes[node];
    where = std::string(nodeKindName(n.kind)) + " '" + n.name + "'";
    // Weights are placed at first use, except constants folded into an
    // instruction's immediate.
    for (int in : n.inputs)
      if (tensorOf[in] < 0 && g.values[in].role == ValueRole::Weight &&
          in != immOperand(g, n))
        placeTensor(in, arch::TensorKind::Weight);
    lowerNode(n);
    releaseDead(n, int(node));
  }

  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].role == ValueRole::Output && tensorOf[i] < 0)
      throw CodegenError("output '" + g.values[i].name + "' was not placed");
  prog.dramBytes = alignUp(dramTop, chip.dram_burst_bytes);
  if (sink)
    return std::move(prog); // The sink's consumer verifies what it built.
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
    identity = cost::transposeView(g.values[in0].shape, n.perm).identity;
  }
  if (identity) {
    // Same bytes, new shape. An intermediate is renamed in place; inputs,
    // weights and outputs keep their names, so their value is copied.
    arch::TensorInfo &t = prog.tensors[tensorOf[in0]];
    bool renamable = g.values[in0].role == ValueRole::Intermediate;
    if (out.role != ValueRole::Output) {
      tensorOf[n.output] = tensorOf[in0];
      valuesOf[tensorOf[in0]].push_back(n.output);
      return;
    }
    // A tensor placed in the DRAM of dead intermediates cannot become an
    // output in place (outputs never share DRAM): it is copied instead.
    if (renamable) {
      uint64_t begin = t.dramAddr, end = begin + t.byteSize();
      for (size_t i = 0; i < prog.tensors.size() && renamable; ++i) {
        const arch::TensorInfo &o = prog.tensors[i];
        renamable = int(i) == tensorOf[in0] || o.dramAddr >= end ||
                    o.dramAddr + o.byteSize() <= begin;
      }
    }
    if (renamable) {
      t.name = out.name;
      t.kind = arch::TensorKind::Output;
      t.shape = out.shape;
      tensorOf[n.output] = tensorOf[in0];
      return;
    }
    beginLayer(n.name);
    placeTensor(n.output, arch::TensorKind::Output);
    copyKernel(in0, n.output);
    return;
  }

  placeTensor(n.output, out.role == ValueRole::Output
                            ? arch::TensorKind::Output
                            : arch::TensorKind::Scratch);
  beginLayer(n.name);
  // The vector family's kernels by their decision kind (decisionKindOf:
  // one classification for the passes and the emitter).
  switch (decisionKindOf(n)) {
  case DecisionKind::Vector:
    return vectorKernel(n);
  case DecisionKind::Reduce:
    return reduceKernel(n);
  case DecisionKind::Chain:
    return activationKernel(n);
  default:
    break;
  }
  switch (n.kind) {
  case NodeKind::MatMul:
    return matmulKernel(n);
  case NodeKind::Transpose:
    return transposeKernel(n);
  case NodeKind::Reshape:
    break;
  case NodeKind::Slice:
    return sliceKernel(n);
  case NodeKind::Concat:
    return concatKernel(n);
  case NodeKind::Conv:
    return convKernel(n);
  case NodeKind::MaxPool:
  case NodeKind::AvgPool:
    return poolKernel(n);
  case NodeKind::Embedding:
    return embeddingKernel(n);
  case NodeKind::Where:
    return whereKernel(n);
  case NodeKind::Expand:
    return expandKernel(n);
  case NodeKind::Attention:
  case NodeKind::FusedMatMul:
    return fusedKernel(n);
  default: // The vector family, above.
    throw CodegenError(where + ": internal error: no kernel for a " +
                       nodeKindName(n.kind) + " node");
  }
}

void Emitter::fusedKernel(const GraphNode &n) {
  // The emitter's services for the kernels of FusedKernels.cpp.
  struct Sink final : KernelSink {
    Emitter &e;
    explicit Sink(Emitter &e) : e(e) {}
    const arch::ChipConfig &chip() const override { return e.chip; }
    const Graph &graph() const override { return e.g; }
    const std::string &where() const override { return e.where; }
    uint64_t dramOf(int v) override { return e.dram(v); }
    std::string tensorOf(int v) const override { return e.tensorName(v); }
    uint64_t sramBudget() const override { return e.sramBudget(); }
    void sramPlace(uint64_t addr, uint64_t bytes) override {
      e.sramPlace(addr, bytes);
    }
    void load(uint64_t d, uint64_t ds, uint64_t s, uint64_t ss, uint64_t rows,
              uint64_t bytes) override {
      e.load(d, ds, s, ss, rows, bytes);
    }
    void store(uint64_t d, uint64_t ds, uint64_t s, uint64_t ss, uint64_t rows,
               uint64_t bytes) override {
      e.store(d, ds, s, ss, rows, bytes);
    }
    void emit(Instr in) override { e.emit(std::move(in)); }
    void plan(cost::Kernel k) override { e.plan(std::move(k)); }
    void setNpu(unsigned npu) override { e.npu = uint8_t(npu); }
  } sink(*this);
  if (n.kind == NodeKind::FusedMatMul)
    emitMatMulGroup(sink, n);
  else
    emitAttention(sink, n);
  npu = 0;
}

/// A tile of `tr` rows x `tc` columns of a [rows, cols] view.
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

cost::RowTiling Emitter::moveTiling(const cost::MoveOp &op) {
  auto key = std::make_tuple(op.batch, op.rows, op.cols, op.srcStrideBytes,
                             op.dstStrideBytes, op.transpose);
  auto hit = moveTiles.find(key);
  if (hit != moveTiles.end())
    return hit->second;
  std::optional<cost::Choice<cost::RowTiling>> best =
      cost::searchMove(chip, op, budget());
  if (!best)
    throw CodegenError(
        where + ": no tiling of the " + (op.transpose ? "transpose" : "copy") +
        " fits " + std::to_string(sramBudget()) +
        " bytes of SRAM; the smallest needs " +
        std::to_string(cost::moveSramPlan(op, {1, 1}, budget()).total) +
        " bytes");
  return moveTiles[key] = best->tiling;
}

MovementView Emitter::movementView(const GraphNode &n) {
  std::optional<MovementView> v = movementViewOf(g, n);
  if (!v)
    throw CodegenError(where + ": internal error: no kernel view");
  // The DRAM tensors' names (the cost model matches loads with the stores
  // before them by name).
  for (size_t i = 0; i < v->moves.size(); ++i) {
    v->moves[i].x = tensorName(n.inputs[std::min(i, n.inputs.size() - 1)]);
    v->moves[i].out = tensorName(n.output);
  }
  v->conv.x = v->pool.x = tensorName(n.inputs[0]);
  v->conv.out = v->pool.out = v->chain.out = tensorName(n.output);
  v->gemm.out = tensorName(n.output);
  if (v->kind == DecisionKind::Pool)
    v->gemm.a = tensorName(n.inputs[0]);
  for (size_t i = 0; i < v->chain.inputs.size(); ++i)
    v->chain.inputs[i] = tensorName(n.inputs[i]);
  return *v;
}

MovementDecision Emitter::movementDecision(const MovementView &v,
                                           const GraphNode &n, bool &recorded) {
  recorded = false;
  std::string error;
  if (!n.tiling.empty()) {
    std::optional<MovementDecision> d = recordedMovement(v, n, error);
    if (d && !checkMovement(v, *d, chip, budget())) {
      recorded = true;
      return *d;
    }
  }
  if (v.kind == DecisionKind::Move) {
    // One search per copy workload (an expand's many, BERT's slices).
    MovementDecision d;
    for (const cost::MoveOp &m : v.moves)
      d.tiles.push_back(moveTiling(m));
    return d;
  }
  std::optional<MovementDecision> d = searchMovement(v, chip, budget(), error);
  if (!d)
    throw CodegenError(where + ": " + error);
  return *d;
}

void Emitter::copyWindow(uint64_t src, uint64_t dst, const cost::CopyView &v,
                         const cost::MoveOp &op, const cost::RowTiling &rt,
                         const uint64_t buf[2]) {
  plan(cost::moveKernel(op, rt));
  Tiles2D t{int64_t(rt.tr), int64_t(rt.tc)};
  int64_t rows = v.rows, cols = v.cols;
  int i = 0;
  forEachIndex(v.outer, [&](const std::vector<int64_t> &idx) {
    int64_t so = 0, dof = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      so += idx[d] * v.outerSrc[d];
      dof += idx[d] * v.outerDst[d];
    }
    forEachTile(rows, cols, t,
                [&](int, int64_t r, int64_t c, int64_t nr, int64_t nc) {
                  uint64_t slot = buf[i++ % 2];
                  load(src + (so + r * v.rowSrc + c) * kEb, v.rowSrc * kEb,
                       slot, nc * kEb, nr, nc * kEb);
                  store(dst + (dof + r * v.rowDst + c) * kEb, v.rowDst * kEb,
                        slot, nc * kEb, nr, nc * kEb);
                });
  });
}

void Emitter::copyKernel(int src, int dst) {
  cost::CopyView v = cost::contiguousView(g.values[src].numElements());
  cost::MoveOp op = v.move(tensorName(src), tensorName(dst), kEb);
  cost::RowTiling rt = moveTiling(op);
  cost::SramPlan p = placeOwn(cost::moveSramPlan(op, rt));
  uint64_t buf[2] = {bufferAt(p, "buf", 0), bufferAt(p, "buf", 1)};
  copyWindow(dram(src), dram(dst), v, op, rt, buf);
}

/// The vector family (docs/lowering.md): elementwise unary ops (and VecScale
/// by an immediate), the row-wise normalizations (layernorm, softmax) and
/// the binary ops with broadcasting, on the [rows, cols] view
/// KernelDecisions.h's vectorViewOf gives (cols: the trailing axes from
/// `axis` for layernorm, the last axis otherwise); double-buffered x, y and
/// output tiles. A binary op whose second operand repeats over leading axes
/// runs the view once per block, reloading a resident row or scalar.
void Emitter::vectorKernel(const GraphNode &n) {
  std::string error;
  std::optional<VectorView> v = vectorViewOf(g, n, error);
  if (!v)
    throw CodegenError(error);
  cost::Operand2 second = v->op.second;
  bool ln = v->op.op == Opcode::VecLayerNorm;
  if (v->y >= 0 && tensorOf[v->y] < 0)
    throw CodegenError(where + ": operand '" + g.values[v->y].name +
                       "' has no DRAM tensor");
  int64_t rows = int64_t(v->blockRows()), cols = int64_t(v->op.cols);
  // The tiling tsr-select-tiling recorded when legal here, else the same
  // search (KernelDecisions.h).
  bool recorded = false;
  cost::RowTiling rt = rowTiling(n, recorded);
  Tiles2D t{int64_t(rt.tr), int64_t(rt.tc)};
  v->op.x = tensorName(v->src);
  v->op.out = tensorName(n.output);
  if (ln) {
    v->op.y = tensorName(n.inputs[1]);
    v->op.beta = tensorName(n.inputs[2]);
  } else if (v->y >= 0) {
    v->op.y = tensorName(v->y);
  }
  plan(cost::vectorKernel(v->op, rt));
  cost::SramPlan bufs =
      takeBuffers(n, cost::vectorSramPlan(v->op, rt), recorded);
  uint64_t gamma = 0, beta = 0, resident = 0;
  if (ln) {
    gamma = bufferAt(bufs, "gamma");
    beta = bufferAt(bufs, "beta");
    load(dram(n.inputs[1]), cols * kEb, gamma, cols * kEb, 1, cols * kEb);
    load(dram(n.inputs[2]), cols * kEb, beta, cols * kEb, 1, cols * kEb);
  }
  bool perTileY =
      second == cost::Operand2::Full || second == cost::Operand2::Col;
  if (second == cost::Operand2::Row || second == cost::Operand2::Scalar)
    resident = bufferAt(bufs, "y");
  uint64_t xBuf[2], yBuf[2] = {0, 0}, outBuf[2];
  for (unsigned s = 0; s < 2; ++s) {
    xBuf[s] = bufferAt(bufs, "x", s);
    outBuf[s] = bufferAt(bufs, "out", s);
    if (perTileY)
      yBuf[s] = bufferAt(bufs, "y", s);
  }
  uint32_t flag = second == cost::Operand2::Row   ? arch::kFlagBroadcastRow
                  : second == cost::Operand2::Col ? arch::kFlagBroadcastCol
                  : second == cost::Operand2::Scalar
                      ? arch::kFlagBroadcastScalar
                      : 0;
  uint64_t dst = dram(n.output);
  int tile = 0;
  for (uint64_t blk = 0; blk < v->blocks; ++blk) {
    uint64_t aBase = dram(v->src) + blk * rows * cols * kEb;
    uint64_t bBase = v->y >= 0 ? dram(v->y) + blk * v->yBlock * kEb : 0;
    uint64_t oBase = dst + blk * rows * cols * kEb;
    if (second == cost::Operand2::Row || second == cost::Operand2::Scalar) {
      uint64_t bytes = (second == cost::Operand2::Row ? cols : 1) * kEb;
      load(bBase, bytes, resident, bytes, 1, bytes);
    }
    forEachTile(
        rows, cols, t, [&](int, int64_t r, int64_t c, int64_t nr, int64_t nc) {
          int i = tile++;
          uint64_t off = (r * cols + c) * kEb;
          load(aBase + off, cols * kEb, xBuf[i % 2], nc * kEb, nr, nc * kEb);
          Instr in = vec(v->op.op, nr, nc);
          in.flags = flag;
          in.addr[0] = xBuf[i % 2];
          in.addr[2] = outBuf[i % 2];
          in.strides[0] = in.strides[2] = uint32_t(nc);
          in.imm = v->imm;
          switch (second) {
          case cost::Operand2::Full:
            load(bBase + off, cols * kEb, yBuf[i % 2], nc * kEb, nr, nc * kEb);
            in.addr[1] = yBuf[i % 2];
            in.strides[1] = uint32_t(nc);
            break;
          case cost::Operand2::Row:
            in.addr[1] = resident + c * kEb;
            in.strides[1] = uint32_t(nc);
            break;
          case cost::Operand2::Col:
            // Reloaded for every column tile of the same rows.
            load(bBase + r * kEb, kEb, yBuf[i % 2], kEb, 1, nr * kEb);
            in.addr[1] = yBuf[i % 2];
            in.strides[1] = 1;
            break;
          case cost::Operand2::Scalar:
            in.addr[1] = resident;
            in.strides[1] = 1;
            break;
          case cost::Operand2::None:
            if (ln) {
              in.addr[1] = gamma;
              in.addr[3] = beta;
              in.strides[1] = in.strides[3] = uint32_t(nc);
            }
            break;
          }
          emit(in);
          store(oBase + off, cols * kEb, outBuf[i % 2], nc * kEb, nr, nc * kEb);
        });
  }
}

//===----------------------------------------------------------------------===//
// MatMul
//===----------------------------------------------------------------------===//

namespace {

/// The GEMM kernel's tiling when the IR records none: the cost model's
/// search (cost::searchGemm, the lowest modelled latency that fits
/// `budget`), the same one tsr-select-tiling records. Throws CodegenError
/// when no tiling fits.
GemmPlan planGemm(int64_t batch, int64_t m, int64_t k, int64_t n,
                  const arch::ChipConfig &chip, uint64_t budget,
                  const std::string &where) {
  cost::Constraints c;
  c.sramBytes = budget;
  std::optional<cost::Choice<cost::GemmTiling>> best = cost::searchGemm(
      chip, {uint64_t(batch), uint64_t(m), uint64_t(k), uint64_t(n)}, c);
  if (!best)
    throw CodegenError(where + ": no tiling of a " + std::to_string(m) + "x" +
                       std::to_string(k) + "x" + std::to_string(n) +
                       " matrix product fits " + std::to_string(budget) +
                       " bytes of SRAM");
  return {int64_t(best->tiling.tm), int64_t(best->tiling.tk),
          int64_t(best->tiling.tn)};
}

} // namespace

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
  cost::GemmOp op = matmulGemmOf(g, n);
  op.a = tensorName(n.inputs[0]);
  op.b = tensorName(n.inputs[1]);
  op.out = tensorName(n.output);
  // The tile and NPU split tsr-select-tiling recorded in the IR when they
  // are legal on this chip (a tiling recorded without `npus`, for a chip of
  // one NPU, runs on one), else the same decision here (KernelDecisions.h).
  // Either way the split is decided with the tile: dividing the product
  // never re-tiles it, so the recorded SRAM plan is the one of the tile
  // that runs.
  bool recorded = !n.tiling.empty() && !checkTiling(g, n, chip, budget());
  std::map<std::string, int64_t> decided = n.tiling;
  if (!recorded) {
    std::string error;
    std::optional<TilingChoice> t = chooseTiling(g, n, chip, budget(), error);
    if (!t)
      throw CodegenError(where + ": " +
                         (error.empty() ? "internal error: no tiling" : error));
    decided =
        std::map<std::string, int64_t>(t->fields.begin(), t->fields.end());
  }
  cost::GemmTiling tile{uint64_t(decided["tm"]), uint64_t(decided["tk"]),
                        uint64_t(decided["tn"])};
  cost::GemmSplit split = cost::divideGemm(
      chip, op, tile, unsigned(std::max<int64_t>(1, decided["npus"])));
  GemmPlan plan{int64_t(tile.tm), int64_t(tile.tk), int64_t(tile.tn)};
  this->plan(split.longest);
  int64_t nmT = ceilDiv(m, plan.tm), nkT = ceilDiv(k, plan.tk),
          nnT = ceilDiv(nn, plan.tn);

  // The buffers of the tile it runs: the plan tsr-allocate-sram recorded
  // for the recorded tile, else the same plan placed here.
  cost::SramPlan bufs =
      takeBuffers(n,
                  cost::gemmSramPlan(op, {uint64_t(plan.tm), uint64_t(plan.tk),
                                          uint64_t(plan.tn)}),
                  recorded);
  uint64_t aSlot[2], bSlot[2], outSlot[2], accSlot[2] = {0, 0};
  for (unsigned s = 0; s < 2; ++s) {
    aSlot[s] = bufferAt(bufs, "a", s);
    bSlot[s] = bufferAt(bufs, "b", s);
    outSlot[s] = bufferAt(bufs, "out", s);
    if (nkT > 1)
      accSlot[s] = bufferAt(bufs, "acc", s);
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
  // Each NPU runs its part with its own tile slots (its own SRAM).
  TileCache cas[arch::Program::kMaxNpus], cbs[arch::Program::kMaxNpus];
  int tiles[arch::Program::kMaxNpus] = {};
  uint64_t global = 0;
  forEachIndex(batch, [&](const std::vector<int64_t> &idx) {
    int64_t aMat = batchOffset(ab, idx), bMat = batchOffset(bb, idx);
    int64_t oMat = 0;
    for (size_t d = 0; d < batch.size(); ++d)
      oMat = oMat * batch[d] + idx[d];
    uint64_t aBase = dram(n.inputs[0]) + aMat * m * k * kEb;
    uint64_t bBase = dram(n.inputs[1]) + bMat * k * nn * kEb;
    uint64_t oBase = dram(n.output) + oMat * m * nn * kEb;
    for (int64_t i = 0; i < nmT; ++i)
      for (int64_t j = 0; j < nnT; ++j, ++global) {
        npu = uint8_t(split.npuOf(global));
        int &tile = tiles[npu];
        TileCache &ca = cas[npu], &cb = cbs[npu];
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
          emit(matmulTile(tm, tk, tn, aSlot[sa], bSlot[sb], out, acc, l == 0,
                          l == nkT - 1));
        }
        store(oBase + (i * plan.tm * nn + j * plan.tn) * kEb, nn * kEb, out,
              tn * kEb, tm, tn * kEb);
        ++tile;
      }
  });
  npu = 0;
}

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

/// Two shapes of data movement. When the last axis stays last, whole rows
/// move: a strided DMA gathers them into SRAM and one store writes them out.
/// Otherwise each 2-D slice [in axis feeding out's last, in's last axis] is
/// loaded (strided), transposed by the vector unit and stored (strided).
void Emitter::transposeKernel(const GraphNode &n) {
  uint64_t src = dram(n.inputs[0]), dst = dram(n.output);
  MovementView mv = movementView(n);
  bool recorded = false;
  MovementDecision d = movementDecision(mv, n, recorded);
  cost::SramPlan p =
      takeBuffers(n, movementSramPlan(mv, d, budget()), recorded);
  const cost::CopyView &v = mv.views[0];
  const cost::MoveOp &op = mv.moves[0];
  cost::RowTiling rt = d.tiles[0];
  if (!op.transpose) {
    // Whole rows of C elements move (a strided copy).
    uint64_t buf[2] = {bufferAt(p, "buf", 0), bufferAt(p, "buf", 1)};
    copyWindow(src, dst, v, op, rt, buf);
    return;
  }
  // Each [rowsIn, colsIn] slice: load (strided), vec.transpose, store
  // (strided), in the decided tiles.
  int64_t rowsIn = v.rows, colsIn = v.cols;
  int64_t tr = int64_t(rt.tr), tc = int64_t(rt.tc);
  plan(cost::moveKernel(op, rt));
  uint64_t inBuf[2] = {bufferAt(p, "in", 0), bufferAt(p, "in", 1)};
  uint64_t outBuf[2] = {bufferAt(p, "out", 0), bufferAt(p, "out", 1)};
  int i = 0;
  forEachIndex(v.outer, [&](const std::vector<int64_t> &idx) {
    int64_t inOff = 0, outOff = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      inOff += idx[d] * v.outerSrc[d];
      outOff += idx[d] * v.outerDst[d];
    }
    for (int64_t r = 0; r < rowsIn; r += tr)
      for (int64_t c = 0; c < colsIn; c += tc, ++i) {
        int64_t nr = std::min(tr, rowsIn - r), nc = std::min(tc, colsIn - c);
        load(src + (inOff + r * v.rowSrc + c) * kEb, v.rowSrc * kEb,
             inBuf[i % 2], nc * kEb, nr, nc * kEb);
        Instr in = vec(Opcode::VecTranspose, nr, nc);
        in.addr[0] = inBuf[i % 2];
        in.addr[2] = outBuf[i % 2];
        in.strides[0] = uint32_t(nc);
        in.strides[2] = uint32_t(nr);
        emit(in);
        // Out row (in's column c') starts at c' * rowDst; its elements
        // (in's rows) are contiguous along out's last axis.
        store(dst + (outOff + c * v.rowDst + r) * kEb, v.rowDst * kEb,
              outBuf[i % 2], nr * kEb, nc, nr * kEb);
      }
  });
}

//===----------------------------------------------------------------------===//
// Slice, Concat: strided DMA; reductions: the vector unit's row reductions
//===----------------------------------------------------------------------===//

/// A slice, each input of a concat, each index of an expand: one strided
/// copy (cost::copyView: axes of extent 1 dropped, axes contiguous on both
/// sides merged, the last the DMA row, the one before it the DMA's strided
/// rows), so a window costs one load and one store per tile.
void Emitter::sliceKernel(const GraphNode &n) {
  const Shape &xs = g.values[n.inputs[0]].shape;
  std::vector<int64_t> in = stridesOf(xs);
  int64_t base = 0;
  for (size_t d = 0; d < xs.size(); ++d)
    base += n.offsets[d] * in[d];
  MovementView mv = movementView(n);
  bool recorded = false;
  MovementDecision d = movementDecision(mv, n, recorded);
  cost::SramPlan p =
      takeBuffers(n, movementSramPlan(mv, d, budget()), recorded);
  uint64_t buf[2] = {bufferAt(p, "buf", 0), bufferAt(p, "buf", 1)};
  copyWindow(dram(n.inputs[0]) + base * kEb, dram(n.output), mv.views[0],
             mv.moves[0], d.tiles[0], buf);
}

void Emitter::concatKernel(const GraphNode &n) {
  const Shape &os = g.values[n.output].shape;
  std::vector<int64_t> outSt = stridesOf(os);
  for (int in : n.inputs)
    if (tensorOf[in] < 0)
      throw CodegenError(where + ": operand '" + g.values[in].name +
                         "' has no DRAM tensor");
  // One copy per input, one after another: their rings from one plan.
  MovementView mv = movementView(n);
  bool recorded = false;
  MovementDecision d = movementDecision(mv, n, recorded);
  cost::SramPlan p =
      takeBuffers(n, movementSramPlan(mv, d, budget()), recorded);
  int64_t pos = 0;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Shape &s = g.values[n.inputs[i]].shape;
    std::string ring = n.inputs.size() > 1 ? "in" + std::to_string(i) + ".buf"
                                           : std::string("buf");
    uint64_t buf[2] = {bufferAt(p, ring.c_str(), 0),
                       bufferAt(p, ring.c_str(), 1)};
    copyWindow(dram(n.inputs[i]), dram(n.output) + pos * outSt[n.axis] * kEb,
               mv.views[i], mv.moves[i], d.tiles[i], buf);
    pos += s[n.axis];
  }
}

/// Reductions over the trailing axes (generateProgram moves other reduced
/// axes last first): [rows, cols] in, rows x 1 out, whole rows per tile.
void Emitter::reduceKernel(const GraphNode &n) {
  const Shape &xs = g.values[n.inputs[0]].shape;
  size_t first = xs.size() - n.axes.size();
  for (size_t k = 0; k < n.axes.size(); ++k)
    if (n.axes[k] != int64_t(first + k))
      throw CodegenError(where + ": internal error: reduction over axes "
                                 "that are not trailing");
  ReduceView view = reduceViewOf(g, n);
  int64_t cols = int64_t(view.cols), rows = int64_t(view.rows);
  Opcode op = view.op;
  // Tiles of whole rows: two input tiles, two (1/cols as large) output
  // tiles, as tsr-select-tiling and tsr-allocate-sram recorded them.
  bool recorded = false;
  cost::RowTiling rt = rowTiling(n, recorded);
  Tiles2D t{int64_t(rt.tr), cols};
  plan(cost::reduceKernel(op, uint64_t(rows), uint64_t(cols), rt.tr,
                          tensorName(n.inputs[0]), tensorName(n.output)));
  cost::SramPlan bufs = takeBuffers(
      n, cost::reduceSramPlan(uint64_t(rows), uint64_t(cols), rt.tr), recorded);
  uint64_t inBuf[2] = {bufferAt(bufs, "x", 0), bufferAt(bufs, "x", 1)};
  uint64_t outBuf[2] = {bufferAt(bufs, "out", 0), bufferAt(bufs, "out", 1)};
  uint64_t src = dram(n.inputs[0]), dst = dram(n.output);
  float scale = n.kind == NodeKind::ReduceMean ? 1.0f / float(cols) : 1.0f;
  forEachTile(
      rows, cols, t, [&](int i, int64_t r, int64_t, int64_t nr, int64_t) {
        load(src + r * cols * kEb, cols * kEb, inBuf[i % 2], cols * kEb, nr,
             cols * kEb);
        Instr in = vec(op, nr, cols);
        in.addr[0] = inBuf[i % 2];
        in.addr[2] = outBuf[i % 2];
        in.strides[0] = uint32_t(cols);
        in.strides[2] = 1;
        in.imm = op == Opcode::VecReduceSum ? scale : 0.0f;
        emit(in);
        store(dst + r * kEb, nr * kEb, outBuf[i % 2], nr * kEb, 1, nr * kEb);
      });
}

/// The graph as the emitter wants it: a reduction over axes that are not
/// the trailing ones becomes a transpose that moves them last, then a
/// reduction over the trailing axes (the kept axes stay in order, so the
/// result's elements are the same).
Graph normalizeForChip(Graph graph) {
  // The values move (the weights' data is most of a network's memory).
  Graph g;
  g.name = graph.name;
  g.values = std::move(graph.values);
  for (const GraphNode &n : graph.nodes) {
    bool reduce = n.kind == NodeKind::ReduceSum ||
                  n.kind == NodeKind::ReduceMean ||
                  n.kind == NodeKind::ReduceMax;
    const Shape xs = g.values[n.inputs[0]].shape; // g.values grows below.
    size_t first = xs.size() - n.axes.size();
    bool trailing = true;
    for (size_t k = 0; reduce && k < n.axes.size(); ++k)
      trailing &= n.axes[k] == int64_t(first + k);
    if (!reduce || trailing) {
      g.nodes.push_back(n);
      continue;
    }
    GraphNode perm;
    perm.kind = NodeKind::Transpose;
    perm.name = n.name;
    std::vector<bool> reduced(xs.size(), false);
    for (int64_t a : n.axes)
      reduced[a] = true;
    for (int pass = 0; pass < 2; ++pass)
      for (size_t d = 0; d < xs.size(); ++d)
        if (reduced[d] == (pass == 1))
          perm.perm.push_back(int64_t(d));
    perm.inputs = {n.inputs[0]};
    GraphValue moved;
    moved.name = g.values[n.output].name + ".moved";
    for (int64_t p : perm.perm)
      moved.shape.push_back(xs[p]);
    perm.output = g.addValue(std::move(moved));
    // Reduced into a value without the reduced axes, then reshaped (free)
    // to the node's result shape.
    GraphNode red = n;
    red.inputs = {perm.output};
    red.axes.clear();
    for (size_t k = 0; k < n.axes.size(); ++k)
      red.axes.push_back(int64_t(first + k));
    GraphValue kept;
    kept.name = g.values[n.output].name + ".kept";
    kept.shape.assign(g.values[perm.output].shape.begin(),
                      g.values[perm.output].shape.begin() + first);
    red.output = g.addValue(std::move(kept));
    GraphNode reshape;
    reshape.kind = NodeKind::Reshape;
    reshape.name = n.name;
    reshape.inputs = {red.output};
    reshape.output = n.output;
    g.nodes.push_back(std::move(perm));
    g.nodes.push_back(std::move(red));
    g.nodes.push_back(std::move(reshape));
  }
  return g;
}

//===----------------------------------------------------------------------===//
// CNN and miscellaneous ops
//===----------------------------------------------------------------------===//

uint64_t Emitter::addTensor(const std::string &name, const Shape &shape,
                            arch::TensorKind kind,
                            const std::vector<float> *data) {
  arch::TensorInfo t;
  t.name = name;
  t.kind = kind;
  t.dtype = kAct;
  t.shape = shape;
  dramTop = alignUp(dramTop, chip.dram_burst_bytes);
  t.dramAddr = dramTop;
  if (data) {
    t.data.resize(data->size() * kEb);
    for (size_t i = 0; i < data->size(); ++i) {
      Eigen::half h((*data)[i]);
      std::memcpy(t.data.data() + i * kEb, &h, kEb);
    }
  }
  dramTop += t.byteSize();
  prog.tensors.push_back(std::move(t));
  return prog.tensors.back().dramAddr;
}

/// Elementwise activations as a chain of vector instructions on each tile:
/// the first reads the input tile, the rest work in place on an FP32 tile
/// and the last rounds to FP16.
///   relu = maximm 0; clip = maximm lo, minimm hi (an infinite bound is
///   skipped); hardsigmoid = scale alpha, addimm beta, maximm 0, minimm 1;
///   sigmoid, hardswish: one instruction each.
void Emitter::activationKernel(const GraphNode &n) {
  std::vector<std::pair<Opcode, float>> chain = activationChain(n);
  cost::ChainOp c = activationChainOp(g, n);
  int64_t rows = int64_t(c.rows), cols = int64_t(c.cols);
  // An integer input's conversion reads int32 (vec.copy i32 -> f16, exact
  // up to 2048 in magnitude).
  bool i32 = n.kind == NodeKind::Convert;
  int64_t ib = int64_t(c.inputBytes[0]);
  // Two input tiles and two work tiles (FP32; the conversion's FP16), tiled
  // and placed as the passes recorded (KernelDecisions.h).
  bool recorded = false;
  cost::RowTiling rt = rowTiling(n, recorded);
  Tiles2D t{int64_t(rt.tr), int64_t(rt.tc)};
  c.inputs = {tensorName(n.inputs[0])};
  c.out = tensorName(n.output);
  plan(cost::chainKernel(c, rt));
  cost::SramPlan bufs = takeBuffers(n, cost::chainSramPlan(c, rt), recorded);
  uint64_t inBuf[2] = {bufferAt(bufs, "x", 0), bufferAt(bufs, "x", 1)};
  uint64_t work[2] = {bufferAt(bufs, "work", 0), bufferAt(bufs, "work", 1)};
  uint64_t src = dram(n.inputs[0]), dst = dram(n.output);
  forEachTile(
      rows, cols, t, [&](int i, int64_t r, int64_t c, int64_t nr, int64_t nc) {
        uint64_t el = uint64_t(r * cols + c), off = el * kEb;
        load(src + el * ib, cols * ib, inBuf[i % 2], nc * ib, nr, nc * ib);
        for (size_t k = 0; k < chain.size(); ++k) {
          Instr in = vec(chain[k].first, nr, nc);
          in.dtype = k > 0 ? DType::F32 : i32 ? DType::I32 : kAct;
          in.outDtype = k + 1 == chain.size() ? kAct : DType::F32;
          in.addr[0] = k == 0 ? inBuf[i % 2] : work[i % 2];
          in.addr[2] = work[i % 2];
          in.strides[0] = in.strides[2] = uint32_t(nc);
          in.imm = chain[k].second;
          emit(in);
        }
        store(dst + off, cols * kEb, work[i % 2], nc * kEb, nr, nc * kEb);
      });
}

void Emitter::gemm(uint64_t a, int64_t lda, uint64_t b, int64_t ldb,
                   uint64_t out, int64_t ldo, int64_t m, int64_t k, int64_t n,
                   const std::string &aName, const std::string &bName,
                   const std::string &outName, const cost::GemmTiling &tile,
                   uint64_t npus, const GraphNode *recorded,
                   const std::string &prefix) {
  // The same loop as gemmKernel's when the operands' rows are k, n and n
  // elements apart (every caller: conv's weight and im2col matrices, the
  // global average's column), on the tile and NPU split the node's decision
  // gives (KernelDecisions.h); its slots from cost::gemmSramPlan, at the
  // offsets of the plan `recorded` carries in the IR when given (its
  // buffers `<prefix>a`, `<prefix>b`, ...: a conv's `gemm.a` ...).
  cost::GemmOp op{1,     uint64_t(m), uint64_t(k), uint64_t(n),
                  aName, bName,       outName};
  // The split as decided (searchMovement: chooseGemmSplit's parts on a
  // chip of several NPUs; recorded: its `npus`, 1 when absent): dividing
  // the product never re-tiles it.
  GemmPlan plan{int64_t(tile.tm), int64_t(tile.tk), int64_t(tile.tn)};
  cost::GemmSplit split =
      cost::divideGemm(chip, op, tile, unsigned(std::max<uint64_t>(1, npus)));
  this->plan(split.longest);
  cost::SramPlan slots = cost::gemmSramPlan(op, tile, budget());
  for (cost::SramBuffer &b : slots.buffers)
    b.name = prefix + b.name;
  slots = recorded ? takeBuffers(*recorded, std::move(slots), true)
                   : placeOwn(std::move(slots));
  int64_t nmT = ceilDiv(m, plan.tm), nkT = ceilDiv(k, plan.tk),
          nnT = ceilDiv(n, plan.tn);
  uint64_t aSlot[2], bSlot[2], outSlot[2], accSlot[2] = {0, 0};
  for (unsigned s = 0; s < 2; ++s) {
    aSlot[s] = bufferAt(slots, (prefix + "a").c_str(), s);
    bSlot[s] = bufferAt(slots, (prefix + "b").c_str(), s);
    outSlot[s] = bufferAt(slots, (prefix + "out").c_str(), s);
    if (nkT > 1)
      accSlot[s] = bufferAt(slots, (prefix + "acc").c_str(), s);
  }
  // Each NPU runs its part with its own tile slots (its own SRAM).
  TileCache cas[arch::Program::kMaxNpus], cbs[arch::Program::kMaxNpus];
  int tiles[arch::Program::kMaxNpus] = {};
  uint64_t global = 0;
  for (int64_t i = 0; i < nmT; ++i)
    for (int64_t j = 0; j < nnT; ++j, ++global) {
      npu = uint8_t(split.npuOf(global));
      int &tile = tiles[npu];
      TileCache &ca = cas[npu], &cb = cbs[npu];
      int64_t tm = std::min(plan.tm, m - i * plan.tm);
      int64_t tn = std::min(plan.tn, n - j * plan.tn);
      uint64_t o = outSlot[tile % 2], acc = accSlot[tile % 2];
      for (int64_t l = 0; l < nkT; ++l) {
        int64_t tk = std::min(plan.tk, k - l * plan.tk);
        bool hit;
        int sa = ca.get(i * nkT + l, hit);
        if (!hit)
          load(a + (i * plan.tm * lda + l * plan.tk) * kEb, lda * kEb,
               aSlot[sa], tk * kEb, tm, tk * kEb);
        int sb = cb.get(l * nnT + j, hit);
        if (!hit)
          load(b + (l * plan.tk * ldb + j * plan.tn) * kEb, ldb * kEb,
               bSlot[sb], tn * kEb, tk, tn * kEb);
        emit(matmulTile(tm, tk, tn, aSlot[sa], bSlot[sb], o, acc, l == 0,
                        l == nkT - 1));
      }
      store(out + (i * plan.tm * ldo + j * plan.tn) * kEb, ldo * kEb, o,
            tn * kEb, tm, tn * kEb);
      ++tile;
    }
  npu = 0;
}

/// Conv as im2col + GEMM (docs/lowering.md, "Conv"): for each batch image,
/// an im2col kernel gathers the input into a DRAM matrix of
/// [groups x (C/groups * kh * kw + 1), OH * OW] (the extra row of ones per
/// group carries the bias), then one GEMM per group multiplies the
/// rearranged weight [O/groups, C/groups * kh * kw + 1] (bias as its last
/// column) by its rows on the matrix unit.
void Emitter::convKernel(const GraphNode &n) {
  const Shape &xs = g.values[n.inputs[0]].shape;
  const Shape &ws = g.values[n.inputs[1]].shape;
  const Shape &os = g.values[n.output].shape;
  const GraphValue &wv = g.values[n.inputs[1]], &bv = g.values[n.inputs[2]];
  if (wv.role != ValueRole::Weight || bv.role != ValueRole::Weight)
    throw CodegenError(where + ": the weight and bias must be constants");
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3];
  int64_t OH = os[2], OW = os[3], G = n.groups, Og = O / G;
  int64_t taps = KH * KW, K = Cg * taps, K1 = K + 1, P = OH * OW;
  int64_t sh = n.strides[0], sw = n.strides[1], dh = n.dilations[0],
          dw = n.dilations[1], pt = n.pads[0], pl = n.pads[1];

  // The weight matrix, one row per output channel, bias last.
  std::vector<float> wmat(size_t(O * K1));
  for (int64_t o = 0; o < O; ++o) {
    std::copy(wv.data.begin() + o * K, wv.data.begin() + (o + 1) * K,
              wmat.begin() + o * K1);
    wmat[o * K1 + K] = bv.data[o];
  }
  uint64_t wAddr =
      addTensor(n.name + ".wmat", {O, K1}, arch::TensorKind::Weight, &wmat);
  uint64_t cols = addTensor(n.name + ".im2col", {G * K1, P},
                            arch::TensorKind::Scratch, nullptr);
  uint64_t x0 = dram(n.inputs[0]), out0 = dram(n.output);

  // The band and the GEMM tile: recorded in the IR (tsr-select-tiling)
  // when legal here, else the cost model's search (KernelDecisions.h).
  MovementView mv = movementView(n);
  bool recorded = false;
  MovementDecision d = movementDecision(mv, n, recorded);
  const cost::ConvOp &op = mv.conv;
  cost::BandTiling t = d.band;
  int64_t ones = std::min<int64_t>(P, kMaxTileBytes / kEb);
  // The layer's plan (cost::convSramPlan, movementSramPlan): the im2col
  // kernel's buffers `im2col.*`, then one group's GEMM's `gemm.*`, each
  // kernel from an empty SRAM.
  cost::SramPlan im2colPlan =
      cost::stagedSramPlan({{"im2col", cost::im2colSramPlan(op, t, budget())}});

  for (int64_t b = 0; b < N; ++b) {
    uint64_t x = x0 + b * C * H * W * kEb, out = out0 + b * O * P * kEb;
    // im2col, its buffers the plan's `im2col.*` (the GEMMs' `gemm.*`).
    plan(cost::im2colKernel(op, t));
    cost::SramPlan sp = takeBuffers(n, im2colPlan, recorded);
    uint64_t stage[2] = {bufferAt(sp, "im2col.stage", 0),
                         bufferAt(sp, "im2col.stage", 1)};
    uint64_t tileBuf[2] = {bufferAt(sp, "im2col.tile", 0),
                           bufferAt(sp, "im2col.tile", 1)};
    uint64_t onesBuf = bufferAt(sp, "im2col.ones");
    Instr fill = vec(Opcode::VecFill, 1, ones);
    fill.addr[2] = onesBuf;
    fill.strides[2] = uint32_t(ones);
    fill.imm = 1.0f;
    emit(fill);
    for (int64_t gi = 0; gi < G; ++gi)
      for (int64_t p = 0; p < P; p += ones)
        store(cols + ((gi * K1 + K) * P + p) * kEb, P * kEb, onesBuf,
              ones * kEb, 1, std::min(ones, P - p) * kEb);
    int slot = 0;
    int64_t tcb = int64_t(t.cb), ttoh = int64_t(t.toh);
    for (int64_t oh0 = 0; oh0 < OH; oh0 += ttoh) {
      int64_t toh = std::min(ttoh, OH - oh0);
      int64_t ihLo = std::max<int64_t>(0, oh0 * sh - pt);
      int64_t ihHi = std::min(H, (oh0 + toh - 1) * sh - pt + (KH - 1) * dh + 1);
      int64_t nih = std::max<int64_t>(ihHi - ihLo, 0);
      for (int64_t gi = 0; gi < G; ++gi)
        for (int64_t c0 = 0; c0 < Cg; c0 += tcb, ++slot) {
          int64_t cb = std::min(tcb, Cg - c0);
          uint64_t st = stage[slot % 2], tb = tileBuf[slot % 2];
          if (nih > 0)
            load(x + ((gi * Cg + c0) * H + ihLo) * W * kEb, H * W * kEb, st,
                 nih * W * kEb, cb, nih * W * kEb);
          // Zero the tile when a tap reads padding.
          bool padded = false;
          for (int64_t ky = 0; ky < KH && !padded; ++ky)
            for (int64_t kx = 0; kx < KW && !padded; ++kx) {
              auto [a0, a1] =
                  cost::windowRange(oh0, oh0 + toh, sh, pt, ky * dh, H);
              auto [b0, b1] = cost::windowRange(0, OW, sw, pl, kx * dw, W);
              padded = a0 != oh0 || a1 != oh0 + toh || b0 != 0 || b1 != OW;
            }
          if (padded) {
            Instr z = vec(Opcode::VecFill, cb * taps, toh * OW);
            z.addr[2] = tb;
            z.strides[2] = uint32_t(toh * OW);
            z.imm = 0.0f;
            emit(z);
          }
          for (int64_t c = 0; c < cb; ++c)
            for (int64_t ky = 0; ky < KH; ++ky)
              for (int64_t kx = 0; kx < KW; ++kx) {
                auto [a0, a1] =
                    cost::windowRange(oh0, oh0 + toh, sh, pt, ky * dh, H);
                auto [b0, b1] = cost::windowRange(0, OW, sw, pl, kx * dw, W);
                if (a0 >= a1 || b0 >= b1)
                  continue;
                int64_t ih = a0 * sh - pt + ky * dh - ihLo;
                int64_t iw = b0 * sw - pl + kx * dw;
                int64_t row = (c * KH + ky) * KW + kx;
                Instr in = vec(Opcode::VecGather, a1 - a0, b1 - b0);
                in.addr[0] = st + ((c * nih + ih) * W + iw) * kEb;
                in.strides[0] = uint32_t(sh * W);
                in.strides[1] = uint32_t(sw);
                in.addr[2] = tb + (row * toh * OW + (a0 - oh0) * OW + b0) * kEb;
                in.strides[2] = uint32_t(OW);
                emit(in);
              }
          store(cols + ((gi * K1 + c0 * taps) * P + oh0 * OW) * kEb, P * kEb,
                tb, toh * OW * kEb, cb * taps, toh * OW * kEb);
        }
    }
    // One GEMM per group.
    for (int64_t gi = 0; gi < G; ++gi)
      gemm(wAddr + gi * Og * K1 * kEb, K1, cols + gi * K1 * P * kEb, P,
           out + gi * Og * P * kEb, P, Og, K1, P, n.name + ".wmat",
           n.name + ".im2col", tensorName(n.output), d.gemm, d.npus,
           recorded ? &n : nullptr, "gemm.");
  }
}

/// Max and average pooling (docs/lowering.md, "Pooling"): bands of output
/// rows for blocks of planes (N*C); the input rows a band reads are staged
/// in SRAM, and each window tap is gathered (vec.gather; padding is -inf
/// for max, 0 for average) and folded into an accumulator tile with vec.max
/// or vec.add (FP32). An average is then scaled by 1/(kh*kw)
/// (count_include_pad) or multiplied by a row of 1/count per output position.
/// A global average (the window is the whole image) is a GEMM with a column
/// of 1/(H*W).
void Emitter::poolKernel(const GraphNode &n) {
  const Shape &xs = g.values[n.inputs[0]].shape;
  const Shape &os = g.values[n.output].shape;
  int64_t NC = xs[0] * xs[1], H = xs[2], W = xs[3], OH = os[2], OW = os[3];
  int64_t KH = n.kernel[0], KW = n.kernel[1], sh = n.strides[0],
          sw = n.strides[1], pt = n.pads[0], pl = n.pads[1];
  bool isMax = n.kind == NodeKind::MaxPool;
  uint64_t src = dram(n.inputs[0]), dst = dram(n.output);
  MovementView mv = movementView(n);
  bool recorded = false;
  MovementDecision d = movementDecision(mv, n, recorded);

  if (mv.global) { // cost::PoolOp::global (movementViewOf).
    std::vector<float> mean(size_t(H * W), 1.0f / float(H * W));
    uint64_t m = addTensor(n.name + ".mean", {H * W, 1},
                           arch::TensorKind::Weight, &mean);
    gemm(src, H * W, m, 1, dst, 1, NC, H * W, 1, tensorName(n.inputs[0]),
         n.name + ".mean", tensorName(n.output), d.gemm, d.npus,
         recorded ? &n : nullptr);
    return;
  }

  // Divisors of an average without count_include_pad: 1/count for every
  // output position (a weight of OH * OW).
  uint64_t divisors = 0;
  if (!isMax && !n.countIncludePad) {
    std::vector<float> inv(size_t(OH * OW));
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        auto [a0, a1] = cost::windowRange(0, KH, 1, -(oh * sh - pt), 0, H);
        auto [b0, b1] = cost::windowRange(0, KW, 1, -(ow * sw - pl), 0, W);
        inv[oh * OW + ow] =
            1.0f / float(std::max<int64_t>((a1 - a0) * (b1 - b0), 1));
      }
    divisors = addTensor(n.name + ".divisors", {OH * OW},
                         arch::TensorKind::Weight, &inv);
  }

  // The band: recorded in the IR (tsr-select-tiling) when legal here, else
  // the cost model's search; the buffers from the kernel's plan.
  const cost::PoolOp &op = mv.pool;
  cost::BandTiling t = d.band;
  plan(cost::poolKernel(op, t));
  cost::SramPlan sp =
      takeBuffers(n, movementSramPlan(mv, d, budget()), recorded);
  uint64_t stage[2] = {bufferAt(sp, "stage", 0), bufferAt(sp, "stage", 1)};
  uint64_t tap = bufferAt(sp, "tap"), acc = bufferAt(sp, "acc");
  uint64_t outBuf[2] = {bufferAt(sp, "out", 0), bufferAt(sp, "out", 1)};
  uint64_t divBuf[2] = {0, 0};
  if (divisors) {
    divBuf[0] = bufferAt(sp, "div", 0);
    divBuf[1] = bufferAt(sp, "div", 1);
  }
  float padValue = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;
  int slot = 0;
  for (int64_t oh0 = 0; oh0 < OH; oh0 += int64_t(t.toh))
    for (int64_t c0 = 0; c0 < NC; c0 += int64_t(t.cb), ++slot) {
      int64_t toh = std::min(int64_t(t.toh), OH - oh0),
              cb = std::min(int64_t(t.cb), NC - c0);
      int64_t ihLo = std::max<int64_t>(0, oh0 * sh - pt);
      int64_t ihHi = std::min(H, (oh0 + toh - 1) * sh - pt + KH);
      int64_t nih = std::max<int64_t>(ihHi - ihLo, 0), cols = toh * OW;
      uint64_t st = stage[slot % 2], ob = outBuf[slot % 2];
      if (nih > 0) {
        load(src + (c0 * H + ihLo) * W * kEb, H * W * kEb, st, nih * W * kEb,
             cb, nih * W * kEb);
      }
      bool first = true;
      for (int64_t ky = 0; ky < KH; ++ky)
        for (int64_t kx = 0; kx < KW; ++kx) {
          auto [a0, a1] = cost::windowRange(oh0, oh0 + toh, sh, pt, ky, H);
          auto [b0, b1] = cost::windowRange(0, OW, sw, pl, kx, W);
          bool full = a0 == oh0 && a1 == oh0 + toh && b0 == 0 && b1 == OW;
          if (!full) {
            Instr z = vec(Opcode::VecFill, cb, cols);
            z.outDtype = DType::F32;
            z.addr[2] = tap;
            z.strides[2] = uint32_t(cols);
            z.imm = padValue;
            emit(z);
          }
          if (a0 < a1 && b0 < b1) {
            int64_t ih = a0 * sh - pt + ky - ihLo, iw = b0 * sw - pl + kx;
            // Gather per plane (rows: output rows) or per output row (rows:
            // planes), whichever takes fewer instructions.
            if (cb <= a1 - a0) {
              for (int64_t c = 0; c < cb; ++c) {
                Instr in = vec(Opcode::VecGather, a1 - a0, b1 - b0);
                in.addr[0] = st + ((c * nih + ih) * W + iw) * kEb;
                in.strides[0] = uint32_t(sh * W);
                in.strides[1] = uint32_t(sw);
                in.outDtype = DType::F32;
                in.addr[2] = tap + (c * cols + (a0 - oh0) * OW + b0) * 4;
                in.strides[2] = uint32_t(OW);
                emit(in);
              }
            } else {
              for (int64_t r = 0; r < a1 - a0; ++r) {
                Instr in = vec(Opcode::VecGather, cb, b1 - b0);
                in.addr[0] = st + ((ih + r * sh) * W + iw) * kEb;
                in.strides[0] = uint32_t(nih * W);
                in.strides[1] = uint32_t(sw);
                in.outDtype = DType::F32;
                in.addr[2] = tap + ((a0 - oh0 + r) * OW + b0) * 4;
                in.strides[2] = uint32_t(cols);
                emit(in);
              }
            }
          }
          // Fold the tap into the FP32 accumulator.
          Instr f = vec(first ? Opcode::VecCopy
                              : (isMax ? Opcode::VecMax : Opcode::VecAdd),
                        cb, cols);
          f.dtype = DType::F32;
          f.addr[0] = tap;
          f.strides[0] = uint32_t(cols);
          f.outDtype = DType::F32;
          f.addr[2] = acc;
          f.strides[2] = uint32_t(cols);
          if (!first) {
            // acc <op>= tap: a is the accumulator (FP32), b the tap.
            f.addr[0] = acc;
            f.addr[1] = tap;
            f.strides[1] = uint32_t(cols);
          }
          emit(f);
          first = false;
        }
      // Round to FP16 (an average including padding scales on the way);
      // an average of the inside elements then multiplies by the band's
      // row of 1/count.
      Instr fin =
          vec(!isMax && n.countIncludePad ? Opcode::VecScale : Opcode::VecCopy,
              cb, cols);
      fin.dtype = DType::F32;
      fin.addr[0] = acc;
      fin.strides[0] = uint32_t(cols);
      fin.addr[2] = ob;
      fin.strides[2] = uint32_t(cols);
      fin.imm = 1.0f / float(KH * KW);
      emit(fin);
      if (!isMax && !n.countIncludePad) {
        uint64_t db = divBuf[slot % 2];
        load(divisors + oh0 * OW * kEb, cols * kEb, db, cols * kEb, 1,
             cols * kEb);
        Instr d = vec(Opcode::VecMul, cb, cols);
        d.flags = arch::kFlagBroadcastRow;
        d.addr[0] = ob;
        d.strides[0] = uint32_t(cols);
        d.addr[1] = db;
        d.strides[1] = uint32_t(cols);
        d.addr[2] = ob;
        d.strides[2] = uint32_t(cols);
        emit(d);
      }
      store(dst + (c0 * OH * OW + oh0 * OW) * kEb, OH * OW * kEb, ob,
            cols * kEb, cb, cols * kEb);
    }
}

//===----------------------------------------------------------------------===//
// Embeddings and masks: integer inputs, gather DMA, equal, where, expand
//===----------------------------------------------------------------------===//

/// Embedding lookup (docs/lowering.md, "Embedding"): tiles of ids; per tile
/// one dma.load of the int32 ids into SRAM, one dma.gather of the table rows
/// they name (the DMA reads the indices from SRAM: data-dependent addresses)
/// and one dma.store of the rows, which are the output's rows in order.
void Emitter::embeddingKernel(const GraphNode &n) {
  int table = n.inputs[0], ids = n.inputs[1];
  const Shape &ts = g.values[table].shape;
  auto it = intTensor.find(ids);
  if (it == intTensor.end())
    throw CodegenError(where + ": the ids '" + g.values[ids].name +
                       "' must be an integer graph input (int64, int32 or "
                       "bool): the gather DMA reads int32 row indices");
  int64_t tableRows = ts[0], width = product(ts, 1);
  uint64_t rowBytes = uint64_t(width) * kEb;
  if (tableRows > int64_t(UINT32_MAX) || rowBytes > UINT32_MAX)
    throw CodegenError(where + ": a table of " + shapeString(ts) +
                       " is beyond the gather's 32-bit row count and row "
                       "size");
  int64_t count = g.values[ids].numElements();
  // Ids per tile: recorded in the IR (tsr-select-tiling) when legal here,
  // else the cost model's search; the index and row rings from the plan.
  MovementView mv = movementView(n);
  bool recorded = false;
  MovementDecision d = movementDecision(mv, n, recorded);
  int64_t tn = int64_t(d.tiles[0].tr);
  uint64_t idsAddr = prog.tensors[it->second].dramAddr;
  plan(cost::gatherKernel(uint64_t(count), uint64_t(tn), rowBytes,
                          prog.tensors[it->second].name, tensorName(table),
                          tensorName(n.output)));
  uint64_t tableAddr = dram(table), out = dram(n.output);
  cost::SramPlan sp =
      takeBuffers(n, movementSramPlan(mv, d, budget()), recorded);
  uint64_t idBuf[2] = {bufferAt(sp, "ids", 0), bufferAt(sp, "ids", 1)};
  uint64_t rowBuf[2] = {bufferAt(sp, "rows", 0), bufferAt(sp, "rows", 1)};
  for (int64_t r = 0, i = 0; r < count; r += tn, ++i) {
    int64_t nt = std::min(tn, count - r);
    load(idsAddr + r * 4, nt * 4, idBuf[i % 2], nt * 4, 1, nt * 4);
    uint32_t idsLoad = instrCount - 1;
    Instr gt;
    gt.op = Opcode::DmaGather;
    gt.addr[0] = tableAddr;
    gt.addr[1] = rowBuf[i % 2];
    gt.addr[2] = idBuf[i % 2];
    gt.dims[0] = uint32_t(nt);
    gt.dims[1] = uint32_t(rowBytes);
    gt.dims[2] = uint32_t(tableRows);
    gt.strides[0] = gt.strides[1] = uint32_t(rowBytes);
    // The gather reads SRAM that a load of its own queue writes: the queue
    // keeps several descriptors in flight, so the order of issue does not
    // order the two (the hazard rule leaves same-queue pairs out).
    extraDep = idsLoad;
    emit(gt);
    store(out + r * rowBytes, rowBytes, rowBuf[i % 2], rowBytes, nt, rowBytes);
  }
}

/// Where on full-shape operands (normalizeMaskOps broadcasts the others):
/// per tile, load the condition and both branches, one vec.select, store.
void Emitter::whereKernel(const GraphNode &n) {
  const Shape &os = g.values[n.output].shape;
  for (int in : n.inputs)
    if (g.values[in].shape != os)
      throw CodegenError(where + ": internal error: where operand " +
                         shapeString(g.values[in].shape) +
                         " is not the result's shape " + shapeString(os));
  int64_t total = g.values[n.output].numElements();
  int64_t cols = total % 64 == 0 ? 64 : total, rows = total / cols;
  // Tiles: recorded in the IR (tsr-select-tiling) when legal here, else the
  // cost model's search; four rings of two (the condition, both branches,
  // the result) from the kernel's plan.
  MovementView mv = movementView(n);
  bool recorded = false;
  MovementDecision d = movementDecision(mv, n, recorded);
  Tiles2D t{int64_t(d.tiles[0].tr), int64_t(d.tiles[0].tc)};
  plan(cost::chainKernel(mv.chain, d.tiles[0]));
  cost::SramPlan sp =
      takeBuffers(n, movementSramPlan(mv, d, budget()), recorded);
  uint64_t buf[4][2];
  for (unsigned s = 0; s < 2; ++s) {
    for (unsigned k = 0; k < 3; ++k)
      buf[k][s] = bufferAt(sp, ("x" + std::to_string(k)).c_str(), s);
    buf[3][s] = bufferAt(sp, "work", s);
  }
  uint64_t src[3] = {dram(n.inputs[0]), dram(n.inputs[1]), dram(n.inputs[2])};
  uint64_t dst = dram(n.output);
  forEachTile(
      rows, cols, t, [&](int i, int64_t r, int64_t c, int64_t nr, int64_t nc) {
        uint64_t off = (r * cols + c) * kEb;
        for (int k = 0; k < 3; ++k)
          load(src[k] + off, cols * kEb, buf[k][i % 2], nc * kEb, nr, nc * kEb);
        Instr in = vec(Opcode::VecSelect, nr, nc);
        in.addr[0] = buf[0][i % 2];
        in.addr[1] = buf[1][i % 2];
        in.addr[3] = buf[2][i % 2];
        in.addr[2] = buf[3][i % 2];
        for (uint32_t &st : in.strides)
          st = uint32_t(nc);
        emit(in);
        store(dst + off, cols * kEb, buf[3][i % 2], nc * kEb, nr, nc * kEb);
      });
}

/// Expand (numpy broadcast to the result's shape) by DMA: for every index
/// of the broadcast axes, one strided copy of the input into that window of
/// the result.
void Emitter::expandKernel(const GraphNode &n) {
  const Shape &os = g.values[n.output].shape;
  Shape xs(os.size() - g.values[n.inputs[0]].shape.size(), 1);
  for (int64_t d : g.values[n.inputs[0]].shape)
    xs.push_back(d);
  std::vector<int64_t> xst = stridesOf(xs), ost = stridesOf(os);
  Shape bdims, window = os;
  std::vector<size_t> baxes;
  for (size_t d = 0; d < os.size(); ++d)
    if (xs[d] == 1 && os[d] > 1) {
      bdims.push_back(os[d]);
      baxes.push_back(d);
      window[d] = 1;
    }
  uint64_t src = dram(n.inputs[0]), dst = dram(n.output);
  // Every copy the same window: one decision, one ring.
  MovementView mv = movementView(n);
  bool recorded = false;
  MovementDecision d = movementDecision(mv, n, recorded);
  cost::SramPlan p =
      takeBuffers(n, movementSramPlan(mv, d, budget()), recorded);
  uint64_t buf[2] = {bufferAt(p, "buf", 0), bufferAt(p, "buf", 1)};
  forEachIndex(bdims, [&](const std::vector<int64_t> &idx) {
    int64_t off = 0;
    for (size_t k = 0; k < idx.size(); ++k)
      off += idx[k] * ost[baxes[k]];
    copyWindow(src, dst + off * kEb, mv.views[0], mv.moves[0], d.tiles[0], buf);
  });
}

/// The mask ops as the kernels want them (docs/lowering.md, "Embedding,
/// Equal, Where, Expand"):
///  * x == y with neither a scalar constant: (x - y) == 0 (exact for finite
///    FP16 values: their difference is 0 only when they are equal);
///  * c - x with c a scalar constant: (-x) + c;
///  * where: an operand not of the result's shape is broadcast first, a
///    constant at compile time (a new weight), a run-time value by an
///    expand node.
Graph normalizeMaskOps(Graph graph) {
  Graph g;
  g.name = graph.name;
  g.values = std::move(graph.values);
  auto scalarWeight = [&](int v) {
    return g.values[v].role == ValueRole::Weight &&
           g.values[v].numElements() == 1;
  };
  auto newValue = [&](const std::string &name, const Shape &shape) {
    GraphValue v;
    v.name = name;
    v.shape = shape;
    return g.addValue(std::move(v));
  };
  auto broadcastTo = [&](int v, const Shape &os, const GraphNode &n) {
    const GraphValue &x = g.values[v];
    if (x.role == ValueRole::Weight) {
      Shape xs(os.size() - x.shape.size(), 1);
      xs.insert(xs.end(), x.shape.begin(), x.shape.end());
      std::vector<int64_t> st = stridesOf(xs);
      GraphValue w;
      w.name = x.name + ".bcast" + shapeString(os);
      w.shape = os;
      w.role = ValueRole::Weight;
      w.data.reserve(size_t(product(os)));
      forEachIndex(os, [&](const std::vector<int64_t> &idx) {
        int64_t off = 0;
        for (size_t d = 0; d < os.size(); ++d)
          off += xs[d] == 1 ? 0 : idx[d] * st[d];
        w.data.push_back(x.data[size_t(off)]);
      });
      return g.addValue(std::move(w));
    }
    GraphNode e;
    e.kind = NodeKind::Expand;
    e.name = n.name;
    e.inputs = {v};
    e.output = newValue(x.name + ".expanded" + shapeString(os), os);
    g.nodes.push_back(e);
    return e.output;
  };
  for (const GraphNode &n : graph.nodes) {
    // A copy: newValue and broadcastTo grow g.values (found by ASan: a
    // reference into it dangled after the first added value).
    const Shape os = g.values[n.output].shape;
    if (n.kind == NodeKind::Equal) {
      GraphNode eq = n;
      int a = n.inputs[0], b = n.inputs[1];
      if (scalarWeight(a) && !scalarWeight(b))
        std::swap(a, b);
      if (!scalarWeight(b)) {
        GraphNode sub;
        sub.kind = NodeKind::Sub;
        sub.name = n.name;
        sub.inputs = {a, b};
        sub.output = newValue(g.values[n.output].name + ".diff", os);
        g.nodes.push_back(sub);
        GraphValue zero;
        zero.name = n.name + ".zero";
        zero.role = ValueRole::Weight;
        zero.data = {0.0f};
        a = sub.output;
        b = g.addValue(std::move(zero));
      }
      if (g.values[a].shape != os)
        a = broadcastTo(a, os, n);
      eq.inputs = {a, b};
      g.nodes.push_back(eq);
      continue;
    }
    if (n.kind == NodeKind::Sub && scalarWeight(n.inputs[0]) &&
        g.values[n.inputs[1]].shape == os) {
      GraphNode neg;
      neg.kind = NodeKind::Neg;
      neg.name = n.name;
      neg.inputs = {n.inputs[1]};
      neg.output = newValue(g.values[n.output].name + ".neg", os);
      g.nodes.push_back(neg);
      GraphNode add = n;
      add.kind = NodeKind::Add;
      add.inputs = {neg.output, n.inputs[0]};
      g.nodes.push_back(add);
      continue;
    }
    if (n.kind == NodeKind::Where) {
      GraphNode w = n;
      for (int &in : w.inputs)
        if (g.values[in].shape != os)
          in = broadcastTo(in, os, n);
      g.nodes.push_back(w);
      continue;
    }
    g.nodes.push_back(n);
  }
  return g;
}

/// A Convert node before the first node that reads an integer input as data
/// (readsAsData), and every such reader taking the FP16 copy; an
/// embedding's ids stay int32 (docs/lowering.md, "Integer inputs").
Graph insertConversions(Graph graph) {
  Graph g;
  g.name = graph.name;
  g.values = std::move(graph.values);
  std::map<int, int> copyOf; // Integer input -> its FP16 copy.
  for (const GraphNode &n : graph.nodes) {
    GraphNode reader = n;
    for (size_t k = 0; k < reader.inputs.size(); ++k) {
      int in = reader.inputs[k];
      if (g.values[in].role != ValueRole::Input || !g.values[in].integer ||
          !readsAsData(n.kind, k))
        continue;
      auto it = copyOf.find(in);
      if (it == copyOf.end()) {
        GraphNode convert = conversionNode(g, in);
        it = copyOf.emplace(in, convert.output).first;
        g.nodes.push_back(std::move(convert));
      }
      reader.inputs[k] = it->second;
    }
    g.nodes.push_back(std::move(reader));
  }
  return g;
}

} // namespace

Graph tessera::codegen::normalizeGraph(const Graph &graph) {
  // One copy of the graph (each step moves the values on).
  return insertConversions(normalizeForChip(normalizeMaskOps(graph)));
}

arch::Program
tessera::codegen::generateProgram(const Graph &graph,
                                  const arch::ChipConfig &chip,
                                  std::vector<cost::Kernel> *plans) {
  if (plans)
    plans->clear();
  Graph normalized = normalizeGraph(graph);
  arch::Program prog = Emitter(normalized, chip, plans).run();
  if (plans)
    plans->resize(prog.layers.size());
  return prog;
}

arch::Program tessera::codegen::generateProgram(
    const Graph &graph, const arch::ChipConfig &chip,
    std::vector<cost::Kernel> *plans, ProgramSink &sink) {
  if (plans)
    plans->clear();
  Graph normalized = normalizeGraph(graph);
  arch::Program prog = Emitter(normalized, chip, plans, &sink).run();
  if (plans)
    plans->resize(prog.layers.size());
  return prog;
}

//===----------------------------------------------------------------------===//
// The unfused kernels a fused matmul group replaces (docs/fusion.md)
//===----------------------------------------------------------------------===//

std::vector<cost::Kernel> tessera::codegen::unfusedMatMulKernels(
    const arch::ChipConfig &chip, uint64_t budget,
    const cost::MatMulGroupOp &op, VectorTilingMemo *memo) {
  const std::string where = "unfused " + std::to_string(op.m) + "x" +
                            std::to_string(op.k) + "x" + std::to_string(op.n) +
                            " product";
  int64_t m = int64_t(op.m), k = int64_t(op.k), n = int64_t(op.n);
  std::vector<cost::Kernel> kernels;
  std::string a = op.a;
  cost::Constraints c;
  c.sramBytes = budget;
  // vectorKernel: the search the passes record for it (KernelDecisions.h).
  auto tiled = [&](const cost::VectorOp &v) {
    auto key = std::make_tuple(int(v.op), v.rows, v.cols, int(v.second));
    if (memo)
      if (auto hit = memo->find(key); hit != memo->end())
        return cost::vectorKernel(v, hit->second, c);
    std::optional<cost::Choice<cost::RowTiling>> best =
        cost::searchVector(chip, v, c);
    if (!best)
      throw CodegenError(where + ": no tile of its " + std::to_string(v.rows) +
                         "x" + std::to_string(v.cols) +
                         " vector kernels fits " + std::to_string(budget) +
                         " bytes of SRAM");
    if (memo)
      (*memo)[key] = best->tiling;
    return cost::vectorKernel(v, best->tiling, c);
  };
  if (op.layernorm) {
    cost::VectorOp v;
    v.op = Opcode::VecLayerNorm;
    v.rows = op.m;
    v.cols = op.k;
    v.x = op.a;
    v.y = op.gamma;
    v.beta = op.beta;
    v.out = a = op.a + ".normalized";
    kernels.push_back(tiled(v));
  }
  // matmulKernel: the searched tile (one NPU).
  GemmPlan plan = planGemm(1, m, k, n, chip, budget, where);
  std::string cur = op.out + ".product";
  kernels.push_back(cost::gemmKernel(
      {1, op.m, op.k, op.n, a, op.b, cur},
      {uint64_t(plan.tm), uint64_t(plan.tk), uint64_t(plan.tn)}));
  // The bias add (a resident row), the GELU and the residual add (a full
  // second operand) on the [m, n] view.
  auto vector = [&](Opcode opc, cost::Operand2 second, const std::string &y,
                    const std::string &out) {
    cost::VectorOp v;
    v.op = opc;
    v.rows = op.m;
    v.cols = op.n;
    v.second = second;
    v.x = cur;
    v.y = y;
    v.out = cur = out;
    kernels.push_back(tiled(v));
  };
  if (op.bias)
    vector(Opcode::VecAdd, cost::Operand2::Row, op.biasTensor,
           op.out + ".biased");
  if (op.gelu)
    vector(op.tanhGelu ? Opcode::VecGeluTanh : Opcode::VecGelu,
           cost::Operand2::None, "", op.out + ".gelu");
  if (op.residual)
    vector(Opcode::VecAdd, cost::Operand2::Full, op.residualTensor,
           op.out + ".residual");
  return kernels;
}
