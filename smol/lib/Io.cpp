//===- Io.cpp - positioned reads for .smol readers ------------------------===//
//
// Part of Tessera. See Io.h.
//
//===----------------------------------------------------------------------===//

#include "tessera/Smol/Io.h"
#include "tessera/Smol/Format.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tessera {
namespace smol {

RandomAccessFile::~RandomAccessFile() = default;

PosixFile::PosixFile(const std::string &path, bool directIo)
    : path(path), directIo(directIo) {
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directIo ? O_DIRECT : 0));
  if (fd < 0)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    ::close(fd);
    throw Error(
        path + ": cannot open: " +
        (S_ISREG(st.st_mode) ? std::strerror(err) : "not a regular file"));
  }
  bytes = static_cast<uint64_t>(st.st_size);
}

PosixFile::~PosixFile() {
  if (fd >= 0)
    ::close(fd);
}

size_t PosixFile::preadDirect(void *buffer, size_t n, uint64_t offset) {
  // Whole aligned blocks into an aligned bounce buffer.
  uint64_t start = offset / kDirectBlock * kDirectBlock;
  uint64_t end = std::min<uint64_t>(alignUp(offset + n, kDirectBlock),
                                    alignUp(bytes, kDirectBlock));
  if (offset >= bytes || end <= start) {
    counted.ops += 1;
    return 0;
  }
  size_t span = static_cast<size_t>(end - start);
  void *raw = nullptr;
  if (posix_memalign(&raw, kDirectBlock, span) != 0)
    throw Error(path + ": cannot allocate " + std::to_string(span) +
                " bytes for a direct read");
  std::unique_ptr<void, void (*)(void *)> bounce(raw, std::free);
  size_t got = 0;
  while (got < span) {
    ssize_t r = ::pread(fd, static_cast<char *>(raw) + got, span - got,
                        static_cast<off_t>(start + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      throw Error(path + ": direct read failed at offset " +
                  std::to_string(start + got) + ": " + std::strerror(errno));
    if (r == 0)
      break;
    got += static_cast<size_t>(r);
  }
  counted.ops += 1;
  counted.bytes += got;
  uint64_t skip = offset - start;
  size_t useful = got > skip ? std::min<size_t>(n, got - skip) : 0;
  std::memcpy(buffer, static_cast<char *>(raw) + skip, useful);
  return useful;
}

size_t PosixFile::pread(void *buffer, size_t n, uint64_t offset) {
  if (directIo)
    return preadDirect(buffer, n, offset);
  size_t done = 0;
  // One operation; a short read from the kernel before end of file is
  // continued (it is still one request to the device).
  while (done < n) {
    ssize_t got = ::pread(fd, static_cast<char *>(buffer) + done, n - done,
                          static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR)
        continue;
      throw Error(path + ": read failed at offset " + std::to_string(offset) +
                  ": " + std::strerror(errno));
    }
    if (got == 0)
      break;
    done += static_cast<size_t>(got);
  }
  counted.ops += 1;
  counted.bytes += done;
  return done;
}

MemoryFile::MemoryFile(std::vector<uint8_t> data, std::string name)
    : owned(std::move(data)), data(owned.data()), bytes(owned.size()),
      label(std::move(name)) {}

MemoryFile::MemoryFile(const uint8_t *data, size_t bytes, std::string name)
    : data(data), bytes(bytes), label(std::move(name)) {}

size_t MemoryFile::pread(void *buffer, size_t n, uint64_t offset) {
  size_t got = 0;
  if (offset < bytes) {
    got = n < bytes - offset ? n : static_cast<size_t>(bytes - offset);
    std::memcpy(buffer, data + offset, got);
  }
  counted.ops += 1;
  counted.bytes += got;
  return got;
}

} // namespace smol
} // namespace tessera
