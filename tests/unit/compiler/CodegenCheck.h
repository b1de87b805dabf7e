//===- CodegenCheck.h - compile, simulate, compare with the reference -----===//
///
/// Shared by the code generator's tests: the chips every kernel is checked
/// on, and the check itself (generate a program, simulate it functionally,
/// compare every output with the FP32 reference executor within
/// `tolerance * rms(reference)`, the FP16 bound of docs/accuracy.md).
///
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TESTS_CODEGENCHECK_H
#define TESSERA_TESTS_CODEGENCHECK_H

#include "GraphBuilder.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/Sim/Simulator.h"

#include <Eigen/Core>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace tessera::codegen::testing {

inline arch::ChipConfig chipWithSram(uint64_t bytes) {
  arch::ChipConfig c = arch::ChipConfig::reference();
  c.name = "sram" + std::to_string(bytes);
  c.sram_bytes = bytes;
  return c;
}

/// The reference chip, a 64 KiB SRAM (many tiles) and an odd 24x40 array
/// with 96 KiB (ragged folds).
inline std::vector<arch::ChipConfig> testChips() {
  arch::ChipConfig odd = arch::ChipConfig::reference();
  odd.name = "odd";
  odd.matrix_rows = 24;
  odd.matrix_cols = 40;
  odd.sram_bytes = 96 << 10;
  // Two NPUs with a slow matrix unit: the cost model splits the products
  // (docs/lowering.md, "Two NPUs"), so every kernel also runs across NPUs.
  arch::ChipConfig two = arch::ChipConfig::reference();
  two.name = "two_npus";
  two.npus = 2;
  two.matrix_fp16_rate_divisor = 16;
  return {arch::ChipConfig::reference(), chipWithSram(64 << 10), odd, two};
}

inline size_t countOp(const arch::Program &p, arch::Opcode op) {
  size_t n = 0;
  for (const arch::Instr &in : p.instrs)
    n += in.op == op;
  return n;
}

/// Simulates `b.g` on `chip` and compares every output with the reference
/// executor: max |chip - reference| <= tolerance * rms(reference). With
/// tolerance 0 the inputs are rounded to FP16 first (an exact comparison);
/// `positive` makes the inputs positive (sqrt, fractional pow).
inline arch::Program checkAgainstReference(GraphBuilder &b,
                                           const arch::ChipConfig &chip,
                                           double tolerance = 4e-3,
                                           bool positive = false) {
  arch::Program prog = generateProgram(b.g, chip);
  EXPECT_LE(prog.sramBytesUsed, chip.sram_bytes);
  auto inputs = b.inputs();
  for (auto &[name, values] : inputs)
    for (float &v : values) {
      if (positive)
        v = std::fabs(v) + 0.05f;
      if (tolerance == 0)
        v = float(Eigen::half(v));
    }
  auto ref = runReference(b.g, inputs);
  sim::SimResult r = sim::simulateFrame(prog, chip, inputs);
  for (const auto &[name, want] : ref) {
    const std::vector<float> &got = r.outputs.at(name);
    EXPECT_EQ(got.size(), want.size()) << name;
    if (got.size() != want.size())
      continue;
    double rms = 0, maxErr = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      rms += double(want[i]) * want[i];
      maxErr = std::max(maxErr, std::fabs(double(got[i]) - want[i]));
    }
    rms = std::sqrt(rms / want.size());
    EXPECT_LE(maxErr, tolerance * rms)
        << name << " on " << chip.name << ": max error " << maxErr
        << ", reference rms " << rms;
  }
  return prog;
}

} // namespace tessera::codegen::testing

#endif // TESSERA_TESTS_CODEGENCHECK_H
