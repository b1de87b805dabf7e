//===- Tensors.h - Reading tensors and comparing outputs ------------------===//
//
// Tensors cross the command line as raw little-endian float32 files, row-major,
// the form models/*/make_model.py saves. The comparison against a reference
// output is what `tessera run` reports as the accuracy check.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TOOLS_TENSORS_H
#define TESSERA_TOOLS_TENSORS_H

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::tools {

/// Reads a raw float32 file holding exactly `expectedElements` values.
/// Throws std::runtime_error naming the file on a size mismatch or I/O error.
std::vector<float> readF32File(const std::string &path,
                               uint64_t expectedElements,
                               const std::string &tensorName);

/// How far `actual` is from `expected`.
struct Comparison {
  double maxAbsError = 0;
  double rmsError = 0;
  double expectedRms = 0; ///< RMS of the reference, to read errors against.
  uint64_t worstIndex = 0;
  bool nonFinite = false; ///< actual holds a NaN or infinity.
};
Comparison compare(const std::vector<float> &actual,
                   const std::vector<float> &expected);

/// Parses "name=path" into its two parts; throws on a missing '='.
std::pair<std::string, std::string> splitBinding(const std::string &arg,
                                                 const std::string &flag);

} // namespace tessera::tools

#endif // TESSERA_TOOLS_TENSORS_H
