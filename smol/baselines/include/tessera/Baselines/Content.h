//===- Content.h - the content every baseline stores ------------*- C++ -*-===//
//
// Part of Tessera. A drive log as the baselines see it: a schema of typed,
// shaped fields (static ones stored once per log, dynamic ones per timestamp)
// and a source that produces the values of any timestamp on demand, so that
// logs much larger than memory can be written and every reader's output can
// be compared with what the generator produced.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BASELINES_CONTENT_H
#define TESSERA_BASELINES_CONTENT_H

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tessera {
namespace baselines {

/// Element types of the stored tensors (little-endian in memory).
enum class DType : uint8_t { U8, I32, I64, F32, F64 };

/// Bytes of one element.
size_t dtypeSize(DType type);
/// "u8", "i32", "i64", "f32", "f64".
const char *dtypeName(DType type);
/// Inverse of dtypeName; throws BaselineError on an unknown name.
DType parseDType(const std::string &name);

/// What a field is for: labels are what an early-rejecting reader reads to
/// decide whether it wants the sample; cameras are HxWx3 RGB images (and go to
/// H.264 in the MP4 baseline).
enum class FieldRole : uint8_t { Data, Label, Camera };

/// One named tensor field.
struct Field {
  std::string name;
  DType dtype = DType::F32;
  std::vector<uint32_t> shape; ///< empty for a scalar
  FieldRole role = FieldRole::Data;

  uint64_t elements() const;
  uint64_t bytes() const { return elements() * dtypeSize(dtype); }
};

/// The fields of a log. Camera fields have shape {height, width, 3} and u8.
struct Schema {
  std::vector<Field> staticFields;
  std::vector<Field> fields;

  uint64_t staticBytes() const;
  uint64_t recordBytes() const;
  /// Text form, one "name dtype role d0xd1x..." line per field, static
  /// fields after a "static" line; parseSchema reads it back.
  std::string serialize() const;
  /// Throws BaselineError naming `what` and the line on malformed text.
  static Schema parse(const std::string &text, const std::string &what);
  bool operator==(const Schema &other) const;
};

/// The raw bytes of each field of a record (or of the static fields), in
/// schema order. A field that was not read is empty.
using Values = std::vector<std::vector<uint8_t>>;

/// Produces a log's content: deterministic, on demand.
class ContentSource {
public:
  virtual ~ContentSource();
  virtual const Schema &schema() const = 0;
  /// Number of timestamps.
  virtual uint64_t size() const = 0;
  virtual Values staticValues() const = 0;
  virtual Values record(uint64_t index) const = 0;
  /// Frames per second of the cameras (the MP4 time base).
  virtual double framesPerSecond() const { return 36.0; }
};

/// Any error writing or reading a baseline: a one-line message naming the
/// file and what was wrong.
class BaselineError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace baselines
} // namespace tessera

#endif // TESSERA_BASELINES_CONTENT_H
