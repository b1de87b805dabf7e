//===- SramPlan.h - SRAM allocation of a fused kernel by liveness -*- C++
//-*-===//
//
// Part of Tessera. The SRAM buffers of a fused kernel (a `tsr.group` of kind
// "attention" or "matmul"), each with its bytes and its live range over the
// kernel's phases, and their placement by liveness: two buffers whose live
// ranges do not intersect may share bytes. `tsr-allocate-sram` records the
// plan in the IR (`tsr.sram`), `tsr-verify-sram` proves it, the code
// generator's group kernels take their addresses from it, and the cost model
// prices the footprint it gives. Plain C++ (no MLIR). docs/lowering.md
// ("SRAM allocation") states each buffer's bytes and live range.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_COSTMODEL_SRAMPLAN_H
#define TESSERA_COSTMODEL_SRAMPLAN_H

#include "tessera/CostModel/CostModel.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessera::cost {

/// One SRAM range of a kernel: a buffer, or one slot of a ring buffer
/// (double buffering: `slot` 0 and 1 of the same `name`).
struct SramBuffer {
  std::string name;
  unsigned slot = 0;
  uint64_t bytes = 0;  ///< What the kernel reads or writes (unaligned).
  uint64_t offset = 0; ///< Byte address in SRAM (aligned).
  /// Live range: the kernel's phases `first` .. `last` (inclusive, indices
  /// into SramPlan::phases). A buffer that a DMA queue fills or drains
  /// while the compute queue works on another slot (a ring), or that stays
  /// for the whole loop (resident rows), is live over every phase of the
  /// loop: `carried`. A buffer only the compute queue touches, written and
  /// read within one iteration, is live from its writer's phase to its last
  /// reader's.
  unsigned first = 0, last = 0;
  bool carried = false;
  /// Placed by the caller (the resident K/V region across two kernels):
  /// allocateSram keeps its offset and places the others around it.
  bool fixed = false;
  bool liveWith(const SramBuffer &o) const {
    return first <= o.last && o.first <= last;
  }
  bool overlaps(const SramBuffer &o) const {
    return offset < o.offset + o.bytes && o.offset < offset + bytes;
  }
};

/// The buffers of one kernel and where they are placed.
struct SramPlan {
  std::vector<std::string> phases;
  std::vector<SramBuffer> buffers;
  uint64_t total = 0; ///< Highest aligned end: the kernel's SRAM footprint.

  /// The buffer `name`, slot `slot`, or null.
  const SramBuffer *find(const std::string &name, unsigned slot = 0) const;
  bool empty() const { return buffers.empty(); }
};

/// Assigns every buffer's offset by liveness, deterministically: the carried
/// buffers first in their listing order (nothing can share with them), then
/// the others by decreasing bytes (ties: listing order); each goes to the
/// lowest `align`-aligned offset where it overlaps no placed buffer whose
/// live range intersects its own (first fit). Sets `total`.
void allocateSram(SramPlan &plan, uint64_t align);

/// Why `plan` is wrong: two buffers live in a common phase whose bytes
/// overlap, a live range outside the phases, a buffer past `capacity`, a
/// buffer (name and slot) listed twice; or
/// nullopt. The message names both buffers.
std::optional<std::string> checkSramPlan(const SramPlan &plan,
                                         uint64_t capacity);

/// The fused attention kernel's buffers for tile `t`, placed
/// (docs/lowering.md, "SRAM allocation").
SramPlan attentionSramPlan(const AttentionOp &op, const AttentionTiling &t,
                           const Constraints &c = {});
/// The online-softmax attention kernel's buffers for tile `t`, placed
/// (docs/fusion.md, "The online kernel").
SramPlan onlineAttentionSramPlan(const AttentionOp &op,
                                 const OnlineAttentionTiling &t,
                                 const Constraints &c = {});
/// The fused matmul kernel's buffers for tile `t`, placed.
SramPlan matmulGroupSramPlan(const MatMulGroupOp &op, const GemmTiling &t,
                             const Constraints &c = {});

/// The name of the resident K/V region's buffer in both kernels' plans.
constexpr const char *kResidentKvBuffer = "kv";
/// `plan` with the resident region of `kv` (when it has heads) as a fixed
/// buffer "kv" at kv.offset, live over every phase, and the kernel's own
/// buffers placed again first-fit around it.
SramPlan withResidentKv(SramPlan plan, const ResidentKv &kv,
                        const Constraints &c = {});

//===----------------------------------------------------------------------===//
// The bare (unfused) kernels: one plan builder per kernel kind
//===----------------------------------------------------------------------===//
//
// Every kernel the code generator emits for a single graph op takes its
// SRAM from a plan of these builders (docs/lowering.md, "Decisions of the
// unfused kernels"): tsr-allocate-sram records it on the op (`tsr.sram`),
// tsr-verify-sram proves it, the emitter uses the recorded offsets (or
// places the same plan itself when nothing is recorded). A new kernel kind
// adds its builder here and a case in codegen::sramPlanOf
// (compiler/lib/Codegen/KernelDecisions.cpp). The buffers of these kernels
// are rings the DMA queues fill and drain, or rows resident for the whole
// loop: all carried, so the plan is their listing order, each slot at the
// next aligned offset (the emitter's bump allocation before plans).

/// The bare matmul kernel: per slot s = 0, 1, in this order, `a` (tm tk e),
/// `b` (tk tn e), `out` (tm tn e) and, when K takes several steps, `acc`
/// (tm tn 4, FP32 partial sums); phases load, matmul, store.
SramPlan gemmSramPlan(const GemmOp &op, const GemmTiling &t,
                      const Constraints &c = {});
/// A vector kernel (vectorKernel: elementwise, row-wise, binary): the
/// resident rows first (layernorm's `gamma`, `beta`; a broadcast row or
/// scalar `y`), then two slots of `x` (tr tc e), two of a per-tile second
/// operand `y` (Full: tr tc e; Col: tr e), two of `out` (tr tc e); phases
/// load, compute, store.
SramPlan vectorSramPlan(const VectorOp &op, const RowTiling &t,
                        const Constraints &c = {});
/// A row reduction (reduceKernel) of `rows` x `cols` in tiles of `tr` whole
/// rows: two slots of `x` (tr cols e), two of `out` (tr e).
SramPlan reduceSramPlan(uint64_t rows, uint64_t cols, uint64_t tr,
                        const Constraints &c = {});
/// An elementwise chain (chainKernel: activations, int32-to-FP16, where):
/// two slots per input (`x`, or `x0`, `x1`, ... for several; tr tc times
/// its element size), then `workSlots` slots of `work` (tr tc workBytes).
SramPlan chainSramPlan(const ChainOp &op, const RowTiling &t,
                       const Constraints &c = {});

/// "k[1]" for slot 1 of ring buffer k, "s" for a single buffer.
std::string sramBufferName(const SramBuffer &b, const SramPlan &plan);

} // namespace tessera::cost

#endif // TESSERA_COSTMODEL_SRAMPLAN_H
