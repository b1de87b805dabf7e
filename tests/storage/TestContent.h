//===- TestContent.h - a small deterministic drive log for tests -*- C++
//-*-===//
//
// Part of Tessera. A ContentSource with every element type and role: scalar
// and tensor data fields, label fields, float64 fields, and eight small
// cameras whose images are smooth gradients moving over time (so H.264 has
// realistic, compressible video to encode), with static calibration.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_TESTS_STORAGE_TESTCONTENT_H
#define TESSERA_TESTS_STORAGE_TESTCONTENT_H

#include "tessera/Baselines/Content.h"

#include <cmath>
#include <cstring>

namespace tessera {
namespace baselines {
namespace test {

class TestContent : public ContentSource {
public:
  explicit TestContent(uint64_t records, uint32_t height = 24,
                       uint32_t width = 32, unsigned cameras = 8)
      : records(records) {
    s.fields.push_back({"timestamp_ns", DType::I64, {}, FieldRole::Data});
    s.fields.push_back({"vehicle", DType::F32, {8}, FieldRole::Data});
    s.fields.push_back({"imu", DType::F64, {2, 3}, FieldRole::Data});
    s.fields.push_back({"scene", DType::I32, {}, FieldRole::Label});
    s.fields.push_back({"boxes", DType::F32, {3, 5}, FieldRole::Label});
    s.fields.push_back({"flags", DType::U8, {4}, FieldRole::Data});
    for (unsigned c = 0; c < cameras; ++c)
      s.fields.push_back({"cam" + std::to_string(c),
                          DType::U8,
                          {height, width, 3},
                          FieldRole::Camera});
    s.staticFields.push_back(
        {"intrinsics", DType::F32, {cameras, 3, 3}, FieldRole::Data});
    s.staticFields.push_back(
        {"extrinsics", DType::F64, {cameras, 4, 4}, FieldRole::Data});
    s.staticFields.push_back({"vehicle_id", DType::I64, {}, FieldRole::Data});
  }

  const Schema &schema() const override { return s; }
  uint64_t size() const override { return records; }

  Values staticValues() const override {
    Values v;
    for (const Field &f : s.staticFields) {
      std::vector<uint8_t> b(f.bytes());
      for (uint64_t i = 0; i < f.elements(); ++i)
        put(f.dtype, b, i, 0.5 + 1.25 * i - 3.0 * (i % 7));
      v.push_back(b);
    }
    return v;
  }

  Values record(uint64_t r) const override {
    Values v;
    for (size_t k = 0; k < s.fields.size(); ++k) {
      const Field &f = s.fields[k];
      std::vector<uint8_t> b(f.bytes());
      if (f.role == FieldRole::Camera) {
        uint32_t h = f.shape[0], w = f.shape[1];
        for (uint32_t y = 0; y < h; ++y)
          for (uint32_t x = 0; x < w; ++x)
            for (uint32_t c = 0; c < 3; ++c)
              b[(y * w + x) * 3 + c] = static_cast<uint8_t>(
                  128 + 90 * std::sin(0.15 * (x + r) + 0.2 * y + c + k));
      } else if (f.name == "timestamp_ns") {
        put(f.dtype, b, 0, 1.7e18 + 27777778.0 * r);
        int64_t ts = 1700000000000000000ll + 27777778ll * r;
        std::memcpy(b.data(), &ts, 8);
      } else {
        for (uint64_t i = 0; i < f.elements(); ++i)
          put(f.dtype, b, i, std::sin(0.37 * r + i) * (i + 1) * 10.0 + k);
      }
      v.push_back(b);
    }
    return v;
  }

private:
  static void put(DType t, std::vector<uint8_t> &b, uint64_t i, double x) {
    switch (t) {
    case DType::U8: {
      b[i] = static_cast<uint8_t>(static_cast<int64_t>(x) & 255);
      break;
    }
    case DType::I32: {
      int32_t v = static_cast<int32_t>(x * 1000);
      std::memcpy(&b[i * 4], &v, 4);
      break;
    }
    case DType::I64: {
      int64_t v = static_cast<int64_t>(x * 1e6);
      std::memcpy(&b[i * 8], &v, 8);
      break;
    }
    case DType::F32: {
      float v = static_cast<float>(x / 3.0);
      std::memcpy(&b[i * 4], &v, 4);
      break;
    }
    case DType::F64: {
      double v = x / 7.0;
      std::memcpy(&b[i * 8], &v, 8);
      break;
    }
    }
  }

  Schema s;
  uint64_t records;
};

} // namespace test
} // namespace baselines
} // namespace tessera

#endif // TESSERA_TESTS_STORAGE_TESTCONTENT_H
