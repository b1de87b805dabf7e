//===- IoTrace.h - I/O traces replayed by the storage models ----*- C++ -*-===//
//
// Part of Tessera. The trace of one reader: the I/O operations it issues to
// open a dataset (read its header/index) and, for each sample it reads, the
// positioned reads that fetch that sample. Readers record these through a
// counting I/O layer; the device and loader models replay them.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_STORAGE_IOTRACE_H
#define TESSERA_STORAGE_IOTRACE_H

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {
namespace storage {

/// One positioned read: `bytes` bytes at `offset` of file `file` (an index
/// into ReaderTrace::files). A zero-byte op is a metadata operation (open or
/// stat) that still costs one request.
struct IoOp {
  uint32_t file = 0;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

/// The reads that fetch one sample, in the order the reader issued them.
struct SampleTrace {
  std::vector<IoOp> ops;
  uint64_t bytes() const;
};

/// What one reader did: open the dataset, then read samples.
struct ReaderTrace {
  /// File names (for messages only); IoOp::file indexes this list.
  std::vector<std::string> files;
  /// Reads issued to open the dataset (header, index, metadata).
  std::vector<IoOp> openOps;
  /// One entry per sample read, in reading order.
  std::vector<SampleTrace> samples;

  uint64_t sampleOps() const;
  uint64_t sampleBytes() const;
  uint64_t openBytes() const;
  /// Throws std::invalid_argument naming the op when a file index is out of
  /// range or an op's end overflows.
  void validate() const;
};

} // namespace storage
} // namespace tessera

#endif // TESSERA_STORAGE_IOTRACE_H
