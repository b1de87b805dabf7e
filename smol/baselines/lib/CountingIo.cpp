//===- CountingIo.cpp - counted positioned reads for the baselines --------===//
//
// Part of Tessera. One pread system call is one counted I/O operation.
//
//===----------------------------------------------------------------------===//

#include "tessera/Baselines/CountingIo.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tessera {
namespace baselines {

uint32_t IoCounter::fileIndex(const std::string &path) {
  for (size_t i = 0; i < paths.size(); ++i)
    if (paths[i] == path)
      return static_cast<uint32_t>(i);
  paths.push_back(path);
  return static_cast<uint32_t>(paths.size() - 1);
}

void IoCounter::record(uint32_t file, uint64_t offset, uint64_t n) {
  pending.push_back(IoRead{file, offset, n});
  ++ops;
  bytes += n;
}

std::vector<IoRead> IoCounter::take() {
  std::vector<IoRead> out;
  out.swap(pending);
  return out;
}

double threadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

CountedFile::CountedFile(const std::string &path, IoCounter &counter)
    : filePath(path), counter(counter), index(counter.fileIndex(path)) {
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw BaselineError(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw BaselineError(path + ": cannot stat: " + std::strerror(err));
  }
  fileSize = static_cast<uint64_t>(st.st_size);
}

CountedFile::~CountedFile() {
  if (fd >= 0)
    ::close(fd);
}

size_t CountedFile::pread(void *buffer, size_t n, uint64_t offset) {
  double t0 = threadCpuSeconds();
  size_t done = 0;
  // One counted operation; a short read from the kernel before end of file
  // is continued (it is still one request to the device model).
  while (done < n) {
    ssize_t got = ::pread(fd, static_cast<char *>(buffer) + done, n - done,
                          static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR)
        continue;
      throw BaselineError(filePath + ": read failed at offset " +
                          std::to_string(offset) + ": " + std::strerror(errno));
    }
    if (got == 0)
      break;
    done += static_cast<size_t>(got);
  }
  counter.record(index, offset, done);
  counter.addIoCpu(threadCpuSeconds() - t0);
  return done;
}

void CountedFile::readExact(void *buffer, size_t n, uint64_t offset) {
  size_t got = pread(buffer, n, offset);
  if (got != n)
    throw BaselineError(filePath + ": truncated: wanted " + std::to_string(n) +
                        " bytes at offset " + std::to_string(offset) +
                        ", file has " + std::to_string(fileSize) + " bytes");
}

std::vector<uint8_t> CountedFile::readExact(size_t n, uint64_t offset) {
  std::vector<uint8_t> out(n);
  readExact(out.data(), n, offset);
  return out;
}

} // namespace baselines
} // namespace tessera
