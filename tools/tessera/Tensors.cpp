//===- Tensors.cpp - Reading tensors and comparing outputs ----------------===//

#include "Tensors.h"

#include "tessera/arch/FileIo.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>

using namespace tessera::tools;

std::vector<float> tessera::tools::readF32File(const std::string &path,
                                               uint64_t expectedElements,
                                               const std::string &tensorName) {
  // The file can legitimately hold exactly the tensor's bytes; read at most
  // that many, so a device or a huge file costs nothing.
  uint64_t expectedBytes = expectedElements * 4;
  auto wrongSize = [&](uint64_t size) {
    return std::runtime_error(
        path + ": tensor '" + tensorName + "' expects " +
        std::to_string(expectedElements) + " float32 values (" +
        std::to_string(expectedBytes) + " bytes), the file has " +
        std::to_string(size) + " bytes");
  };
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      uint64_t(st.st_size) != expectedBytes)
    throw wrongSize(uint64_t(st.st_size));
  std::string bytes = arch::readInputFile(
      path, expectedBytes, "tensor file for '" + tensorName + "'");
  if (bytes.size() != expectedBytes)
    throw wrongSize(bytes.size());
  std::vector<float> values(expectedElements);
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

Comparison tessera::tools::compare(const std::vector<float> &actual,
                                   const std::vector<float> &expected) {
  Comparison c;
  if (actual.size() != expected.size())
    throw std::runtime_error("output has " + std::to_string(actual.size()) +
                             " values, the reference " +
                             std::to_string(expected.size()));
  double sumSq = 0, refSq = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!std::isfinite(actual[i]))
      c.nonFinite = true;
    double err = std::fabs(double(actual[i]) - double(expected[i]));
    if (err > c.maxAbsError || std::isnan(err)) {
      c.maxAbsError = err;
      c.worstIndex = i;
    }
    sumSq += err * err;
    refSq += double(expected[i]) * expected[i];
  }
  if (!actual.empty()) {
    c.rmsError = std::sqrt(sumSq / actual.size());
    c.expectedRms = std::sqrt(refSq / actual.size());
  }
  return c;
}

std::pair<std::string, std::string>
tessera::tools::splitBinding(const std::string &arg, const std::string &flag) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    throw std::runtime_error(flag + " expects name=file, got '" + arg + "'");
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}
