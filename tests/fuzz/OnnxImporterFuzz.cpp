//===- OnnxImporterFuzz.cpp - libFuzzer target for the ONNX importer ------===//
//
// Part of Tessera. Arbitrary bytes through importer::importOnnx (protobuf
// parse, the model checks, shape inference and constant folding, building
// the tsr module); an imported module must verify. An llvm::Error is the
// only acceptable failure. One MLIRContext serves every input (creating one
// per input would dominate the run time). Seeds: the repo's .onnx files.
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *ctx = [] {
    auto *c = new mlir::MLIRContext();
    c->getOrLoadDialect<tessera::tsr::TsrDialect>();
    c->getOrLoadDialect<mlir::func::FuncDialect>();
    // Diagnostics of rejected models are expected; keep them quiet.
    c->getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
    return c;
  }();
  auto module = tessera::importer::importOnnx(
      *ctx, llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "fuzz.onnx");
  if (!module) {
    llvm::consumeError(module.takeError());
    return 0;
  }
  if (mlir::failed(mlir::verify(module->get())))
    std::abort(); // The importer built an invalid module.
  return 0;
}
