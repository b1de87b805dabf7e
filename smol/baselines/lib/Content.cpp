//===- Content.cpp - schema of the content every baseline stores ----------===//
//
// Part of Tessera. Field sizes and the schema's text form, which the binary
// baselines store in their headers.
//
//===----------------------------------------------------------------------===//

#include "tessera/Baselines/Content.h"

#include <sstream>

namespace tessera {
namespace baselines {

size_t dtypeSize(DType type) {
  switch (type) {
  case DType::U8:
    return 1;
  case DType::I32:
  case DType::F32:
    return 4;
  case DType::I64:
  case DType::F64:
    return 8;
  }
  return 0;
}

const char *dtypeName(DType type) {
  switch (type) {
  case DType::U8:
    return "u8";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  }
  return "?";
}

DType parseDType(const std::string &name) {
  for (DType t : {DType::U8, DType::I32, DType::I64, DType::F32, DType::F64})
    if (name == dtypeName(t))
      return t;
  throw BaselineError("unknown element type '" + name +
                      "' (expected u8, i32, i64, f32 or f64)");
}

static const char *roleName(FieldRole role) {
  switch (role) {
  case FieldRole::Data:
    return "data";
  case FieldRole::Label:
    return "label";
  case FieldRole::Camera:
    return "camera";
  }
  return "?";
}

uint64_t Field::elements() const {
  uint64_t n = 1;
  for (uint32_t d : shape)
    n *= d;
  return n;
}

uint64_t Schema::staticBytes() const {
  uint64_t n = 0;
  for (const Field &f : staticFields)
    n += f.bytes();
  return n;
}

uint64_t Schema::recordBytes() const {
  uint64_t n = 0;
  for (const Field &f : fields)
    n += f.bytes();
  return n;
}

static void writeField(std::ostringstream &os, const Field &f) {
  os << f.name << ' ' << dtypeName(f.dtype) << ' ' << roleName(f.role) << ' ';
  if (f.shape.empty())
    os << "scalar";
  for (size_t i = 0; i < f.shape.size(); ++i)
    os << (i ? "x" : "") << f.shape[i];
  os << '\n';
}

std::string Schema::serialize() const {
  std::ostringstream os;
  for (const Field &f : fields)
    writeField(os, f);
  os << "static\n";
  for (const Field &f : staticFields)
    writeField(os, f);
  return os.str();
}

Schema Schema::parse(const std::string &text, const std::string &what) {
  Schema schema;
  std::istringstream in(text);
  std::string line;
  bool inStatic = false;
  for (unsigned lineNo = 1; std::getline(in, line); ++lineNo) {
    auto fail = [&](const std::string &msg) {
      return BaselineError(what + ": schema line " + std::to_string(lineNo) +
                           ": " + msg);
    };
    if (line == "static") {
      inStatic = true;
      continue;
    }
    std::istringstream ls(line);
    Field f;
    std::string type, role, shape, extra;
    if (!(ls >> f.name >> type >> role >> shape) || (ls >> extra))
      throw fail("expected 'name dtype role shape'");
    try {
      f.dtype = parseDType(type);
    } catch (const BaselineError &e) {
      throw fail(e.what());
    }
    if (role == "data")
      f.role = FieldRole::Data;
    else if (role == "label")
      f.role = FieldRole::Label;
    else if (role == "camera")
      f.role = FieldRole::Camera;
    else
      throw fail("unknown role '" + role + "'");
    if (shape != "scalar") {
      std::istringstream ss(shape);
      std::string dim;
      while (std::getline(ss, dim, 'x')) {
        if (dim.empty() || dim.size() > 9 ||
            dim.find_first_not_of("0123456789") != std::string::npos)
          throw fail("bad shape '" + shape + "'");
        f.shape.push_back(static_cast<uint32_t>(std::stoul(dim)));
      }
      if (f.elements() > (1ull << 32))
        throw fail("field '" + f.name + "' too large");
    }
    (inStatic ? schema.staticFields : schema.fields).push_back(f);
  }
  return schema;
}

static bool sameFields(const std::vector<Field> &a,
                       const std::vector<Field> &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].dtype != b[i].dtype ||
        a[i].shape != b[i].shape || a[i].role != b[i].role)
      return false;
  return true;
}

bool Schema::operator==(const Schema &other) const {
  return sameFields(fields, other.fields) &&
         sameFields(staticFields, other.staticFields);
}

ContentSource::~ContentSource() = default;

} // namespace baselines
} // namespace tessera
