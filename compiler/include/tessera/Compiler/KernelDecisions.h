//===- KernelDecisions.h - the decisions of the unfused kernels --*- C++
//-*-===//
//
// Part of Tessera. What the kernel of a single graph node (an op outside any
// fused group) needs decided before it is emitted, and the one rule each
// decision follows, shared by the passes that record it in the IR and by
// the code generator that consumes it (docs/lowering.md, "Decisions of the
// unfused kernels"):
//
//   tiling     the cost model's search (lowest modelled latency under the
//              SRAM budget): tsr-select-tiling records it as `tsr.tiling`,
//              tsr-verify-tiling checks a recorded one (checkTiling);
//   SRAM plan  the kernel's buffers for that tiling, placed by
//              cost::allocateSram: tsr-allocate-sram records it as
//              `tsr.sram`, tsr-verify-sram proves it.
//
// The code generator runs the recorded tiling when it is legal on the chip
// it compiles for (else the same search), and takes the recorded offsets
// when it runs the recorded tiling (else places the same plan itself), so a
// graph built without the passes (unit tests) gets the same program.
//
// Adding a kernel kind: give it a DecisionKind (decisionKindOf), a case in
// chooseTiling, checkTiling and sramPlanOf below (KernelDecisions.cpp), a
// plan builder in cost/SramPlan.h and, when it has one, a tiling search in
// CostModel.h; its emitter then calls Emitter::rowTiling (or reads its own
// recorded fields) and Emitter::takeBuffers (Codegen.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_COMPILER_KERNELDECISIONS_H
#define TESSERA_COMPILER_KERNELDECISIONS_H

#include "tessera/Compiler/Graph.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/CostModel/MovementKernels.h"
#include "tessera/CostModel/SramPlan.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Isa.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tessera::codegen {

/// The families of unfused kernels whose decisions live in the IR.
enum class DecisionKind {
  None,   ///< No kernel (free reshapes), a fused group, or a kind whose
          ///< decisions are still made at emission.
  MatMul, ///< matmulKernel: cost::searchGemm on matmulGemmOf, tiling (tm,
          ///< tk, tn, and on a chip of several NPUs the split: npus and
          ///< the `split` axis); SRAM plan cost::gemmSramPlan.
  Vector, ///< rowKernel, binaryKernel: cost::vectorKernel on a [rows, cols]
          ///< view, tiling (tr, tc).
  Reduce, ///< reduceKernel: tiles of tr whole rows (tc = cols).
  Chain,  ///< activationKernel: cost::chainKernel, tiling (tr, tc); also an
          ///< integer input's int32 -> FP16 conversion (NodeKind::Convert).
  // The movement and CNN kernels (MovementDecisions.cpp):
  Move,   ///< Slice, Transpose, Expand (tr, tc), Concat (tr<i>, tc<i>
          ///< per input): cost::moveKernel.
  Conv,   ///< im2col band (cb, toh) and the GEMM per group (tm, tk, tn,
          ///< npus).
  Pool,   ///< Pooling band (cb, toh); a global average's GEMM (tm, tk, tn).
  Gather, ///< Embedding: tr ids per tile.
  Where,  ///< cost::chainKernel of vec.select (tr, tc).
};
DecisionKind decisionKindOf(const GraphNode &n);

/// A tiling as `tsr.tiling` records it: its fields in order (tr, tc, ...)
/// and the modelled cost of the kernel it gives.
struct TilingChoice {
  std::vector<std::pair<std::string, int64_t>> fields;
  /// String fields (a product's `split` axis: what the code generator
  /// derives from `npus`, recorded for the reader).
  std::vector<std::pair<std::string, std::string>> labels;
  /// The modelled cost recorded with it (sram_bytes, dram_bytes, cycles;
  /// a product split across NPUs: its longest part's SRAM, every part's
  /// DRAM bytes, the parts' cycles together).
  cost::Cost cost;
};

/// The cost model's tiling for node `n` of `g` (a node of the normalized
/// graph, normalizeGraph). nullopt: with `error` empty, the node's kind
/// has no tiling here (DecisionKind None); else no tiling fits and `error`
/// names the bytes the smallest one needs.
std::optional<TilingChoice> chooseTiling(const Graph &g, const GraphNode &n,
                                         const arch::ChipConfig &chip,
                                         const cost::Constraints &c,
                                         std::string &error);
/// Why the tiling recorded in `n.tiling` cannot run on `chip` (a missing or
/// non-positive field, a tile larger than the view, a partial row for a
/// row-wise op, a product's tm above the accumulator rows or npus outside
/// [1, chip.npus], more SRAM than the budget), or nullopt. Kinds without a
/// tiling here: nullopt.
std::optional<std::string> checkTiling(const Graph &g, const GraphNode &n,
                                       const arch::ChipConfig &chip,
                                       const cost::Constraints &c);
/// The kernel's buffers for the tiling recorded in `n.tiling`, placed by
/// cost::allocateSram. nullopt: with `error` empty, the kind has no plan;
/// else why (no tiling recorded, an illegal one).
std::optional<cost::SramPlan> sramPlanOf(const Graph &g, const GraphNode &n,
                                         const arch::ChipConfig &chip,
                                         const cost::Constraints &c,
                                         std::string &error);

/// The buffers a kernel runs with: `need` (the plan builder's, placed) with
/// the offsets of the plan recorded in the IR (`n.sram`) when the kernel
/// runs the recorded tiling (`recordedTile`) and a plan is recorded. Every
/// buffer of `need` must be in the recorded plan with at least its bytes,
/// and the result must fit `budget` with no two live buffers overlapping,
/// else CodegenError "<where>: the SRAM plan recorded in the IR (tsr.sram)
/// ...". The one rule of the fused and the unfused kernels.
cost::SramPlan applyRecordedPlan(const std::string &where, const GraphNode &n,
                                 cost::SramPlan need, bool recordedTile,
                                 uint64_t budget);

/// The graph as the emitter lowers it (mask ops rewritten, reductions over
/// non-trailing axes moved last, a Convert node before the first node that
/// reads an integer input as data, every such reader taking its FP16 copy):
/// the nodes the decisions are made for. A node rewritten into several
/// keeps its recorded decisions on the last one that is not a Reshape (the
/// others decide at emission); a Convert node carries those recorded for
/// its input (GraphValue::convertTiling, convertSram).
Graph normalizeGraph(const Graph &graph);

/// Whether operand `operand` of a `kind` node reads an integer input as
/// data, i.e. takes its FP16 copy: every operand but an embedding's ids
/// (and a conversion's own input).
bool readsAsData(NodeKind kind, size_t operand);
/// The Convert node of integer input `value` (its output value added to
/// `g`, the node not): named "<input> (int32 to fp16)" (its layer), output
/// "<input>.f16", with the decisions recorded for the input's conversion.
/// Its kernel is a chain (DecisionKind::Chain: vec.copy of int32 tiles
/// into FP16 tiles, activationChainOp).
GraphNode conversionNode(Graph &g, int value);

//===----------------------------------------------------------------------===//
// The vector family's views (shared by the decisions and the emitter)
//===----------------------------------------------------------------------===//

/// The product a MatMul node runs (matmulKernel): batch x [M, K] x [K, N]
/// with numpy broadcasting of the batch axes; a B shared by every batch
/// folds A's batch into M (one taller product). Tensor names are the graph
/// values'.
cost::GemmOp matmulGemmOf(const Graph &g, const GraphNode &n);
/// Every kind's error when no tiling fits: "no tiling of the <kernel> fits
/// <budget> bytes of SRAM; <smallest> needs <least> bytes" (`smallest`: "one
/// row of 4096 elements", "the smallest tile (1 x 8)").
std::string noFit(const std::string &kernel, uint64_t least, uint64_t budget,
                  const std::string &smallest = "the smallest");
/// The SRAM bytes of the smallest GEMM tile the search considers (what a
/// "no tiling fits" error names).
uint64_t leastGemmBytes(const arch::ChipConfig &chip, const cost::GemmOp &op,
                        const cost::Constraints &c);

/// The scalar weight of a Mul or Div that becomes a VecScale immediate (the
/// other operand has the result's shape), or -1.
int immOperand(const Graph &g, const GraphNode &n);

/// How a binary op's second operand is read (binaryKernel).
enum class Broadcast { Full, Row, Col, Scalar, Other };

/// The vector-unit kernel of an elementwise, row-wise or binary node:
/// `op` on the [rows, cols] view (op.rows counts every block's rows),
/// `src` the value read as x (and for a binary op `y` the second operand,
/// `kind` how it is read, repeated over `blocks` blocks of op.rows / blocks
/// rows, y advancing `yBlock` elements per block); `imm` the instruction's
/// immediate.
struct VectorView {
  cost::VectorOp op;
  int src = -1, y = -1;
  float imm = 0;
  Broadcast kind = Broadcast::Full;
  uint64_t blocks = 1;
  int64_t yBlock = 0;
  uint64_t blockRows() const { return blocks ? op.rows / blocks : op.rows; }
};
/// The view of node `n`, or nullopt with `error` (a softmax not over the
/// last axis, an unsupported broadcast); tensor names are the graph
/// values'.
std::optional<VectorView> vectorViewOf(const Graph &g, const GraphNode &n,
                                       std::string &error);
/// The view of a reduction over the trailing axes: [rows, cols] in, rows
/// out.
struct ReduceView {
  arch::Opcode op = arch::Opcode::VecReduceSum;
  uint64_t rows = 0, cols = 0;
};
ReduceView reduceViewOf(const Graph &g, const GraphNode &n);
/// An activation's instructions per tile (opcode, immediate) and its chain
/// kernel on the [rows, 64] view (FP16 input tiles, FP32 work tiles; a
/// conversion: int32 input tiles, FP16 work tiles).
std::vector<std::pair<arch::Opcode, float>> activationChain(const GraphNode &n);
cost::ChainOp activationChainOp(const Graph &g, const GraphNode &n);

//===----------------------------------------------------------------------===//
// The movement and CNN kernels (MovementDecisions.cpp)
//===----------------------------------------------------------------------===//

/// The kernel(s) of a Move, Conv, Pool, Gather or Where node, as the
/// emitter runs them (the views of cost/MovementKernels.h).
struct MovementView {
  DecisionKind kind = DecisionKind::None;
  /// Move: one copy per entry (Concat: per input), each `repeat` times (an
  /// Expand: once per broadcast index); `views` the copies' windows.
  std::vector<cost::CopyView> views;
  std::vector<cost::MoveOp> moves;
  uint64_t repeat = 1;
  cost::ConvOp conv;
  cost::PoolOp pool;
  bool global = false; ///< Pool: a global average (a GEMM).
  cost::GemmOp gemm;   ///< Conv: one group's GEMM; a global average's.
  uint64_t count = 0, rowBytes = 0; ///< Gather.
  cost::ChainOp chain;              ///< Where.
};
/// The view of node `n` (nullopt: not one of these kinds, or a transpose
/// that only relabels axes of extent 1: no kernel). Tensor names are the
/// graph values'.
std::optional<MovementView> movementViewOf(const Graph &g, const GraphNode &n);
DecisionKind movementKindOf(const GraphNode &n);

/// A decision of these kinds: the copies' tiles (Concat: one per input;
/// Gather: tr ids), the band and the GEMM tile with its NPU split.
struct MovementDecision {
  std::vector<cost::RowTiling> tiles;
  cost::BandTiling band;
  cost::GemmTiling gemm;
  uint64_t npus = 0;
};
/// The decision recorded in `n.tiling`, or nullopt with `error` (a missing
/// or non-positive field).
std::optional<MovementDecision>
recordedMovement(const MovementView &v, const GraphNode &n, std::string &error);
/// The cost model's search for `v`; nullopt with `error` naming the bytes
/// the smallest tile needs when nothing fits.
std::optional<MovementDecision> searchMovement(const MovementView &v,
                                               const arch::ChipConfig &chip,
                                               const cost::Constraints &c,
                                               std::string &error);
/// Why decision `d` cannot run on `chip` (a tile above the accumulator
/// rows, an NPU count above the chip's, more SRAM than the budget), or
/// nullopt.
std::optional<std::string> checkMovement(const MovementView &v,
                                         const MovementDecision &d,
                                         const arch::ChipConfig &chip,
                                         const cost::Constraints &c);
/// `d` as `tsr.tiling` records it, with the modelled cost of the layer.
TilingChoice movementChoice(const MovementView &v, const MovementDecision &d,
                            const arch::ChipConfig &chip,
                            const cost::Constraints &c);
/// The kernel of the whole layer (parts for several kernels; one NPU).
cost::Kernel movementKernel(const MovementView &v, const MovementDecision &d,
                            const cost::Constraints &c = {});
/// The SRAM plan of `v` under `d`: the copy's, a conv layer's
/// (cost::convSramPlan: the im2col kernel's `im2col.*` then one group's
/// GEMM's `gemm.*`, each live over its own kernel's phases), the pooling
/// kernel's or the global average's GEMM's, the gather's, the where's; a
/// concat's copies one after another in one plan (cost::sequenceSramPlan:
/// input i's ring `in<i>.buf`).
cost::SramPlan movementSramPlan(const MovementView &v,
                                const MovementDecision &d,
                                const cost::Constraints &c = {});

} // namespace tessera::codegen

#endif // TESSERA_COMPILER_KERNELDECISIONS_H
