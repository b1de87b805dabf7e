//===- DriveLog.cpp - the seeded synthetic drive log ----------------------===//
//
// Part of Tessera. See DriveLog.h.
//
//===----------------------------------------------------------------------===//

#include "tessera/Smol/DriveLog.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tessera {
namespace smol {

namespace {

const char *kCameraNames[] = {
    "cam_front",     "cam_front_wide", "cam_front_left", "cam_front_right",
    "cam_rear_left", "cam_rear_right", "cam_rear",       "cam_rear_wide",
    "cam_8",         "cam_9",          "cam_10",         "cam_11",
    "cam_12",        "cam_13",         "cam_14",         "cam_15"};

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

ColumnSpec spec(const char *name, DType t, std::vector<uint32_t> shape,
                Role role, bool isStatic = false) {
  ColumnSpec s;
  s.name = name;
  s.dtype = t;
  s.shape = std::move(shape);
  s.role = role;
  s.isStatic = isStatic;
  return s;
}

constexpr int64_t kStartNs = 1700000000000000000ll;
constexpr int64_t kFrameNs = 27777778ll; // 36 frames per second

} // namespace

DriveLog::DriveLog(DriveLogOptions o) : opts(o) {
  if (o.width < 2 || o.height < 2 || o.width % 2 || o.height % 2 ||
      o.width > 4096 || o.height > 4096)
    throw Error("drive log: camera size " + std::to_string(o.width) + "x" +
                std::to_string(o.height) + " must be even and 2..4096");
  if (o.cameras == 0 || o.cameras > 16)
    throw Error("drive log: cameras must be 1..16, got " +
                std::to_string(o.cameras));
  if (o.proprioception && (o.joints == 0 || o.joints > 64))
    throw Error("drive log: joints must be 1..64, got " +
                std::to_string(o.joints));
  unsigned C = o.cameras, J = o.joints;
  specs = {
      spec("timestamp_ns", DType::I64, {}, Role::Data),
      spec("speed", DType::F32, {}, Role::Data),
      spec("steering", DType::F32, {}, Role::Data),
      spec("pose", DType::F32, {6}, Role::Data),
      spec("imu", DType::F32, {6}, Role::Data),
      spec("wheel_speeds", DType::F32, {4}, Role::Data),
      spec("gnss", DType::F64, {3}, Role::Data),
      spec("scene_class", DType::I32, {}, Role::Label),
      spec("lane_offset", DType::F32, {}, Role::Label),
      spec("objects", DType::F32, {16, 7}, Role::Label),
  };
  if (o.proprioception) {
    specs.push_back(spec("joint_position", DType::F32, {J}, Role::Proprio));
    specs.push_back(spec("joint_velocity", DType::F32, {J}, Role::Proprio));
    specs.push_back(spec("joint_torque", DType::F32, {J}, Role::Proprio));
  }
  for (unsigned c = 0; c < C; ++c) {
    ColumnSpec s =
        spec(kCameraNames[c], DType::U8, {o.height, o.width, 3}, Role::Camera);
    if (o.planarCameras)
      s.perm = {2, 0, 1};
    specs.push_back(std::move(s));
  }
  specs.push_back(spec("intrinsics", DType::F32, {C, 3, 3}, Role::Data, true));
  specs.push_back(spec("distortion", DType::F32, {C, 5}, Role::Data, true));
  specs.push_back(spec("extrinsics", DType::F32, {C, 4, 4}, Role::Data, true));
  specs.push_back(spec("camera_size", DType::I32, {C, 2}, Role::Data, true));
  specs.push_back(
      spec("vehicle_dimensions", DType::F32, {4}, Role::Data, true));
  specs.push_back(spec("vehicle_id", DType::I64, {}, Role::Data, true));
  if (o.proprioception) {
    specs.push_back(
        spec("joint_limits", DType::F32, {J, 2}, Role::Proprio, true));
    specs.push_back(spec("link_lengths", DType::F32, {J}, Role::Proprio, true));
  }
}

int64_t DriveLog::timestamp(uint64_t i) const {
  return kStartNs + static_cast<int64_t>(i) * kFrameNs;
}

std::vector<std::vector<uint8_t>> DriveLog::staticValues() const {
  std::vector<std::vector<uint8_t>> v;
  for (const ColumnSpec &s : specs)
    if (s.isStatic)
      v.emplace_back(s.plainBytes());
  unsigned C = opts.cameras;
  double W = opts.width, H = opts.height;
  uint64_t seed = opts.seed;
  for (unsigned c = 0; c < C; ++c) {
    double yaw = 2 * M_PI * c / C;
    float k[9] = {float(0.9 * W),
                  0,
                  float(W / 2),
                  0,
                  float(0.9 * W),
                  float(H / 2),
                  0,
                  0,
                  1};
    for (int i = 0; i < 9; ++i)
      put(v[0], c * 9 + i, k[i]);
    for (int i = 0; i < 5; ++i)
      put(v[1], c * 5 + i,
          float(0.02 * (unit(mix(seed ^ (c * 16 + i))) - 0.5)));
    float t[16] = {float(std::cos(yaw)),
                   float(-std::sin(yaw)),
                   0,
                   float(1.2 * std::cos(yaw)),
                   float(std::sin(yaw)),
                   float(std::cos(yaw)),
                   0,
                   float(0.8 * std::sin(yaw)),
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
    put(v[3], c * 2, int32_t(opts.height));
    put(v[3], c * 2 + 1, int32_t(opts.width));
  }
  float dims[4] = {4.69f, 1.85f, 1.44f, 2.88f};
  for (int i = 0; i < 4; ++i)
    put(v[4], i, dims[i]);
  put(v[5], 0, int64_t(mix(seed) >> 1));
  if (opts.proprioception)
    for (unsigned j = 0; j < opts.joints; ++j) {
      put(v[6], 2 * j, float(-2.9 + 0.1 * j));
      put(v[6], 2 * j + 1, float(2.9 - 0.1 * j));
      put(v[7], j, float(0.1 + 0.3 * unit(mix(seed ^ (j + 500)))));
    }
  return v;
}

std::vector<std::vector<uint8_t>> DriveLog::row(uint64_t r) const {
  std::vector<std::vector<uint8_t>> v;
  for (const ColumnSpec &s : specs)
    if (!s.isStatic)
      v.emplace_back(s.plainBytes());
  uint64_t seed = opts.seed;
  double t = r / 36.0;
  // The drive: the scene changes every 10 s (highway, urban, construction,
  // parking) and the speed follows it.
  int scene = static_cast<int>(mix(seed ^ (r / 360 + 77)) % 4);
  const double baseSpeed[4] = {30.0, 12.0, 8.0, 2.0};
  double speed = baseSpeed[scene] * (1 + 0.1 * std::sin(0.05 * t)) +
                 0.3 * (unit(mix(seed ^ (r * 3 + 5))) - 0.5);
  double steering = 0.3 * std::sin(0.05 * t) * (scene == 0 ? 0.1 : 1.0);
  put(v[0], 0, timestamp(r));
  put(v[1], 0, float(speed));
  put(v[2], 0, float(steering));
  float pose[6] = {float(speed * t),
                   float(2 * std::sin(0.01 * t)),
                   float(0.02 * std::sin(t)),
                   float(0.01 * std::sin(0.3 * t)),
                   float(0.01 * std::cos(0.3 * t)),
                   float(std::fmod(0.01 * t, 2 * M_PI))};
  for (int i = 0; i < 6; ++i)
    put(v[3], i, pose[i]);
  for (int i = 0; i < 6; ++i)
    put(v[4], i,
        float((i == 2 ? 9.81 : 0.0) + 0.05 * std::sin(t * (i + 1)) +
              0.01 * (unit(mix(seed ^ (r * 8 + i))) - 0.5)));
  for (int i = 0; i < 4; ++i)
    put(v[5], i,
        float(speed / 0.33 * (1 + 0.002 * unit(mix(seed ^ (r * 4 + i + 99))))));
  put(v[6], 0, 48.1351 + speed * t * 1e-6);
  put(v[6], 1, 11.5820 + 0.5 * speed * t * 1e-6);
  put(v[6], 2, 520.0 + std::sin(0.01 * t));
  put(v[7], 0, int32_t(scene));
  put(v[8], 0, float(0.3 * std::sin(0.1 * t)));
  for (int o = 0; o < 16; ++o) {
    uint64_t h = mix(seed ^ (o * 1315423911ull));
    for (int k = 0; k < 7; ++k)
      put(v[9], o * 7 + k,
          float(k < 2 ? 40 * (unit(mix(h + k)) - 0.5) + std::sin(0.1 * t + o)
                      : 1 + 3 * unit(mix(h + k))));
  }
  size_t next = 10;
  if (opts.proprioception) {
    for (unsigned j = 0; j < opts.joints; ++j) {
      double w = 0.5 + 0.1 * j;
      put(v[next], j, float(std::sin(w * t + j)));
      put(v[next + 1], j, float(w * std::cos(w * t + j)));
      put(v[next + 2], j,
          float(5 * std::sin(w * t) + 0.1 * (unit(mix(seed ^ (r * 64 + j))))));
    }
    next += 3;
  }
  // Cameras: sky/road gradient, lane stripes moving with speed, a few
  // objects, per-camera viewpoint, and +-3 levels of sensor noise.
  uint32_t width = opts.width, height = opts.height;
  for (unsigned c = 0; c < opts.cameras; ++c) {
    std::vector<uint8_t> &img = v[next + c];
    double phase = speed * t * 0.8 + c * 1.7;
    for (uint32_t y = 0; y < height; ++y) {
      double fy = double(y) / height;
      bool sky = fy < 0.45;
      for (uint32_t x = 0; x < width; ++x) {
        double fx = double(x) / width;
        bool stripe = !sky && std::fmod(fy * 12 + phase, 2.0) < 0.35 &&
                      std::fabs(fx - 0.5) < 0.04 + 0.4 * (fy - 0.45);
        int obj = 0;
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
          val += stripe ? 150 : 0;
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

void writeDriveLog(const DriveLog &log, const std::string &path,
                   WriterOptions options,
                   const std::vector<std::string> &encrypt,
                   const std::function<void(uint64_t, uint64_t)> &progress) {
  std::vector<ColumnSpec> specs = log.columns();
  for (const std::string &name : encrypt) {
    auto it = std::find_if(specs.begin(), specs.end(),
                           [&](const ColumnSpec &s) { return s.name == name; });
    if (it == specs.end() || it->isStatic)
      throw Error(path + ": cannot encrypt '" + name +
                  "': no dynamic column of that name");
    if (options.keys.empty())
      throw Error(path + ": cannot encrypt '" + name + "' without a key");
    it->keyId = options.keys.firstId();
  }
  if (log.options().proprioception)
    options.extraFlags |= kFlagProprioception;
  if (options.expectedRows == 0)
    options.expectedRows = log.size();
  Writer writer(path, specs, std::move(options));
  auto statics = log.staticValues();
  size_t k = 0;
  for (const ColumnSpec &s : specs)
    if (s.isStatic)
      writer.setStatic(s.name, statics[k++]);
  for (uint64_t i = 0; i < log.size(); ++i) {
    auto values = log.row(i);
    writer.append(log.timestamp(i),
                  std::vector<ConstBytes>(values.begin(), values.end()));
    if (progress)
      progress(i + 1, log.size());
  }
  writer.finish();
}

} // namespace smol
} // namespace tessera
