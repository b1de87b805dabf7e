//===- CountingIo.h - counted positioned reads for the baselines -*- C++
//-*-===//
//
// Part of Tessera. Every read a baseline reader makes goes through a
// CountedFile (directly, or from HDF5's virtual file driver, FFmpeg's
// AVIOContext or libarchive's callbacks), so that the I/O operations and bytes
// of opening a dataset and of reading each sample are exact. The counter keeps
// the trace of every read for the storage-device models.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BASELINES_COUNTINGIO_H
#define TESSERA_BASELINES_COUNTINGIO_H

#include "tessera/Baselines/Content.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {
namespace baselines {

/// One positioned read.
struct IoRead {
  uint32_t file = 0;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

/// Counts and records reads; a reader's open and each sample are separated by
/// taking the reads recorded so far.
class IoCounter {
public:
  /// Index of `path` in files(), registering it on first use.
  uint32_t fileIndex(const std::string &path);
  void record(uint32_t file, uint64_t offset, uint64_t bytes);
  /// Reads since the last take(), oldest first; clears them.
  std::vector<IoRead> take();
  const std::vector<std::string> &files() const { return paths; }
  uint64_t totalOps() const { return ops; }
  uint64_t totalBytes() const { return bytes; }
  /// Thread CPU seconds spent inside counted reads (system calls and copies),
  /// so callers can subtract I/O from decode time.
  double ioCpuSeconds() const { return ioCpu; }
  void addIoCpu(double seconds) { ioCpu += seconds; }

private:
  std::vector<std::string> paths;
  std::vector<IoRead> pending;
  uint64_t ops = 0;
  uint64_t bytes = 0;
  double ioCpu = 0;
};

/// CPU time of the calling thread, in seconds.
double threadCpuSeconds();

/// A read-only file whose every pread is one counted I/O operation.
class CountedFile {
public:
  /// Opens `path`; throws BaselineError "<path>: cannot open: <reason>".
  CountedFile(const std::string &path, IoCounter &counter);
  ~CountedFile();
  CountedFile(const CountedFile &) = delete;
  CountedFile &operator=(const CountedFile &) = delete;

  /// Reads up to `n` bytes at `offset` (fewer only at end of file); one op.
  size_t pread(void *buffer, size_t n, uint64_t offset);
  /// Reads exactly `n` bytes; throws BaselineError "<path>: truncated: ..."
  /// when the file ends first.
  void readExact(void *buffer, size_t n, uint64_t offset);
  std::vector<uint8_t> readExact(size_t n, uint64_t offset);
  /// File size from the file system (metadata, not a counted read).
  uint64_t size() const { return fileSize; }
  const std::string &path() const { return filePath; }

private:
  std::string filePath;
  IoCounter &counter;
  uint32_t index;
  int fd = -1;
  uint64_t fileSize = 0;
};

} // namespace baselines
} // namespace tessera

#endif // TESSERA_BASELINES_COUNTINGIO_H
