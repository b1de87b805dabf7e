//===- Toml.h - TOML files read with toml++, errors as file:line -*- C++
//-*-===//
//
// Every TOML file Tessera reads (the chip config, sweep files) goes through
// toml++ (Debian's libtomlplusplus-dev) and these helpers, so that all of them
// report bad input the same way: one line, `file:line:col: ...`, thrown as
// ContractError. A syntax error names the key of the line it is on when that
// line has one ("field 'clock_ghz': ..."); a key given twice says where it was
// first given.
//
// Usage (a reader of its own TOML file):
//
//   toml::table t = tessera::arch::loadToml(path, "sweep file");
//   for (auto &&[key, value] : t)
//     if (!known(key.str()))
//       throw ContractError(tomlWhere(path, key) + ": unknown field '" +
//                           std::string(key.str()) + "'");
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_ARCH_TOML_H
#define TESSERA_ARCH_TOML_H

#include "tessera/arch/ChipConfig.h"

#include <toml++/toml.h>

#include <functional>
#include <string>
#include <string_view>

namespace tessera::arch {

/// Parses TOML text; `source` names it in errors. A syntax error throws
/// ContractError `source:line:col: [field 'key': ]description`. When
/// `isTextKey(key)` says the key holds text and its value is an unquoted word
/// (`name = reference`), the message adds that text is quoted in TOML.
toml::table
parseToml(std::string_view text, const std::string &source,
          const std::function<bool(std::string_view)> &isTextKey = {});

/// Reads and parses a TOML file; `what` names the kind of file in the error
/// for a file that cannot be opened (`path: cannot open <what>`).
toml::table loadToml(const std::string &path, const std::string &what);

/// Reads a whole file into `text`; false when it cannot be opened.
bool readTextFile(const std::string &path, std::string &text);

/// `source:line` of a parsed node or key (just `source` when toml++ recorded
/// no position, e.g. for a node built in code).
std::string tomlWhere(const std::string &source, const toml::source_region &at);
template <typename T>
std::string tomlWhere(const std::string &source, const T &nodeOrKey) {
  return tomlWhere(source, nodeOrKey.source());
}

/// A value as it would be written in a TOML file (`"fast"`, `1e+30`, `[1, 2]`),
/// for "got ..." in error messages.
std::string tomlRepr(const toml::node &value);

/// A TOML basic string: double quotes, with toml++'s escapes (`"reference"`).
std::string tomlString(const std::string &text);

/// The TOML spelling of a double that reads back to the same value: the
/// shortest round-trip digits, always with a '.' or exponent so that it stays
/// a float (`2.0`, `27.78`, `1e+30`).
std::string tomlDouble(double value);

/// Sets `field` of `config` from a TOML value after checking its kind and
/// range; errors are `<where>: field '<name>' ...` (`where` is usually
/// tomlWhere(source, key)). For tools that override fields of a config (a
/// sweep axis) with the chip config's own checks.
void setConfigField(ChipConfig &config, const ConfigField &field,
                    const toml::node &value, const std::string &where);

/// Reads a chip config from a parsed TOML table: flat field names, or fields
/// in sections named by their prefix. Every required field must be given
/// exactly once; errors name `source:line` and the field.
ChipConfig chipConfigFromToml(const toml::table &table,
                              const std::string &source);

} // namespace tessera::arch

#endif // TESSERA_ARCH_TOML_H
