//===- DriveLog.h - the seeded synthetic drive log --------------*- C++ -*-===//
//
// Part of Tessera. A synthetic recording with the shape of a real drive log:
// small scalars (speed, steering, pose, IMU, wheel speeds, GNSS), mid-size
// labels (scene class, lane offset, object boxes), eight HxWx3 camera images
// (moving road-like scenes with sensor noise) and static calibration
// (intrinsics, distortion, extrinsics, vehicle). With `proprioception`,
// robot-style joint columns and a static robot description are added, to
// show the format does not care what the ego is. Deterministic: row(i)
// depends only on the seed and i.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_SMOL_DRIVELOG_H
#define TESSERA_SMOL_DRIVELOG_H

#include "tessera/Smol/Writer.h"

#include <functional>
#include <string>
#include <vector>

namespace tessera {
namespace smol {

struct DriveLogOptions {
  uint64_t records = 1000;
  uint64_t seed = 1;
  uint32_t width = 64, height = 48; ///< camera size, even, 2..4096
  unsigned cameras = 8;             ///< 1..16
  bool proprioception = false;      ///< add robot joint columns
  unsigned joints = 7;              ///< with proprioception, 1..64
  /// Store the cameras pre-transposed as 3xHxW (planar, what the chip's
  /// patch embedding reads) instead of HxWx3.
  bool planarCameras = false;
};

class DriveLog {
public:
  /// Throws Error on out-of-range options.
  explicit DriveLog(DriveLogOptions options);
  const DriveLogOptions &options() const { return opts; }
  uint64_t size() const { return opts.records; }
  /// Columns in declared order: dynamic ones, then static ones.
  const std::vector<ColumnSpec> &columns() const { return specs; }
  /// Values of the static columns, in declared order (row-major bytes).
  std::vector<std::vector<uint8_t>> staticValues() const;
  /// Values of the dynamic columns of row `i`, in declared order.
  std::vector<std::vector<uint8_t>> row(uint64_t i) const;
  /// Timestamp of row `i` in nanoseconds (36 frames per second).
  int64_t timestamp(uint64_t i) const;

private:
  DriveLogOptions opts;
  std::vector<ColumnSpec> specs;
};

/// Writes `log` to `path` (published atomically). `encrypt` lists dynamic
/// columns to encrypt with `options.keys.firstId()`. `progress` is called
/// with (rows written, rows total).
void writeDriveLog(
    const DriveLog &log, const std::string &path, WriterOptions options,
    const std::vector<std::string> &encrypt = {},
    const std::function<void(uint64_t, uint64_t)> &progress = nullptr);

} // namespace smol
} // namespace tessera

#endif // TESSERA_SMOL_DRIVELOG_H
