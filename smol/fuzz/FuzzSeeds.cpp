//===- FuzzSeeds.cpp - seed inputs for the reader's fuzzing ---------------===//
//
// Part of Tessera. See FuzzSeeds.h.
//
//===----------------------------------------------------------------------===//

#include "FuzzSeeds.h"

#include "tessera/Smol/DriveLog.h"
#include "tessera/Smol/Writer.h"

#include <fstream>
#include <iterator>
#include <unistd.h>

namespace tessera {
namespace smol {

Keyring fuzzKeyring() {
  Keyring ring;
  Key k;
  for (size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<uint8_t>(i + 1);
  ring.add("fuzz", k);
  return ring;
}

std::vector<std::vector<uint8_t>> makeFuzzSeeds(const std::string &dir) {
  std::vector<std::vector<uint8_t>> seeds;
  auto take = [&](const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  };
  WriterOptions small;
  small.rowAlignment = 64;
  small.keys = fuzzKeyring();
  small.overwrite = true;

  // A tiny drive log: two 4x2 cameras, one encrypted, planar layout.
  DriveLogOptions o;
  o.records = 3;
  o.width = 4;
  o.height = 2;
  o.cameras = 2;
  o.planarCameras = true;
  o.proprioception = true;
  o.joints = 2;
  std::string a = dir + "/seed-drive.smol";
  writeDriveLog(DriveLog(o), a, small, {"cam_front", "speed"});
  take(a);

  // Every dtype as a scalar and a 2x2 column, one static.
  std::vector<ColumnSpec> specs;
  const char *names[] = {"u8",  "i8",  "u16", "i16",  "u32", "i32",
                         "u64", "i64", "f16", "bf16", "f32", "f64"};
  for (const char *n : names) {
    DType t;
    parseDType(n, t);
    specs.push_back({std::string(n) + "_s", t, {}, Role::Data, false, {}, ""});
    specs.push_back(
        {std::string(n) + "_m", t, {2, 2}, Role::Label, false, {1, 0}, ""});
  }
  specs.push_back({"calib", DType::F32, {2}, Role::Data, true, {}, ""});
  std::string b = dir + "/seed-types.smol";
  {
    Writer w(b, specs, small);
    std::vector<uint8_t> calib(8, 0x3f);
    w.setStatic("calib", calib);
    for (int64_t t = 0; t < 2; ++t) {
      std::vector<std::vector<uint8_t>> values;
      for (const ColumnSpec &s : specs)
        if (!s.isStatic)
          values.emplace_back(s.plainBytes(), static_cast<uint8_t>(t + 1));
      w.append(t * 10 - 5,
               std::vector<ConstBytes>(values.begin(), values.end()));
    }
    w.finish();
  }
  take(b);

  // No rows.
  std::string c = dir + "/seed-empty.smol";
  {
    Writer w(c, {{"x", DType::F32, {}, Role::Data, false, {}, ""}}, small);
    w.finish();
  }
  take(c);
  return seeds;
}

} // namespace smol
} // namespace tessera
