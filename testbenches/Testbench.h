//===- Testbench.h - Shared scaffolding of the module testbenches ---------===//
//
// Each testbench (an sc_main of its own) instantiates one chip module with a
// driver, checks its cycle counts against the closed form written out in the
// testbench (its reference model, independent of simulator/lib/Timing.cpp)
// and its values against a reference computation with a fixed seed.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TESTBENCHES_TESTBENCH_H
#define TESSERA_TESTBENCHES_TESTBENCH_H

#include "tessera/Sim/Modules.h"

#include <systemc>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <string>

namespace tessera::tb {

/// Counts checks and failures; prints each failure.
struct Checker {
  unsigned checks = 0, failures = 0;

  template <typename A, typename B>
  void equal(const A &actual, const B &expected, const std::string &what) {
    ++checks;
    if (actual == expected)
      return;
    ++failures;
    std::cerr << "FAIL: " << what << ": got " << actual << ", expected "
              << expected << "\n";
  }
  void near(double actual, double expected, double tol,
            const std::string &what) {
    ++checks;
    if (std::fabs(actual - expected) <= tol)
      return;
    ++failures;
    std::cerr << "FAIL: " << what << ": got " << actual << ", expected "
              << expected << " (tolerance " << tol << ")\n";
  }
  void truth(bool cond, const std::string &what) {
    ++checks;
    if (!cond) {
      ++failures;
      std::cerr << "FAIL: " << what << "\n";
    }
  }
  /// Prints the summary; the exit status of sc_main.
  int finish(const char *bench) const {
    std::cout << bench << ": " << checks << " checks, " << failures
              << " failures\n";
    return failures ? 1 : 0;
  }
};

/// ceil(a / b) for the closed forms.
inline uint64_t ceilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/// Silences the SystemC banner; call first in sc_main.
inline void quietSystemC() {
  ::setenv("SYSC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
}

} // namespace tessera::tb

#endif // TESSERA_TESTBENCHES_TESTBENCH_H
