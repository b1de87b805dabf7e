//===- Baseline.h - the formats .smol is compared with ----------*- C++ -*-===//
//
// Part of Tessera. Each baseline writes a ContentSource's log in one layout
// people use today (CSV, JSON Lines, a row-wise binary log, HDF5, H.264 in MP4,
// TFRecord, tar shards) and reads samples back at random through counted I/O.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BASELINES_BASELINE_H
#define TESSERA_BASELINES_BASELINE_H

#include "tessera/Baselines/Content.h"
#include "tessera/Baselines/CountingIo.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tessera {
namespace baselines {

/// Called while writing with (records written, records total).
using Progress = std::function<void(uint64_t, uint64_t)>;

/// Reads one written baseline. Every read goes through the IoCounter given at
/// creation.
class Reader {
public:
  virtual ~Reader();
  /// Opens the dataset: headers, indexes, metadata, static data.
  virtual void open() = 0;
  /// The static fields (valid after open()).
  virtual Values staticValues() = 0;
  /// Reads record `index`. With `labelsOnly`, only the label fields are
  /// wanted (an early-rejecting reader); other entries may stay empty. Row
  /// layouts that carry the static data in every row return it in
  /// `rowStatic` when it is not null (and leave it empty otherwise).
  virtual Values read(uint64_t index, bool labelsOnly,
                      Values *rowStatic = nullptr) = 0;
  /// Number of records (valid after open()).
  virtual uint64_t size() const = 0;
};

/// One layout.
class Baseline {
public:
  virtual ~Baseline();
  /// Short name used in table rows and directory names, e.g. "csv".
  virtual std::string name() const = 0;
  /// One line: what it is and how it stores static data and cameras.
  virtual std::string description() const = 0;
  /// True when camera values come back approximately (H.264).
  virtual bool lossy() const { return false; }
  /// Writes the log into directory `dir` (created; must not hold another
  /// baseline). Throws BaselineError on failure.
  virtual void write(const ContentSource &source, const std::string &dir,
                     const Progress &progress) const = 0;
  virtual std::unique_ptr<Reader> reader(const std::string &dir,
                                         IoCounter &counter) const = 0;
};

/// Every baseline, in table order: csv, jsonl, rowbin, hdf5, tfrecord, tar,
/// mp4-gop1, mp4-gop30, mp4-gop250.
std::vector<std::unique_ptr<Baseline>> allBaselines();
/// The baseline named `name`; throws BaselineError listing the names.
std::unique_ptr<Baseline> makeBaseline(const std::string &name);

/// Total size in bytes of the regular files under `dir`.
uint64_t directoryBytes(const std::string &dir);

} // namespace baselines
} // namespace tessera

#endif // TESSERA_BASELINES_BASELINE_H
