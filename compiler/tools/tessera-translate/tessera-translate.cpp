//===- tessera-translate.cpp - into and out of the tsr dialect ------------===//
//
// Part of Tessera. Like mlir-translate, with Tessera's translations:
//   --import-onnx      ONNX model file -> tsr module
//   --tsr-to-listing   tsr module -> the chip program's readable listing
//   --tsr-to-program   tsr module -> the binary program file
//   --chip-to-listing  chip.program -> the program's listing
//   --chip-to-program  chip.program -> the binary program file
// The tsr translations run code generation only (no passes; run tessera-opt
// first), for the chip given by --chip-config (the reference chip by
// default); the chip translations emit the program the IR declares
// (chip::emitProgram), one instruction per op.
//
// The driver is mlirTranslateMain's, reduced to what Tessera uses (input,
// -o, --split-input-file, one translation) so that the input is read with a
// size bound, textual MLIR's nesting is checked before parsing, everything
// runs on a thread with a large stack, and the output goes through the
// checked writer. See ToolInput.h and FileIo.h.
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler/Compile.h"
#include "tessera/Compiler/ToolInput.h"
#include "tessera/Dialect/Chip/Chip.h"
#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Import/OnnxImporter.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/ToolUtilities.h"
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

constexpr const char *kImportOnnxDescription =
    "import an ONNX model into the tsr dialect";

void registerDialects(DialectRegistry &registry) {
  registry.insert<tessera::tsr::TsrDialect, tessera::chip::ChipDialect,
                  func::FuncDialect>();
}

/// The program the module's one chip.program declares, or an error.
FailureOr<tessera::arch::Program> emitChip(Operation *op) {
  auto fail = [](const char *msg) {
    llvm::errs() << "tessera-translate: error: " << msg << "\n";
    return failure();
  };
  auto module = dyn_cast<ModuleOp>(op);
  if (!module)
    return fail("expected a module");
  auto programs = module.getOps<tessera::chip::ProgramOp>();
  if (std::distance(programs.begin(), programs.end()) != 1)
    return fail("expected exactly one chip.program (run tessera-opt "
                "--tsr-lower-to-chip on a tsr module)");
  return tessera::chip::emitProgram(*programs.begin());
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

/// A program source: the tsr module lowered (`generate`) or the chip IR
/// emitted (`emitChip`).
using ProgramOf = FailureOr<tessera::arch::Program> (*)(Operation *);

/// Translations printing the program's listing / writing its file.
template <ProgramOf programOf>
LogicalResult printListing(Operation *op, llvm::raw_ostream &os) {
  auto prog = programOf(op);
  if (failed(prog))
    return failure();
  os << prog->listing();
  return success();
}
template <ProgramOf programOf>
LogicalResult writeProgram(Operation *op, llvm::raw_ostream &os) {
  auto prog = programOf(op);
  if (failed(prog))
    return failure();
  std::vector<uint8_t> bytes = prog->serialize();
  os.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  return success();
}

} // namespace

int main(int argc, char **argv) {
  TranslateToMLIRRegistration importOnnx(
      "import-onnx", kImportOnnxDescription,
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

  // The listing and the program file, from the tsr graph (through the
  // compiler's lowering) or from chip IR (emission alone).
  TranslateFromMLIRRegistration toListing(
      "tsr-to-listing", "generate the chip program and print its listing",
      printListing<generate>, registerDialects);
  TranslateFromMLIRRegistration toProgram(
      "tsr-to-program", "generate the chip program file (binary)",
      writeProgram<generate>, registerDialects);
  TranslateFromMLIRRegistration chipToListing(
      "chip-to-listing", "emit the chip.program's listing",
      printListing<emitChip>, registerDialects);
  TranslateFromMLIRRegistration chipToProgram(
      "chip-to-program", "emit the chip.program's program file (binary)",
      writeProgram<emitChip>, registerDialects);

  static llvm::cl::opt<std::string> inputPath(llvm::cl::Positional,
                                              llvm::cl::desc("<input file>"),
                                              llvm::cl::init("-"));
  static llvm::cl::opt<std::string> outputPath(
      "o", llvm::cl::desc("Output filename"), llvm::cl::value_desc("filename"),
      llvm::cl::init("-"));
  static llvm::cl::opt<std::string> inputSplitMarker{
      "split-input-file", llvm::cl::ValueOptional,
      llvm::cl::callback([](const std::string &str) {
        if (str.empty())
          inputSplitMarker.setValue(kDefaultSplitMarker);
      }),
      llvm::cl::desc("Split the input file into chunks using the given or "
                     "default marker and process each chunk independently"),
      llvm::cl::init("")};
  llvm::cl::opt<const Translation *, false, TranslationParser> translation(
      "", llvm::cl::desc("Translation to perform"), llvm::cl::Required);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerTranslationCLOptions();
  llvm::cl::ParseCommandLineOptions(argc, argv, "Tessera translation driver");

  return tessera::compiler::runWithLargeStack([&]() -> int {
    auto fail = [](const llvm::Twine &msg) {
      llvm::errs() << "tessera-translate: error: " << msg << "\n";
      return 1;
    };
    // An ONNX model may be as large as protobuf allows; MLIR text has its
    // own limit and a nesting check.
    bool onnxInput = translation->getDescription() == kImportOnnxDescription;
    auto input = tessera::compiler::readToolInput(
        inputPath,
        onnxInput ? tessera::arch::kMaxOnnxModelBytes
                  : tessera::arch::kMaxMlirBytes,
        onnxInput ? "ONNX model" : "MLIR input");
    if (!input)
      return fail(llvm::toString(input.takeError()));
    if (!onnxInput)
      if (llvm::Error e = tessera::compiler::checkMlirNesting(
              (*input)->getBuffer(), (*input)->getBufferIdentifier()))
        return fail(llvm::toString(std::move(e)));

    std::string out;
    llvm::raw_string_ostream os(out);
    auto process = [&](std::unique_ptr<llvm::MemoryBuffer> chunk,
                       llvm::raw_ostream &chunkOs) -> LogicalResult {
      MLIRContext context;
      auto sourceMgr = std::make_shared<llvm::SourceMgr>();
      sourceMgr->AddNewSourceBuffer(std::move(chunk), llvm::SMLoc());
      SourceMgrDiagnosticHandler handler(*sourceMgr, &context);
      return (*translation)(sourceMgr, chunkOs, &context);
    };
    if (failed(splitAndProcessBuffer(std::move(*input), process, os,
                                     inputSplitMarker, ""))) {
      // What the chunks that did translate printed still goes to stdout, as
      // mlir-translate does; a file output is not written.
      if (outputPath == "-") {
        llvm::outs() << out;
        llvm::outs().flush();
      }
      return 1;
    }
    if (llvm::Error e = tessera::compiler::writeToolOutput(outputPath, out))
      return fail(llvm::toString(std::move(e)));
    return 0;
  });
}
