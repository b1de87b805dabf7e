//===- FunctionalTest.cpp - Every opcode's values against Eigen FP32 ------===//
//
// Each test loads operands from DRAM, runs one or two compute instructions,
// stores the result and compares it with an FP32 Eigen computation done here
// on the same (rounded) inputs. Tolerances: FP32 results to float rounding;
// FP16 results to FP16 rounding (2^-11 relative) of the output.
//
//===----------------------------------------------------------------------===//

#include "TestPrograms.h"

#include "tessera/Sim/Simulator.h"
#include "tessera/Sim/Timing.h"

#include <gtest/gtest.h>

#include <functional>

using namespace tessera;
using namespace tessera::simtest;
using arch::DType;
using arch::Opcode;
using arch::TensorKind;

namespace {

struct In {
  std::string name;
  Mat value;
  DType type;
  uint64_t sram;
};

/// Loads every input to its SRAM address, runs the instructions `compute`
/// adds (given the loads' indices as deps), stores rows x cols of `outT` from
/// `outSram`, simulates and returns the output.
Mat run(const std::vector<In> &ins,
        const std::function<uint32_t(ProgramBuilder &, std::vector<uint32_t>)>
            &compute,
        Eigen::Index rows, Eigen::Index cols, DType outT, uint64_t outSram,
        sim::SimResult *resultOut = nullptr) {
  ProgramBuilder b;
  std::map<std::string, std::vector<float>> inputs;
  std::vector<uint64_t> dram;
  for (const In &in : ins) {
    dram.push_back(b.tensor(in.name, TensorKind::Input, in.type,
                            {in.value.rows(), in.value.cols()}));
    inputs[in.name] = flat(in.value);
  }
  uint64_t outDram = b.tensor("out", TensorKind::Output, outT, {rows, cols});
  std::vector<uint32_t> loads;
  for (size_t i = 0; i < ins.size(); ++i)
    loads.push_back(
        b.load(dram[i], ins[i].sram, uint32_t(ins[i].value.rows()),
               uint32_t(ins[i].value.cols() * arch::dtypeBytes(ins[i].type))));
  uint32_t last = compute(b, loads);
  b.store(outDram, outSram, uint32_t(rows),
          uint32_t(cols * arch::dtypeBytes(outT)), {last});
  sim::SimResult r =
      sim::simulateFrame(b.prog, arch::ChipConfig::reference(), inputs);
  if (resultOut)
    *resultOut = r;
  return fromFlat(r.outputs.at("out"), rows, cols);
}

/// Every element within `rel` of the reference's magnitude (plus `abs`).
void expectNear(const Mat &actual, const Mat &expected, double rel,
                double abs = 1e-6) {
  ASSERT_EQ(actual.rows(), expected.rows());
  ASSERT_EQ(actual.cols(), expected.cols());
  for (Eigen::Index i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual.data()[i], expected.data()[i],
                abs + rel * std::fabs(expected.data()[i]))
        << "element " << i;
}

constexpr double kF16 = 1.0 / 2048; // FP16 unit roundoff.
constexpr double kF32 = 1e-5;       // FP32 with different summation order.

TEST(Functional, MatmulF16AccumulatesInF32) {
  Mat a = roundTo(DType::F16, randomMat(5, 7, 1));
  Mat bm = roundTo(DType::F16, randomMat(7, 3, 2));
  Mat out = run(
      {{"a", a, DType::F16, 0}, {"b", bm, DType::F16, 0x1000}},
      [](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.matmul(DType::F16, DType::F32, 5, 7, 3, 0, 0x1000, 0x2000,
                        deps);
      },
      5, 3, DType::F32, 0x2000);
  expectNear(out, a * bm, kF32);
}

TEST(Functional, MatmulF16OutputIsRoundedToF16) {
  Mat a = roundTo(DType::F16, randomMat(4, 9, 3));
  Mat bm = roundTo(DType::F16, randomMat(9, 6, 4));
  Mat out = run(
      {{"a", a, DType::F16, 0}, {"b", bm, DType::F16, 0x1000}},
      [](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.matmul(DType::F16, DType::F16, 4, 9, 6, 0, 0x1000, 0x2000,
                        deps);
      },
      4, 6, DType::F16, 0x2000);
  expectNear(out, roundTo(DType::F16, Mat(a * bm)), 0, 0);
}

TEST(Functional, MatmulTransposeBAndAccumulateIntoItsOwnOutput) {
  // out = a1 * b1^T, then out = a2 * b2^T + out (acc aliases out).
  Mat a1 = roundTo(DType::F16, randomMat(3, 8, 5));
  Mat b1 = roundTo(DType::F16, randomMat(4, 8, 6)); // N x K
  Mat a2 = roundTo(DType::F16, randomMat(3, 8, 7));
  Mat b2 = roundTo(DType::F16, randomMat(4, 8, 8));
  Mat out = run(
      {{"a1", a1, DType::F16, 0},
       {"b1", b1, DType::F16, 0x100},
       {"a2", a2, DType::F16, 0x200},
       {"b2", b2, DType::F16, 0x300}},
      [](ProgramBuilder &b, std::vector<uint32_t> d) {
        uint32_t first = b.matmul(DType::F16, DType::F32, 3, 8, 4, 0, 0x100,
                                  0x400, {d[0], d[1]}, arch::kFlagTransposeB);
        return b.matmul(DType::F16, DType::F32, 3, 8, 4, 0x200, 0x300, 0x400,
                        {d[2], d[3], first},
                        arch::kFlagTransposeB | arch::kFlagAccumulate, 0x400,
                        DType::F32);
      },
      3, 4, DType::F32, 0x400);
  expectNear(out, Mat(a1 * b1.transpose() + a2 * b2.transpose()), kF32);
}

TEST(Functional, MatmulI8IsExact) {
  Mat a = roundTo(DType::I8, randomMat(6, 5, 9, 100));
  Mat bm = roundTo(DType::I8, randomMat(5, 7, 10, 100));
  Mat out = run(
      {{"a", a, DType::I8, 0}, {"b", bm, DType::I8, 0x100}},
      [](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.matmul(DType::I8, DType::I32, 6, 5, 7, 0, 0x100, 0x200, deps);
      },
      6, 7, DType::I32, 0x200);
  expectNear(out, a * bm, 0, 0);
}

TEST(Functional, MatmulReadsStridedViews) {
  // A 4 x 10 F32 matrix in SRAM; the matmul reads its left 4 x 6 block
  // (row stride 10 elements) against a 6 x 2 B.
  Mat a = randomMat(4, 10, 11);
  Mat bm = randomMat(6, 2, 12);
  Mat out = run(
      {{"a", a, DType::F32, 0}, {"b", bm, DType::F32, 0x1000}},
      [](ProgramBuilder &b, std::vector<uint32_t> deps) {
        uint32_t i =
            b.matmul(DType::F32, DType::F32, 4, 6, 2, 0, 0x1000, 0x2000, deps);
        b.prog.instrs[i].strides[0] = 10;
        return i;
      },
      4, 2, DType::F32, 0x2000);
  expectNear(out, Mat(a.leftCols(6) * bm), kF32);
}

/// A binary vector op with b of shape bRows x bCols and `flags`.
Mat binaryOp(Opcode op, uint32_t flags, const Mat &a, const Mat &bm) {
  return run(
      {{"a", a, DType::F32, 0}, {"b", bm, DType::F32, 0x1000}},
      [&](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.vec(op, DType::F32, DType::F32, uint32_t(a.rows()),
                     uint32_t(a.cols()), 0, 0x1000, 0x2000, deps, flags);
      },
      a.rows(), a.cols(), DType::F32, 0x2000);
}

TEST(Functional, VectorBinaryOpsAndBroadcasts) {
  Mat a = randomMat(3, 5, 13);
  Mat full = randomMat(3, 5, 14);
  Mat row = randomMat(1, 5, 15);
  Mat col = randomMat(3, 1, 16);
  Mat scalar = randomMat(1, 1, 17);
  expectNear(binaryOp(Opcode::VecAdd, 0, a, full), a + full, 0);
  expectNear(binaryOp(Opcode::VecSub, 0, a, full), a - full, 0);
  expectNear(binaryOp(Opcode::VecMul, 0, a, full), Mat(a.cwiseProduct(full)),
             0);
  expectNear(binaryOp(Opcode::VecDiv, 0, a, full), Mat(a.cwiseQuotient(full)),
             1e-6);
  expectNear(binaryOp(Opcode::VecAdd, arch::kFlagBroadcastRow, a, row),
             Mat(a.rowwise() + row.row(0)), 0);
  expectNear(binaryOp(Opcode::VecMul, arch::kFlagBroadcastCol, a, col),
             Mat(a.array().colwise() * col.col(0).array()), 0);
  expectNear(binaryOp(Opcode::VecSub, arch::kFlagBroadcastScalar, a, scalar),
             Mat(a.array() - scalar(0, 0)), 0);
}

/// A unary vector op on F16 input, F16 output.
Mat unaryOp(Opcode op, const Mat &a, float imm = 0) {
  bool transpose = op == Opcode::VecTranspose;
  return run(
      {{"a", a, DType::F16, 0}},
      [&](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.vec(op, DType::F16, DType::F16, uint32_t(a.rows()),
                     uint32_t(a.cols()), 0, 0, 0x1000, deps, 0, imm);
      },
      transpose ? a.cols() : a.rows(), transpose ? a.rows() : a.cols(),
      DType::F16, 0x1000);
}

TEST(Functional, VectorUnaryOps) {
  Mat a = roundTo(DType::F16, randomMat(4, 24, 18, 3));
  expectNear(unaryOp(Opcode::VecScale, a, 0.125f), Mat(a * 0.125f), kF16);
  expectNear(unaryOp(Opcode::VecErf, a),
             Mat(a.unaryExpr([](float x) { return std::erf(x); })), kF16, 1e-3);
  expectNear(unaryOp(Opcode::VecGelu, a), Mat(a.unaryExpr([](float x) {
               return 0.5f * x * (1 + std::erf(x / std::sqrt(2.0f)));
             })),
             kF16, 1e-3);
  expectNear(unaryOp(Opcode::VecExp, a),
             Mat(a.unaryExpr([](float x) { return std::exp(x); })), kF16, 1e-3);
  expectNear(unaryOp(Opcode::VecTranspose, a), Mat(a.transpose()), 0, 0);
  expectNear(unaryOp(Opcode::VecCopy, a), a, 0, 0);
  Mat softmax(a.rows(), a.cols());
  for (Eigen::Index r = 0; r < a.rows(); ++r) {
    Eigen::ArrayXf e = (a.row(r).array() - a.row(r).maxCoeff()).exp();
    softmax.row(r) = (e / e.sum()).matrix().transpose();
  }
  expectNear(unaryOp(Opcode::VecSoftmax, a), softmax, kF16, 1e-4);
}

TEST(Functional, SoftmaxIsStableForLargeLogits) {
  Mat a(1, 3);
  a << 1000, 1001, 1002; // exp(1000) overflows FP32 without the max shift.
  Mat out = run(
      {{"a", a, DType::F32, 0}},
      [](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.vec(Opcode::VecSoftmax, DType::F32, DType::F32, 1, 3, 0, 0,
                     0x100, deps);
      },
      1, 3, DType::F32, 0x100);
  Mat expect(1, 3);
  double z = std::exp(-2.0) + std::exp(-1.0) + 1.0;
  expect << float(std::exp(-2.0) / z), float(std::exp(-1.0) / z),
      float(1.0 / z);
  expectNear(out, expect, 1e-6);
}

TEST(Functional, LayerNorm) {
  Mat a = roundTo(DType::F16, randomMat(3, 16, 19, 2));
  Mat gamma = roundTo(DType::F16, randomMat(1, 16, 20));
  Mat beta = roundTo(DType::F16, randomMat(1, 16, 21));
  const float eps = 1e-5f;
  Mat out = run(
      {{"a", a, DType::F16, 0},
       {"gamma", gamma, DType::F16, 0x100},
       {"beta", beta, DType::F16, 0x200}},
      [&](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.vec(Opcode::VecLayerNorm, DType::F16, DType::F32, 3, 16, 0,
                     0x100, 0x400, deps, 0, eps, 0x200);
      },
      3, 16, DType::F32, 0x400);
  Mat expect(3, 16);
  for (Eigen::Index r = 0; r < 3; ++r) {
    double mean = a.row(r).cast<double>().mean();
    double var = (a.row(r).cast<double>().array() - mean).square().mean();
    for (Eigen::Index c = 0; c < 16; ++c)
      expect(r, c) = float(
          (a(r, c) - mean) / std::sqrt(var + eps) * gamma(0, c) + beta(0, c));
  }
  expectNear(out, expect, 1e-5, 1e-5);
}

TEST(Functional, CopyConvertsAndSaturates) {
  Mat a(1, 6);
  a << 1.4f, -2.6f, 300.f, -300.f, 0.5f, 70000.f;
  // F32 -> I8: round to nearest (ties to even), saturate.
  Mat i8 = run(
      {{"a", a, DType::F32, 0}},
      [](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.vec(Opcode::VecCopy, DType::F32, DType::I8, 1, 6, 0, 0, 0x100,
                     deps);
      },
      1, 6, DType::I8, 0x100);
  Mat expectI8(1, 6);
  expectI8 << 1, -3, 127, -128, 0, 127;
  expectNear(i8, expectI8, 0, 0);
  // F32 -> F16: 70000 is past FP16's largest finite value (65504).
  Mat f16 = run(
      {{"a", a, DType::F32, 0}},
      [](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.vec(Opcode::VecCopy, DType::F32, DType::F16, 1, 6, 0, 0, 0x100,
                     deps);
      },
      1, 6, DType::F16, 0x100);
  EXPECT_FLOAT_EQ(f16(0, 0), float(Eigen::half(1.4f)));
  EXPECT_TRUE(std::isinf(f16(0, 5)));
}

TEST(Functional, InputsAreConvertedToTheTensorType) {
  // An F16 input tensor, copied out as F32: the chip holds FP16 values.
  Mat a = randomMat(2, 8, 22);
  Mat out = run(
      {{"a", a, DType::F16, 0}},
      [](ProgramBuilder &b, std::vector<uint32_t> deps) {
        return b.vec(Opcode::VecCopy, DType::F16, DType::F32, 2, 8, 0, 0, 0x100,
                     deps);
      },
      2, 8, DType::F32, 0x100);
  expectNear(out, roundTo(DType::F16, a), 0, 0);
  EXPECT_GT((out - a).cwiseAbs().maxCoeff(), 0.0f)
      << "FP16 rounding should be visible on random values";
}

TEST(Functional, StridedDmaGathersAndScatters) {
  // Load the middle 4 columns (16 bytes at byte 8 of each 32-byte DRAM row)
  // of a 3 x 8 F32 input into a 3 x 4 SRAM block with a 64-byte row stride,
  // then store it to the output's rows with a 16-byte stride.
  ProgramBuilder b;
  Mat a = randomMat(3, 8, 23);
  uint64_t in = b.tensor("a", TensorKind::Input, DType::F32, {3, 8});
  uint64_t out = b.tensor("out", TensorKind::Output, DType::F32, {3, 4});
  uint32_t l = b.load(in + 8, 0, 3, 16, {}, 32, 64);
  b.store(out, 0, 3, 16, {l}, 16, 64);
  sim::SimResult r = sim::simulateFrame(b.prog, arch::ChipConfig::reference(),
                                        {{"a", flat(a)}});
  expectNear(fromFlat(r.outputs.at("out"), 3, 4), Mat(a.middleCols(2, 4)), 0,
             0);
}

TEST(Functional, WeightsComeFromTheProgram) {
  ProgramBuilder b;
  Mat w = randomMat(2, 3, 24);
  uint64_t wAddr =
      b.tensor("w", TensorKind::Weight, DType::F32, {2, 3}, flat(w));
  uint64_t out = b.tensor("out", TensorKind::Output, DType::F32, {2, 3});
  uint32_t l = b.load(wAddr, 0, 1, 24);
  b.store(out, 0, 1, 24, {l});
  sim::SimResult r =
      sim::simulateFrame(b.prog, arch::ChipConfig::reference(), {});
  expectNear(fromFlat(r.outputs.at("out"), 2, 3), w, 0, 0);
}

// Functional mode computes an instruction's result when it completes, in
// place in the SRAM and DRAM bytes, from sources leased at issue
// (sim::ReadLease): a write that reaches a source in between must leave
// the instruction the values of its issue, and a reader of the destination
// meanwhile must see the old values. Each test checks from the timings that
// the race did happen.

/// True when `inner`'s completion falls strictly inside `outer`'s flight.
bool completesDuring(const sim::SimResult &r, uint32_t inner, uint32_t outer) {
  const sim::InstrTiming &i = r.instrTimings[inner], &o = r.instrTimings[outer];
  return i.endCycle > o.startCycle && i.endCycle < o.endCycle;
}

TEST(Functional, ComputeSourcesAreTheirValuesAtIssue) {
  // matmul out = a * b; a DMA load that issues with it overwrites a's first
  // row (in SRAM) before the matmul completes.
  ProgramBuilder b;
  Mat a = roundTo(DType::F16, randomMat(64, 96, 40));
  Mat bm = roundTo(DType::F16, randomMat(96, 96, 41));
  Mat a2 = roundTo(DType::F16, randomMat(1, 96, 42));
  uint64_t aD = b.tensor("a", TensorKind::Input, DType::F16, {64, 96});
  uint64_t bD = b.tensor("b", TensorKind::Input, DType::F16, {96, 96});
  uint64_t a2D = b.tensor("a2", TensorKind::Input, DType::F16, {1, 96});
  uint64_t outD = b.tensor("out", TensorKind::Output, DType::F32, {64, 96});
  uint32_t la = b.load(aD, 0, 64, 192);
  uint32_t lb = b.load(bD, 0x4000, 96, 192);
  uint32_t mm = b.matmul(DType::F16, DType::F32, 64, 96, 96, 0, 0x4000, 0x10000,
                         {la, lb});
  uint32_t over = b.load(a2D, 0, 1, 192, {la, lb});
  b.store(outD, 0x10000, 64, 384, {mm, over});
  sim::SimResult r =
      sim::simulateFrame(b.prog, arch::ChipConfig::reference(),
                         {{"a", flat(a)}, {"b", flat(bm)}, {"a2", flat(a2)}});
  ASSERT_TRUE(completesDuring(r, over, mm));
  expectNear(fromFlat(r.outputs.at("out"), 64, 96), Mat(a * bm), kF32, 1e-4);
}

TEST(Functional, ADestinationKeepsItsOldValuesUntilCompletion) {
  // o = a * b; then o = a * b + o (acc is o) while a DMA store that issues
  // with it copies o out: the store sees a * b, the final store 2 a * b.
  ProgramBuilder b;
  Mat a = roundTo(DType::F16, randomMat(64, 96, 43));
  Mat bm = roundTo(DType::F16, randomMat(96, 96, 44));
  uint64_t aD = b.tensor("a", TensorKind::Input, DType::F16, {64, 96});
  uint64_t bD = b.tensor("b", TensorKind::Input, DType::F16, {96, 96});
  uint64_t midD = b.tensor("mid", TensorKind::Output, DType::F32, {64, 96});
  uint64_t outD = b.tensor("out", TensorKind::Output, DType::F32, {64, 96});
  uint32_t la = b.load(aD, 0, 64, 192);
  uint32_t lb = b.load(bD, 0x4000, 96, 192);
  uint32_t first = b.matmul(DType::F16, DType::F32, 64, 96, 96, 0, 0x4000,
                            0x10000, {la, lb});
  uint32_t second =
      b.matmul(DType::F16, DType::F32, 64, 96, 96, 0, 0x4000, 0x10000, {first},
               arch::kFlagAccumulate, 0x10000, DType::F32);
  uint32_t mid = b.store(midD, 0x10000, 64, 384, {first});
  b.store(outD, 0x10000, 64, 384, {second, mid});
  sim::SimResult r = sim::simulateFrame(b.prog, arch::ChipConfig::reference(),
                                        {{"a", flat(a)}, {"b", flat(bm)}});
  ASSERT_EQ(r.instrTimings[mid].startCycle, r.instrTimings[second].startCycle);
  ASSERT_LT(r.instrTimings[mid].startCycle, r.instrTimings[second].endCycle);
  Mat ab = a * bm;
  expectNear(fromFlat(r.outputs.at("mid"), 64, 96), ab, kF32, 1e-4);
  expectNear(fromFlat(r.outputs.at("out"), 64, 96), Mat(2 * ab), kF32, 1e-4);
}

TEST(Functional, ADmaSourceIsItsValueAtTheTransfersStart) {
  // A load of x's DRAM rows issues; a store that issued just before it
  // overwrites those rows in DRAM and completes while the load is in
  // flight: the load delivers x's old values.
  ProgramBuilder b;
  Mat x = randomMat(64, 64, 45), y = randomMat(1, 4, 46);
  uint64_t xD = b.tensor("x", TensorKind::Input, DType::F32, {64, 64});
  uint64_t yD = b.tensor("y", TensorKind::Input, DType::F32, {1, 4});
  uint64_t outD = b.tensor("out", TensorKind::Output, DType::F32, {64, 64});
  uint32_t ly = b.load(yD, 0, 1, 16);
  // Two short vector ops: the store issues after the first, the load after
  // the second, a few cycles later; the store's one burst reaches DRAM
  // first and ends before the load's 16 KiB do.
  uint32_t v1 =
      b.vec(Opcode::VecCopy, DType::F32, DType::F32, 1, 4, 0, 0, 0x40, {ly});
  uint32_t v2 =
      b.vec(Opcode::VecCopy, DType::F32, DType::F32, 1, 4, 0, 0, 0x80, {v1});
  uint32_t st = b.store(xD, 0x40, 1, 16, {v1});
  uint32_t lx = b.load(xD, 0x1000, 64, 256, {v2});
  b.store(outD, 0x1000, 64, 256, {lx, st});
  sim::SimResult r = sim::simulateFrame(b.prog, arch::ChipConfig::reference(),
                                        {{"x", flat(x)}, {"y", flat(y)}});
  ASSERT_TRUE(completesDuring(r, st, lx));
  expectNear(fromFlat(r.outputs.at("out"), 64, 64), x, 0, 0);
}

TEST(SramBuffers, AnAccessOutsideItsLayersBuffersIsASimulationError) {
  // load a (2 x 4 F32) to 0, b (4 x 4) to 64; matmul into 128; store. The
  // buffer table gives the layer [0, 128) and [128, 160): the matmul's
  // 2 x 4 F32 output (32 bytes) fits; shrink the table and it does not.
  ProgramBuilder b;
  Mat a = randomMat(2, 4, 31), w = randomMat(4, 4, 32);
  uint64_t aAddr = b.tensor("a", TensorKind::Input, DType::F32, {2, 4});
  uint64_t wAddr =
      b.tensor("w", TensorKind::Weight, DType::F32, {4, 4}, flat(w));
  uint64_t out = b.tensor("out", TensorKind::Output, DType::F32, {2, 4});
  uint32_t la = b.load(aAddr, 0, 1, 32);
  uint32_t lw = b.load(wAddr, 64, 1, 64);
  uint32_t mm = b.matmul(DType::F32, DType::F32, 2, 4, 4, 0, 64, 128, {la, lw});
  b.store(out, 128, 1, 32, {mm});
  b.prog.hasSramBuffers = true;
  b.prog.sramBuffers = {{0, 0, 128}, {0, 128, 32}};
  sim::SimResult r = sim::simulateFrame(b.prog, arch::ChipConfig::reference(),
                                        {{"a", flat(a)}});
  expectNear(fromFlat(r.outputs.at("out"), 2, 4), Mat(a * w), 1e-5f, 1e-5f);
  EXPECT_EQ(r.sramPeakAllocatedBytes, 160u);

  b.prog.sramBuffers = {{0, 0, 128}, {0, 128, 16}};
  try {
    sim::simulateFrame(b.prog, arch::ChipConfig::reference(), {{"a", flat(a)}});
    FAIL() << "an output past its buffer was accepted";
  } catch (const sim::SimError &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "instruction 2 (mm.matmul) on the matrix unit at cycle"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(
                  "operand out: SRAM write of 2 x 16 bytes at 0x80 (stride "
                  "16) is outside the SRAM buffers of layer 0 'layer0' "
                  "(0x0..0x80, 0x80..0x90)"),
              std::string::npos)
        << e.what();
  }
  // Timing only checks the same accesses.
  try {
    sim::SimOptions timingOnly;
    timingOnly.functional = false;
    sim::simulateFrame(b.prog, arch::ChipConfig::reference(), {}, timingOnly);
    FAIL() << "timing only: an output past its buffer was accepted";
  } catch (const sim::SimError &e) {
    EXPECT_NE(std::string(e.what()).find("instruction 2 (mm.matmul)"),
              std::string::npos)
        << e.what();
  }
}

/// 4 banks of 16 bytes, DRAM latency 0 at 1024 bytes/cycle: a transfer's
/// SRAM side (2 + ceil(bytes / 64)) is its longer side.
arch::ChipConfig bankConflictChip() {
  arch::ChipConfig chip = arch::ChipConfig::reference();
  chip.sram_banks = 4;
  chip.sram_bank_width_bytes = 16;
  chip.sram_access_cycles = 2;
  chip.dram_latency_ns = 0;
  chip.dram_bandwidth_gbps = 2048;
  return chip;
}

TEST(SramBuffers, DmaConflictsWithTheRunningUnitAreCountedAndTimed) {
  // bankConflictChip(). `first` (4096
  // bytes, 66 cycles) feeds a 16 x 32 x 16 F32 matmul (one fold of
  // 2*96 + 96 + 16 - 2 = 302 cycles) over SRAM [0, 4096), every bank;
  // `slow` (8192 bytes, 130 cycles) ends while the matmul runs and releases
  // `late` (4096 bytes): each bank gets 64 of its beats, all shared with the
  // matmul, so late takes 2 + 64 + 64 = 130 cycles with one port per bank
  // and 66 with two.
  arch::ChipConfig chip = bankConflictChip();
  ProgramBuilder b;
  uint64_t src = b.tensor("src", TensorKind::Input, DType::F32, {1024});
  uint64_t big = b.tensor("big", TensorKind::Input, DType::F32, {2048});
  uint32_t first = b.load(big, 0, 1, 4096);
  uint32_t slow = b.load(big, 16384, 1, 8192);
  uint32_t mm =
      b.matmul(DType::F32, DType::F32, 16, 32, 16, 0, 2048, 3072, {first});
  uint32_t late = b.load(src, 8192, 1, 4096, {slow});
  sim::SimOptions timingOnly;
  timingOnly.functional = false;
  sim::SimResult one = sim::simulateFrame(b.prog, chip, {}, timingOnly);
  auto cycles = [](const sim::SimResult &r, uint32_t i) {
    return r.instrTimings[i].endCycle - r.instrTimings[i].startCycle;
  };
  EXPECT_EQ(one.instrTimings[mm].startCycle, 66u);
  EXPECT_EQ(cycles(one, mm), 302u);
  EXPECT_EQ(one.instrTimings[late].startCycle, 130u);
  EXPECT_EQ(cycles(one, late), 130u);
  EXPECT_EQ(one.sramConflictBeats, 256u);
  EXPECT_EQ(one.sramConflictCycles, 64u);
  chip.sram_ports_per_bank = 2;
  sim::SimResult two = sim::simulateFrame(b.prog, chip, {}, timingOnly);
  EXPECT_EQ(cycles(two, late), 66u);
  EXPECT_EQ(two.sramConflictBeats, 0u);
  EXPECT_EQ(two.sramConflictCycles, 0u);
}

TEST(SramBuffers, FrameBoundCoversBankConflicts) {
  // The frame bound (timing::frameCycleBound: every instruction one after
  // the other) must stay an upper bound when bank conflicts lengthen a
  // transfer. `first` (64 bytes) feeds a 16 x 32 x 16 F32 matmul of 302
  // cycles holding every bank; `big` (65536 bytes, SRAM side 2 + 1024
  // cycles) starts with it and meets 1024 held beats in each bank, so it
  // ends at 3 + 2 + 1024 + 1024 = 2053: past 3 + 302 + 1026, the sum of the
  // three instructions' own cycles. The bound adds each transfer's most
  // conflict cycles, rows x (ceil(rowBytes / 16) + 1).
  arch::ChipConfig chip = bankConflictChip();
  chip.sram_ports_per_bank = 1;
  ProgramBuilder b;
  uint64_t src = b.tensor("src", TensorKind::Input, DType::F32, {16});
  uint64_t big = b.tensor("big", TensorKind::Input, DType::F32, {16384});
  uint32_t first = b.load(src, 0, 1, 64);
  b.matmul(DType::F32, DType::F32, 16, 32, 16, 0, 2048, 3072, {first});
  b.load(big, 8192, 1, 65536, {first});
  sim::SimOptions timingOnly;
  timingOnly.functional = false;
  sim::SimResult r = sim::simulateFrame(b.prog, chip, {}, timingOnly);
  uint64_t serial = 0;
  for (const arch::Instr &in : b.prog.instrs)
    serial += sim::timing::instrCycles(chip, in);
  EXPECT_EQ(r.sramConflictCycles, 1024u);
  EXPECT_EQ(r.totalCycles, 2053u);
  EXPECT_GT(r.totalCycles, serial);
  uint64_t bound = sim::timing::frameCycleBound(chip, b.prog);
  EXPECT_GE(bound, r.totalCycles);
  EXPECT_EQ(bound, serial + 1 * (4 + 1) + 1 * (4096 + 1));
  chip.sram_ports_per_bank = 2; // no conflicts: the plain serial sum
  EXPECT_EQ(sim::timing::frameCycleBound(chip, b.prog), serial);
}

} // namespace
