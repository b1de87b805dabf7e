//===- FileIo.cpp - Bounded input reads and honest output writes ----------===//
//
// See FileIo.h. POSIX calls, so that the file's type is known before any
// byte is read or written and every failure has its errno.
//
//===----------------------------------------------------------------------===//

#include "tessera/arch/FileIo.h"
#include "tessera/arch/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

using namespace tessera::arch;

namespace {

std::string errnoText(int err) { return std::strerror(err); }

std::string bytesText(uint64_t n) { return std::to_string(n) + " bytes"; }

/// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// Writes all of `data` to `fd`; returns 0 or the errno of the failure.
int writeAll(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (n == 0)
      return EIO;
    done += size_t(n);
  }
  return 0;
}

} // namespace

std::string tessera::arch::readInputFile(const std::string &path,
                                         uint64_t maxBytes,
                                         const std::string &what) {
  auto fail = [&](const std::string &msg) -> ContractError {
    return ContractError(path + ": " + msg);
  };
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (f.fd < 0)
    throw fail("cannot open " + what + ": " + errnoText(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0)
    throw fail("cannot open " + what + ": " + errnoText(errno));
  if (S_ISDIR(st.st_mode))
    throw fail("is a directory, expected " + what);
  bool regular = S_ISREG(st.st_mode);
  std::string bytes;
  if (regular) {
    uint64_t size = uint64_t(st.st_size);
    if (size > maxBytes)
      throw fail(what + " is " + bytesText(size) + ", more than the limit of " +
                 bytesText(maxBytes) + " (docs/limits-and-errors.md)");
  } else if (maxBytes > kMaxStreamInputBytes) {
    maxBytes = kMaxStreamInputBytes;
  }
  // Read until the end, straight into the buffer; a regular file that grows
  // while it is read, and a stream, are both cut at the limit (one byte past
  // it is asked for, to tell "exactly the limit" from "more").
  auto tooLong = [&] {
    return fail(
        what + (regular ? " grew past" : " (a pipe or device) is longer than") +
        " the limit of " + bytesText(maxBytes) +
        " (docs/limits-and-errors.md)");
  };
  size_t used = 0;
  bytes.resize(size_t(std::min<uint64_t>(
      regular ? uint64_t(st.st_size) + 1 : 1 << 16, maxBytes + 1)));
  for (;;) {
    if (used == bytes.size()) {
      if (used > maxBytes)
        throw tooLong();
      bytes.resize(size_t(std::min<uint64_t>(2 * used, maxBytes + 1)));
    }
    ssize_t n = ::read(f.fd, &bytes[used], bytes.size() - used);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw fail("read error in " + what + ": " + errnoText(errno));
    }
    if (n == 0)
      break;
    used += size_t(n);
  }
  if (used > maxBytes)
    throw tooLong();
  bytes.resize(used);
  return bytes;
}

bool tessera::arch::isExistingNonRegular(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
}

void tessera::arch::writeOutputFile(const std::string &path,
                                    std::string_view data,
                                    const std::string &what) {
  auto fail = [&](const std::string &msg, int err) -> ContractError {
    return ContractError(path + ": cannot write " + what + ": " + msg +
                         (err ? ": " + errnoText(err) : std::string()));
  };
  if (path.empty())
    throw ContractError("cannot write " + what + ": empty path");
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode))
    throw fail("is a directory", 0);
  if (exists && !S_ISREG(st.st_mode)) {
    // A device node, FIFO or socket: write into it, never replace it.
    Fd f;
    f.fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (f.fd < 0)
      throw fail("cannot open", errno);
    if (int err = writeAll(f.fd, data))
      throw fail("write failed", err);
    int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0)
      throw fail("close failed", errno);
    return;
  }
  // A regular file or a new path: the whole contents appear at once or not
  // at all. The temporary name is hidden and unique in the same directory.
  std::string tmp = directoryOf(path) + "/." + baseOf(path) + ".tmp.XXXXXX";
  std::string name = tmp;
  Fd f;
  f.fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (f.fd < 0)
    throw fail("cannot create a temporary file in " + directoryOf(path), errno);
  auto abandon = [&](const std::string &msg, int err) -> ContractError {
    ::unlink(name.c_str());
    return fail(msg, err);
  };
  // Keep an existing file's permissions; a new one gets the usual 0666 &
  // ~umask (mkostemp creates 0600).
  mode_t mode = exists ? (st.st_mode & 07777) : 0;
  if (!exists) {
    mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  if (::fchmod(f.fd, mode) != 0)
    throw abandon("cannot set permissions", errno);
  if (int err = writeAll(f.fd, data))
    throw abandon("write failed", err);
  if (::fsync(f.fd) != 0)
    throw abandon("fsync failed", errno);
  int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0)
    throw abandon("close failed", errno);
  if (::rename(name.c_str(), path.c_str()) != 0)
    throw abandon("cannot rename the temporary file into place", errno);
}

void tessera::arch::flushStdout() {
  std::cout.flush();
  bool ok = bool(std::cout);
  errno = 0;
  ok = std::fflush(stdout) == 0 && ok;
  ok = !std::ferror(stdout) && ok;
  if (!ok) {
    int err = errno;
    // Another flush would fail the same way; make the streams quiet so the
    // process exits with the caller's status, not a second complaint.
    std::clearerr(stdout);
    std::cout.clear();
    throw ContractError(std::string("standard output: write error") +
                        (err ? std::string(": ") + errnoText(err) : ""));
  }
}
