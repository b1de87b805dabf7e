//===- Io.cpp - positioned reads for .smol readers ------------------------===//
//
// Part of Tessera. See Io.h.
//
//===----------------------------------------------------------------------===//

#include "tessera/Smol/Io.h"
#include "tessera/Smol/Format.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tessera {
namespace smol {

RandomAccessFile::~RandomAccessFile() = default;

PosixFile::PosixFile(const std::string &path) : path(path) {
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
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

size_t PosixFile::pread(void *buffer, size_t n, uint64_t offset) {
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
