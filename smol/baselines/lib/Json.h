//===- Json.h - JSON of typed fields through nlohmann::json -----*- C++ -*-===//
//
// Part of Tessera (internal to TesseraBaselines). A row's fields as members of
// a JSON object, built and parsed by nlohmann::json (Debian's
// nlohmann-json3-dev), the way a C++ user of JSON logs reads them: numbers in
// nested arrays following the field's shape, camera images as base64 strings
// (libsodium). Floats are written as the double they widen to, as Python's
// json module writes a float32 array's tolist().
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BASELINES_LIB_JSON_H
#define TESSERA_BASELINES_LIB_JSON_H

#include "Encoding.h"

#include <nlohmann/json.hpp>

#include <functional>

namespace tessera {
namespace baselines {

using Json = nlohmann::ordered_json;
using JsonFail = std::function<BaselineError(const std::string &)>;

/// Adds each field of `values` to the object `obj` under its name.
void addJsonFields(Json &obj, const std::vector<Field> &fields,
                   const Values &values);

/// Parses one JSON document; a syntax error throws fail(<nlohmann's message>).
Json parseJson(const char *begin, const char *end, const JsonFail &fail);

/// Fills `out` (one buffer per field) from the object `obj`, which must hold
/// exactly `fields` plus, when `extraKey` is given, that one key (the caller
/// reads it). Type, shape and range are checked against each field.
void readJsonFields(const Json &obj, const std::vector<Field> &fields,
                    Values &out, const JsonFail &fail,
                    const char *extraKey = nullptr);

} // namespace baselines
} // namespace tessera

#endif // TESSERA_BASELINES_LIB_JSON_H
