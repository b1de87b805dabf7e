//===- TomlFuzzAsserts.h - toml++ preconditions as exceptions in fuzzing --===//
//
// Part of Tessera. Force-included (-include) into the sweep parser's fuzz
// build only. Debian's toml++ 3.3.0 checks some internal preconditions with
// TOML_ASSERT_ASSUME that malformed input can violate (e.g. `[1, }`; fixed
// upstream after 3.3.0, marzer/tomlplusplus#301). In the release build
// (GCC, NDEBUG) such a check compiles to nothing and the parser goes on to
// report a parse error, which tests/sweep/errors/toml_*.toml check through
// the real `tessera` binary. Here the check throws instead of aborting, so
// the fuzzer keeps looking for faults in Tessera's own code; the fuzz target
// counts these separately. toml++'s TOML_UNREACHABLE is left alone: reaching
// it is a fault in every build, and UBSan reports it.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TESTS_SWEEP_TOMLFUZZASSERTS_H
#define TESSERA_TESTS_SWEEP_TOMLFUZZASSERTS_H

#include <stdexcept>

namespace tessera::fuzz {
/// A toml++ precondition that the input violated.
struct TomlPrecondition : std::logic_error {
  using std::logic_error::logic_error;
};
} // namespace tessera::fuzz

#define TOML_ASSERT(expr)                                                      \
  ((expr) ? (void)0                                                            \
          : throw ::tessera::fuzz::TomlPrecondition("toml++ precondition: " #expr))

#endif // TESSERA_TESTS_SWEEP_TOMLFUZZASSERTS_H
