//===- tessera-opt.cpp - mlir-opt with Tessera's dialects and passes ------===//
//
// Part of Tessera. Parses tsr (and func) IR, runs passes given on the command
// line (e.g. --tsr-raise-gelu, --canonicalize) and prints the result, like
// mlir-opt. The lit tests of the passes drive it.
//
//===----------------------------------------------------------------------===//
#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Transforms/Tiling.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<tessera::tsr::TsrDialect, mlir::func::FuncDialect>();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  tessera::tsr::registerPasses();
  tessera::tsr::registerTilingPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Tessera optimizer driver (tsr dialect)\n", registry));
}
