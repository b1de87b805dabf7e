//===- SweepSpec.cpp - Design-space sweep files: parse and plan -----------===//
//
// Part of Tessera. Reads a sweep file with toml++, checks every axis value by
// building a chip config with it, parses the constraint expressions, and
// expands the axes into points. docs/sweep.md describes the file format and
// the constraint language.
//
//===----------------------------------------------------------------------===//

#include "SweepSpec.h"

#include "tessera/arch/Error.h"
#include "tessera/arch/Toml.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <sys/stat.h>

using namespace tessera::tools;
using tessera::arch::ChipConfig;
using tessera::arch::ContractError;

//===----------------------------------------------------------------------===//
// Tables: compiler options and simulator-only chip fields.
//===----------------------------------------------------------------------===//

const std::vector<CompilerOptionInfo> &tessera::tools::compilerOptions() {
  // One row per option of compiler::CompileOptions; Sweep.cpp applies them.
  static const std::vector<CompilerOptionInfo> all = {
      {"raise_gelu", AxisValue::Bool, "true",
       "run tsr-raise-gelu (false = tessera --no-raise-gelu)"},
  };
  return all;
}

const std::vector<std::string> &tessera::tools::simulatorOnlyFields() {
  // Only what no timing depends on: the compiler's cost model (tiling
  // selection) calls the simulator's timing formulas, which read the matrix,
  // vector, SRAM, DRAM and DMA fields, so all of those are compiler-visible.
  // SweepTests checks each listed field against the compiler.
  static const std::vector<std::string> all = {
      "frame_budget_ms",         "energy_mac_int8_pj",
      "energy_mac_fp16_pj",      "energy_mac_fp32_pj",
      "energy_vector_op_pj",     "energy_sram_pj_per_byte",
      "energy_dram_pj_per_byte", "static_power_w",
  };
  return all;
}

//===----------------------------------------------------------------------===//
// Values.
//===----------------------------------------------------------------------===//

namespace {

std::string formatDouble(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  // Shortest text that reads back to the same double.
  for (int prec = 1; prec <= 17; ++prec) {
    char shorter[64];
    std::snprintf(shorter, sizeof shorter, "%.*g", prec, d);
    if (std::strtod(shorter, nullptr) == d)
      return shorter;
  }
  return buf;
}

} // namespace

std::string AxisValue::text() const {
  switch (kind) {
  case Int:
    return std::to_string(i);
  case Float:
    return formatDouble(d);
  case String:
    return s;
  case Bool:
    return b ? "true" : "false";
  }
  return "";
}

double AxisValue::number() const {
  switch (kind) {
  case Int:
    return double(i);
  case Float:
    return d;
  case Bool:
    return b ? 1 : 0;
  case String:
    break;
  }
  return 0;
}

namespace {

[[noreturn]] void fail(const std::string &source, unsigned line,
                       const std::string &msg) {
  std::ostringstream os;
  os << source;
  if (line)
    os << ":" << line;
  os << ": " << msg;
  throw ContractError(os.str());
}

unsigned lineOf(const toml::node &n) { return n.source().begin.line; }

const char *typeName(const toml::node &n) {
  switch (n.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a number";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::table:
    return "a table";
  default:
    return "a date or time";
  }
}

/// A scalar TOML value as an AxisValue; throws for arrays, tables, dates.
AxisValue scalar(const toml::node &n, const std::string &source,
                 const std::string &what) {
  AxisValue v;
  v.line = lineOf(n);
  if (auto x = n.as_integer()) {
    v.kind = AxisValue::Int;
    v.i = x->get();
  } else if (auto x = n.as_floating_point()) {
    v.kind = AxisValue::Float;
    v.d = x->get();
    if (!std::isfinite(v.d))
      fail(source, v.line, what + " must be a finite number");
  } else if (auto x = n.as_string()) {
    v.kind = AxisValue::String;
    v.s = x->get();
  } else if (auto x = n.as_boolean()) {
    v.kind = AxisValue::Bool;
    v.b = x->get();
  } else {
    fail(source, v.line,
         what + " must be a number, a string or a boolean, got " + typeName(n));
  }
  return v;
}

bool fileExists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// Resolves a path from the sweep file: relative to its directory first,
/// then to the current directory.
std::string resolvePath(const std::string &path, const std::string &baseDir,
                        const std::string &source, unsigned line,
                        const std::string &what) {
  if (path.empty())
    fail(source, line, what + " is an empty path");
  if (path[0] == '/') {
    if (!fileExists(path))
      fail(source, line, what + " '" + path + "' not found");
    return path;
  }
  std::string inBase = (baseDir.empty() ? "." : baseDir) + "/" + path;
  if (fileExists(inBase))
    return inBase;
  if (fileExists(path))
    return path;
  fail(source, line,
       what + " '" + path + "' not found (looked in " +
           (baseDir.empty() ? "." : baseDir) + " and the current directory)");
}

//===----------------------------------------------------------------------===//
// Chip configs as text: the only public way to set a field by name.
//===----------------------------------------------------------------------===//

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

/// Splits a `key = value` line of ChipConfig::toText(); false for others.
bool splitLine(const std::string &line, std::string &key, std::string &value) {
  size_t eq = line.find('=');
  if (eq == std::string::npos || line.empty() || line[0] == '#' ||
      line[0] == '[')
    return false;
  key = trim(line.substr(0, eq));
  value = trim(line.substr(eq + 1));
  return !key.empty();
}

std::string unquote(const std::string &v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
    return v.substr(1, v.size() - 2);
  return v;
}

/// Builds a chip config: `base` with the given fields replaced, each checked
/// by the chip config's own field table (setConfigField). Throws
/// ContractError with the field's message (without a location).
ChipConfig withFields(const ChipConfig &base,
                      const std::vector<std::pair<std::string, AxisValue>> &f) {
  ChipConfig c = base;
  for (const auto &[name, v] : f) {
    const tessera::arch::ConfigField *field =
        tessera::arch::findConfigField(name);
    if (!field)
      throw ContractError("unknown field '" + name + "'");
    try {
      switch (v.kind) {
      case AxisValue::Int:
        tessera::arch::setConfigField(c, *field, toml::value<int64_t>(v.i), "");
        break;
      case AxisValue::Float:
        tessera::arch::setConfigField(c, *field, toml::value<double>(v.d), "");
        break;
      case AxisValue::String:
        tessera::arch::setConfigField(c, *field, toml::value<std::string>(v.s),
                                      "");
        break;
      case AxisValue::Bool:
        tessera::arch::setConfigField(c, *field, toml::value<bool>(v.b), "");
        break;
      }
    } catch (const ContractError &e) {
      // Drop the empty location's ": " prefix.
      std::string msg = e.what();
      throw ContractError(msg.compare(0, 2, ": ") == 0 ? msg.substr(2) : msg);
    }
  }
  return c;
}

} // namespace

std::map<std::string, std::string>
tessera::tools::configFieldValues(const ChipConfig &c) {
  std::map<std::string, std::string> values;
  std::istringstream in(c.toText());
  std::string line;
  while (std::getline(in, line)) {
    std::string key, value;
    if (splitLine(line, key, value))
      values[key] = unquote(value);
  }
  return values;
}

//===----------------------------------------------------------------------===//
// Constraints: `expr cmp expr` over numbers and axis or chip-field names.
//===----------------------------------------------------------------------===//

namespace tessera::tools {

struct Expr {
  enum Kind { Num, Name, Neg, Bin } kind = Num;
  double value = 0;
  std::string name;
  char op = 0;
  std::unique_ptr<Expr> lhs, rhs;

  double eval(const std::function<double(const std::string &)> &lookup) const {
    switch (kind) {
    case Num:
      return value;
    case Name:
      return lookup(name);
    case Neg:
      return -lhs->eval(lookup);
    case Bin: {
      double a = lhs->eval(lookup), b = rhs->eval(lookup);
      switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      default:
        return a / b;
      }
    }
    }
    return 0;
  }
};

struct Constraint {
  std::string text;
  unsigned line = 0;
  std::unique_ptr<Expr> lhs, rhs;
  std::string cmp;

  bool holds(const std::function<double(const std::string &)> &lookup) const {
    double a = lhs->eval(lookup), b = rhs->eval(lookup);
    if (cmp == "==")
      return a == b;
    if (cmp == "!=")
      return a != b;
    if (cmp == "<")
      return a < b;
    if (cmp == "<=")
      return a <= b;
    if (cmp == ">")
      return a > b;
    return a >= b;
  }
};

} // namespace tessera::tools

namespace {

/// Recursive descent over one constraint string:
///   constraint := sum cmp sum      cmp := == != < <= > >=
///   sum := product (('+'|'-') product)*
///   product := unary (('*'|'/') unary)*
///   unary := '-' unary | number | name | '(' sum ')'
class ConstraintParser {
public:
  ConstraintParser(const std::string &text,
                   const std::function<bool(const std::string &)> &known,
                   const std::string &source, unsigned line)
      : text(text), known(known), source(source), line(line) {}

  std::shared_ptr<Constraint> parse() {
    auto c = std::make_shared<Constraint>();
    c->text = text;
    c->line = line;
    c->lhs = sum();
    skipSpace();
    static const char *cmps[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (const char *op : cmps)
      if (text.compare(pos, std::strlen(op), op) == 0) {
        c->cmp = op;
        pos += std::strlen(op);
        break;
      }
    if (c->cmp.empty())
      error("expected a comparison (==, !=, <, <=, >, >=)");
    c->rhs = sum();
    skipSpace();
    if (pos != text.size())
      error("unexpected '" + text.substr(pos, 1) + "'");
    return c;
  }

private:
  const std::string &text;
  const std::function<bool(const std::string &)> &known;
  const std::string &source;
  unsigned line;
  size_t pos = 0;
  unsigned depth = 0;

  [[noreturn]] void error(const std::string &msg) {
    fail(source, line,
         "constraint \"" + text + "\": " + msg + " at column " +
             std::to_string(pos + 1));
  }
  void skipSpace() {
    while (pos < text.size() && std::isspace((unsigned char)text[pos]))
      ++pos;
  }
  std::unique_ptr<Expr> bin(char op, std::unique_ptr<Expr> l,
                            std::unique_ptr<Expr> r) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Bin;
    e->op = op;
    e->lhs = std::move(l);
    e->rhs = std::move(r);
    return e;
  }
  std::unique_ptr<Expr> sum() {
    auto e = product();
    for (;;) {
      skipSpace();
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        char op = text[pos++];
        e = bin(op, std::move(e), product());
      } else {
        return e;
      }
    }
  }
  std::unique_ptr<Expr> product() {
    auto e = unary();
    for (;;) {
      skipSpace();
      if (pos < text.size() && (text[pos] == '*' || text[pos] == '/')) {
        char op = text[pos++];
        e = bin(op, std::move(e), unary());
      } else {
        return e;
      }
    }
  }
  std::unique_ptr<Expr> unary() {
    skipSpace();
    if (++depth > 64)
      error("expression nested too deeply");
    std::unique_ptr<Expr> e;
    if (pos >= text.size()) {
      error("expected a number or a name");
    } else if (text[pos] == '-') {
      ++pos;
      e = std::make_unique<Expr>();
      e->kind = Expr::Neg;
      e->lhs = unary();
    } else if (text[pos] == '(') {
      ++pos;
      e = sum();
      skipSpace();
      if (pos >= text.size() || text[pos] != ')')
        error("expected ')'");
      ++pos;
    } else if (std::isdigit((unsigned char)text[pos]) || text[pos] == '.') {
      const char *begin = text.c_str() + pos;
      char *end = nullptr;
      double v = std::strtod(begin, &end);
      if (end == begin || !std::isfinite(v))
        error("malformed number");
      pos += size_t(end - begin);
      e = std::make_unique<Expr>();
      e->value = v;
    } else if (std::isalpha((unsigned char)text[pos]) || text[pos] == '_') {
      size_t start = pos;
      while (pos < text.size() && (std::isalnum((unsigned char)text[pos]) ||
                                   text[pos] == '_' || text[pos] == '.'))
        ++pos;
      e = std::make_unique<Expr>();
      e->kind = Expr::Name;
      e->name = text.substr(start, pos - start);
      std::string normalized = e->name;
      std::replace(normalized.begin(), normalized.end(), '.', '_');
      if (!known(e->name)) {
        pos = start;
        error("unknown name '" + e->name +
              "' (expected a numeric chip-config field or axis)");
      }
      e->name = normalized;
    } else {
      error("unexpected '" + text.substr(pos, 1) + "'");
    }
    --depth;
    return e;
  }
};

const CompilerOptionInfo *findOption(const std::string &name) {
  for (const CompilerOptionInfo &o : compilerOptions())
    if (name == o.name)
      return &o;
  return nullptr;
}

bool isChipField(const std::string &name) {
  for (const std::string &f : ChipConfig::fieldNames())
    if (f == name)
      return true;
  return false;
}

/// Expands `{from = a, to = b, step = s}` or `{from, to, factor = f}`.
std::vector<AxisValue> expandRange(const toml::table &t,
                                   const std::string &source,
                                   const std::string &axis) {
  unsigned line = lineOf(t);
  std::map<std::string, AxisValue> f;
  for (auto &&[k, v] : t) {
    std::string key(k.str());
    if (key != "from" && key != "to" && key != "step" && key != "factor")
      fail(source, lineOf(v),
           "axis '" + axis + "': unknown range key '" + key +
               "' (expected from, to and step or factor)");
    AxisValue x = scalar(v, source, "axis '" + axis + "' " + key);
    if (!x.isNumber() || x.kind == AxisValue::Bool)
      fail(source, x.line,
           "axis '" + axis + "': range " + key + " must be a number");
    f[key] = x;
  }
  if (!f.count("from") || !f.count("to") ||
      f.count("step") + f.count("factor") != 1)
    fail(source, line,
         "axis '" + axis +
             "': a range needs from, to and exactly one of step or factor");
  double from = f["from"].number(), to = f["to"].number();
  if (from > to)
    fail(source, line, "axis '" + axis + "': range from > to");
  bool integral =
      f["from"].kind == AxisValue::Int && f["to"].kind == AxisValue::Int &&
      (f.count("step") ? f["step"] : f["factor"]).kind == AxisValue::Int;
  std::vector<AxisValue> values;
  auto push = [&](double v, int64_t iv) {
    AxisValue x;
    x.line = line;
    if (integral) {
      x.kind = AxisValue::Int;
      x.i = iv;
    } else {
      x.kind = AxisValue::Float;
      x.d = v;
    }
    values.push_back(x);
    if (values.size() > 100000)
      fail(source, line, "axis '" + axis + "': range has over 100000 values");
  };
  if (f.count("step")) {
    double step = f["step"].number();
    if (!(step > 0))
      fail(source, line, "axis '" + axis + "': range step must be positive");
    if (integral)
      for (int64_t v = f["from"].i; v <= f["to"].i; v += f["step"].i)
        push(double(v), v);
    else
      for (uint64_t n = 0; from + double(n) * step <= to * (1 + 1e-12); ++n)
        push(from + double(n) * step, 0);
  } else {
    double factor = f["factor"].number();
    if (!(factor > 1) || !(from > 0))
      fail(source, line,
           "axis '" + axis + "': a factor range needs factor > 1 and from > 0");
    if (integral)
      for (int64_t v = f["from"].i; v <= f["to"].i; v *= f["factor"].i)
        push(double(v), v);
    else
      for (double v = from; v <= to * (1 + 1e-12); v *= factor)
        push(v, 0);
  }
  return values;
}

/// Debian's toml++ 3.3.0 asserts (undefined behaviour with NDEBUG) on a
/// table header whose key starts with a character that cannot start a key,
/// e.g. `[*x` or `[[[` (found by the sweep parser's fuzz target; fixed
/// upstream in marzer/tomlplusplus#301). Such lines are never valid in a
/// sweep file, so they are rejected before toml++ sees them.
void checkBeforeToml(const std::string &text, const std::string &source) {
  unsigned line = 1;
  for (size_t pos = 0; pos < text.size(); ++line) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    size_t p = text.find_first_not_of(" \t", pos);
    if (p < end && text[p] == '[') {
      size_t q = p + 1;
      if (q < end && text[q] == '[')
        ++q;
      while (q < end && (text[q] == ' ' || text[q] == '\t'))
        ++q;
      char c = q < end ? text[q] : '\n';
      if (!(std::isalnum((unsigned char)c) || c == '_' || c == '-' ||
            c == '"' || c == '\''))
        fail(source, line,
             "malformed table header: expected a name after '" +
                 text.substr(p, q - p) + "'");
    }
    // Debian's toml++ 3.3.0 also reaches __builtin_unreachable() on some
    // non-ASCII characters: between values (is_non_ascii_horizontal_
    // whitespace, e.g. U+0422 after a number) and inside a string
    // (U+FEBF before a backslash at the end of the input; both found by the
    // fuzz target). Sweep files are ASCII, as chip configs are
    // (arch::parseToml): every byte >= 0x80 is refused.
    for (size_t i = pos; i < end; ++i)
      if ((unsigned char)text[i] >= 0x80)
        fail(source, line,
             "unexpected non-ASCII character (byte " +
                 std::to_string((unsigned char)text[i]) +
                 "; sweep files must be ASCII)");
    pos = end + 1;
  }
}

} // namespace

SweepSpec tessera::tools::parseSweep(const std::string &text,
                                     const std::string &source,
                                     const std::string &baseDir) {
  SweepSpec spec;
  spec.source = source;
  checkBeforeToml(text, source);
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error &e) {
    fail(source, e.source().begin.line, std::string(e.description()));
  }

  for (auto &&[k, v] : doc) {
    std::string key(k.str());
    if (key != "sweep" && key != "axes" && key != "model")
      fail(source, lineOf(v),
           "unknown section '" + key +
               "' (expected [sweep], [axes] and [model])");
    if (!v.is_table())
      fail(source, lineOf(v), "'" + key + "' must be a table");
  }
  const toml::table *sweep = doc["sweep"].as_table();
  if (!sweep)
    fail(source, 0, "missing [sweep] section");

  // [sweep]
  std::string sampling = "grid";
  const toml::array *constraintList = nullptr;
  bool haveSamples = false, haveSeed = false;
  unsigned sweepLine = lineOf(*sweep);
  for (auto &&[k, node] : *sweep) {
    const toml::node &v = node; // (lambdas cannot capture bindings in C++17)
    std::string key(k.str());
    unsigned line = lineOf(v);
    auto needString = [&]() -> std::string {
      if (!v.is_string())
        fail(source, line,
             "'" + key + "' must be a string, got " + typeName(v));
      return v.as_string()->get();
    };
    auto needCount = [&](bool positive) -> uint64_t {
      if (!v.is_integer())
        fail(source, line,
             "'" + key + "' must be an integer, got " + typeName(v));
      int64_t n = v.as_integer()->get();
      if (n < 0 || (positive && n == 0))
        fail(source, line,
             "'" + key + "' must be " + (positive ? "positive" : "≥ 0"));
      return uint64_t(n);
    };
    if (key == "generator") {
      spec.generatorLine = line;
      spec.generator =
          resolvePath(needString(), baseDir, source, line, "generator");
    } else if (key == "model") {
      spec.modelLine = line;
      spec.model = resolvePath(needString(), baseDir, source, line, "model");
    } else if (key == "config") {
      spec.configPath =
          resolvePath(needString(), baseDir, source, line, "chip config");
      try {
        spec.base = ChipConfig::load(spec.configPath);
      } catch (const ContractError &e) {
        fail(source, line, std::string("chip config: ") + e.what());
      }
    } else if (key == "sampling") {
      sampling = needString();
      spec.samplingLine = line;
      if (sampling != "grid" && sampling != "random")
        fail(source, line,
             "sampling must be \"grid\" or \"random\", got \"" + sampling +
                 "\"");
    } else if (key == "samples") {
      spec.samples = needCount(true);
      haveSamples = true;
    } else if (key == "seed") {
      spec.seed = needCount(false);
      haveSeed = true;
    } else if (key == "constraints") {
      constraintList = v.as_array();
      if (!constraintList)
        fail(source, line,
             std::string("'constraints' must be an array of strings, got ") +
                 typeName(v));
    } else {
      fail(source, line,
           "unknown key '" + key +
               "' in [sweep] (expected model, generator, config, sampling, "
               "samples, seed, constraints)");
    }
  }
  spec.random = sampling == "random";
  if (spec.random && !haveSamples)
    fail(source, spec.samplingLine,
         "sampling = \"random\" needs 'samples' (how many points to draw)");
  if (!spec.random && (haveSamples || haveSeed))
    fail(source, sweepLine,
         "'samples' and 'seed' apply only to sampling = \"random\"");

  // [axes]
  // [model]: fixed generator parameters.
  if (const toml::table *model = doc["model"].as_table()) {
    if (spec.generator.empty())
      fail(source, lineOf(*model),
           "[model] parameters need [sweep] generator = \"make_model.py\"");
    for (auto &&[k, v] : *model) {
      std::string name(k.str());
      AxisValue val = scalar(v, source, "model parameter '" + name + "'");
      spec.modelParams[name] = val;
    }
  }

  // [axes]; `model.<param> = [...]` (a dotted key, so a table under
  // "model") sweeps a generator parameter.
  std::vector<std::pair<std::string, const toml::node *>> axisNodes;
  if (const toml::table *axes = doc["axes"].as_table()) {
    for (auto &&[k, v] : *axes) {
      std::string name(k.str());
      const toml::table *params = v.as_table();
      if (name == "model" && params && !params->contains("from")) {
        for (auto &&[pk, pv] : *params)
          axisNodes.emplace_back("model_" + std::string(pk.str()), &pv);
        continue;
      }
      axisNodes.emplace_back(name, &v);
    }
  }
  {
    for (const auto &[axisName, node] : axisNodes) {
      const toml::node &v = *node;
      Axis axis;
      axis.name = axisName;
      axis.line = lineOf(v);
      const CompilerOptionInfo *opt = findOption(axis.name);
      if (axis.name.rfind("model_", 0) == 0) {
        axis.kind = AxisKind::ModelParam;
        if (spec.generator.empty())
          fail(source, axis.line,
               "axis 'model." + axis.name.substr(6) +
                   "' sweeps a generator parameter: set [sweep] generator = "
                   "\"make_model.py\"");
        if (spec.modelParams.count(axis.name.substr(6)))
          fail(source, axis.line,
               "model parameter '" + axis.name.substr(6) +
                   "' is both fixed in [model] and swept");
      } else if (axis.name == "model")
        axis.kind = AxisKind::Model;
      else if (opt)
        axis.kind = AxisKind::Compiler;
      else if (isChipField(axis.name))
        axis.kind = AxisKind::Chip;
      else {
        std::string known;
        for (const std::string &f : ChipConfig::fieldNames())
          known += (known.empty() ? "" : ", ") + f;
        std::string options;
        for (const CompilerOptionInfo &o : compilerOptions())
          options += (options.empty() ? "" : ", ") + std::string(o.name);
        fail(source, axis.line,
             "unknown axis '" + axis.name + "' (chip-config fields: " + known +
                 "; compiler options: " + options + "; or model)");
      }
      if (const toml::array *arr = v.as_array()) {
        for (const toml::node &el : *arr)
          axis.values.push_back(
              scalar(el, source, "axis '" + axis.name + "' value"));
      } else if (const toml::table *range = v.as_table()) {
        axis.values = expandRange(*range, source, axis.name);
      } else {
        fail(source, axis.line,
             "axis '" + axis.name +
                 "' must be an array of values or a range table {from, to, "
                 "step|factor}, got " +
                 typeName(v));
      }
      if (axis.values.empty())
        fail(source, axis.line, "axis '" + axis.name + "' is empty");
      std::set<std::string> seen;
      for (AxisValue &val : axis.values) {
        std::string what =
            "axis '" + axis.name + "' value " +
            (val.kind == AxisValue::String ? "\"" + val.s + "\"" : val.text());
        if (!seen.insert(val.text()).second)
          fail(source, val.line, what + " is given twice");
        switch (axis.kind) {
        case AxisKind::Model:
          if (val.kind != AxisValue::String)
            fail(source, val.line, what + ": a model must be a path string");
          val.s = resolvePath(val.s, baseDir, source, val.line, "model");
          break;
        case AxisKind::ModelParam:
          break; // The generator checks its own parameters.
        case AxisKind::Compiler:
          if (val.kind != opt->kind)
            fail(source, val.line,
                 what + ": compiler option '" + axis.name + "' expects " +
                     (opt->kind == AxisValue::Bool ? "true or false"
                                                   : "a value of its type"));
          break;
        case AxisKind::Chip:
          // Build a config with the value: the config parser's checks
          // (types, ranges) apply to every value before any point runs.
          try {
            withFields(spec.base, {{axis.name, val}});
          } catch (const ContractError &e) {
            fail(source, val.line, what + ": " + e.what());
          }
          break;
        }
      }
      for (const Axis &other : spec.axes)
        if (other.name == axis.name)
          fail(source, axis.line, "axis '" + axis.name + "' given twice");
      spec.axes.push_back(std::move(axis));
    }
  }
  // toml++ iterates a table in key order; the grid follows the file's order.
  std::stable_sort(
      spec.axes.begin(), spec.axes.end(),
      [](const Axis &a, const Axis &b) { return a.line < b.line; });
  bool modelAxis = false;
  for (const Axis &a : spec.axes)
    modelAxis = modelAxis || a.kind == AxisKind::Model;
  if (!spec.generator.empty() && (modelAxis || !spec.model.empty()))
    fail(source, spec.generatorLine,
         "a generator makes the model: drop 'model' or 'generator'");
  if (spec.model.empty() && !modelAxis && spec.generator.empty())
    fail(source, sweepLine,
         "no model: set [sweep] model = \"file.onnx\", an axis 'model' or "
         "[sweep] generator = \"make_model.py\"");
  if (!spec.model.empty() && modelAxis)
    fail(source, spec.modelLine,
         "model given both in [sweep] and as an axis; keep one");

  // Constraints, once the axes are known.
  if (constraintList) {
    std::function<bool(const std::string &)> known =
        [&](const std::string &dotted) {
          std::string name = dotted;
          std::replace(name.begin(), name.end(), '.', '_');
          for (const Axis &a : spec.axes)
            if (a.name == name)
              return a.kind != AxisKind::Model &&
                     std::all_of(
                         a.values.begin(), a.values.end(),
                         [](const AxisValue &v) { return v.isNumber(); });
          if (name == "name")
            return false;
          return isChipField(name);
        };
    for (const toml::node &el : *constraintList) {
      if (!el.is_string())
        fail(source, lineOf(el),
             std::string("a constraint must be a string like "
                         "\"matrix_rows == matrix_cols\", got ") +
                 typeName(el));
      spec.constraints.push_back(
          ConstraintParser(el.as_string()->get(), known, source, lineOf(el))
              .parse());
    }
  }
  return spec;
}

SweepSpec tessera::tools::loadSweep(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ContractError(path + ": cannot open sweep file");
  std::ostringstream text;
  text << in.rdbuf();
  size_t slash = path.rfind('/');
  return parseSweep(text.str(), path,
                    slash == std::string::npos ? "." : path.substr(0, slash));
}

//===----------------------------------------------------------------------===//
// Planning.
//===----------------------------------------------------------------------===//

std::string SweepPoint::canonicalText() const {
  std::ostringstream os;
  for (const auto &[k, v] : configFieldValues(chip))
    os << "chip." << k << "=" << v << "\n";
  for (const auto &[k, v] : options)
    os << "option." << k << "=" << v.text() << "\n";
  for (const auto &[k, v] : modelParams)
    os << "model." << k << "=" << v.text() << "\n";
  return os.str();
}

std::string SweepPoint::compileText() const {
  const std::vector<std::string> &simOnly = simulatorOnlyFields();
  std::ostringstream os;
  for (const auto &[k, v] : configFieldValues(chip))
    if (std::find(simOnly.begin(), simOnly.end(), k) == simOnly.end())
      os << "chip." << k << "=" << v << "\n";
  for (const auto &[k, v] : options)
    os << "option." << k << "=" << v.text() << "\n";
  for (const auto &[k, v] : modelParams)
    os << "model." << k << "=" << v.text() << "\n";
  return os.str();
}

std::vector<SweepPoint> tessera::tools::planSweep(const SweepSpec &spec) {
  // Size of the grid, with an overflow-safe cap.
  uint64_t total = 1;
  for (const Axis &a : spec.axes) {
    if (total > kMaxSweepPoints / a.values.size())
      fail(spec.source, a.line,
           "the grid has more than " + std::to_string(kMaxSweepPoints) +
               " points; use fewer values or sampling = \"random\" over a "
               "smaller grid");
    total *= a.values.size();
  }

  std::map<std::string, std::string> baseValues = configFieldValues(spec.base);
  std::vector<size_t> digits(spec.axes.size(), 0);
  auto lookup = [&](const std::string &name) -> double {
    for (size_t i = 0; i < spec.axes.size(); ++i)
      if (spec.axes[i].name == name)
        return spec.axes[i].values[digits[i]].number();
    auto it = baseValues.find(name);
    if (it == baseValues.end())
      return 0;
    if (it->second == "true" || it->second == "false")
      return it->second == "true" ? 1 : 0;
    return std::strtod(it->second.c_str(), nullptr);
  };

  // Enumerate in file order, the last axis varying fastest.
  std::vector<std::vector<size_t>> kept;
  for (uint64_t n = 0; n < total; ++n) {
    bool ok = true;
    for (const auto &c : spec.constraints)
      if (!c->holds(lookup)) {
        ok = false;
        break;
      }
    if (ok)
      kept.push_back(digits);
    for (size_t i = spec.axes.size(); i-- > 0;) {
      if (++digits[i] < spec.axes[i].values.size())
        break;
      digits[i] = 0;
    }
  }
  if (kept.empty())
    fail(spec.source,
         spec.constraints.empty() ? 0 : spec.constraints.front()->line,
         "the constraints leave no point of the " + std::to_string(total) +
             "-point grid");

  if (spec.random && spec.samples < kept.size()) {
    // Partial Fisher-Yates with the raw output of mt19937_64 (whose sequence
    // the C++ standard fixes), then back to grid order.
    std::mt19937_64 rng(spec.seed);
    std::vector<size_t> order(kept.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    for (size_t i = 0; i < spec.samples; ++i) {
      size_t j = i + size_t(rng() % (order.size() - i));
      std::swap(order[i], order[j]);
    }
    order.resize(spec.samples);
    std::sort(order.begin(), order.end());
    std::vector<std::vector<size_t>> chosen;
    for (size_t i : order)
      chosen.push_back(kept[i]);
    kept.swap(chosen);
  }

  std::vector<SweepPoint> points;
  points.reserve(kept.size());
  std::map<std::string, AxisValue> defaultOptions;
  for (const CompilerOptionInfo &o : compilerOptions()) {
    AxisValue v;
    v.kind = o.kind;
    v.b = std::string(o.defaultText) == "true";
    defaultOptions[o.name] = v;
  }
  for (const std::vector<size_t> &d : kept) {
    SweepPoint p;
    p.index = points.size();
    p.model = spec.model;
    p.generator = spec.generator;
    p.modelParams = spec.modelParams;
    p.options = defaultOptions;
    std::vector<std::pair<std::string, AxisValue>> chipFields;
    for (size_t i = 0; i < spec.axes.size(); ++i) {
      const Axis &a = spec.axes[i];
      const AxisValue &v = a.values[d[i]];
      p.settings.emplace_back(a.name, v);
      switch (a.kind) {
      case AxisKind::Model:
        p.model = v.s;
        break;
      case AxisKind::ModelParam:
        p.modelParams[a.name.substr(6)] = v;
        break;
      case AxisKind::Compiler:
        p.options[a.name] = v;
        break;
      case AxisKind::Chip:
        chipFields.emplace_back(a.name, v);
        break;
      }
    }
    try {
      p.chip =
          chipFields.empty() ? spec.base : withFields(spec.base, chipFields);
    } catch (const ContractError &e) {
      std::string where;
      for (const auto &[k, v] : chipFields)
        where += (where.empty() ? "" : ", ") + k + " = " + v.text();
      fail(spec.source, chipFields.front().second.line,
           "impossible chip config at point {" + where + "}: " + e.what());
    }
    points.push_back(std::move(p));
  }
  return points;
}
