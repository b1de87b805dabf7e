//===- OnnxImporter.h - ONNX model -> tsr module ----------------*- C++ -*-===//
//
// Part of Tessera. The first stage of the compiler: reads an ONNX ModelProto
// (opset 13 to 17), resolves its shape arithmetic to static shapes and builds
// a module holding `func.func @main` in the tsr dialect. Supported ops, the
// shape folding and every error are described in docs/onnx-import.md.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_IMPORT_ONNXIMPORTER_H
#define TESSERA_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace tessera::importer {

/// Imports an ONNX model file into a module holding `func.func @main`.
/// Errors (llvm::StringError, one line) start with `sourceName: `.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnx(mlir::MLIRContext &ctx, llvm::StringRef bytes,
           llvm::StringRef sourceName);

/// Reads `path` and imports it; "<path>: cannot open: <reason>" if the file
/// cannot be read.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxFile(mlir::MLIRContext &ctx, llvm::StringRef path);

} // namespace tessera::importer

#endif // TESSERA_IMPORT_ONNXIMPORTER_H
