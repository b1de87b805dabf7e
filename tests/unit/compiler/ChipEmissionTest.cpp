//===- ChipEmissionTest.cpp - the chip dialect emits what codegen writes --===//
//
// Part of Tessera. Emission is a mechanical translation of the chip dialect
// (docs/lowering.md, "The chip dialect"): for every zoo model and pipeline,
// the program emitted from the chip.program that tsr-lower-to-chip builds is
// byte for byte the program the code generator writes directly from the same
// tsr module; and a chip.program printed as text (weights included), parsed
// back and emitted gives the same bytes again.
//
// The checked-in zoo models are read from models/; the generated ones
// (perception at depth 2, resnet18) from the directory the fixture test
// `compiler.chip_emission_models` writes (CHIP_TEST_MODELS_DIR), or the
// perception network named by CHIP_EMISSION_PERCEPTION (the 40 layers:
// `CHIP_EMISSION_PERCEPTION=/tmp/p40/perception.onnx ChipEmissionTests
// --gtest_filter='*perception*'`).
//
//===----------------------------------------------------------------------===//

#include "tessera/Compiler/Codegen.h"
#include "tessera/Compiler/Compile.h"
#include "tessera/Dialect/Chip/Chip.h"
#include "tessera/Dialect/Chip/Passes.h"
#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include <string>
#include <tuple>

using namespace tessera;

namespace {

std::string modelPath(const std::string &model) {
  // The full 40-layer network instead of depth 2 (docs/lowering.md,
  // "Scale"): CHIP_EMISSION_PERCEPTION=/tmp/p40/perception.onnx.
  if (const char *p = std::getenv("CHIP_EMISSION_PERCEPTION");
      p && model == "perception")
    return p;
  if (model == "perception" || model == "resnet18")
    return std::string(CHIP_TEST_MODELS_DIR) + "/" + model + "/" + model +
           ".onnx";
  return std::string(TESSERA_MODELS_DIR) + "/" + model + "/" + model + ".onnx";
}

/// The module after the pass pipeline `p`, in `ctx`.
mlir::OwningOpRef<mlir::ModuleOp> decided(mlir::MLIRContext &ctx,
                                          const std::string &path,
                                          compiler::Pipeline p,
                                          const arch::ChipConfig &chip) {
  auto module = importer::importOnnxFile(ctx, path);
  if (!module) {
    ADD_FAILURE() << llvm::toString(module.takeError());
    return nullptr;
  }
  compiler::CompileOptions opts;
  opts.pipeline = p;
  opts.chip = &chip;
  if (llvm::Error e = compiler::runPipeline(**module, opts)) {
    ADD_FAILURE() << llvm::toString(std::move(e));
    return nullptr;
  }
  return std::move(*module);
}

/// What the code generator writes directly (as `tessera compile` did
/// before the chip dialect).
std::vector<uint8_t> direct(mlir::ModuleOp module,
                            const arch::ChipConfig &chip) {
  if (llvm::Error e = compiler::expandForChip(module)) {
    ADD_FAILURE() << llvm::toString(std::move(e));
    return {};
  }
  llvm::Expected<codegen::Graph> graph = compiler::extractGraph(module);
  if (!graph) {
    ADD_FAILURE() << llvm::toString(graph.takeError());
    return {};
  }
  return codegen::generateProgram(*graph, chip).serialize();
}

/// The module's one chip.program after tsr-lower-to-chip.
chip::ProgramOp lower(mlir::ModuleOp module, const arch::ChipConfig &chip) {
  mlir::PassManager pm(module.getContext());
  pm.addPass(chip::createLowerToChipPass(chip));
  if (mlir::failed(pm.run(module))) {
    ADD_FAILURE() << "tsr-lower-to-chip failed";
    return nullptr;
  }
  auto programs = module.getOps<chip::ProgramOp>();
  if (std::distance(programs.begin(), programs.end()) != 1) {
    ADD_FAILURE() << "expected one chip.program";
    return nullptr;
  }
  return *programs.begin();
}

void load(mlir::MLIRContext &ctx) {
  ctx.loadDialect<tsr::TsrDialect, chip::ChipDialect,
                  mlir::func::FuncDialect>();
}

using Case = std::tuple<std::string, compiler::Pipeline>;

class ChipEmission : public ::testing::TestWithParam<Case> {};

/// The chip.program of `model` for `chip` emits the code generator's bytes.
void expectSameProgram(const std::string &model, compiler::Pipeline pipeline,
                       const arch::ChipConfig &chip) {
  mlir::MLIRContext ctx;
  load(ctx);
  auto module = decided(ctx, modelPath(model), pipeline, chip);
  ASSERT_TRUE(module);
  mlir::OwningOpRef<mlir::ModuleOp> copy = module->clone();
  std::vector<uint8_t> expected = direct(*copy, chip);
  ASSERT_FALSE(expected.empty());
  chip::ProgramOp program = lower(*module, chip);
  ASSERT_TRUE(program);
  arch::Program emitted = chip::emitProgram(program);
  std::vector<uint8_t> got = emitted.serialize();
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_GT(emitted.npus, chip.npus > 1 ? 1u : 0u)
      << model << ": no instruction on the second NPU";
  EXPECT_TRUE(got == expected)
      << model << ": the program emitted from the chip dialect differs from "
      << "the code generator's (" << emitted.instrs.size() << " instructions)";
  // The IR holds one op per instruction and a kernel per layer.
  size_t kernels = 0, instrs = 0;
  for (chip::KernelOp k : program.getBody().front().getOps<chip::KernelOp>()) {
    ++kernels;
    for (mlir::Operation &op : k.getBody().front())
      instrs += !mlir::isa<chip::BufferOp, chip::YieldOp>(op);
  }
  EXPECT_EQ(kernels, emitted.layers.size());
  EXPECT_EQ(instrs, emitted.instrs.size());
}

TEST_P(ChipEmission, ProgramIsByteIdenticalToCodegens) {
  auto [model, pipeline] = GetParam();
  expectSameProgram(model, pipeline, arch::ChipConfig::reference());
}

TEST(ChipEmissionTwoNpus, PerceptionFusedAndUnfused) {
  // Products split across two NPUs: npu fields and cross-NPU tokens.
  arch::ChipConfig chip = arch::ChipConfig::load(
      std::string(TESSERA_CONFIGS_DIR) + "/two-npus.cfg");
  ASSERT_EQ(chip.npus, 2u);
  expectSameProgram("perception", compiler::Pipeline::Fused, chip);
  expectSameProgram("perception", compiler::Pipeline::Unfused, chip);
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, ChipEmission,
    ::testing::Combine(::testing::Values("encoder_layer", "perception", "vit",
                                         "bert", "resnet18", "digits"),
                       ::testing::Values(compiler::Pipeline::Unfused,
                                         compiler::Pipeline::Standard,
                                         compiler::Pipeline::Fused)),
    [](const ::testing::TestParamInfo<Case> &info) {
      return std::get<0>(info.param) + "_" +
             compiler::pipelineName(std::get<1>(info.param));
    });

TEST(ChipEmissionSmallSram, PerceptionFusedOnlineSoftmax) {
  // 128 KiB: whole score rows do not fit, the attention is the online
  // (streaming) softmax kernel, with vec.exp (a chip.vec kind the dialect
  // never named).
  arch::ChipConfig chip = arch::ChipConfig::reference();
  chip.sram_bytes = 128 << 10;
  expectSameProgram("perception", compiler::Pipeline::Fused, chip);
}

/// Print the chip IR (weights in full), parse it in a fresh context and
/// emit: the same bytes as the code generator's.
void textRoundTrip(const std::string &model, compiler::Pipeline pipeline) {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  std::string text;
  std::vector<uint8_t> expected;
  {
    mlir::MLIRContext ctx;
    load(ctx);
    auto module = decided(ctx, modelPath(model), pipeline, chip);
    ASSERT_TRUE(module);
    mlir::OwningOpRef<mlir::ModuleOp> copy = module->clone();
    expected = direct(*copy, chip);
    ASSERT_TRUE(lower(*module, chip));
    llvm::raw_string_ostream os(text);
    module->print(os);
  }
  mlir::MLIRContext ctx;
  load(ctx);
  auto parsed = mlir::parseSourceString<mlir::ModuleOp>(text, &ctx);
  ASSERT_TRUE(parsed) << "the printed chip IR does not parse";
  auto programs = parsed->getOps<chip::ProgramOp>();
  ASSERT_EQ(std::distance(programs.begin(), programs.end()), 1);
  std::vector<uint8_t> got = chip::emitProgram(*programs.begin()).serialize();
  EXPECT_TRUE(got == expected)
      << model << ": print, parse and emit changed the program";
}

TEST(ChipTextRoundTrip, EncoderLayerFused) {
  textRoundTrip("encoder_layer", compiler::Pipeline::Fused);
}

TEST(ChipTextRoundTrip, BertUnfused) {
  // Integer inputs, the gather DMA, mask ops.
  textRoundTrip("bert", compiler::Pipeline::Unfused);
}

} // namespace
