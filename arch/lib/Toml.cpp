//===- Toml.cpp - TOML files read with toml++, errors as file:line --------===//

#include "tessera/arch/Toml.h"
#include "tessera/arch/FileIo.h"
#include "tessera/arch/Error.h"

#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

using namespace tessera::arch;

namespace {

/// Line `lineNo` (1-based) of `text`, without its newline.
std::string_view lineOf(std::string_view text, size_t lineNo) {
  size_t begin = 0;
  for (size_t i = 1; i < lineNo && begin != std::string_view::npos; ++i) {
    begin = text.find('\n', begin);
    if (begin != std::string_view::npos)
      ++begin;
  }
  if (begin == std::string_view::npos || begin > text.size())
    return {};
  size_t end = text.find('\n', begin);
  return text.substr(begin, end == std::string_view::npos ? end : end - begin);
}

/// The lines of `text` before line `lineNo`.
std::string_view linesBefore(std::string_view text, size_t lineNo) {
  std::string_view line = lineOf(text, lineNo);
  if (line.data() == nullptr)
    return text;
  return text.substr(0, size_t(line.data() - text.data()));
}

/// The single key path a line defines (`a = 1` -> "a", `a.b = 1` -> "a.b"),
/// found by letting toml++ parse that line alone; empty when the line does
/// not parse on its own or is not one key-value pair.
std::string keyOfLine(std::string_view line) {
  try {
    toml::table alone = toml::parse(line);
    std::string path;
    const toml::table *t = &alone;
    while (t && t->size() == 1) {
      // The iterator must outlive the pair it points at (toml++ keeps that
      // pair inside the iterator).
      auto it = t->begin();
      path += (path.empty() ? "" : ".") + std::string(it->first.str());
      t = it->second.as_table();
    }
    return t ? "" : path;
  } catch (const toml::parse_error &) {
    return "";
  }
}

/// The key an unparsable line starts with, for naming the field in the error
/// (`clock_ghz = fast` -> "clock_ghz"): the bare-key characters before '='.
std::string keyBeforeEquals(std::string_view line) {
  size_t eq = line.find('=');
  if (eq == std::string_view::npos)
    eq = line.size();
  std::string_view key = line.substr(0, eq);
  size_t b = key.find_first_not_of(" \t");
  size_t e = key.find_last_not_of(" \t\r");
  if (b == std::string_view::npos)
    return "";
  key = key.substr(b, e - b + 1);
  for (char c : key)
    if (!(std::isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.'))
      return "";
  return std::string(key);
}

} // namespace

std::string tessera::arch::tomlWhere(const std::string &source,
                                     const toml::source_region &at) {
  if (at.begin.line == 0)
    return source;
  return source + ":" + std::to_string(at.begin.line);
}

std::string tessera::arch::tomlRepr(const toml::node &value) {
  if (const toml::value<double> *d = value.as_floating_point()) {
    // The shortest text that reads back as the value (1e-20, not
    // 9.9999999999999995e-21).
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d->get());
    if (ec == std::errc())
      return std::string(buf, end);
  }
  std::ostringstream os;
  value.visit([&](const auto &v) { os << v; });
  return os.str();
}

std::string tessera::arch::tomlString(const std::string &text) {
  std::ostringstream os;
  toml::value<std::string> v(text);
  os << toml::toml_formatter{v, toml::format_flags::none};
  return os.str();
}

std::string tessera::arch::tomlDouble(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find_first_of(".eEn") == std::string::npos) // n: inf, nan
    s += ".0";
  return s;
}

bool tessera::arch::readTextFile(const std::string &path, std::string &text) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream os;
  os << in.rdbuf();
  text = os.str();
  return true;
}

toml::table tessera::arch::parseToml(
    std::string_view text, const std::string &source,
    const std::function<bool(std::string_view)> &isTextKey) {
  // toml++ 3.3.0 reaches TOML_UNREACHABLE (undefined behaviour in a release
  // build) on some non-ASCII characters (found by chip-config-fuzz); Tessera's
  // TOML files are ASCII, so such bytes are refused before toml++ sees them.
  for (size_t i = 0, line = 1, col = 1; i < text.size(); ++i, ++col) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      col = 0;
    } else if (c >= 0x80) {
      throw ContractError(source + ":" + std::to_string(line) + ":" +
                          std::to_string(col) +
                          ": unexpected non-ASCII character (byte " +
                          std::to_string(c) + "; the file must be ASCII)");
    }
  }
  try {
    return toml::parse(text, std::string_view(source));
  } catch (const toml::parse_error &e) {
    size_t lineNo = e.source().begin.line;
    std::string where = source + ":" + std::to_string(lineNo) + ":" +
                        std::to_string(e.source().begin.column);
    std::string_view line = lineOf(text, lineNo);

    // A line that parses on its own but not in the file redefines a key;
    // say where it was first given when that is at the top level.
    std::string key = keyOfLine(line);
    if (!key.empty()) {
      try {
        toml::table before = toml::parse(linesBefore(text, lineNo));
        toml::node_view<toml::node> first = before.at_path(key);
        bool inSection = false;
        for (auto &&[k, v] : before)
          if (v.is_table() && v.source().begin.line > 0 &&
              (!first ||
               v.source().begin.line > first.node()->source().begin.line))
            inSection = true;
        if (first && !inSection)
          throw ContractError(
              where + ": field '" + key + "' given twice (first on line " +
              std::to_string(first.node()->source().begin.line) + ")");
      } catch (const toml::parse_error &) {
      }
    } else {
      key = keyBeforeEquals(line);
    }
    std::string message = where + ": ";
    if (!key.empty())
      message += "field '" + key + "': ";
    message += std::string(e.description());
    // The one difference from the plain `key = value` files of old: text is
    // quoted in TOML.
    size_t eq = line.find('=');
    if (!key.empty() && isTextKey && isTextKey(key) &&
        eq != std::string_view::npos) {
      std::string_view value = line.substr(eq + 1);
      size_t b = value.find_first_not_of(" \t");
      if (b != std::string_view::npos && std::isalpha((unsigned char)value[b]))
        message += " (text values are quoted in TOML: " + key + " = \"...\")";
    }
    throw ContractError(message);
  }
}

toml::table tessera::arch::loadToml(const std::string &path,
                                    const std::string &what) {
  // Bounded (FileIo.h): a device or a FIFO that never ends is an error.
  return parseToml(readInputFile(path, kMaxTextInputBytes, what), path);
}
