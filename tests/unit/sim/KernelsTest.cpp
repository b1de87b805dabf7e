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

} // namespace
