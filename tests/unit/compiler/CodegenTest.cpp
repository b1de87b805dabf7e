//===- CodegenTest.cpp - generated programs against the FP32 reference ----===//
//
// Every kernel is compiled for several chips (the reference chip, a 64 KiB
// SRAM that forces tiling, an odd array shape), run functionally on the chip
// model, and compared with the FP32 reference executor. The tolerance is the
// FP16 storage error (docs/accuracy.md): inputs, weights and every stored
// result are rounded to FP16 (relative error <= 2^-11), products accumulate
// in FP32, so a kernel's error stays within a few FP16 ulps of the result's
// scale: max |chip - reference| <= 4e-3 * rms(reference).
//
//===----------------------------------------------------------------------===//
#include "CodegenCheck.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/Sim/Simulator.h"

#include <Eigen/Core>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

using namespace tessera;
using namespace tessera::codegen;
using namespace tessera::codegen::testing;

namespace {

class Kernels : public ::testing::TestWithParam<arch::ChipConfig> {};

TEST_P(Kernels, MatMulWithRaggedEdges) {
  GraphBuilder b;
  int x = b.input("x", {37, 200});
  int w = b.weight("w", {200, 150});
  b.output(b.node(NodeKind::MatMul, "mm", {x, w}, {37, 150}), "y");
  checkAgainstReference(b, GetParam());
}

TEST_P(Kernels, MatMulFoldsBatchWhenWeightIs2D) {
  GraphBuilder b;
  int x = b.input("x", {2, 3, 40, 64});
  int w = b.weight("w", {64, 72});
  b.output(b.node(NodeKind::MatMul, "mm", {x, w}, {2, 3, 40, 72}), "y");
  checkAgainstReference(b, GetParam());
}

TEST_P(Kernels, BatchedMatMulWithBroadcastBatch) {
  GraphBuilder b;
  int q = b.input("q", {2, 4, 33, 16});
  int k = b.input("k", {1, 4, 16, 40});
  b.output(b.node(NodeKind::MatMul, "scores", {q, k}, {2, 4, 33, 40}), "y");
  checkAgainstReference(b, GetParam());
}

TEST_P(Kernels, BinaryOpsEveryBroadcast) {
  GraphBuilder b;
  int x = b.input("x", {3, 50, 96});
  int full = b.input("full", {3, 50, 96});
  int row = b.weight("row", {96});
  int col = b.input("col", {3, 50, 1});
  int s = b.input("s", {1});
  int v = b.node(NodeKind::Add, "add_full", {x, full}, {3, 50, 96});
  v = b.node(NodeKind::Add, "add_row_swapped", {row, v}, {3, 50, 96});
  v = b.node(NodeKind::Sub, "sub_col", {v, col}, {3, 50, 96});
  v = b.node(NodeKind::Mul, "mul_scalar", {v, s}, {3, 50, 96});
  v = b.node(NodeKind::Div, "div_row", {v, b.constant("two", 2.0f)},
             {3, 50, 96});
  b.output(v, "y");
  arch::Program p = checkAgainstReference(b, GetParam());
  // The constant divisor is an immediate, not a DRAM tensor.
  EXPECT_EQ(p.findTensor("two"), nullptr);
  EXPECT_GT(countOp(p, arch::Opcode::VecScale), 0u);
}

TEST_P(Kernels, RowWiseAndElementwise) {
  GraphBuilder b;
  int x = b.input("x", {2, 30, 256});
  int v =
      b.node(NodeKind::LayerNorm, "ln",
             {x, b.weight("g", {256}), b.weight("beta", {256})}, {2, 30, 256});
  b.last().axis = 2;
  v = b.node(NodeKind::Gelu, "gelu", {v}, {2, 30, 256});
  v = b.node(NodeKind::Erf, "erf", {v}, {2, 30, 256});
  v = b.node(NodeKind::Softmax, "softmax", {v}, {2, 30, 256});
  b.last().axis = 2;
  b.output(v, "y");
  checkAgainstReference(b, GetParam());
}

TEST_P(Kernels, LayerNormOverTwoTrailingAxes) {
  GraphBuilder b;
  int x = b.input("x", {6, 8, 32});
  b.output(b.node(NodeKind::LayerNorm, "ln",
                  {x, b.weight("g", {8, 32}), b.weight("beta", {8, 32})},
                  {6, 8, 32}),
           "y");
  b.last().axis = 1;
  checkAgainstReference(b, GetParam());
}

TEST_P(Kernels, TransposesOfAttentionHeads) {
  GraphBuilder b;
  int x = b.input("x", {1, 128, 4, 64});
  int heads = b.node(NodeKind::Transpose, "to_heads", {x}, {1, 4, 128, 64});
  b.last().perm = {0, 2, 1, 3};
  int kt = b.node(NodeKind::Transpose, "k_t", {x}, {1, 4, 64, 128});
  b.last().perm = {0, 2, 3, 1};
  int t2 =
      b.node(NodeKind::Transpose, "t2", {b.input("m", {300, 70})}, {70, 300});
  b.last().perm = {1, 0};
  b.output(heads, "heads");
  b.output(kt, "kt");
  b.output(t2, "t2");
  checkAgainstReference(b, GetParam(), 0.0); // Data movement is exact.
}

TEST_P(Kernels, ReshapeIsFreeAndRenamesTheOutput) {
  GraphBuilder b;
  int x = b.input("x", {4, 64});
  int v = b.node(NodeKind::Gelu, "gelu", {x}, {4, 64});
  b.output(b.node(NodeKind::Reshape, "flat", {v}, {256}), "y");
  arch::Program p = checkAgainstReference(b, GetParam());
  ASSERT_NE(p.findTensor("y"), nullptr);
  EXPECT_EQ(p.findTensor("y")->kind, arch::TensorKind::Output);
  EXPECT_EQ(p.findTensor("y")->shape, std::vector<int64_t>{256});
  EXPECT_EQ(p.layers, std::vector<std::string>{"gelu"});
}

INSTANTIATE_TEST_SUITE_P(Chips, Kernels, ::testing::ValuesIn(testChips()),
                         [](const auto &info) { return info.param.name; });

TEST(Tiling, SmallSramMeansMoreTilesAndTheSameBytesFit) {
  GraphBuilder b;
  int x = b.input("x", {128, 256});
  b.output(b.node(NodeKind::MatMul, "mm", {x, b.weight("w", {256, 1024})},
                  {128, 1024}),
           "y");
  arch::Program big = generateProgram(b.g, arch::ChipConfig::reference());
  arch::Program small = generateProgram(b.g, chipWithSram(64 << 10));
  EXPECT_LE(small.sramBytesUsed, 64u << 10);
  EXPECT_GT(countOp(small, arch::Opcode::MatMul),
            countOp(big, arch::Opcode::MatMul));
  // Whatever the tiling, the output is written exactly once.
  auto stored = [](const arch::Program &p) {
    uint64_t n = 0;
    for (const arch::Instr &in : p.instrs)
      n += in.op == arch::Opcode::DmaStore ? in.dmaBytes() : 0;
    return n;
  };
  EXPECT_EQ(stored(big), 128u * 1024 * 2);
  EXPECT_EQ(stored(small), 128u * 1024 * 2);
}

TEST(Tiling, OddShapesFitEverySramSizeInARange) {
  // Buffer alignment must not push a kernel past SRAM at any size: odd
  // extents (not multiples of the 64-byte alignment) for every kernel kind.
  GraphBuilder b;
  int x = b.input("x", {37, 61});
  int v = b.node(NodeKind::Add, "add", {x, b.input("y", {37, 61})}, {37, 61});
  v = b.node(NodeKind::Sub, "sub_row", {v, b.weight("r", {61})}, {37, 61});
  v = b.node(NodeKind::LayerNorm, "ln",
             {v, b.weight("g", {61}), b.weight("beta", {61})}, {37, 61});
  b.last().axis = 1;
  int t = b.node(NodeKind::Transpose, "t", {v}, {61, 37});
  b.last().perm = {1, 0};
  b.output(
      b.node(NodeKind::MatMul, "mm", {t, b.weight("w", {37, 29})}, {61, 29}),
      "y");
  for (uint64_t sram = 4096; sram <= 12288; sram += 8) {
    arch::ChipConfig chip = chipWithSram(sram);
    arch::Program p;
    ASSERT_NO_THROW(p = generateProgram(b.g, chip)) << sram;
    EXPECT_LE(p.sramBytesUsed, sram);
  }
}

TEST(Tiling, EveryInstructionIsOnItsNodesLayer) {
  GraphBuilder b;
  int x = b.input("x", {16, 32});
  int v = b.node(NodeKind::Gelu, "first", {x}, {16, 32});
  b.output(b.node(NodeKind::Erf, "second", {v}, {16, 32}), "y");
  arch::Program p = generateProgram(b.g, arch::ChipConfig::reference());
  ASSERT_EQ(p.layers, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(p.instrs.front().layer, 0u);
  EXPECT_EQ(p.instrs.back().layer, 1u);
}

TEST(Errors, SoftmaxOverAnInnerAxisNamesTheNode) {
  GraphBuilder b;
  int x = b.input("x", {4, 8});
  b.output(b.node(NodeKind::Softmax, "attn.softmax", {x}, {4, 8}), "y");
  b.last().axis = 0;
  try {
    generateProgram(b.g, arch::ChipConfig::reference());
    FAIL() << "expected CodegenError";
  } catch (const CodegenError &e) {

    EXPECT_NE(std::string(e.what()).find("softmax 'attn.softmax'"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("last axis"), std::string::npos);
  }
}

TEST(Errors, RowThatDoesNotFitSram) {
  GraphBuilder b;
  int x = b.input("x", {2, 4096});
  b.output(b.node(NodeKind::Softmax, "sm", {x}, {2, 4096}), "y");
  b.last().axis = 1;
  EXPECT_THROW(
      {
        try {
          generateProgram(b.g, chipWithSram(16 << 10));
        } catch (const CodegenError &e) {
          EXPECT_NE(std::string(e.what()).find("one row of 4096 elements"),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      CodegenError);
}

TEST(Errors, UnsupportedBroadcast) {
  GraphBuilder b;
  int x = b.input("x", {4, 5, 6});
  // Broadcast over the first and last axes (a [4, 1, 6] row per batch is
  // supported: TransformerOpsTest.cpp, PaddingMaskBroadcastPerBatch).
  int y = b.input("y", {1, 5, 1});
  b.output(b.node(NodeKind::Add, "odd_add", {x, y}, {4, 5, 6}), "z");
  EXPECT_THROW(generateProgram(b.g, arch::ChipConfig::reference()),
               CodegenError);
}

TEST(Errors, ShapeMismatchIsCaughtByVerify) {
  GraphBuilder b;
  int x = b.input("x", {4, 5});
  int w = b.weight("w", {6, 7});
  b.output(b.node(NodeKind::MatMul, "bad", {x, w}, {4, 7}), "y");
  EXPECT_THROW(generateProgram(b.g, arch::ChipConfig::reference()),
               CodegenError);
}

// Issue 12, items 2 and 10: the DRAM image limit names the op and the
// figures before anything is emitted; no outputs and FP16-overflowing
// weights are errors.
TEST(Errors, DramImageLimitNamesTheOpAndTheFigures) {
  GraphBuilder b;
  int x = b.input("x", {1 << 20, 1536}); // 3 GiB in FP16
  b.output(b.node(NodeKind::Erf, "huge_erf", {x}, {1 << 20, 1536}), "y");
  try {
    generateProgram(b.g, arch::ChipConfig::reference());
    FAIL() << "expected CodegenError";
  } catch (const CodegenError &e) {
    EXPECT_STREQ(e.what(), "erf 'huge_erf': output tensor 'y' (3221225472 "
                           "bytes) takes the DRAM image past the limit of "
                           "4294967296 bytes (docs/limits-and-errors.md)");
  }
}

TEST(Errors, NoOutputsIsAnError) {
  GraphBuilder b;
  b.input("x", {4, 8});
  EXPECT_THROW(generateProgram(b.g, arch::ChipConfig::reference()),
               CodegenError);
}

TEST(Errors, WeightOutsideFp16RangeNamesTheWeight) {
  GraphBuilder b;
  int x = b.input("x", {4, 8});
  int w = b.weight("big_w", {8, 8});
  b.g.values[w].data[5] = 1e30f;
  b.output(b.node(NodeKind::MatMul, "mm", {x, w}, {4, 8}), "y");
  try {
    generateProgram(b.g, arch::ChipConfig::reference());
    FAIL() << "expected CodegenError";
  } catch (const CodegenError &e) {
    EXPECT_NE(std::string(e.what()).find("weight 'big_w': element 5"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("outside FP16's range"),
              std::string::npos)
        << e.what();
  }
}

TEST(Tiling, RepeatedNodeNamesGetDistinctLayers) {
  GraphBuilder b;
  int x = b.input("x", {16, 32});
  int v = b.node(NodeKind::Gelu, "same", {x}, {16, 32});
  v = b.node(NodeKind::Erf, "same", {v}, {16, 32});
  b.output(b.node(NodeKind::Erf, "", {v}, {16, 32}), "y");
  arch::Program p = generateProgram(b.g, arch::ChipConfig::reference());
  EXPECT_EQ(p.layers, (std::vector<std::string>{"same", "same #2", ""}));
}

} // namespace

// Two NPUs (docs/lowering.md, "Two NPUs"): a compute-bound product is split
// across them by the cost model (by rows, or by the batch of a batched
// product: the heads), a program the split does not pay for stays on NPU 0
// byte for byte, and the results match the FP32 reference either way.
TEST(TwoNpus, TheCostModelSplitsComputeBoundProducts) {
  arch::ChipConfig two = testChips().back();
  ASSERT_EQ(two.npus, 2u);
  auto onNpu1 = [](const arch::Program &p) {
    size_t n = 0;
    for (const arch::Instr &in : p.instrs)
      n += in.npu == 1;
    return n;
  };
  GraphBuilder rows;
  int x = rows.input("x", {256, 384});
  int w = rows.weight("w", {384, 384});
  rows.output(rows.node(NodeKind::MatMul, "mm", {x, w}, {256, 384}), "y");
  arch::Program p = checkAgainstReference(rows, two);
  EXPECT_EQ(p.npus, 2u);
  EXPECT_GT(onNpu1(p), 0u);
  // The stores of NPU 1's rows and NPU 0's are disjoint DRAM: every matmul
  // of NPU 1 depends only on NPU 1's instructions.
  for (const arch::Instr &in : p.instrs)
    if (in.npu == 1 && in.op == arch::Opcode::MatMul)
      for (uint32_t d : in.deps)
        EXPECT_EQ(p.instrs[d].npu, 1);

  GraphBuilder heads;
  int q = heads.input("q", {7, 128, 64});
  int k = heads.input("k", {7, 64, 128});
  heads.output(heads.node(NodeKind::MatMul, "scores", {q, k}, {7, 128, 128}),
               "s");
  p = checkAgainstReference(heads, two);
  EXPECT_EQ(p.npus, 2u);
  EXPECT_GT(onNpu1(p), 0u);

  // On the reference chip this small product is DRAM-bound: with npus = 2
  // it stays on one NPU, and the program is the one-NPU program.
  arch::ChipConfig ref2 = arch::ChipConfig::reference();
  ref2.npus = 2;
  arch::Program one = generateProgram(rows.g, arch::ChipConfig::reference());
  arch::Program stay = generateProgram(rows.g, ref2);
  EXPECT_EQ(stay.npus, 1u);
  EXPECT_EQ(stay.serialize(), one.serialize());
}
