//===- Io.h - the positioned reads a .smol reader makes ---------*- C++ -*-===//
//
// Part of Tessera. Every byte a .smol reader takes from storage goes through
// RandomAccessFile::pread, one call per I/O operation, so that readers can be
// counted (IoStats here; the storage bench plugs in its own counter) and fed
// from memory (tests, the fuzzer).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_SMOL_IO_H
#define TESSERA_SMOL_IO_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tessera {
namespace smol {

/// Counts of positioned reads.
struct IoStats {
  uint64_t ops = 0;
  uint64_t bytes = 0;
};

/// A read-only file addressed by offset.
class RandomAccessFile {
public:
  virtual ~RandomAccessFile();
  /// Reads up to `n` bytes at `offset` into `buffer`: one I/O operation.
  /// Returns fewer bytes only at end of file. Throws smol::Error on failure.
  virtual size_t pread(void *buffer, size_t n, uint64_t offset) = 0;
  /// Size in bytes (file-system metadata, not a counted read).
  virtual uint64_t size() const = 0;
  /// The name used in error messages.
  virtual const std::string &name() const = 0;
};

/// A file opened read-only (O_RDONLY | O_CLOEXEC) that counts its reads.
/// With `directIo`, the file is opened with O_DIRECT (bypassing the page
/// cache) and each read is widened to whole 4096-byte blocks; because .smol
/// rows, their prefixes and the header start on 4096-byte boundaries and
/// rows are padded to the stride, a reader's requests need no widening at
/// the start and at most the stride padding at the end. Counts are of the
/// bytes the device transfers.
class PosixFile : public RandomAccessFile {
public:
  static constexpr uint64_t kDirectBlock = 4096;
  /// Throws smol::Error "<path>: cannot open: <reason>" (with directIo, also
  /// when the file system refuses O_DIRECT, e.g. tmpfs).
  explicit PosixFile(const std::string &path, bool directIo = false);
  ~PosixFile() override;
  size_t pread(void *buffer, size_t n, uint64_t offset) override;
  uint64_t size() const override { return bytes; }
  const std::string &name() const override { return path; }
  const IoStats &stats() const { return counted; }

  bool direct() const { return directIo; }

private:
  size_t preadDirect(void *buffer, size_t n, uint64_t offset);

  std::string path;
  int fd = -1;
  uint64_t bytes = 0;
  bool directIo = false;
  IoStats counted;
};

/// A file held in memory (tests, the fuzzer); counts its reads too.
class MemoryFile : public RandomAccessFile {
public:
  MemoryFile(std::vector<uint8_t> data, std::string name = "<memory>");
  /// Does not copy: `data` must outlive the MemoryFile.
  MemoryFile(const uint8_t *data, size_t bytes, std::string name);
  size_t pread(void *buffer, size_t n, uint64_t offset) override;
  uint64_t size() const override { return bytes; }
  const std::string &name() const override { return label; }
  const IoStats &stats() const { return counted; }

private:
  std::vector<uint8_t> owned;
  const uint8_t *data;
  size_t bytes;
  std::string label;
  IoStats counted;
};

} // namespace smol
} // namespace tessera

#endif // TESSERA_SMOL_IO_H
