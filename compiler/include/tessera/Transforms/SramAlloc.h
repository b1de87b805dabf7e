//===- SramAlloc.h - the SRAM plan recorded in the tsr IR --------*- C++
//-*-===//
//
// Part of Tessera. `tsr-allocate-sram` records each fused group's SRAM plan
// (tessera/CostModel/SramPlan.h) as the `tsr.sram` attribute of its
// `tsr.group`; `tsr-verify-sram` and graph extraction read it back with
// readSramPlan. docs/lowering.md ("SRAM allocation") and docs/dialects/tsr.md
// describe the attribute.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TRANSFORMS_SRAMALLOC_H
#define TESSERA_TRANSFORMS_SRAMALLOC_H

#include "tessera/CostModel/SramPlan.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace tessera::tsr {

/// The attribute's name on a tsr.group.
constexpr const char *kSramPlanAttr = "tsr.sram";
/// tsr-keep-kv's record on the projection group (docs/fusion.md): `heads`,
/// `head_dim`, `rows`, `k_column`, `v_column` (cost::ResidentKv) and the
/// region's SRAM `offset` and `bytes`.
constexpr const char *kKeepKvAttr = "tsr.keep_kv";

mlir::DictionaryAttr keepKvAttr(mlir::MLIRContext *ctx,
                                const cost::ResidentKv &kv);
/// The resident region recorded on `attr`; fails with `error` when a field
/// is missing or negative, or `bytes` is not heads x 2 blocks.
mlir::FailureOr<cost::ResidentKv> readKeepKv(mlir::DictionaryAttr attr,
                                             std::string &error);
/// The resident region of a group: a matmul group's own `tsr.keep_kv`; an
/// attention group's is its packed input's producer's (with
/// `heads_on_chip` heads). No heads when there is none; fails with `error`
/// when the record is malformed.
mlir::FailureOr<cost::ResidentKv> residentKvOf(mlir::Operation *group,
                                               std::string &error);

/// `plan` as `{total, phases, buffers = [{name, slot, offset, bytes,
/// live}]}`.
mlir::DictionaryAttr sramPlanAttr(mlir::MLIRContext *ctx,
                                  const cost::SramPlan &plan);

/// Reads a `tsr.sram` attribute; fails with a message naming the field
/// when it is malformed.
mlir::FailureOr<cost::SramPlan> readSramPlan(mlir::DictionaryAttr attr,
                                             std::string &error);

} // namespace tessera::tsr

#endif // TESSERA_TRANSFORMS_SRAMALLOC_H
