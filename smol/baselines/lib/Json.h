//===- Json.h - JSON text of typed fields, shared by baselines --*- C++ -*-===//
//
// Part of Tessera (internal to TesseraBaselines). Writes fields as a JSON
// object (nested arrays following the field shape, cameras as base64 strings)
// and parses such objects straight into typed field buffers.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BASELINES_LIB_JSON_H
#define TESSERA_BASELINES_LIB_JSON_H

#include "Encoding.h"

#include <functional>
#include <unordered_map>

namespace tessera {
namespace baselines {

inline void appendJsonArray(std::string &line, const Field &f,
                            const uint8_t *bytes, size_t dim, uint64_t &i) {
  if (dim == f.shape.size()) {
    appendElementText(line, f.dtype, bytes, i++);
    return;
  }
  line += '[';
  for (uint32_t k = 0; k < f.shape[dim]; ++k) {
    if (k)
      line += ',';
    appendJsonArray(line, f, bytes, dim + 1, i);
  }
  line += ']';
}

inline void appendJsonObject(std::string &line,
                             const std::vector<Field> &fields,
                             const Values &values) {
  for (size_t k = 0; k < fields.size(); ++k) {
    const Field &f = fields[k];
    line += (k ? ",\"" : "\"") + f.name + "\":";
    if (f.role == FieldRole::Camera) {
      line += '"';
      base64Encode(values[k].data(), values[k].size(), line);
      line += '"';
    } else {
      uint64_t i = 0;
      appendJsonArray(line, f, values[k].data(), 0, i);
    }
  }
}

/// A JSON parser for the documents the writer produces (any whitespace and
/// key order), filling typed field buffers directly.
class JsonRowParser {
public:
  JsonRowParser(const char *p, const char *end,
                const std::function<BaselineError(const std::string &)> &fail)
      : p(p), end(end), fail(fail) {}

  void ws() {
    while (p != end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
      ++p;
  }
  void expect(char c) {
    ws();
    if (p == end || *p != c)
      throw fail(std::string("expected '") + c + "'");
    ++p;
  }
  bool peek(char c) {
    ws();
    return p != end && *p == c;
  }
  std::string string() {
    expect('"');
    const char *q = p;
    while (q != end && *q != '"') {
      if (*q == '\\')
        throw fail("escapes are not used by this log");
      ++q;
    }
    if (q == end)
      throw fail("unterminated string");
    std::string s(p, q);
    p = q + 1;
    return s;
  }
  void value(const Field &f, std::vector<uint8_t> &dst) {
    if (f.role == FieldRole::Camera) {
      std::string s = string();
      if (!base64Decode(s.data(), s.size(), dst) || dst.size() != f.bytes())
        throw fail("bad base64 image in " + f.name);
      return;
    }
    uint64_t i = 0;
    array(f, dst, 0, i);
    if (i != f.elements())
      throw fail("wrong element count in " + f.name);
  }
  void array(const Field &f, std::vector<uint8_t> &dst, size_t dim,
             uint64_t &i) {
    if (dim == f.shape.size()) {
      ws();
      if (i >= f.elements() ||
          !parseElementText(p, end, f.dtype, dst.data(), i))
        throw fail("expected a " + std::string(dtypeName(f.dtype)) + " in " +
                   f.name);
      ++i;
      return;
    }
    expect('[');
    for (uint32_t k = 0; k < f.shape[dim]; ++k) {
      if (k)
        expect(',');
      array(f, dst, dim + 1, i);
    }
    expect(']');
  }
  void object(const std::vector<Field> &fields, Values &out,
              const std::function<void()> &onStatic) {
    std::unordered_map<std::string, size_t> index;
    for (size_t k = 0; k < fields.size(); ++k)
      index[fields[k].name] = k;
    std::vector<bool> seen(fields.size());
    expect('{');
    bool first = true;
    while (!peek('}')) {
      if (!first)
        expect(',');
      first = false;
      std::string key = string();
      expect(':');
      if (key == "static" && onStatic) {
        onStatic();
        continue;
      }
      auto it = index.find(key);
      if (it == index.end())
        throw fail("unknown key '" + key + "'");
      value(fields[it->second], out[it->second]);
      seen[it->second] = true;
    }
    expect('}');
    for (size_t k = 0; k < fields.size(); ++k)
      if (!seen[k])
        throw fail("missing key '" + fields[k].name + "'");
  }
  bool atEnd() {
    ws();
    return p == end;
  }

private:
  const char *p, *end;
  std::function<BaselineError(const std::string &)> fail;
};

} // namespace baselines
} // namespace tessera

#endif // TESSERA_BASELINES_LIB_JSON_H
