//===- Replay.h - a .smol clip through storage into the chip -----*- C++
//-*-===//
//
// Part of Tessera. `tessera run --clip drive.smol`: the clip's frames are read
// with the .smol reader (every read recorded), the reads are replayed on the
// storage-device and loader model with the chip as the consumer at the camera
// rate, and every frame's camera bundle is fed to the compiled network on the
// chip model and checked against the FP32 reference executor. The report is
// the per-frame latency (storage wait + chip), p50/p99, and whether storage
// keeps up. docs/replay.md describes the model.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TOOLS_REPLAY_H
#define TESSERA_TOOLS_REPLAY_H

#include "tessera/Compiler/Graph.h"
#include "tessera/Storage/DeviceModel.h"
#include "tessera/Storage/LoaderModel.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Program.h"

#include <functional>
#include <string>
#include <vector>

namespace tessera::tools {

struct ReplayOptions {
  std::string clip;
  uint64_t frames = 36; ///< Frames from the clip's start; 0 = all.
  double fps = 36.0;    ///< Camera rate: one frame due every 1/fps s.
  storage::DeviceKind device = storage::DeviceKind::Nvme;
  storage::StorageParams storage;
  storage::LoaderParams loader;
  std::string keyFile;     ///< For encrypted camera columns.
  double tolerance = 0.02; ///< Max abs error / reference RMS, per frame.
  /// Called with (frames done, frames total) while the chip runs.
  std::function<void(uint64_t, uint64_t)> progress;

  ReplayOptions() {
    loader.workers = 2;
    loader.prefetchDepth = 4;
  }
};

struct ReplayResult {
  std::string clip, device;
  uint64_t frames = 0;
  uint64_t cameraBytesPerFrame = 0;
  // Storage, measured by the reader and replayed on the device model.
  uint64_t openOps = 0, openBytes = 0;
  double opsPerFrame = 0, bytesPerFrame = 0;
  storage::LoaderResult loader;
  double firstFrameMs = 0; ///< Open + the first frame's reads.
  // The chip (timing is data independent: every frame takes the same).
  uint64_t chipCycles = 0;
  double chipMs = 0;
  // Per frame: how late its data was (0 when storage kept up) and its
  // latency from when it was due to when the chip finished it.
  std::vector<double> waitMs, latencyMs;
  double p50Ms = 0, p99Ms = 0, maxMs = 0;
  uint64_t framesOverBudget = 0;
  double budgetMs = 0;
  bool storageKeepsUp = false;
  // Accuracy, worst frame against the FP32 reference executor.
  double worstMaxAbsOverRms = 0;
  bool accurate = true;
};

/// Runs the replay. Throws std::exception (smol::Error, arch::ContractError,
/// std::invalid_argument) with a message naming the clip and what is wrong.
ReplayResult replayClip(const arch::Program &prog, const arch::ChipConfig &chip,
                        const codegen::Graph &graph,
                        const ReplayOptions &options);

std::string formatReplay(const ReplayResult &r);
std::string replayJson(const ReplayResult &r);

} // namespace tessera::tools

#endif // TESSERA_TOOLS_REPLAY_H
