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

#include "tessera/arch/ChipConfig.h"

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>

namespace tessera::tsr {

/// The chip config at `path` (the reference chip when empty), or nullopt
/// after reporting on `m` why it could not be read.
std::optional<arch::ChipConfig> loadPassChip(mlir::ModuleOp m,
                                             const std::string &path);

} // namespace tessera::tsr

#endif // TESSERA_TRANSFORMS_PASSCHIP_H
