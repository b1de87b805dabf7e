//===- tessera-translate.cpp - into and out of the tsr dialect ------------===//
//
// Part of Tessera. Like mlir-translate, with Tessera's translations:
//   --import-onnx      ONNX model file -> tsr module
//   --tsr-to-listing   tsr module -> the chip program's readable listing
//   --tsr-to-program   tsr module -> the binary program file
// The last two run code generation only (no passes; run tessera-opt first),
// for the chip given by --chip-config (the reference chip by default).
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler/Compile.h"
#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Import/OnnxImporter.h"
#include "tessera/arch/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

static llvm::cl::opt<std::string>
    chipConfig("chip-config",
               llvm::cl::desc("Chip config file for --tsr-to-listing and "
                              "--tsr-to-program (default: the reference chip)"),
               llvm::cl::value_desc("file"), llvm::cl::init(""));

namespace {

void registerDialects(DialectRegistry &registry) {
  registry.insert<tessera::tsr::TsrDialect, func::FuncDialect>();
}

/// Code generation for the module `op`, or an error on stderr.
FailureOr<tessera::arch::Program> generate(Operation *op) {
  auto module = dyn_cast<ModuleOp>(op);
  if (!module) {
    llvm::errs() << "tessera-translate: error: expected a module\n";
    return failure();
  }
  tessera::arch::ChipConfig chip = tessera::arch::ChipConfig::reference();
  try {
    if (!chipConfig.empty())
      chip = tessera::arch::ChipConfig::load(chipConfig);
  } catch (const tessera::arch::ContractError &e) {
    llvm::errs() << "tessera-translate: error: " << e.what() << "\n";
    return failure();
  }
  auto prog = tessera::compiler::generate(module, chip, "<input>");
  if (!prog) {
    llvm::errs() << "tessera-translate: error: "
                 << llvm::toString(prog.takeError()) << "\n";
    return failure();
  }
  return std::move(*prog);
}

} // namespace

int main(int argc, char **argv) {
  TranslateToMLIRRegistration importOnnx(
      "import-onnx", "import an ONNX model into the tsr dialect",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *ctx) -> OwningOpRef<Operation *> {
        const llvm::MemoryBuffer *buf =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        auto module = tessera::importer::importOnnx(*ctx, buf->getBuffer(),
                                                    buf->getBufferIdentifier());
        if (!module) {
          llvm::errs() << "tessera-translate: error: "
                       << llvm::toString(module.takeError()) << "\n";
          return nullptr;
        }
        return OwningOpRef<Operation *>(module->release());
      },
      registerDialects);

  TranslateFromMLIRRegistration toListing(
      "tsr-to-listing", "generate the chip program and print its listing",
      [](Operation *op, llvm::raw_ostream &os) -> LogicalResult {
        auto prog = generate(op);
        if (failed(prog))
          return failure();
        os << prog->listing();
        return success();
      },
      registerDialects);

  TranslateFromMLIRRegistration toProgram(
      "tsr-to-program", "generate the chip program file (binary)",
      [](Operation *op, llvm::raw_ostream &os) -> LogicalResult {
        auto prog = generate(op);
        if (failed(prog))
          return failure();
        std::vector<uint8_t> bytes = prog->serialize();
        os.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
        return success();
      },
      registerDialects);

  return failed(mlirTranslateMain(argc, argv, "Tessera translation driver"));
}
