//===- FileIo.h - Bounded input reads and honest output writes -*- C++ -*-===//
//
// Every tool reads its input files (ONNX models, chip configs, program files,
// tensors, key files, device parameters, .mlir) through readInputFile, which
// bounds what it reads: a regular file by its st_size checked against the
// caller's limit before anything is allocated, a pipe or device (which may
// never end, like /dev/zero) by reading at most the limit and failing past
// it. Every whole-file output goes through writeOutputFile: a regular file or
// a new path is replaced atomically (temporary file in the same directory,
// fsync, rename), anything else (a device node, a FIFO) is written in place
// and never replaced, and every write, flush and close is checked. The limits
// are listed in docs/limits-and-errors.md.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_ARCH_FILEIO_H
#define TESSERA_ARCH_FILEIO_H

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::arch {

/// Inputs that are not regular files (pipes, devices) are read up to this
/// many bytes at most, whatever the kind's own limit (their size is unknown
/// until they end, and some never do).
constexpr uint64_t kMaxStreamInputBytes = 256ull << 20;

/// Documented size limits of the input kinds (docs/limits-and-errors.md).
constexpr uint64_t kMaxOnnxModelBytes = (2ull << 30) - 1; ///< protobuf's limit
constexpr uint64_t kMaxChipConfigBytes = 1ull << 20;
constexpr uint64_t kMaxProgramFileBytes = 8ull << 30;
constexpr uint64_t kMaxTextInputBytes = 1ull << 20; ///< key, param, list files
constexpr uint64_t kMaxMlirBytes = 1ull << 30;

/// Reads the whole file at `path`, at most `maxBytes` (and at most
/// kMaxStreamInputBytes from a pipe or device). `what` names the kind of
/// file in errors ("chip config", "ONNX model"). Throws ContractError with
/// a one-line message naming the path: cannot open, is a directory, larger
/// than the limit, read error.
std::string readInputFile(const std::string &path, uint64_t maxBytes,
                          const std::string &what);

/// Writes `data` as the whole contents of `path` (see the file comment).
/// Throws ContractError naming the path and the system's reason; a failed
/// write never leaves a partial file under `path` when `path` is (or
/// becomes) a regular file.
void writeOutputFile(const std::string &path, std::string_view data,
                     const std::string &what);

/// True if `path` exists and is not a regular file (a device, FIFO, socket,
/// directory). Outputs that must be regular files refuse such paths.
bool isExistingNonRegular(const std::string &path);

/// Flushes the C and C++ standard output streams and throws ContractError
/// ("standard output: write error: ...") if any write to them failed.
void flushStdout();

} // namespace tessera::arch

#endif // TESSERA_ARCH_FILEIO_H
