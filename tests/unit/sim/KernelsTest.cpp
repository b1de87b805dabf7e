//===- KernelsTest.cpp - FP16 conversions of the functional model ---------===//
//
// Part of Tessera. The functional simulator converts FP16 operands with the
// CPU's F16C instructions when it has them (simulator/lib/Kernels.cpp);
// these tests hold that path to the element-by-element conversions
// (loadElement / storeElement, Eigen::half's round-to-nearest-even) bit for
// bit: every one of the 65536 half values, and floats around every rounding
// boundary, subnormal, overflow, infinity and NaN.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>

using namespace tessera;

namespace {

TEST(Fp16Conversion, EveryHalfUnpacksAsTheScalarPath) {
  std::vector<uint8_t> bytes(2 * 65536);
  for (uint32_t h = 0; h < 65536; ++h) {
    uint16_t v = uint16_t(h);
    std::memcpy(bytes.data() + 2 * h, &v, 2);
  }
  // 65536 = 256 x 256, and an odd shape for the vector loop's tail.
  for (auto [rows, cols] : {std::pair{256, 256}, std::pair{1, 65535}}) {
    sim::Mat m = sim::unpack(bytes.data(), rows, cols, arch::DType::F16);
    for (int64_t i = 0; i < int64_t(rows) * cols; ++i) {
      float want = sim::loadElement(bytes.data() + 2 * i, arch::DType::F16);
      float got = m.data()[i];
      uint32_t wb, gb;
      std::memcpy(&wb, &want, 4);
      std::memcpy(&gb, &got, 4);
      ASSERT_EQ(gb, wb) << "half 0x" << std::hex << i;
    }
  }
}

TEST(Fp16Conversion, FloatsPackAsTheScalarPath) {
  std::vector<float> values;
  // Every half value, and the floats just around the midpoints between
  // neighbouring halves (the round-to-nearest-even ties and their
  // neighbours), for every half.
  for (uint32_t h = 0; h < 65536; ++h) {
    uint16_t v = uint16_t(h);
    uint8_t b[2];
    std::memcpy(b, &v, 2);
    float f = sim::loadElement(b, arch::DType::F16);
    values.push_back(f);
    if (!std::isfinite(f))
      continue;
    float up = std::nextafter(f, std::numeric_limits<float>::infinity());
    uint16_t next = uint16_t(h + 1);
    std::memcpy(b, &next, 2);
    float g = sim::loadElement(b, arch::DType::F16);
    if (std::isfinite(g) && g > f) {
      float mid = f + (g - f) / 2;
      values.push_back(mid);
      values.push_back(std::nextafter(mid, -INFINITY));
      values.push_back(std::nextafter(mid, INFINITY));
    }
    values.push_back(up);
  }
  for (float f :
       {65504.0f, 65519.99f, 65520.0f, 1e30f, -1e30f, 1e-30f, 5.96e-8f,
        2.98e-8f, 2.99e-8f, 0.0f, -0.0f, std::numeric_limits<float>::infinity(),
        -std::numeric_limits<float>::infinity(),
        std::numeric_limits<float>::quiet_NaN(),
        -std::numeric_limits<float>::quiet_NaN(),
        std::numeric_limits<float>::signaling_NaN()})
    values.push_back(f);
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = bits(rng);
    float f;
    std::memcpy(&f, &u, 4);
    values.push_back(f);
  }
  sim::Mat m(1, Eigen::Index(values.size()));
  for (size_t i = 0; i < values.size(); ++i)
    m(0, Eigen::Index(i)) = values[i];
  std::vector<uint8_t> got = sim::pack(m, arch::DType::F16);
  ASSERT_EQ(got.size(), 2 * values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t want[2];
    sim::storeElement(want, arch::DType::F16, values[i]);
    ASSERT_EQ(std::memcmp(want, got.data() + 2 * i, 2), 0)
        << "float " << values[i] << " (index " << i << ")";
  }
}

/// Distance in units in the last place between two finite floats.
int64_t ulps(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  // Map the sign-magnitude bits to a monotonic integer line.
  int64_t la = ia < 0 ? int64_t(INT32_MIN) - ia : ia;
  int64_t lb = ib < 0 ? int64_t(INT32_MIN) - ib : ib;
  return la > lb ? la - lb : lb - la;
}

TEST(VectorMath, WithinFourUlpOfTheCLibraryAndTheSameAtEveryPosition) {
  // The vector unit's exp, erf and tanh go through glibc's libmvec; hold
  // them to the scalar C library functions over the range the chip's
  // models use (softmax exponents <= 0, GELU's erf, tanh) and the special
  // values, and check that an element's result does not depend on where it
  // sits (vector body or tail).
  std::vector<float> x;
  for (float v = -110.0f; v <= 90.0f; v += 0.0137f)
    x.push_back(v);
  for (float v = -6.0f; v <= 6.0f; v += 0.00071f)
    x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-40f, 88.7f, 89.0f, -87.3f,
                  -103.9f, -104.0f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity()})
    x.push_back(v);
  struct Fn {
    sim::MathFn fn;
    float (*ref)(float);
    const char *name;
  };
  for (Fn f :
       {Fn{sim::MathFn::Exp, [](float v) { return std::exp(v); }, "exp"},
        Fn{sim::MathFn::Erf, [](float v) { return std::erf(v); }, "erf"},
        Fn{sim::MathFn::Tanh, [](float v) { return std::tanh(v); }, "tanh"}}) {
    std::vector<float> y(x.size());
    sim::vectorMath(f.fn, x.data(), y.data(), x.size());
    int64_t worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      float want = f.ref(x[i]);
      if (std::isinf(want) || want == 0.0f) {
        EXPECT_EQ(y[i], want) << f.name << "(" << x[i] << ")";
        continue;
      }
      // Subnormal results (exp below -87.3) keep their absolute accuracy.
      if (std::fabs(want) < std::numeric_limits<float>::min()) {
        EXPECT_NEAR(y[i], want, 2 * std::numeric_limits<float>::denorm_min())
            << f.name << "(" << x[i] << ")";
        continue;
      }
      worst = std::max(worst, ulps(y[i], want));
      EXPECT_LE(ulps(y[i], want), 4)
          << f.name << "(" << x[i] << ") = " << y[i] << ", C library " << want;
    }
    std::cout << f.name << ": at most " << worst
              << " ulp from the C library over " << x.size() << " values\n";
    float nan = std::numeric_limits<float>::quiet_NaN(), one;
    sim::vectorMath(f.fn, &nan, &one, 1);
    EXPECT_TRUE(std::isnan(one)) << f.name << "(NaN)";
    // Position independence: every element alone (the tail path) gives
    // what it gave inside the long run.
    for (size_t i = 0; i < x.size(); i += 97) {
      float alone;
      sim::vectorMath(f.fn, &x[i], &alone, 1);
      EXPECT_EQ(ulps(alone, y[i]), 0) << f.name << "(" << x[i] << ")";
    }
  }
}

} // namespace
