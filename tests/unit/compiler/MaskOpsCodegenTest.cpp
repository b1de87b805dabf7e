//===- MaskOpsCodegenTest.cpp - embeddings and masks against the reference ===//
//
// BERT's ops on the chip (docs/lowering.md, "Embedding, Equal, Where,
// Expand"): the embedding lookup by gather DMA on int32 ids (negative ids
// wrap, several id tiles on a small SRAM), Equal against a constant and
// between tensors, Where with broadcast operands, Expand, the scalar-minus
// rewrite and the int32-to-FP16 conversion of an integer input, each
// compiled for the test chips, simulated functionally and compared with the
// FP32 reference executor; and the errors: ids that are not an integer
// input, an id outside the table, a non-integer or too large integer input.
//
//===----------------------------------------------------------------------===//
#include "CodegenCheck.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/Sim/Simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace tessera;
using namespace tessera::codegen;
using namespace tessera::codegen::testing;

namespace {

using Inputs = std::map<std::string, std::vector<float>>;

/// Compiles and simulates `g` with `inputs`; every output must be within
/// `tolerance` x rms of the reference executor's (exact when 0).
arch::Program check(const Graph &g, const arch::ChipConfig &chip,
                    const Inputs &inputs, double tolerance = 4e-3) {
  arch::Program prog = generateProgram(g, chip);
  auto ref = runReference(g, inputs);
  sim::SimResult r = sim::simulateFrame(prog, chip, inputs);
  for (const auto &[name, want] : ref) {
    const std::vector<float> &got = r.outputs.at(name);
    EXPECT_EQ(got.size(), want.size());
    double rms = 0, maxErr = 0;
    for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
      rms += double(want[i]) * want[i];
      maxErr = std::max(maxErr, std::fabs(double(got[i]) - want[i]));
    }
    rms = std::sqrt(rms / double(want.size()));
    EXPECT_LE(maxErr, tolerance * rms)
        << name << " on " << chip.name << ": max error " << maxErr;
  }
  return prog;
}

std::vector<float> fp16(std::vector<float> v) {
  for (float &x : v)
    x = float(Eigen::half(x));
  return v;
}

int integerInput(GraphBuilder &b, const std::string &name,
                 std::vector<int64_t> shape) {
  int v = b.input(name, std::move(shape));
  b.g.values[v].integer = true;
  return v;
}

class MaskOps : public ::testing::TestWithParam<arch::ChipConfig> {};

TEST_P(MaskOps, EmbeddingGatherWithNegativeIds) {
  GraphBuilder b;
  int ids = integerInput(b, "ids", {2, 7});
  int table = b.weight("table", {50, 24});
  b.g.values[table].data = fp16(b.g.values[table].data); // exact lookup
  b.output(b.node(NodeKind::Embedding, "emb", {table, ids}, {2, 7, 24}), "y");
  Inputs in{{"ids", {}}};
  for (int i = 0; i < 14; ++i)
    in["ids"].push_back(float((i * 17) % 100 - 50)); // -50 .. 49
  arch::Program p = check(b.g, GetParam(), in, 0);
  EXPECT_EQ(countOp(p, arch::Opcode::DmaGather), 1u);
  EXPECT_EQ(p.findTensor("ids")->dtype, arch::DType::I32);
}

TEST_P(MaskOps, EmbeddingOfManyIdsTakesSeveralTiles) {
  GraphBuilder b;
  int ids = integerInput(b, "ids", {1000});
  int table = b.weight("table", {3000, 40});
  b.g.values[table].data = fp16(b.g.values[table].data);
  b.output(b.node(NodeKind::Embedding, "emb", {table, ids}, {1000, 40}), "y");
  Inputs in{{"ids", {}}};
  for (int i = 0; i < 1000; ++i)
    in["ids"].push_back(float((i * 7919) % 3000));
  arch::Program p = check(b.g, GetParam(), in, 0);
  if (GetParam().sram_bytes <= (96u << 10))
    EXPECT_GT(countOp(p, arch::Opcode::DmaGather), 1u);
}

/// BERT's key padding mask: (mask == 0) unsqueezed, expanded over heads,
/// 1 - that (the importer's cast to bool), where(pad, -1e4, scores).
TEST_P(MaskOps, PaddingMaskEqualExpandWhere) {
  GraphBuilder b;
  int mask = integerInput(b, "mask", {2, 8});
  int x = b.input("x", {2, 4, 8});
  int eq = b.node(NodeKind::Equal, "eq", {mask, b.constant("zero", 0)},
                  {2, 8});
  int r = b.node(NodeKind::Reshape, "r", {eq}, {2, 1, 8});
  int e = b.node(NodeKind::Expand, "e", {r}, {2, 4, 8});
  int nz = b.node(NodeKind::Equal, "nz", {e, b.constant("z2", 0)}, {2, 4, 8});
  int pad =
      b.node(NodeKind::Sub, "notnz", {b.constant("one", 1), nz}, {2, 4, 8});
  b.output(b.node(NodeKind::Where, "w",
                  {pad, x, b.constant("neg", -1e4f)}, {2, 4, 8}),
           "y");
  Inputs in{{"mask", {}}, {"x", fp16(b.random(64))}};
  for (int i = 0; i < 16; ++i)
    in["mask"].push_back(i % 8 < 5 ? 1.0f : 0.0f);
  arch::Program p = check(b.g, GetParam(), in, 0);
  EXPECT_GT(countOp(p, arch::Opcode::VecEqImm), 0u);
  EXPECT_GT(countOp(p, arch::Opcode::VecSelect), 0u);
}

TEST_P(MaskOps, EqualOfTwoTensorsAndWhereOfBroadcastRuntimeRow) {
  GraphBuilder b;
  int x = b.input("x", {3, 16});
  int y = b.input("y", {3, 16});
  int row = b.input("row", {1, 16});
  int eq = b.node(NodeKind::Equal, "eq", {x, y}, {3, 16});
  b.output(b.node(NodeKind::Where, "w", {eq, row, y}, {3, 16}), "out");
  std::vector<float> xv = fp16(b.random(48)), yv = fp16(b.random(48));
  for (int i = 0; i < 48; i += 3)
    yv[i] = xv[i];
  Inputs in{{"x", xv}, {"y", yv}, {"row", fp16(b.random(16))}};
  check(b.g, GetParam(), in, 0);
}

TEST_P(MaskOps, ExpandInnerAndOuterAxes) {
  GraphBuilder b;
  int x = b.input("x", {3, 1, 5});
  b.output(b.node(NodeKind::Expand, "e", {x}, {2, 3, 4, 5}), "y");
  Inputs in{{"x", fp16(b.random(15))}};
  check(b.g, GetParam(), in, 0);
}

INSTANTIATE_TEST_SUITE_P(Chips, MaskOps, ::testing::ValuesIn(testChips()),
                         [](const auto &info) { return info.param.name; });

TEST(MaskOpsErrors, EmbeddingIdsMustBeAnIntegerInput) {
  GraphBuilder b;
  int ids = b.input("ids", {4});
  int table = b.weight("table", {10, 8});
  b.output(b.node(NodeKind::Embedding, "emb", {table, ids}, {4, 8}), "y");
  try {
    generateProgram(b.g, arch::ChipConfig::reference());
    FAIL() << "expected an error";
  } catch (const CodegenError &e) {
    EXPECT_STREQ(e.what(),
                 "embedding 'emb': the ids 'ids' must be an integer graph "
                 "input (int64, int32 or bool): the gather DMA reads int32 "
                 "row indices");
  }
}

Graph embeddingGraph() {
  GraphBuilder b;
  int ids = integerInput(b, "ids", {4});
  int table = b.weight("table", {10, 8});
  b.output(b.node(NodeKind::Embedding, "emb", {table, ids}, {4, 8}), "y");
  return b.g;
}

TEST(MaskOpsErrors, IdOutsideTheTableFailsTheGather) {
  Graph g = embeddingGraph();
  arch::ChipConfig chip = arch::ChipConfig::reference();
  arch::Program p = generateProgram(g, chip);
  try {
    sim::simulateFrame(p, chip, {{"ids", {1, 2, 10, 3}}});
    FAIL() << "expected an error";
  } catch (const std::exception &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "(dma.gather) on the DMA load channel"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(
                  "index 10 (position 2) is outside the 10-row table"),
              std::string::npos)
        << e.what();
  }
}

TEST(MaskOpsErrors, IntegerInputMustBeAnExactInteger) {
  Graph g = embeddingGraph();
  arch::ChipConfig chip = arch::ChipConfig::reference();
  arch::Program p = generateProgram(g, chip);
  for (float bad : {2.5f, 33554432.0f}) {
    try {
      sim::simulateFrame(p, chip, {{"ids", {1, bad, 0, 3}}});
      FAIL() << "expected an error for " << bad;
    } catch (const sim::SimError &e) {
      EXPECT_NE(std::string(e.what()).find(
                    "input 'ids' is an integer tensor (int32 on the chip): "
                    "element 1 is"),
                std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("not an integer of magnitude at "
                                           "most 2^24"),
                std::string::npos)
          << e.what();
    }
  }
  // Valid ids pass.
  sim::SimResult r = sim::simulateFrame(p, chip, {{"ids", {1, 2, 0, 3}}});
  EXPECT_EQ(r.outputs.at("y").size(), 32u);
}

} // namespace
