//===- SyntheticLog.h - the bench's own seeded drive log --------*- C++ -*-===//
//
// Part of Tessera. A seeded synthetic drive log for the storage benchmark
// when TesseraSmol's generator (DriveLog.h) is not built: ego state,
// proprioception (IMU, wheel speeds, GNSS), labels (scene class, object
// boxes, lane offset), eight cameras of moving road-like images with sensor
// noise, and static calibration (intrinsics, distortion, extrinsics, vehicle).
// Deterministic: record(i) depends only on the seed and i.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BENCH_SYNTHETICLOG_H
#define TESSERA_BENCH_SYNTHETICLOG_H

#include "tessera/Baselines/Content.h"

namespace tessera {
namespace bench {

class SyntheticLog : public baselines::ContentSource {
public:
  /// Throws std::invalid_argument when a camera dimension is odd, zero or
  /// above 4096, or cameras is 0 or above 16.
  SyntheticLog(uint64_t records, uint64_t seed, uint32_t width = 64,
               uint32_t height = 48, unsigned cameras = 8);
  const baselines::Schema &schema() const override { return s; }
  uint64_t size() const override { return records; }
  baselines::Values staticValues() const override;
  baselines::Values record(uint64_t index) const override;
  double framesPerSecond() const override { return 36.0; }

private:
  baselines::Schema s;
  uint64_t records, seed;
  uint32_t width, height;
  unsigned cameras;
};

} // namespace bench
} // namespace tessera

#endif // TESSERA_BENCH_SYNTHETICLOG_H
