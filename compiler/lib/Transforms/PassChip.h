//===- PassChip.h - the chip a tsr pass decides for --------------*- C++
//-*-===//
//
// Part of Tessera. The fusion, tiling and SRAM passes read the chip they
// decide for from their `chip-config` option (the reference chip when it is
// empty) unless the pipeline handed them one.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TRANSFORMS_PASSCHIP_H
#define TESSERA_TRANSFORMS_PASSCHIP_H

#include "tessera/Compiler/Graph.h"
#include "tessera/arch/ChipConfig.h"

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>

namespace tessera::tsr {

/// The chip config at `path` (the reference chip when empty), or nullopt
/// after reporting on `m` why it could not be read.
std::optional<arch::ChipConfig> loadPassChip(mlir::ModuleOp m,
                                             const std::string &path);

/// The kernel a tsr op outside any group becomes, as the code generator
/// will emit it (docs/lowering.md, "Decisions of the unfused kernels"): the
/// op's graph (compiler::opGraph) normalized as the emitter's
/// (codegen::normalizeGraph), and the node that carries the op's decisions
/// (the last one that is not a Reshape).
struct BareKernel {
  codegen::Graph graph;
  size_t index = 0;
  const codegen::GraphNode &node() const { return graph.nodes[index]; }
  /// "softmax 'name'", for messages.
  std::string who() const;
};
/// The op's kernel when its kind records decisions in the IR
/// (codegen::decisionKindOf is not None), else nullopt: a group or an op
/// inside one, a weight, an op the chip does not lower (graph extraction
/// reports it), a free reshape.
std::optional<BareKernel> bareKernelOf(mlir::Operation *op);
/// The FP16 conversion kernel of function argument `arg` when it is an
/// integer input some op reads as data (compiler::conversionGraph: the
/// Convert node, with the decisions recorded on the argument), else
/// nullopt (also when a recorded plan is malformed: tsr-verify-sram reads
/// and reports it). Its decisions are recorded as argument attributes.
std::optional<BareKernel> conversionKernelOf(mlir::BlockArgument arg);
/// "input 'name'": argument `arg` of its function, for messages.
std::string inputName(mlir::BlockArgument arg);

} // namespace tessera::tsr

#endif // TESSERA_TRANSFORMS_PASSCHIP_H
