//===- tessera-opt.cpp - mlir-opt with Tessera's dialects and passes ------===//
//
// Part of Tessera. Parses tsr, chip (and func) IR, runs passes given on the
// command line (e.g. --tsr-raise-gelu, --canonicalize) and prints the result,
// like mlir-opt. The lit tests of the passes drive it.
//
// Unlike plain mlir-opt, the input is read with a size bound, its bracket
// nesting is checked before parsing, everything runs on a thread with a large
// stack, and the output is written through the checked writer (a failed write
// is an error naming the path). See ToolInput.h and FileIo.h.
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler/Compile.h"
#include "tessera/Compiler/ToolInput.h"
#include "tessera/Dialect/Chip/Chip.h"
#include "tessera/Dialect/Chip/Passes.h"
#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Transforms/Tiling.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/raw_ostream.h"

using namespace tessera;

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<tessera::tsr::TsrDialect, tessera::chip::ChipDialect,
                  mlir::func::FuncDialect>();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  tessera::tsr::registerPasses();
  tessera::tsr::registerTilingPasses();
  tessera::chip::registerPasses();
  compiler::registerPipelines();
  auto [inputPath, outputPath] = mlir::registerAndParseCLIOptions(
      argc, argv, "Tessera optimizer driver (tsr dialect)\n", registry);

  return compiler::runWithLargeStack([&, &inputPath = inputPath,
                                      &outputPath = outputPath]() -> int {
    auto fail = [](const llvm::Twine &msg) {
      llvm::errs() << "tessera-opt: error: " << msg << "\n";
      return 1;
    };
    auto input =
        compiler::readToolInput(inputPath, arch::kMaxMlirBytes, "MLIR input");
    if (!input)
      return fail(llvm::toString(input.takeError()));
    if (llvm::Error e = compiler::checkMlirNesting(
            (*input)->getBuffer(), (*input)->getBufferIdentifier()))
      return fail(llvm::toString(std::move(e)));

    mlir::MlirOptMainConfig config =
        mlir::MlirOptMainConfig::createFromCLOptions();
    std::string out;
    llvm::raw_string_ostream os(out);
    if (mlir::failed(
            mlir::MlirOptMain(os, std::move(*input), registry, config))) {
      // Diagnostics are on stderr; what was printed still goes out (as
      // mlir-opt does, e.g. for --verify-diagnostics runs).
      llvm::outs() << out;
      llvm::outs().flush();
      return 1;
    }
    if (llvm::Error e = compiler::writeToolOutput(outputPath, out))
      return fail(llvm::toString(std::move(e)));
    return 0;
  });
}
