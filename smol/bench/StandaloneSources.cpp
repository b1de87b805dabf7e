//===- StandaloneSources.cpp - bench sources without TesseraSmol ----------===//
//
// Part of Tessera. Used when TesseraSmol is not built: the content is the
// bench's own SyntheticLog and there is no .smol row.
//
//===----------------------------------------------------------------------===//

#include "Sources.h"
#include "SyntheticLog.h"

#include <sstream>
#include <stdexcept>

namespace tessera {
namespace bench {

static uint32_t option(const LogOptions &options, const std::string &key,
                       uint32_t fallback) {
  auto it = options.find(key);
  if (it == options.end())
    return fallback;
  const std::string &v = it->second;
  if (v.empty() || v.size() > 6 ||
      v.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument(
        "--log-" + key + ": expected a positive integer, got '" + v + "'");
  return static_cast<uint32_t>(std::stoul(v));
}

std::unique_ptr<baselines::ContentSource>
makeDriveLog(uint64_t records, uint64_t seed, const LogOptions &options) {
  for (const auto &kv : options)
    if (kv.first != "width" && kv.first != "height" && kv.first != "cameras")
      throw std::invalid_argument("unknown option --log-" + kv.first +
                                  " (known: --log-width, --log-height, "
                                  "--log-cameras)");
  return std::make_unique<SyntheticLog>(
      records, seed, option(options, "width", 64),
      option(options, "height", 48), option(options, "cameras", 8));
}

std::string describeLog(const baselines::ContentSource &source) {
  const baselines::Schema &s = source.schema();
  unsigned cameras = 0;
  std::string size;
  for (const baselines::Field &f : s.fields)
    if (f.role == baselines::FieldRole::Camera) {
      ++cameras;
      size = std::to_string(f.shape[1]) + "x" + std::to_string(f.shape[0]);
    }
  std::ostringstream os;
  os << "bench SyntheticLog: " << cameras << " cameras " << size << " RGB, "
     << s.recordBytes() << " B per timestamp, " << s.staticBytes()
     << " B static";
  return os.str();
}

std::vector<Format> smolFormats() { return {}; }

} // namespace bench
} // namespace tessera
