//===- SweepSpec.h - Design-space sweep files: parse and plan ---*- C++ -*-===//
//
// Part of Tessera. A sweep file (TOML, read with toml++) names a model, a base
// chip config and axes: chip-config fields, compiler options and, later,
// parameters of generated models. Planning expands the axes into points (the
// full grid, or a seeded random subset of it), drops the points that break
// the constraints and builds and validates every point's chip config, so that
// every mistake in the file is reported as `file:line: message` before any
// point runs. docs/sweep.md describes the file.
//
// This file depends only on the contract library (arch/) and toml++, so the
// fuzz target can build it alone.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TOOLS_SWEEPSPEC_H
#define TESSERA_TOOLS_SWEEPSPEC_H

#include "tessera/arch/ChipConfig.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tessera::tools {

/// One value of an axis as written in the file.
struct AxisValue {
  enum Kind { Int, Float, String, Bool } kind = Int;
  int64_t i = 0;
  double d = 0;
  std::string s;
  bool b = false;
  unsigned line = 0; ///< Line of the value in the sweep file.

  /// Canonical text: `262144`, `2.5`, `true`, or the string itself.
  std::string text() const;
  /// The value as a number (booleans are 0 and 1); strings are not numbers.
  bool isNumber() const { return kind != String; }
  double number() const;
};

/// What an axis varies.
enum class AxisKind {
  Chip,     ///< A chip-config field (arch::ChipConfig::fieldNames()).
  Compiler, ///< A compiler option (compilerOptions()).
  Model,    ///< The ONNX file itself (axis `model`, a list of paths).
  /// A parameter of the model generator (`model.depth = [...]`), axis name
  /// `model_<parameter>`.
  ModelParam,
};

struct Axis {
  std::string name;
  AxisKind kind = AxisKind::Chip;
  std::vector<AxisValue> values;
  unsigned line = 0;
};

/// A compiler option a sweep can vary; tools/tessera/Sweep.cpp applies it.
struct CompilerOptionInfo {
  const char *name;
  AxisValue::Kind kind;
  const char *defaultText;
  const char *help;
};
/// Every compiler option a sweep can vary (grows with the compiler).
const std::vector<CompilerOptionInfo> &compilerOptions();

/// Chip-config fields the code generator does not read: points that differ
/// only in these share one compiled program. Any field not listed (including
/// fields added later) is treated as read by the compiler, which is always
/// correct, only slower. tests/sweep checks the list against the compiler.
const std::vector<std::string> &simulatorOnlyFields();

struct Constraint;

struct SweepSpec {
  std::string source; ///< The sweep file's path (for messages).
  std::string model;  ///< Resolved model path (empty with a model axis).
  unsigned modelLine = 0;
  /// A model generator script (`[sweep] generator`), run as
  /// `generator OUT_DIR --<param> <value> ...` to write OUT_DIR/*.onnx.
  std::string generator;
  unsigned generatorLine = 0;
  /// Fixed generator parameters (`[model]` table), by parameter name.
  std::map<std::string, AxisValue> modelParams;
  std::string configPath; ///< Base chip config ("" = the reference chip).
  arch::ChipConfig base;
  std::vector<Axis> axes;
  std::vector<std::shared_ptr<Constraint>> constraints;
  bool random = false;  ///< Seeded random subset of the grid.
  uint64_t samples = 0; ///< Points drawn when random.
  uint64_t seed = 1;
  unsigned samplingLine = 0;
};

/// One point of a sweep, fully resolved.
struct SweepPoint {
  size_t index = 0; ///< Position in the plan (grid order).
  /// The axis values of this point, in axis order.
  std::vector<std::pair<std::string, AxisValue>> settings;
  std::string model;     ///< The ONNX file (set by the runner if generated).
  std::string generator; ///< The generator script, when the model is made.
  /// Generator parameters (fixed and swept), by parameter name.
  std::map<std::string, AxisValue> modelParams;
  arch::ChipConfig chip;
  /// Compiler options by name, every option of compilerOptions().
  std::map<std::string, AxisValue> options;

  /// The canonical text every result of this point depends on besides the
  /// model's contents: every chip field, every compiler option and the
  /// generator parameters. Hashing it with the model's contents (or the
  /// generator's identity) gives the key a result is stored under.
  std::string canonicalText() const;
  /// The part of canonicalText() the compiler depends on.
  std::string compileText() const;
};

/// Largest number of grid points a sweep may expand to.
constexpr uint64_t kMaxSweepPoints = 1000000;

/// Parses a sweep file's text. Relative paths are resolved against `baseDir`
/// (the sweep file's directory) and, failing that, the current directory.
/// Throws arch::ContractError `source:line: message`.
SweepSpec parseSweep(const std::string &text, const std::string &source,
                     const std::string &baseDir);
/// Reads and parses a sweep file.
SweepSpec loadSweep(const std::string &path);

/// Expands the axes into points, applies the constraints and the sampling,
/// and builds each point's chip config. Throws arch::ContractError naming the
/// file and line when a point's config is impossible or no point is left.
std::vector<SweepPoint> planSweep(const SweepSpec &spec);

/// Reads a chip config's fields as text, by name (from ChipConfig::toText()).
std::map<std::string, std::string> configFieldValues(const arch::ChipConfig &c);

} // namespace tessera::tools

#endif // TESSERA_TOOLS_SWEEPSPEC_H
