//===- CnnCodegenTest.cpp - CNN kernels against the FP32 reference --------===//
//
// Conv (im2col + GEMM: strides, pads, dilations, groups incl. depthwise, and
// a bias), max/average pooling (padding, count_include_pad, ceil-mode end
// padding, the global average) and the activations, each compiled for the
// reference chip, a 64 KiB SRAM and an odd 24x40 array with 96 KiB, simulated
// functionally and compared with the reference executor within the FP16
// tolerance of CodegenTest.cpp (docs/accuracy.md). A hand-written direct
// convolution checks the reference executor itself.
//
//===----------------------------------------------------------------------===//
#include "CodegenCheck.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/Sim/Simulator.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tessera;
using namespace tessera::codegen;
using namespace tessera::codegen::testing;

namespace {

int conv(GraphBuilder &b, const std::string &name, int x,
         std::vector<int64_t> w, std::vector<int64_t> out,
         std::vector<int64_t> strides, std::vector<int64_t> pads,
         std::vector<int64_t> dilations = {1, 1}, int64_t groups = 1) {
  int wv = b.weight(name + ".w", w);
  int bv = b.weight(name + ".b", {w[0]});
  int v = b.node(NodeKind::Conv, name, {x, wv, bv}, out);
  GraphNode &n = b.last();
  n.strides = strides;
  n.pads = pads;
  n.dilations = dilations;
  n.groups = groups;
  return v;
}

int pool(GraphBuilder &b, NodeKind kind, const std::string &name, int x,
         std::vector<int64_t> out, std::vector<int64_t> kernel,
         std::vector<int64_t> strides, std::vector<int64_t> pads,
         bool countPad = false) {
  int v = b.node(kind, name, {x}, out);
  GraphNode &n = b.last();
  n.kernel = kernel;
  n.strides = strides;
  n.pads = pads;
  n.countIncludePad = countPad;
  return v;
}

class Cnn : public ::testing::TestWithParam<arch::ChipConfig> {};

TEST_P(Cnn, ConvStemStride2Pad3) {
  GraphBuilder b;
  int x = b.input("x", {1, 3, 30, 30});
  b.output(
      conv(b, "stem", x, {16, 3, 7, 7}, {1, 16, 15, 15}, {2, 2}, {3, 3, 3, 3}),
      "y");
  arch::Program p = checkAgainstReference(b, GetParam());
  EXPECT_GT(countOp(p, arch::Opcode::VecGather), 0u);
  EXPECT_GT(countOp(p, arch::Opcode::MatMul), 0u);
}

TEST_P(Cnn, Conv3x3SamePaddingAndPointwise) {
  GraphBuilder b;
  int x = b.input("x", {2, 24, 12, 10});
  int v =
      conv(b, "c3", x, {40, 24, 3, 3}, {2, 40, 12, 10}, {1, 1}, {1, 1, 1, 1});
  b.output(
      conv(b, "c1", v, {20, 40, 1, 1}, {2, 20, 12, 10}, {1, 1}, {0, 0, 0, 0}),
      "y");
  checkAgainstReference(b, GetParam());
}

TEST_P(Cnn, DepthwiseGroupedAndDilated) {
  GraphBuilder b;
  int x = b.input("x", {1, 12, 11, 11});
  int v = conv(b, "dw", x, {12, 1, 3, 3}, {1, 12, 6, 6}, {2, 2}, {1, 1, 1, 1},
               {1, 1}, 12);
  v = conv(b, "grouped", v, {8, 3, 3, 3}, {1, 8, 6, 6}, {1, 1}, {2, 2, 2, 2},
           {2, 2}, 4);
  b.output(conv(b, "asym", v, {5, 8, 2, 3}, {1, 5, 3, 6}, {2, 1}, {0, 1, 1, 1}),
           "y");
  checkAgainstReference(b, GetParam());
}

TEST_P(Cnn, Pools) {
  GraphBuilder b;
  int x = b.input("x", {1, 20, 17, 17});
  // ResNet's 3x3/2 max pool with padding 1.
  b.output(pool(b, NodeKind::MaxPool, "max", x, {1, 20, 9, 9}, {3, 3}, {2, 2},
                {1, 1, 1, 1}),
           "max");
  // Ceil mode: one extra end pad.
  b.output(pool(b, NodeKind::MaxPool, "maxceil", x, {1, 20, 9, 9}, {2, 2},
                {2, 2}, {0, 0, 1, 1}),
           "maxceil");
  b.output(pool(b, NodeKind::AvgPool, "avg", x, {1, 20, 9, 9}, {3, 3}, {2, 2},
                {1, 1, 1, 1}),
           "avg");
  b.output(pool(b, NodeKind::AvgPool, "avgpad", x, {1, 20, 9, 9}, {3, 3},
                {2, 2}, {1, 1, 1, 1}, true),
           "avgpad");
  b.output(pool(b, NodeKind::AvgPool, "gap", x, {1, 20, 1, 1}, {17, 17}, {1, 1},
                {0, 0, 0, 0}),
           "gap");
  checkAgainstReference(b, GetParam());
}

TEST_P(Cnn, Activations) {
  GraphBuilder b;
  int x = b.input("x", {2, 8, 30, 20});
  // Inputs are in [-1, 1]; scale them so every piece of each function shows.
  int s = b.node(NodeKind::Mul, "scale", {x, b.constant("four", 4.0f)},
                 {2, 8, 30, 20});
  b.output(b.node(NodeKind::Relu, "relu", {s}, {2, 8, 30, 20}), "relu");
  b.output(b.node(NodeKind::Sigmoid, "sigmoid", {s}, {2, 8, 30, 20}),
           "sigmoid");
  b.output(b.node(NodeKind::HardSwish, "hswish", {s}, {2, 8, 30, 20}),
           "hswish");
  int hs = b.node(NodeKind::HardSigmoid, "hsig", {s}, {2, 8, 30, 20});
  b.last().alpha = 1.0f / 6;
  b.last().beta = 0.5f;
  b.output(hs, "hsig");
  int c = b.node(NodeKind::Clip, "relu6", {s}, {2, 8, 30, 20});
  b.last().lo = 0.5f;
  b.last().hi = 2.0f;
  b.output(c, "clip");
  checkAgainstReference(b, GetParam());
}

TEST_P(Cnn, PerChannelBroadcasts) {
  GraphBuilder b;
  // A squeeze-excitation gate [N, C, 1, 1] and a batch norm shift [C, 1, 1]
  // (a column of the [N*C, H*W] view when N = 1).
  int x = b.input("x", {2, 16, 9, 7});
  int gate = b.input("gate", {2, 16, 1, 1});
  b.output(b.node(NodeKind::Mul, "se", {gate, x}, {2, 16, 9, 7}), "gated");
  int x1 = b.input("x1", {1, 16, 9, 7});
  b.output(b.node(NodeKind::Add, "shift", {x1, b.weight("t", {16, 1, 1})},
                  {1, 16, 9, 7}),
           "shifted");
  checkAgainstReference(b, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Chips, Cnn, ::testing::ValuesIn(testChips()),
                         [](const auto &info) { return info.param.name; });

TEST(CnnReference, ConvMatchesADirectSum) {
  GraphBuilder b;
  int x = b.input("x", {1, 2, 4, 4});
  b.output(conv(b, "c", x, {2, 1, 2, 2}, {1, 2, 2, 2}, {2, 2}, {0, 0, 0, 0},
                {1, 1}, 2),
           "y");
  auto in = b.inputs();
  auto out = runReference(b.g, in).at("y");
  const std::vector<float> &w = b.g.values[1].data, &bias = b.g.values[2].data;
  const std::vector<float> &xv = in.at("x");
  for (int o = 0; o < 2; ++o)
    for (int oh = 0; oh < 2; ++oh)
      for (int ow = 0; ow < 2; ++ow) {
        double want = bias[o];
        for (int ky = 0; ky < 2; ++ky)
          for (int kx = 0; kx < 2; ++kx)
            want += xv[(o * 4 + oh * 2 + ky) * 4 + ow * 2 + kx] *
                    w[(o * 2 + ky) * 2 + kx];
        EXPECT_NEAR(out[(o * 2 + oh) * 2 + ow], want, 1e-5);
      }
}

TEST(CnnErrors, RuntimeConvWeightNamesTheNode) {
  GraphBuilder b;
  int x = b.input("x", {1, 2, 4, 4});
  int w = b.input("w", {2, 2, 1, 1});
  int v = b.node(NodeKind::Conv, "c", {x, w, b.weight("b", {2})}, {1, 2, 4, 4});
  b.last().strides = {1, 1};
  b.last().pads = {0, 0, 0, 0};
  b.last().dilations = {1, 1};
  b.output(v, "y");
  try {
    generateProgram(b.g, arch::ChipConfig::reference());
    FAIL() << "expected an error";
  } catch (const CodegenError &e) {
    EXPECT_STREQ(e.what(), "conv 'c': the weight and bias must be constants");
  }
}

} // namespace
