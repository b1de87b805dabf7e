//===- Codegen.h - graph to chip program -------------------------*- C++
//-*-===//
//
// Part of Tessera. The first lowering: every graph node becomes its own kernel
// (DMA loads from DRAM, compute in SRAM, DMA stores to DRAM), data in FP16,
// matmuls accumulating in FP32, tiled so every working set fits the chip's
// SRAM, dependencies derived from the memory ranges every instruction touches.
// docs/lowering.md describes the kernels and the tiling rules.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_COMPILER_CODEGEN_H
#define TESSERA_COMPILER_CODEGEN_H

#include "tessera/Compiler/Graph.h"
#include "tessera/CostModel/CostModel.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Program.h"

#include <map>
#include <tuple>

namespace tessera::codegen {

/// Emits the verified program for `graph` on `chip`. Throws CodegenError.
/// With `plans`, also returns what was decided for each program layer (same
/// index as Program::layers): the kernel by tile class, as the cost model
/// prices it (docs/cost-model.md); a kernel of empty `kind` was not
/// described.
arch::Program generateProgram(const Graph &graph, const arch::ChipConfig &chip,
                              std::vector<cost::Kernel> *plans = nullptr);

/// Receives the program's layers, SRAM buffers and instructions as the
/// emitter produces them, in program order (tsr-lower-to-chip builds the
/// chip dialect's ops from them, docs/lowering.md "The ladder").
class ProgramSink {
public:
  virtual ~ProgramSink() = default;
  /// Layer `index` named `name` begins: the buffers and instructions until
  /// the next call are its.
  virtual void layer(uint32_t index, const std::string &name) = 0;
  /// A buffer of the current layer (its buffer table entry).
  virtual void buffer(uint64_t addr, uint64_t bytes) = 0;
  /// Instruction `index` of the current layer, with its final `deps`.
  virtual void instr(const arch::Instr &in, uint32_t index) = 0;
};

/// generateProgram, sending the layers, buffers and instructions to `sink`
/// instead of the program: the result holds the header, the layer names
/// and the tensors (final names, weights' bytes) only, and is not verified
/// (the sink's consumer verifies what it built). Throws CodegenError, and
/// whatever the sink throws.
arch::Program generateProgram(const Graph &graph, const arch::ChipConfig &chip,
                              std::vector<cost::Kernel> *plans,
                              ProgramSink &sink);

/// The vector tilings unfusedMatMulKernels searched, by (opcode, rows,
/// cols, second operand), for one chip and budget: a caller pricing many
/// groups passes one map so each shape is searched once.
using VectorTilingMemo =
    std::map<std::tuple<int, uint64_t, uint64_t, int>, cost::RowTiling>;
/// The kernels the code generator emits for the unfused ops a fused matmul
/// group (cost::MatMulGroupOp) stands for, with the emitter's own tile
/// choices under `sramBudget` bytes (the searches tsr-select-tiling
/// records), in program order: the layernorm (with `op.layernorm`), the
/// GEMM, the bias add, the GELU, the residual add, each reading the
/// previous one's DRAM output. The fusion passes price them
/// (cost::evaluateSequence) against cost::matmulGroupKernel before fusing
/// (docs/fusion.md). One NPU. Throws CodegenError when one does not fit.
/// `memo` (optional) holds the vector tilings already searched for this
/// chip and budget.
std::vector<cost::Kernel>
unfusedMatMulKernels(const arch::ChipConfig &chip, uint64_t sramBudget,
                     const cost::MatMulGroupOp &op,
                     VectorTilingMemo *memo = nullptr);

/// The dependency rule of the code generator, exposed for tests: for each
/// instruction, the earlier instructions it must wait for so that every read
/// sees the last write before it (RAW) and no write lands before an earlier
/// access of the same bytes has finished (WAR, WAW), in SRAM and in DRAM.
///
/// Each space is an interval index: disjoint byte segments (a std::map keyed
/// by the first byte), each holding, per queue, the latest instruction that
/// wrote it and the latest that accessed it at all. A query walks only the
/// segments its range overlaps and a dense write replaces them by one, so an
/// instruction costs O(log n + segments it overlaps) instead of a scan of
/// every earlier access (docs/lowering.md, "Dependencies").
class HazardTracker {
public:
  /// Returns the dependencies of instruction `index` (ascending, unique) and
  /// records its accesses. Operands touch at least one byte (the verifier
  /// rejects zero dimensions); an empty one touches nothing and is ignored.
  std::vector<uint32_t> add(const arch::Instr &in, uint32_t index);

  /// Segments held in all spaces (for tests and the benchmark).
  size_t segmentCount() const {
    size_t n = 0;
    for (const Space &s : spaces)
      n += s.size();
    return n;
  }

  /// Queues tracked: the three queues of each NPU (NPU n's queue q is
  /// n * kNumQueues + q).
  static constexpr unsigned kQueues =
      arch::kNumQueues * arch::Program::kMaxNpus;

private:
  /// Bytes [begin, end) of a space, where `end` is the map's value.
  struct Segment {
    uint64_t end;
    /// Per queue: latest writer and latest accessor of these bytes, -1 none.
    int64_t lastWrite[kQueues];
    int64_t lastAccess[kQueues];
  };
  using Space = std::map<uint64_t, Segment>;
  /// Splits the segment containing `at` (if any starts before it) at `at`.
  static void split(Space &space, uint64_t at);
  /// A segment ending at `end` that no instruction has touched.
  static Segment emptySegment(uint64_t end) {
    Segment s;
    s.end = end;
    for (unsigned q = 0; q < kQueues; ++q)
      s.lastWrite[q] = s.lastAccess[q] = -1;
    return s;
  }
  /// [n] the SRAM of NPU n (each NPU has its own), [kMaxNpus] the DRAM
  /// they share (docs/lowering.md, "Two NPUs").
  Space spaces[arch::Program::kMaxNpus + 1];
};

} // namespace tessera::codegen

#endif // TESSERA_COMPILER_CODEGEN_H
