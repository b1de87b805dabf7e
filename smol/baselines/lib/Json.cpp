//===- Json.cpp - JSON of typed fields through nlohmann::json -------------===//
//
// Part of Tessera. See Json.h.
//
//===----------------------------------------------------------------------===//

#include "Json.h"

#include <limits>

namespace tessera {
namespace baselines {

namespace {

Json arrayOf(const Field &f, const uint8_t *bytes, size_t dim, uint64_t &i) {
  if (dim == f.shape.size()) {
    uint64_t k = i++;
    if (isIntegral(f.dtype))
      return elementAsInt(f.dtype, bytes, k);
    return elementAsDouble(f.dtype, bytes, k);
  }
  Json a = Json::array();
  for (uint32_t k = 0; k < f.shape[dim]; ++k)
    a.push_back(arrayOf(f, bytes, dim + 1, i));
  return a;
}

/// Range of an integer dtype.
bool fits(DType t, int64_t v) {
  switch (t) {
  case DType::U8:
    return v >= 0 && v <= 255;
  case DType::I32:
    return v >= std::numeric_limits<int32_t>::min() &&
           v <= std::numeric_limits<int32_t>::max();
  default:
    return true;
  }
}

void readArray(const Json &v, const Field &f, uint8_t *dst, size_t dim,
               uint64_t &i, const JsonFail &fail) {
  if (dim == f.shape.size()) {
    if (isIntegral(f.dtype)) {
      if (!v.is_number_integer() || !fits(f.dtype, v.get<int64_t>()))
        throw fail("expected a " + std::string(dtypeName(f.dtype)) + " in " +
                   f.name + ", got " + v.dump());
      setElementFromInt(f.dtype, dst, i++, v.get<int64_t>());
    } else {
      if (!v.is_number())
        throw fail("expected a " + std::string(dtypeName(f.dtype)) + " in " +
                   f.name + ", got " + v.dump());
      setElementFromFloat(f.dtype, dst, i++, v.get<double>());
    }
    return;
  }
  if (!v.is_array() || v.size() != f.shape[dim])
    throw fail("wrong element count in " + f.name);
  for (const Json &e : v)
    readArray(e, f, dst, dim + 1, i, fail);
}

} // namespace

void addJsonFields(Json &obj, const std::vector<Field> &fields,
                   const Values &values) {
  for (size_t k = 0; k < fields.size(); ++k) {
    const Field &f = fields[k];
    if (f.role == FieldRole::Camera) {
      std::string b64;
      base64Encode(values[k].data(), values[k].size(), b64);
      obj[f.name] = std::move(b64);
    } else {
      uint64_t i = 0;
      obj[f.name] = arrayOf(f, values[k].data(), 0, i);
    }
  }
}

Json parseJson(const char *begin, const char *end, const JsonFail &fail) {
  try {
    return Json::parse(begin, end);
  } catch (const Json::parse_error &e) {
    throw fail(e.what());
  }
}

void readJsonFields(const Json &obj, const std::vector<Field> &fields,
                    Values &out, const JsonFail &fail, const char *extraKey) {
  if (!obj.is_object())
    throw fail("expected a JSON object");
  size_t expected = fields.size() + (extraKey ? 1 : 0);
  for (size_t k = 0; k < fields.size(); ++k) {
    const Field &f = fields[k];
    auto it = obj.find(f.name);
    if (it == obj.end())
      throw fail("missing key '" + f.name + "'");
    out[k].resize(f.bytes());
    if (f.role == FieldRole::Camera) {
      if (!it->is_string())
        throw fail("bad base64 image in " + f.name);
      const std::string &s = it->get_ref<const std::string &>();
      if (!base64Decode(s.data(), s.size(), out[k]) ||
          out[k].size() != f.bytes())
        throw fail("bad base64 image in " + f.name);
      continue;
    }
    uint64_t i = 0;
    readArray(*it, f, out[k].data(), 0, i, fail);
  }
  if (extraKey && !obj.contains(extraKey))
    throw fail(std::string("missing key '") + extraKey + "'");
  if (obj.size() != expected)
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool known = extraKey && it.key() == extraKey;
      for (const Field &f : fields)
        known = known || it.key() == f.name;
      if (!known)
        throw fail("unknown key '" + it.key() + "'");
    }
}

} // namespace baselines
} // namespace tessera
