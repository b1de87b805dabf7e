//===- CostModel.h - SRAM/DRAM cost model of a tiled kernel ------*- C++
//-*-===//
//
// Part of Tessera. The analytical model the tiling search, the fusion
// decisions and the report use to price a kernel before it is simulated:
// for an op (or a fused group of ops) and a tiling, its SRAM footprint with
// double buffering, its DRAM bytes and transfers, its matrix- and vector-unit
// cycles and its latency with loads, compute and stores overlapped on the
// chip's three queues; plus the roofline bound. Plain C++ (no MLIR): it reads
// the same arch::ChipConfig as the simulator and prices every instruction
// with the simulator's own formulas (tessera/Sim/Timing.h, the TesseraTiming
// library). docs/cost-model.md states every formula.
//
// The four inputs stay separate, as in Timeloop: the workload (an op's
// shape), the architecture (the chip config), the constraints (SRAM budget,
// alignment) and the mapping (the tiling). A kernel is described by tile
// CLASS (full tiles and ragged edge tiles, each with a count), never tile by
// tile, so pricing a tiling costs the same for 4 tiles or 4 million.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_COSTMODEL_COSTMODEL_H
#define TESSERA_COSTMODEL_COSTMODEL_H

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Isa.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tessera::cost {

//===----------------------------------------------------------------------===//
// Workloads, mappings and constraints
//===----------------------------------------------------------------------===//

/// `batch` independent matrix products out[M,N] = A[M,K] * B[K,N], FP16
/// operands and result, FP32 partial sums (one B per batch; a B shared by
/// every batch is one taller product: fold the batch into M).
struct GemmOp {
  uint64_t batch = 1, m = 0, k = 0, n = 0;
  std::string a = "a", b = "b", out = "out"; ///< Tensor names.
};
struct GemmTiling {
  uint64_t tm = 0, tk = 0, tn = 0;
  bool operator==(const GemmTiling &o) const {
    return tm == o.tm && tk == o.tk && tn == o.tn;
  }
};

/// How the second operand of a binary vector op is read.
enum class Operand2 { None, Full, Row, Col, Scalar };

/// A vector-unit op over the [rows, cols] view of a contiguous tensor:
/// elementwise (add ... erf, scale, copy) or row-wise (layernorm, softmax).
/// `second` is the second operand `y` of add/sub/mul/div; layernorm reads
/// gamma (named `y`) and beta (1 x cols each) once per kernel.
struct VectorOp {
  arch::Opcode op = arch::Opcode::VecCopy;
  uint64_t rows = 0, cols = 0;
  Operand2 second = Operand2::None;
  std::string x = "x", y = "y", beta = "beta", out = "out"; ///< Tensors.
  bool rowWise() const {
    return op == arch::Opcode::VecLayerNorm || op == arch::Opcode::VecSoftmax;
  }
};
/// Tiles of tr rows x tc columns (also the tiling of transposes and copies).
struct RowTiling {
  uint64_t tr = 0, tc = 0;
  bool operator==(const RowTiling &o) const { return tr == o.tr && tc == o.tc; }
};

/// `batch` slices of `rows` x `cols` FP16 elements moved from DRAM rows
/// `srcStrideBytes` apart to DRAM rows `dstStrideBytes` apart. With
/// `transpose` each [rows, cols] slice lands as [cols, rows] (a vector
/// transpose between the DMAs; dstStrideBytes separates output rows);
/// without it whole rows move (a gather by strided DMA, no compute).
struct MoveOp {
  uint64_t batch = 1, rows = 0, cols = 0;
  uint64_t srcStrideBytes = 0, dstStrideBytes = 0;
  bool transpose = false;
  std::string x = "x", out = "out";
};

/// What the mapping must respect. Defaults: the chip's whole SRAM, the code
/// generator's 64-byte buffer alignment, FP16 elements.
struct Constraints {
  uint64_t sramBytes = 0; ///< 0: the chip's sram_bytes.
  uint64_t alignBytes = 64;
  uint64_t elementBytes = 2;
  uint64_t budget(const arch::ChipConfig &chip) const {
    return sramBytes ? sramBytes : chip.sram_bytes;
  }
};

//===----------------------------------------------------------------------===//
// The kernel by tile class
//===----------------------------------------------------------------------===//

/// One DMA transfer: `rows` rows of `rowBytes` bytes, `dramStrideBytes` apart
/// in DRAM (contiguous in SRAM).
struct Transfer {
  uint64_t rows = 0, rowBytes = 0, dramStrideBytes = 0;
  /// A dma.gather of `rows` table rows: timed by timing::gatherCycles (the
  /// indices read first, every row its own bursts) and issued after the
  /// load before it in the queue has completed (it reads that load's ids).
  bool gather = false;
  uint64_t bytes() const { return rows * rowBytes; }
};
/// `count` transfers of one shape.
struct TransferClass {
  Transfer shape;
  uint64_t count = 0;
};
/// The transfers of one operand tensor of a kernel.
struct Stream {
  std::string tensor;       ///< The DRAM tensor (aliases share one name).
  bool store = false;       ///< SRAM -> DRAM (else DRAM -> SRAM).
  bool prologue = false;    ///< Loaded once before the first tile (resident).
  uint64_t tensorBytes = 0; ///< The whole tensor (roofline, kept in SRAM).
  std::vector<TransferClass> classes;
  /// Loads: bytes from the tensor's start the first step reads up to.
  /// Stores, written row block by row block: each block of `blockBytes`
  /// from the start is complete after `storesPerBlock` more stores (0: not
  /// in order, complete only at the end).
  uint64_t firstNeedBytes = 0, blockBytes = 0, storesPerBlock = 0;
};
/// `count` compute instructions of one shape (dims as in the ISA).
struct ComputeClass {
  arch::Opcode op = arch::Opcode::VecCopy;
  uint64_t dims[3] = {0, 0, 0};
  uint64_t count = 0;
  /// Bit i set: the instruction reads stream i's load slot (a later load
  /// into that slot waits for it, docs/cost-model.md "Latency"); 0: it may
  /// read any, so loads wait for the step's last instruction.
  /// kReadsNoSlot: it reads none (only resident or accumulated data).
  uint64_t reads = 0;
  static constexpr uint64_t kReadsNoSlot = uint64_t(1) << 63;
};
/// One step of a kernel's tile loop: its loads (in queue order), its compute
/// instructions (in order, count 1 each) and its stores, each transfer with
/// the index of its stream in Kernel::streams.
struct Step {
  std::vector<std::pair<unsigned, Transfer>> loads, stores;
  std::vector<ComputeClass> compute;
};
/// A sequence of steps and repeated sub-sequences: the kernel's loop nest by
/// tile class. Item i is `steps[i]` (when `body` is null) or `*body`,
/// repeated `repeat` times.
struct Seq {
  struct Item {
    uint64_t repeat = 1;
    Step step;
    std::shared_ptr<Seq> body;
  };
  std::vector<Item> items;
  void add(Step s, uint64_t repeat = 1) {
    if (repeat)
      items.push_back({repeat, std::move(s), nullptr});
  }
  void add(Seq s, uint64_t repeat = 1) {
    if (repeat && !s.items.empty())
      items.push_back({repeat, {}, std::make_shared<Seq>(std::move(s))});
  }
};
/// A tiled kernel by class: its operand streams (with every transfer in
/// counts of identical ones), its compute by class, the loads it makes once
/// before the tile loop, the loop itself and its buffers.
struct Kernel {
  std::string kind; ///< "gemm", "vector", "transpose", "copy", "chain",
                    ///< "reduce", "gather", "im2col", "pool", "parts".
  std::vector<Stream> streams;
  std::vector<ComputeClass> compute;
  std::vector<std::pair<unsigned, Transfer>> prologue;
  Seq loop;
  /// No compute between a tile's load and its store: the store reads the
  /// load's buffer, so a ring slot is free once its store is done.
  bool storeReadsLoadBuffer = false;
  uint64_t sramBytes = 0; ///< Every buffer, aligned, rings included.
  uint64_t tiles = 0;     ///< Steps of the tile loop.
  /// SRAM layout facts for the next kernel's overlap (buffers are allocated
  /// from address 0 in the emitter's order): where the first step's loads
  /// (and the prologue) end, and where the first buffer a store reads
  /// begins.
  uint64_t firstLoadSramEnd = 0, storeSramBegin = 0;
  /// A layer emitted as several kernels run back to back (conv: im2col,
  /// then one GEMM per group; concat: one copy per input; expand: one copy
  /// per broadcast index). When set, the kernel is these parts in order
  /// and its own streams and loop are empty; evaluate() and
  /// evaluateSequence() price the parts as a sequence.
  std::vector<Kernel> parts;
};

/// Recounts a kernel built step by step outside the builders (its streams'
/// transfer classes, compute classes and step count from its prologue and
/// loop).
void finalizeKernel(Kernel &k);
/// Appends `part` to `layer`: the first part is the layer's kernel, a
/// second one turns it into a kernel of parts.
void appendPart(Kernel &layer, Kernel part);

/// The vector-unit kernels with more than one operand stream or a chain of
/// instructions per tile, on the [rows, cols] view of contiguous tensors
/// (docs/cost-model.md, "Elementwise chains"): per tile one load of each
/// input (`inputBytes` per element each), the chain of compute instructions
/// (each over the tile), one store of `outBytes` per element. Buffers: two
/// slots per input and `workSlots` slots of `workBytes` per element (the
/// activation chain's FP32 tile, the output tiles).
struct ChainOp {
  uint64_t rows = 0, cols = 0;
  std::vector<std::string> inputs;
  std::vector<uint64_t> inputBytes;
  std::vector<arch::Opcode> chain;
  std::string out = "out";
  uint64_t outBytes = 2, workBytes = 2, workSlots = 2;
};
Kernel chainKernel(const ChainOp &op, const RowTiling &t,
                   const Constraints &c = {});

/// A row reduction [rows, cols] -> rows x 1 (vec.reduce_sum/_max): per tile
/// of tr whole rows one load, one reduction, one store of tr elements.
Kernel reduceKernel(arch::Opcode op, uint64_t rows, uint64_t cols, uint64_t tr,
                    const std::string &x, const std::string &out,
                    const Constraints &c = {});

/// An embedding lookup of `count` ids in tiles of `tn`: per tile one load of
/// the int32 ids, one dma.gather of tn rows of `rowBytes`, one store.
Kernel gatherKernel(uint64_t count, uint64_t tn, uint64_t rowBytes,
                    const std::string &ids, const std::string &table,
                    const std::string &out, const Constraints &c = {});

/// Builders: the kernel the code generator emits for an op and a tiling
/// (docs/lowering.md), by tile class. They do not check the SRAM budget
/// (evaluate() and the search do).
Kernel gemmKernel(const GemmOp &op, const GemmTiling &t,
                  const Constraints &c = {});
Kernel vectorKernel(const VectorOp &op, const RowTiling &t,
                    const Constraints &c = {});
Kernel moveKernel(const MoveOp &op, const RowTiling &t,
                  const Constraints &c = {});

//===----------------------------------------------------------------------===//
// Costs
//===----------------------------------------------------------------------===//

/// The roofline bound: compute at peak rate vs the unavoidable DRAM bytes
/// (each input and weight read once, each result written once) at peak
/// bandwidth. Sums over ops give a layer's and a frame's bound.
struct Roofline {
  double computeCycles = 0; ///< MACs at the array's rate + vector passes.
  double memoryCycles = 0;  ///< Unavoidable bytes / dramBytesPerCycle().
  uint64_t unavoidableBytes = 0;
  double boundCycles() const {
    return computeCycles > memoryCycles ? computeCycles : memoryCycles;
  }
  Roofline &operator+=(const Roofline &o) {
    computeCycles += o.computeCycles;
    memoryCycles += o.memoryCycles;
    unavoidableBytes += o.unavoidableBytes;
    return *this;
  }
};

enum class Bottleneck { Load, Compute, Store, DramBus };
const char *bottleneckName(Bottleneck b);

struct Cost {
  uint64_t sramBytes = 0;
  uint64_t dramBytesRead = 0, dramBytesWritten = 0; ///< Payload.
  uint64_t dramBusBytes = 0;      ///< After burst rounding, both directions.
  uint64_t loads = 0, stores = 0; ///< DMA transfers.
  uint64_t macs = 0;
  uint64_t matrixCycles = 0, vectorCycles = 0;
  /// Busy time of each queue (uncontended DMA times) and of the DRAM bus.
  uint64_t loadQueueCycles = 0, computeQueueCycles = 0, storeQueueCycles = 0;
  uint64_t dramBusCycles = 0;
  uint64_t latencyCycles = 0; ///< Modelled kernel latency.
  Bottleneck bottleneck = Bottleneck::Compute;
  Roofline roofline;
  uint64_t dramBytes() const { return dramBytesRead + dramBytesWritten; }
};

/// Prices a kernel alone on an idle chip; tensors named in `keptInSram` live
/// in SRAM for the whole kernel (their transfers vanish, their bytes join
/// the footprint).
Cost evaluate(const arch::ChipConfig &chip, const Kernel &k,
              const std::set<std::string> &keptInSram = {},
              const Constraints &c = {});

/// Kernels run back to back, as a program runs its layers: the queues carry
/// over from one kernel to the next, so a kernel's first loads overlap the
/// previous kernel's last stores unless they read what those stores write.
struct SequenceCost {
  std::vector<Cost> kernels;       ///< Each kernel alone (evaluate()).
  std::vector<uint64_t> endCycles; ///< Each kernel's last store, in sequence.
  /// endCycles[i] - endCycles[i-1]: the cycles kernel i adds to the sequence
  /// (the simulator's attributed cycles per layer).
  std::vector<uint64_t> attributedCycles;
  uint64_t latencyCycles = 0;
  Roofline roofline;
};
SequenceCost evaluateSequence(const arch::ChipConfig &chip,
                              const std::vector<Kernel> &kernels,
                              const std::set<std::string> &keptInSram = {},
                              const Constraints &c = {});

/// A fused group: member kernels run one after another as one kernel, the
/// tensors in `keptInSram` (typically produced by one member and consumed by
/// a later one) never touch DRAM and stay resident in SRAM.
struct FusedGroup {
  std::vector<Kernel> members;
  std::set<std::string> keptInSram;
};
Cost evaluate(const arch::ChipConfig &chip, const FusedGroup &g,
              const Constraints &c = {});

/// Why a mapping is illegal on a chip, or nullopt: e.g. "needs 40000 bytes
/// of SRAM, the budget is 32768".
std::optional<std::string> checkFits(const arch::ChipConfig &chip,
                                     const Kernel &k,
                                     const Constraints &c = {});

//===----------------------------------------------------------------------===//
// Tiling search
//===----------------------------------------------------------------------===//

/// Candidate extents for a dimension `d` with a natural unit (the array's
/// extent): d itself, multiples of `unit` below d, and unit/2, unit/4, ...
/// down to 8; ascending, unique.
std::vector<uint64_t> tileCandidates(uint64_t d, uint64_t unit);

/// The order of every tiling search: lower latency, then fewer DRAM bus
/// bytes, then a smaller footprint (strictly better; equal costs keep the
/// earlier candidate, and searches visit larger tiles first).
bool betterCost(const Cost &a, const Cost &b);
/// One candidate of a tiling search: its cost, or nullopt when it does not
/// fit the budget or cannot beat `best` (its lower bound, the compute
/// queue's instructions back to back or the DRAM bus's data phases back to
/// back, is above best's latency; such a candidate can neither win nor
/// tie).
std::optional<Cost> priceCandidate(const arch::ChipConfig &chip,
                                   const Kernel &k, const Constraints &c,
                                   const Cost *best);

template <typename TilingT> struct Choice {
  TilingT tiling;
  Cost cost;
  uint64_t candidates = 0; ///< Tilings considered (fitting or not).
};
/// One candidate of a search: builds its kernel, prices it
/// (priceCandidate) and keeps it in `best` when strictly better (betterCost;
/// equal costs keep the earlier candidate); `n` counts the candidates.
template <typename TilingT, typename Build>
void consider(const arch::ChipConfig &chip, const Constraints &c,
              const TilingT &t, Build build,
              std::optional<Choice<TilingT>> &best, uint64_t &n) {
  ++n;
  std::optional<Cost> cost =
      priceCandidate(chip, build(t), c, best ? &best->cost : nullptr);
  if (cost && (!best || betterCost(*cost, best->cost)))
    best = Choice<TilingT>{t, *cost, 0};
}
/// The lowest-latency tiling that fits; ties go to fewer DRAM bus bytes,
/// then the smaller footprint, then the larger tiles (lexicographic tm, tk,
/// tn / tr, tc). nullopt when no tiling fits.
std::optional<Choice<GemmTiling>> searchGemm(const arch::ChipConfig &chip,
                                             const GemmOp &op,
                                             const Constraints &c = {});
/// How a GEMM kernel's output tiles are divided among the chip's NPUs
/// (docs/lowering.md, "Two NPUs"). Part p runs the output tiles
/// [starts[p], starts[p + 1]) of the loop order (batch, row tile, column
/// tile) on NPU p, each part a GEMM of its own on the same tiling.
struct GemmSplit {
  GemmTiling tiling;  ///< The tiling every part runs (a split may re-tile M).
  unsigned parts = 1; ///< 1: the whole product on NPU 0.
  /// The loop divided: 0 the batch, 1 the row tiles, 2 the column tiles;
  /// -1 when not divided.
  int axis = -1;
  std::vector<uint64_t> starts;
  Kernel longest;         ///< The longest part's kernel (the whole: unsplit).
  uint64_t cycles = 0;    ///< Modelled latency of the parts together.
  uint64_t dramBytes = 0; ///< DRAM bytes of all parts together.
  unsigned npuOf(uint64_t tile) const {
    unsigned p = 0;
    while (p + 2 < starts.size() && tile >= starts[p + 1])
      ++p;
    return p;
  }
};
/// "batch", "rows", "cols" (axis 0, 1, 2); "" for -1.
const char *gemmSplitAxisName(int axis);
/// `op` tiled by `t` as `parts` contiguous parts (ceil(units / parts) units
/// each, the last the rest) of the outermost loop with more than one
/// iteration: the batch, else the row tiles, else the column tiles. The
/// parts run at once sharing the DRAM bus: cycles = max(longest part, sum of
/// the parts' bus cycles) + the bus cycles beyond the whole's (operands
/// every part loads) + npu_sync_cycles. parts = 1, or no loop to divide:
/// the whole kernel on one NPU.
GemmSplit divideGemm(const arch::ChipConfig &chip, const GemmOp &op,
                     const GemmTiling &t, unsigned parts);
/// The split the cost model prefers: for 2 .. npus parts, on `t` and (a
/// product of one row tile of at least 16 rows) re-tiled to one row tile
/// per part, the lowest `cycles` when below the whole's latency; only a
/// product the matrix unit bounds is divided. One part otherwise.
GemmSplit chooseGemmSplit(const arch::ChipConfig &chip, const GemmOp &op,
                          const GemmTiling &t);

std::optional<Choice<RowTiling>> searchVector(const arch::ChipConfig &chip,
                                              const VectorOp &op,
                                              const Constraints &c = {});
std::optional<Choice<RowTiling>> searchMove(const arch::ChipConfig &chip,
                                            const MoveOp &op,
                                            const Constraints &c = {});
/// A row reduction (reduceKernel) of `rows` x `cols`: tiles of tr whole
/// rows (tc = cols), tr from the vector row candidates.
std::optional<Choice<RowTiling>> searchReduce(const arch::ChipConfig &chip,
                                              arch::Opcode op, uint64_t rows,
                                              uint64_t cols,
                                              const Constraints &c = {});
/// An elementwise chain (chainKernel): the row candidates times the column
/// candidates (unit 64), as searchVector's elementwise ops.
std::optional<Choice<RowTiling>> searchChain(const arch::ChipConfig &chip,
                                             const ChainOp &op,
                                             const Constraints &c = {});
/// The smallest tile the row searches consider (what a "nothing fits"
/// message names): one row, and `cols` when whole rows are needed, else
/// the smallest column candidate (min(cols, 8)).
RowTiling smallestRowTiling(uint64_t rows, uint64_t cols, bool wholeRows);

//===----------------------------------------------------------------------===//
// Fused kernels (docs/fusion.md)
//===----------------------------------------------------------------------===//

/// The source's split (docs/fusion.md, "tsr-keep-kv"): the K and V columns
/// of the first `heads` heads of a packed QKV projection (`rows` rows, batch
/// 1) stay in SRAM from the projection's kernel into the attention's, in a
/// resident region at `offset`: K_h at kAddr(h), V_h at vAddr(h), each
/// [rows, headDim] FP16 with row stride headDim, blocks 64-byte aligned.
/// The projection's output columns [kColumn + h headDim, + headDim) and
/// [vColumn + h headDim, + headDim) go there instead of DRAM.
struct ResidentKv {
  uint64_t heads = 0, headDim = 0, rows = 0, kColumn = 0, vColumn = 0;
  uint64_t offset = 0;
  uint64_t blockBytes(const Constraints &c = {}) const {
    uint64_t b = rows * headDim * c.elementBytes;
    return (b + c.alignBytes - 1) / c.alignBytes * c.alignBytes;
  }
  /// The region: heads x 2 blocks.
  uint64_t bytes(const Constraints &c = {}) const {
    return heads * 2 * blockBytes(c);
  }
  uint64_t kAddr(uint64_t h, const Constraints &c = {}) const {
    return offset + 2 * h * blockBytes(c);
  }
  uint64_t vAddr(uint64_t h, const Constraints &c = {}) const {
    return offset + (2 * h + 1) * blockBytes(c);
  }
};

/// One column segment of a fused matmul's output tile: columns [col, col +
/// cols) of the product; `kept`: they go to the resident region at `sram`
/// (row stride `sramStride` elements, the tile's first row), else to DRAM.
struct ColumnSegment {
  uint64_t col = 0, cols = 0;
  bool kept = false;
  uint64_t sram = 0, sramStride = 0;
};
/// The segments of the output columns [c0, c0 + cn) of rows starting at
/// `row`, in column order (one stored segment when nothing is kept).
std::vector<ColumnSegment> columnSegments(const ResidentKv &kv, uint64_t row,
                                          uint64_t c0, uint64_t cn,
                                          const Constraints &c = {});

/// Multi-head attention as one kernel (a `tsr.group` of kind "attention"):
/// for each batch b and head h, K_h and V_h ([sk, headDim], strided columns
/// of their DRAM tensors) stay in SRAM, and per tile of `tq` query rows the
/// kernel scales Q, computes the FP32 scores Q K_h^T, their softmax (FP16)
/// and the product with V_h, storing the tile's context into its head's
/// columns of the output. Scores and probabilities never go to DRAM.
/// Row `s` of batch `b` of operand x starts at element
/// `xOffset + b * xBatchStride + s * xRowStride` of tensor `x`.
struct AttentionOp {
  uint64_t batch = 1, heads = 1, sq = 0, sk = 0, headDim = 0;
  uint64_t qOffset = 0, kOffset = 0, vOffset = 0;
  uint64_t qRowStride = 0, kRowStride = 0, vRowStride = 0, outRowStride = 0;
  uint64_t qBatchStride = 0, kBatchStride = 0, vBatchStride = 0,
           outBatchStride = 0;
  std::string q = "q", k = "k", v = "v", out = "out"; ///< Tensor names.
  /// K_h and V_h of heads h < kv.heads are read from the resident region
  /// (batch 1): no DMA; when every head is resident the kernel has no K/V
  /// slots.
  ResidentKv kv;
};
/// Query rows per tile (a head's whole score rows are computed at once).
struct AttentionTiling {
  uint64_t tq = 0;
};
/// SRAM of the fused attention kernel: two slots each of K_h, V_h, the Q
/// tile and the output tile, one scaled-Q tile, one FP32 score tile and one
/// FP16 probability tile (the compute queue alone touches those).
uint64_t attentionSramBytes(const AttentionOp &op, const AttentionTiling &t,
                            const Constraints &c = {});
Kernel attentionKernel(const AttentionOp &op, const AttentionTiling &t,
                       const Constraints &c = {});
/// The lowest-latency query tile that fits (tq <= matrix_accumulator_rows),
/// ties to the larger tile; nullopt when not even 8 rows fit.
std::optional<Choice<AttentionTiling>>
searchAttention(const arch::ChipConfig &chip, const AttentionOp &op,
                const Constraints &c = {});

/// The online (streaming) softmax form of the fused attention (a group with
/// `softmax = "online"`, docs/fusion.md): for each batch, head and tile of
/// `tq` query rows, the kernel walks K_h and V_h in tiles of `tk` rows
/// (double-buffered) and keeps per query row the running maximum m, the
/// running sum l of exp(s - m) and an FP32 accumulator O of the
/// probabilities times V, rescaling l and O by exp(m_old - m_new) whenever
/// the maximum grows; at the end O / l is the tile's context. Scores and
/// probabilities exist one [tq, tk] tile at a time, so long sequences fit
/// small SRAMs.
struct OnlineAttentionTiling {
  uint64_t tq = 0, tk = 0;
};
/// SRAM of the online kernel: two slots each of the K and V tiles, the Q
/// tile and the output tile, the FP32 accumulator, m (two slots) and l, and
/// the compute queue's own FP32 scores, FP16 probabilities, row sums and
/// rescale factors (placed by liveness: onlineAttentionSramPlan).
uint64_t onlineAttentionSramBytes(const AttentionOp &op,
                                  const OnlineAttentionTiling &t,
                                  const Constraints &c = {});
Kernel onlineAttentionKernel(const AttentionOp &op,
                             const OnlineAttentionTiling &t,
                             const Constraints &c = {});
/// Why an online tiling is illegal (tq outside [1, Sq] or above
/// matrix_accumulator_rows, tk outside [1, Sk], more SRAM than the budget),
/// or nullopt.
std::optional<std::string> checkOnlineAttention(const arch::ChipConfig &chip,
                                                const AttentionOp &op,
                                                const OnlineAttentionTiling &t,
                                                const Constraints &c = {});
/// The smallest online tile the search considers (tq = tk = min(8, S)):
/// its footprint is what a remark names when nothing fits.
OnlineAttentionTiling onlineAttentionMinTiling(const AttentionOp &op);
/// The lowest-latency online tiling that fits: tq from tileCandidates(Sq,
/// 32) up to matrix_accumulator_rows, tk from tileCandidates(Sk,
/// matrix_cols), each priced by tile class (so the search's cost does not
/// depend on the number of tiles); ties to the larger tq, then the larger
/// tk; nullopt when not even the smallest fits.
std::optional<Choice<OnlineAttentionTiling>>
searchOnlineAttention(const arch::ChipConfig &chip, const AttentionOp &op,
                      const Constraints &c = {});

/// A matrix product with its prologue and epilogue fused into one kernel (a
/// `tsr.group` of kind "matmul", docs/fusion.md): out[M,N] = epilogue(
/// prologue(A)[M,K] * B[K,N]), B shared (a weight; any batch of A folded
/// into M). The kernel is gemmKernel's loop nest with
///  * `layernorm`: each A row tile (the whole K row: tk must be K) is
///    normalized in place in SRAM by the vector unit (vec.layernorm with
///    gamma and beta, 1 x K each, resident) before the matrix unit reads it;
///    the normalized tensor never goes to DRAM;
///  * on each output tile, after its last K step, in place in the output
///    slot: `bias` (vec.add of the resident 1 x N row), `gelu` (vec.gelu,
///    or vec.gelu_tanh with `tanhGelu`), `residual` (vec.add of an [M, N]
///    tile loaded by DMA into its own two slots), then the one store;
///  * `foldBias` (tsr-fold-bias, with `bias`): the matrix unit adds the
///    bias instead of a vec.add. Each A slot has one column more (row stride
///    tk + 1), a column of ones filled once (vec.fill) that no load touches;
///    each B slot one row more, into which the bias segment of the tile's
///    columns is loaded after each last-K-step B load. The last K step's
///    columns sit right-aligned against those (A columns and B rows
///    [tk - k_last, tk)), and its product multiplies k_last + 1: the bias
///    row times the ones column is added in the same folds, rounded once.
///    Free on the weight-stationary array when k_last mod matrix_rows != 0
///    (the last fold has a spare row); the cost model prices it either way.
struct MatMulGroupOp {
  uint64_t m = 0, k = 0, n = 0;
  bool layernorm = false, bias = false, gelu = false, tanhGelu = false,
       residual = false, foldBias = false;
  std::string a = "a", b = "b", out = "out", gamma = "gamma", beta = "beta",
              biasTensor = "bias", residualTensor = "residual";
  /// The output columns kept in SRAM for the next kernel (tsr-keep-kv):
  /// each output tile's last epilogue instruction (a vec.copy without an
  /// epilogue) writes those columns into the resident region instead of
  /// the output slot, and they are not stored.
  ResidentKv kv;
};
/// SRAM of the fused matmul kernel: the resident rows (bias al(N e), gamma
/// and beta al(K e) each), then two slots each of A, B, the output tile, the
/// FP32 accumulator (when K takes several steps) and the residual tile.
/// With `foldBias` there is no resident bias row, and the A and B slots are
/// tm (tk + 1) and (tk + 1) tn elements.
uint64_t matmulGroupSramBytes(const MatMulGroupOp &op, const GemmTiling &t,
                              const Constraints &c = {});
Kernel matmulGroupKernel(const MatMulGroupOp &op, const GemmTiling &t,
                         const Constraints &c = {});
/// Why a tiling of the group is illegal (a non-positive tile, tk != K with
/// a layernorm prologue, tm above matrix_accumulator_rows, more SRAM than
/// the budget), or nullopt.
std::optional<std::string> checkMatMulGroup(const arch::ChipConfig &chip,
                                            const MatMulGroupOp &op,
                                            const GemmTiling &t,
                                            const Constraints &c = {});
/// The footprint of the search's smallest candidate tile (what the error
/// names when nothing fits).
uint64_t matmulGroupMinSramBytes(const arch::ChipConfig &chip,
                                 const MatMulGroupOp &op,
                                 const Constraints &c = {});
/// The lowest-latency legal tiling (searchGemm's candidates and tie rule;
/// tk = K with a layernorm prologue); nullopt when none fits.
std::optional<Choice<GemmTiling>>
searchMatMulGroup(const arch::ChipConfig &chip, const MatMulGroupOp &op,
                  const Constraints &c = {});

} // namespace tessera::cost

#endif // TESSERA_COSTMODEL_COSTMODEL_H
