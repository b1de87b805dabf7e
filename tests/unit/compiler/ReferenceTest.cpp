//===- ReferenceTest.cpp - the FP32 reference executor on known values ----===//
#include "GraphBuilder.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tessera::codegen;
using tessera::codegen::testing::GraphBuilder;

namespace {

TEST(Reference, MatMulAddBroadcast) {
  GraphBuilder b;
  int x = b.input("x", {2, 2});
  int w = b.weight("w", {2, 3});
  b.g.values[w].data = {1, 2, 3, 4, 5, 6};
  int bias = b.weight("bias", {3});
  b.g.values[bias].data = {10, 20, 30};
  int mm = b.node(NodeKind::MatMul, "mm", {x, w}, {2, 3});
  b.output(b.node(NodeKind::Add, "add", {mm, bias}, {2, 3}), "y");
  auto out = runReference(b.g, {{"x", {1, 0, 0, 2}}});
  EXPECT_EQ(out.at("y"), (std::vector<float>{11, 22, 33, 18, 30, 42}));
}

TEST(Reference, SoftmaxAndLayerNorm) {
  GraphBuilder b;
  int x = b.input("x", {1, 2});
  int sm = b.node(NodeKind::Softmax, "sm", {x}, {1, 2});
  b.last().axis = 1;
  int g = b.weight("g", {2}), beta = b.weight("beta", {2});
  b.g.values[g].data = {1, 1};
  b.g.values[beta].data = {0, 0};
  int ln = b.node(NodeKind::LayerNorm, "ln", {x, g, beta}, {1, 2});
  b.last().axis = 1;
  b.last().epsilon = 0;
  b.output(sm, "sm");
  b.output(ln, "ln");
  auto out = runReference(b.g, {{"x", {0, std::log(3.0f)}}});
  EXPECT_NEAR(out.at("sm")[0], 0.25f, 1e-6);
  EXPECT_NEAR(out.at("sm")[1], 0.75f, 1e-6);
  EXPECT_NEAR(out.at("ln")[0], -1.0f, 1e-6);
  EXPECT_NEAR(out.at("ln")[1], 1.0f, 1e-6);
}

TEST(Reference, SoftmaxOverAnInnerAxis) {
  GraphBuilder b;
  int x = b.input("x", {2, 2});
  b.output(b.node(NodeKind::Softmax, "sm", {x}, {2, 2}), "y");
  b.last().axis = 0;
  auto out = runReference(b.g, {{"x", {0, 5, 0, 5}}});
  EXPECT_EQ(out.at("y"), (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));
}

TEST(Reference, TransposeAndGelu) {
  GraphBuilder b;
  int x = b.input("x", {2, 3});
  int t = b.node(NodeKind::Transpose, "t", {x}, {3, 2});
  b.last().perm = {1, 0};
  b.output(t, "t");
  b.output(b.node(NodeKind::Gelu, "g", {x}, {2, 3}), "g");
  auto out = runReference(b.g, {{"x", {0, 1, 2, 3, 4, 5}}});
  EXPECT_EQ(out.at("t"), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_NEAR(out.at("g")[1], 0.8413447f, 1e-6); // GELU(1) = Phi(1).
}

TEST(Reference, MissingInputIsAnError) {
  GraphBuilder b;
  int x = b.input("x", {2});
  b.output(b.node(NodeKind::Erf, "e", {x}, {2}), "y");
  EXPECT_THROW(runReference(b.g, {}), CodegenError);
}

} // namespace
