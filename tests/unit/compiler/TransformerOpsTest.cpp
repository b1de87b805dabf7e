//===- TransformerOpsTest.cpp - slice/concat/reduce/math on the chip
//-------===//
//
// Part of Tessera. The transformer ops' kernels (issue 9, part 2) compiled
// for several chips, simulated functionally and compared with the FP32
// reference executor (same tolerance as CodegenTest.cpp: max error <= 4e-3 x
// the reference's rms; data movement is exact); and the reference executor
// on values worked out by hand.
//
//===----------------------------------------------------------------------===//
#include "CodegenCheck.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/Sim/Simulator.h"

#include <Eigen/Core>
#include <gtest/gtest.h>

#include <cmath>

using namespace tessera;
using namespace tessera::codegen;
using namespace tessera::codegen::testing;

namespace {

class TransformerKernels : public ::testing::TestWithParam<arch::ChipConfig> {};

TEST_P(TransformerKernels, SlicesOfAPackedProjection) {
  // nn.MultiheadAttention's packed [S, B, 3D] in-projection split in three,
  // a strided slice (every other token, every third column) and x[:, 0].
  GraphBuilder b;
  int x = b.input("qkv", {40, 2, 3 * 96});
  for (int part = 0; part < 3; ++part) {
    int s = b.node(NodeKind::Slice, "slice" + std::to_string(part), {x},
                   {40, 2, 96});
    b.last().offsets = {0, 0, 96 * part};
    b.last().steps = {1, 1, 1};
    b.output(s, "part" + std::to_string(part));
  }
  int st = b.node(NodeKind::Slice, "strided", {x}, {20, 1, 96});
  b.last().offsets = {1, 1, 0};
  b.last().steps = {2, 1, 3};
  b.output(st, "strided");
  int cls = b.node(NodeKind::Slice, "cls", {x}, {1, 2, 3 * 96});
  b.last().offsets = {0, 0, 0};
  b.last().steps = {1, 1, 1};
  b.output(cls, "cls");
  arch::Program p = checkAgainstReference(b, GetParam(), 0.0);
  EXPECT_EQ(countOp(p, arch::Opcode::MatMul), 0u);
}

TEST_P(TransformerKernels, ConcatOfClassTokenAndPatches) {
  GraphBuilder b;
  int cls = b.weight("cls", {2, 1, 64});
  int patches = b.input("patches", {2, 49, 64});
  int extra = b.input("extra", {2, 3, 64});
  b.output(
      b.node(NodeKind::Concat, "tokens", {cls, patches, extra}, {2, 53, 64}),
      "tokens");
  b.last().axis = 1;
  int last =
      b.node(NodeKind::Concat, "lastaxis", {patches, patches}, {2, 49, 128});
  b.last().axis = 2;
  b.output(last, "lastaxis");
  // The weight is rounded to FP16 in DRAM: compare after rounding it too.
  for (float &v : b.g.values[cls].data)
    v = float(Eigen::half(v));
  checkAgainstReference(b, GetParam(), 0.0);
}

TEST_P(TransformerKernels, ReductionsOverTrailingAndInnerAxes) {
  GraphBuilder b;
  int x = b.input("x", {3, 50, 96});
  int mean = b.node(NodeKind::ReduceMean, "mean_last", {x}, {3, 50, 1});
  b.last().axes = {2};
  b.output(mean, "mean_last");
  int sum = b.node(NodeKind::ReduceSum, "sum_tokens", {x}, {3, 96});
  b.last().axes = {1}; // x.sum(1): an inner axis, moved last first.
  b.output(sum, "sum_tokens");
  int mx = b.node(NodeKind::ReduceMax, "max_two", {x}, {3, 1, 1});
  b.last().axes = {1, 2};
  b.output(mx, "max_two");
  int pool = b.node(NodeKind::ReduceMean, "pool_keep", {x}, {3, 1, 96});
  b.last().axes = {1};
  b.output(pool, "pool_keep");
  arch::Program p = checkAgainstReference(b, GetParam());
  EXPECT_GT(countOp(p, arch::Opcode::VecReduceSum), 0u);
  EXPECT_GT(countOp(p, arch::Opcode::VecReduceMax), 0u);
}

TEST_P(TransformerKernels, ElementwiseMath) {
  GraphBuilder b;
  int x = b.input("x", {2, 30, 80});
  int v = b.node(NodeKind::Pow, "square", {x}, {2, 30, 80});
  b.last().exponent = 2.0f;
  v = b.node(NodeKind::Sqrt, "sqrt", {v}, {2, 30, 80});
  v = b.node(NodeKind::Pow, "root", {v}, {2, 30, 80});
  b.last().exponent = 0.5f;
  v = b.node(NodeKind::Pow, "cube", {v}, {2, 30, 80});
  b.last().exponent = 3.0f;
  v = b.node(NodeKind::Neg, "neg", {v}, {2, 30, 80});
  v = b.node(NodeKind::Tanh, "tanh", {v}, {2, 30, 80});
  b.output(v, "y");
  int g = b.node(NodeKind::Gelu, "gelu_tanh", {x}, {2, 30, 80});
  b.last().tanhGelu = true;
  b.output(g, "g");
  arch::Program p = checkAgainstReference(b, GetParam(), 4e-3, true);
  EXPECT_EQ(countOp(p, arch::Opcode::VecGeluTanh),
            countOp(p, arch::Opcode::VecSqrt));
}

INSTANTIATE_TEST_SUITE_P(Chips, TransformerKernels,
                         ::testing::ValuesIn(testChips()),
                         [](const auto &info) { return info.param.name; });

TEST(TransformerReference, SliceConcatReduceByHand) {
  GraphBuilder b;
  int x = b.input("x", {2, 3});
  int s = b.node(NodeKind::Slice, "s", {x}, {2, 2});
  b.last().offsets = {0, 0};
  b.last().steps = {1, 2};
  b.output(s, "s");
  int c = b.node(NodeKind::Concat, "c", {x, s}, {2, 5});
  b.last().axis = 1;
  b.output(c, "c");
  int m = b.node(NodeKind::ReduceMean, "m", {x}, {3});
  b.last().axes = {0};
  b.output(m, "m");
  int mx = b.node(NodeKind::ReduceMax, "mx", {x}, {2, 1});
  b.last().axes = {1};
  b.output(mx, "mx");
  int p = b.node(NodeKind::Pow, "p", {x}, {2, 3});
  b.last().exponent = 2;
  b.output(p, "p");
  auto out = runReference(b.g, {{"x", {0, 1, 2, 3, 4, 5}}});
  EXPECT_EQ(out.at("s"), (std::vector<float>{0, 2, 3, 5}));
  EXPECT_EQ(out.at("c"), (std::vector<float>{0, 1, 2, 0, 2, 3, 4, 5, 3, 5}));
  EXPECT_EQ(out.at("m"), (std::vector<float>{1.5f, 2.5f, 3.5f}));
  EXPECT_EQ(out.at("mx"), (std::vector<float>{2, 5}));
  EXPECT_EQ(out.at("p"), (std::vector<float>{0, 1, 4, 9, 16, 25}));
}

TEST(TransformerReference, GeluTanhMatchesTheFormula) {
  GraphBuilder b;
  int x = b.input("x", {1, 2});
  b.output(b.node(NodeKind::Gelu, "g", {x}, {1, 2}), "g");
  b.last().tanhGelu = true;
  auto out = runReference(b.g, {{"x", {1.0f, -2.0f}}});
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) at 1 and -2.
  EXPECT_NEAR(out.at("g")[0], 0.841192f, 1e-5);
  EXPECT_NEAR(out.at("g")[1], -0.0454023f, 1e-5);
}

} // namespace

namespace {

TEST_P(TransformerKernels, PaddingMaskBroadcastPerBatch) {
  // Scores [B, H, Sq, Sk] + a padding mask [B, 1, 1, Sk]: a row per batch.
  GraphBuilder b;
  int s = b.input("scores", {3, 4, 20, 24});
  int m = b.input("mask", {3, 1, 1, 24});
  int r = b.input("rows", {3, 4, 1, 24});
  int pos = b.weight("pos", {1, 20, 24});
  int v = b.node(NodeKind::Add, "mask_add", {s, m}, {3, 4, 20, 24});
  v = b.node(NodeKind::Mul, "row_mul", {v, r}, {3, 4, 20, 24});
  // A trailing block broadcast over the leading axes (position embedding).
  v = b.node(NodeKind::Add, "pos_add", {pos, v}, {3, 4, 20, 24});
  b.output(v, "y");
  checkAgainstReference(b, GetParam());
}

} // namespace
