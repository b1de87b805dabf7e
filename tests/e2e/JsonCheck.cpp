//===- JsonCheck.cpp - parse a tool's JSON with nlohmann, check its keys --===//
//
// Part of Tessera's end-to-end tests. Parses a JSON file (or stdin for "-")
// with nlohmann::json and checks that every given key path is present:
// `frame.cycles` is member "cycles" of member "frame"; a number selects an
// array element (`layers.0.name`); `traceEvents.*.ph` checks the key in every
// element of an array. Prints "ok: FILE (N keys)" or a one-line error and
// exits 1.
//
// Usage: json-check FILE|- KEY.PATH...
//
//===----------------------------------------------------------------------===//

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using json = nlohmann::json;

namespace {

std::vector<std::string> split(const std::string &path) {
  std::vector<std::string> parts;
  std::istringstream in(path);
  std::string part;
  while (std::getline(in, part, '.'))
    parts.push_back(part);
  return parts;
}

/// Empty when `parts[at..]` is present under `v`, else the first missing one.
std::string missing(const json &v, const std::vector<std::string> &parts,
                    size_t at, const std::string &where) {
  if (at == parts.size())
    return "";
  const std::string &p = parts[at];
  std::string here = where.empty() ? p : where + "." + p;
  if (p == "*") {
    if (!v.is_array() || v.empty())
      return here + " (not a non-empty array)";
    for (size_t i = 0; i < v.size(); ++i) {
      std::string m =
          missing(v[i], parts, at + 1, where + "." + std::to_string(i));
      if (!m.empty())
        return m;
    }
    return "";
  }
  if (v.is_array() && !p.empty() &&
      p.find_first_not_of("0123456789") == std::string::npos) {
    size_t i = std::stoul(p);
    if (i >= v.size())
      return here;
    return missing(v[i], parts, at + 1, here);
  }
  if (!v.is_object() || !v.contains(p))
    return here;
  return missing(v[p], parts, at + 1, here);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: json-check FILE|- KEY.PATH...\n";
    return 1;
  }
  std::string path = argv[1];
  json doc;
  try {
    if (path == "-") {
      doc = json::parse(std::cin);
    } else {
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        std::cerr << "error: " << path << ": cannot open\n";
        return 1;
      }
      doc = json::parse(in);
    }
  } catch (const json::parse_error &e) {
    std::cerr << "error: " << path << ": " << e.what() << "\n";
    return 1;
  }
  for (int i = 2; i < argc; ++i) {
    std::string m = missing(doc, split(argv[i]), 0, "");
    if (!m.empty()) {
      std::cerr << "error: " << path << ": no key " << m << "\n";
      return 1;
    }
  }
  std::cout << "ok: " << path << " (" << argc - 2 << " keys)\n";
  return 0;
}
