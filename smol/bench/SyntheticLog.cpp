//===- SyntheticLog.cpp - the bench's own seeded drive log ----------------===//
//
// Part of Tessera. See SyntheticLog.h.
//
//===----------------------------------------------------------------------===//

#include "SyntheticLog.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace tessera {
namespace bench {

using baselines::DType;
using baselines::Field;
using baselines::FieldRole;
using baselines::Values;

namespace {

const char *kCameraNames[] = {
    "front",     "front_wide", "front_left", "front_right",
    "rear_left", "rear_right", "rear",       "rear_wide",
    "c8",        "c9",         "c10",        "c11",
    "c12",       "c13",        "c14",        "c15"};

/// SplitMix64: a well-mixed 64-bit hash of (seed, stream, index).
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// Uniform in [0, 1) from a hash.
double unit(uint64_t h) { return (h >> 11) * (1.0 / 9007199254740992.0); }

template <typename T> void put(std::vector<uint8_t> &b, uint64_t i, T v) {
  std::memcpy(&b[i * sizeof(T)], &v, sizeof(T));
}

} // namespace

SyntheticLog::SyntheticLog(uint64_t records, uint64_t seed, uint32_t width,
                           uint32_t height, unsigned cameras)
    : records(records), seed(seed), width(width), height(height),
      cameras(cameras) {
  if (width == 0 || height == 0 || width % 2 || height % 2 || width > 4096 ||
      height > 4096)
    throw std::invalid_argument(
        "synthetic log: camera size " + std::to_string(width) + "x" +
        std::to_string(height) + " must be even and 2..4096");
  if (cameras == 0 || cameras > 16)
    throw std::invalid_argument("synthetic log: cameras must be 1..16");
  s.fields = {
      {"timestamp_ns", DType::I64, {}, FieldRole::Data},
      {"ego_state", DType::F32, {8}, FieldRole::Data},
      {"imu", DType::F32, {6}, FieldRole::Data},
      {"wheel_speeds", DType::F32, {4}, FieldRole::Data},
      {"gnss", DType::F64, {3}, FieldRole::Data},
      {"scene_class", DType::I32, {}, FieldRole::Label},
      {"lane_offset", DType::F32, {}, FieldRole::Label},
      {"objects", DType::F32, {16, 7}, FieldRole::Label},
  };
  for (unsigned c = 0; c < cameras; ++c)
    s.fields.push_back(
        {kCameraNames[c], DType::U8, {height, width, 3}, FieldRole::Camera});
  s.staticFields = {
      {"intrinsics", DType::F32, {cameras, 3, 3}, FieldRole::Data},
      {"distortion", DType::F32, {cameras, 5}, FieldRole::Data},
      {"extrinsics", DType::F32, {cameras, 4, 4}, FieldRole::Data},
      {"camera_size", DType::I32, {cameras, 2}, FieldRole::Data},
      {"vehicle_dimensions", DType::F32, {4}, FieldRole::Data},
      {"vehicle_id", DType::I64, {}, FieldRole::Data},
  };
}

Values SyntheticLog::staticValues() const {
  Values v;
  for (const Field &f : s.staticFields)
    v.emplace_back(f.bytes());
  for (unsigned c = 0; c < cameras; ++c) {
    double yaw = 2 * M_PI * c / cameras;
    float k[9] = {static_cast<float>(0.9 * width),
                  0,
                  static_cast<float>(width / 2.0),
                  0,
                  static_cast<float>(0.9 * width),
                  static_cast<float>(height / 2.0),
                  0,
                  0,
                  1};
    for (int i = 0; i < 9; ++i)
      put(v[0], c * 9 + i, k[i]);
    for (int i = 0; i < 5; ++i)
      put(v[1], c * 5 + i,
          static_cast<float>(0.02 * (unit(mix(seed ^ (c * 16 + i))) - 0.5)));
    float t[16] = {static_cast<float>(std::cos(yaw)),
                   static_cast<float>(-std::sin(yaw)),
                   0,
                   static_cast<float>(1.2 * std::cos(yaw)),
                   static_cast<float>(std::sin(yaw)),
                   static_cast<float>(std::cos(yaw)),
                   0,
                   static_cast<float>(0.8 * std::sin(yaw)),
                   0,
                   0,
                   1,
                   1.45f,
                   0,
                   0,
                   0,
                   1};
    for (int i = 0; i < 16; ++i)
      put(v[2], c * 16 + i, t[i]);
    put(v[3], c * 2, static_cast<int32_t>(height));
    put(v[3], c * 2 + 1, static_cast<int32_t>(width));
  }
  float dims[4] = {4.69f, 1.85f, 1.44f, 2.88f};
  for (int i = 0; i < 4; ++i)
    put(v[4], i, dims[i]);
  put(v[5], 0, static_cast<int64_t>(mix(seed) >> 1));
  return v;
}

Values SyntheticLog::record(uint64_t r) const {
  Values v;
  for (const Field &f : s.fields)
    v.emplace_back(f.bytes());
  double t = r / 36.0;
  // The drive: scene changes every ~40 s (highway, urban, construction,
  // parking), speed follows the scene.
  int scene = static_cast<int>(mix(seed ^ (r / 1440 + 77)) % 4);
  double baseSpeed[4] = {30.0, 12.0, 8.0, 2.0};
  double speed = baseSpeed[scene] * (1 + 0.1 * std::sin(0.05 * t));
  put(v[0], 0, static_cast<int64_t>(1700000000000000000ll + r * 27777778ll));
  float ego[8] = {static_cast<float>(speed),
                  static_cast<float>(0.5 * std::cos(0.05 * t)),
                  static_cast<float>(0.1 * std::sin(0.2 * t)),
                  static_cast<float>(0.02 * std::cos(0.2 * t)),
                  static_cast<float>(scene == 3 ? 0.3 : 0.0),
                  static_cast<float>(0.2 + 0.05 * std::sin(t)),
                  static_cast<float>(scene == 3 ? -1 : 4),
                  static_cast<float>(speed * t)};
  for (int i = 0; i < 8; ++i)
    put(v[1], i, ego[i]);
  for (int i = 0; i < 6; ++i)
    put(v[2], i,
        static_cast<float>((i == 2 ? 9.81 : 0.0) +
                           0.05 * std::sin(t * (i + 1)) +
                           0.01 * (unit(mix(seed ^ (r * 8 + i))) - 0.5)));
  for (int i = 0; i < 4; ++i)
    put(v[3], i,
        static_cast<float>(speed / 0.33 *
                           (1 + 0.002 * unit(mix(seed ^ (r * 4 + i + 99))))));
  put(v[4], 0, 48.1351 + speed * t * 1e-6);
  put(v[4], 1, 11.5820 + 0.5 * speed * t * 1e-6);
  put(v[4], 2, 520.0 + std::sin(0.01 * t));
  put(v[5], 0, static_cast<int32_t>(scene));
  put(v[6], 0, static_cast<float>(0.3 * std::sin(0.1 * t)));
  for (int o = 0; o < 16; ++o) {
    uint64_t h = mix(seed ^ (o * 1315423911ull));
    for (int k = 0; k < 7; ++k)
      put(v[7], o * 7 + k,
          static_cast<float>(
              (k < 2 ? 40 * (unit(mix(h + k)) - 0.5) + std::sin(0.1 * t + o)
                     : 1 + 3 * unit(mix(h + k)))));
  }
  // Cameras: sky/road gradient, lane stripes moving with speed, a few
  // objects, per-camera viewpoint, and +-3 levels of sensor noise.
  for (unsigned c = 0; c < cameras; ++c) {
    std::vector<uint8_t> &img = v[8 + c];
    double phase = speed * t * 0.8 + c * 1.7;
    for (uint32_t y = 0; y < height; ++y) {
      double fy = double(y) / height;
      for (uint32_t x = 0; x < width; ++x) {
        double fx = double(x) / width;
        double sky = fy < 0.45;
        double stripe = !sky && std::fmod(fy * 12 + phase, 2.0) < 0.35 &&
                                std::fabs(fx - 0.5) < 0.04 + 0.4 * (fy - 0.45)
                            ? 1.0
                            : 0.0;
        double obj = 0;
        for (int o = 0; o < 3; ++o) {
          double ox = 0.5 + 0.35 * std::sin(0.07 * t + o * 2.1 + c);
          if (std::fabs(fx - ox) < 0.06 && std::fabs(fy - 0.6) < 0.08)
            obj = 1 + o;
        }
        uint64_t n =
            mix(seed ^ (r * 0x100000001b3ull) ^ ((c * height + y) * width + x));
        for (uint32_t ch = 0; ch < 3; ++ch) {
          double val =
              sky ? 150 + 80 * (0.45 - fy) + 20 * ch : 70 + 40 * fy + 5 * ch;
          val += 150 * stripe;
          if (obj > 0)
            val = 60 + 50 * obj + 30 * ch;
          val += static_cast<int>((n >> (8 * ch)) % 7) - 3;
          img[(y * width + x) * 3 + ch] =
              static_cast<uint8_t>(std::min(255.0, std::max(0.0, val)));
        }
      }
    }
  }
  return v;
}

} // namespace bench
} // namespace tessera
