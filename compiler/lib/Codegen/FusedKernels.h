//===- FusedKernels.h - kernels of the fused groups -------------*- C++ -*-===//
//
// Part of Tessera. The kernels that lower the fusion passes' tsr.group ops
// (docs/fusion.md). They emit through KernelSink, the few services of the
// code generator's emitter they need (SRAM allocation, DMA, instructions,
// the cost-model plan), so they live apart from Codegen.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_CODEGEN_FUSEDKERNELS_H
#define TESSERA_CODEGEN_FUSEDKERNELS_H

#include "tessera/Compiler/Graph.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Isa.h"

#include <cstdint>
#include <string>

namespace tessera::codegen {

/// What a fused kernel needs from the emitter.
class KernelSink {
public:
  virtual ~KernelSink() = default;
  virtual const arch::ChipConfig &chip() const = 0;
  virtual const Graph &graph() const = 0;
  /// The node's name for errors ("attention 'x'").
  virtual const std::string &where() const = 0;
  /// DRAM address of graph value `v`.
  virtual uint64_t dramOf(int v) = 0;
  /// DRAM tensor name of graph value `v` (the cost model's streams).
  virtual std::string tensorOf(int v) const = 0;
  /// SRAM bytes a kernel may use.
  virtual uint64_t sramBudget() const = 0;
  /// Registers the buffer of `bytes` at `addr` (the simulator's buffer
  /// table); the address comes from the kernel's SRAM plan.
  virtual void sramPlace(uint64_t addr, uint64_t bytes) = 0;
  /// DmaLoad / DmaStore of `rows` rows of `bytes` bytes.
  virtual void load(uint64_t dramAddr, uint64_t dramStride, uint64_t sramAddr,
                    uint64_t sramStride, uint64_t rows, uint64_t bytes) = 0;
  virtual void store(uint64_t dramAddr, uint64_t dramStride, uint64_t sramAddr,
                     uint64_t sramStride, uint64_t rows, uint64_t bytes) = 0;
  /// Any other instruction (its dependencies are filled in).
  virtual void emit(arch::Instr in) = 0;
  /// The cost model's description of the kernel being emitted.
  virtual void plan(cost::Kernel k) = 0;
  /// The NPU whose queues the next instructions run on (0 after the
  /// kernel; docs/lowering.md, "Two NPUs").
  virtual void setNpu(unsigned npu) = 0;
};

/// Two tile slots per operand, least recently used replaced: a tile already
/// in a slot is not loaded again (the GEMM kernels' operand cache).
struct TileCache {
  int64_t key[2] = {-1, -1};
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

/// The SRAM plan a group kernel places its buffers by (docs/lowering.md,
/// "SRAM allocation"). `need` is the allocator's plan for the tile the
/// kernel runs. When that tile is the one recorded in the IR
/// (`recordedTile`) and the node carries the plan recorded with it
/// (tsr-allocate-sram), the recorded offsets are used: every buffer of
/// `need` must be in it with at least its bytes, and no two live buffers
/// may overlap, else CodegenError naming the buffer. Otherwise (a graph
/// built without the pass, a tile re-chosen for this chip) `need`'s own
/// offsets. Registers every buffer with the sink; returns `need` with the
/// offsets used.
cost::SramPlan placeBuffers(KernelSink &sink, const GraphNode &n,
                            cost::SramPlan need, bool recordedTile);

/// The cost model's workload of an Attention node.
cost::AttentionOp attentionOpOf(const Graph &g, const GraphNode &n,
                                const KernelSink *sink = nullptr);

/// The fused attention kernel (cost::attentionKernel is its model): for
/// each batch and head, K_h and V_h in SRAM; per tile of query rows the
/// scaled Q, the FP32 scores Q K_h^T (matrix unit, B transposed), their
/// softmax (FP16 probabilities) and the product with V_h, stored into the
/// head's columns of the output. Throws CodegenError when not even the
/// smallest tile fits SRAM, naming the node and the bytes it needs.
void emitAttention(KernelSink &sink, const GraphNode &n);

/// The online-softmax attention kernel (cost::onlineAttentionKernel is its
/// model; docs/fusion.md, "The online kernel"): per batch, head and tile of
/// query rows, K_h and V_h in double-buffered tiles of tk rows, the running
/// row maximum, row sum and FP32 context rescaled per tile (vec.exp), the
/// context divided by the row sums at the end and stored once. Uses the
/// tile recorded in the IR when it is legal on this chip, else searches;
/// throws CodegenError naming the node and the bytes when nothing fits.
/// emitAttention dispatches to it for a node with `onlineSoftmax`, and
/// when whole score rows do not fit.
void emitOnlineAttention(KernelSink &sink, const GraphNode &n);

/// The cost model's workload of a FusedMatMul node.
cost::MatMulGroupOp matmulGroupOpOf(const Graph &g, const GraphNode &n,
                                    const KernelSink *sink = nullptr);

/// The fused matmul kernel (cost::matmulGroupKernel is its model): the
/// GEMM loop of the unfused matmul kernel with the layernorm prologue
/// applied in place to each A row tile and the bias/GELU/residual epilogue
/// applied in place to each output tile before its one store. Uses the tile
/// recorded in the IR when it is legal on this chip, else searches; throws
/// CodegenError naming the node and the bytes when nothing fits.
void emitMatMulGroup(KernelSink &sink, const GraphNode &n);

} // namespace tessera::codegen

#endif // TESSERA_CODEGEN_FUSEDKERNELS_H
