//===- DeviceModel.cpp - NVMe SSD, HDD and object-store timing ------------===//
//
// Part of Tessera. The formulas are in docs/storage-model.md; the tests in
// tests/storage/DeviceModelTest.cpp check them on hand-computed cases.
//
//===----------------------------------------------------------------------===//

#include "tessera/Storage/DeviceModel.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"

#include "tessera/arch/Error.h"
#include "tessera/arch/Toml.h"

#include <functional>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tessera {
namespace storage {

const char *deviceKindName(DeviceKind kind) {
  switch (kind) {
  case DeviceKind::Nvme:
    return "nvme";
  case DeviceKind::Hdd:
    return "hdd";
  case DeviceKind::ObjectStore:
    return "object-store";
  }
  return "?";
}

DeviceKind parseDeviceKind(const std::string &name) {
  if (name == "nvme")
    return DeviceKind::Nvme;
  if (name == "hdd")
    return DeviceKind::Hdd;
  if (name == "object-store")
    return DeviceKind::ObjectStore;
  throw std::invalid_argument("unknown device '" + name +
                              "' (expected nvme, hdd or object-store)");
}

namespace {
/// One settable parameter: its key, unit and where it lives.
struct ParamRef {
  const char *key;
  const char *unit;
  double *real;    // set for real-valued parameters
  unsigned *count; // set for integer parameters
  double min, max; // physical range (docs/limits-and-errors.md)
};

std::vector<ParamRef> paramRefs(StorageParams &p) {
  return {
      {"nvme.read_latency_us", "us, 4 KiB random read at QD1",
       &p.nvme.readLatencyUs, nullptr, 0.1, 1e5},
      {"nvme.parallel_units", "reads served concurrently", nullptr,
       &p.nvme.parallelUnits, 1, 1024},
      {"nvme.bandwidth_mbps", "MB/s, shared link", &p.nvme.bandwidthMBps,
       nullptr, 1, 1e6},
      {"hdd.avg_seek_ms", "ms, average random seek", &p.hdd.avgSeekMs, nullptr, 0.1, 1000},
      {"hdd.rpm", "revolutions per minute", &p.hdd.rpm, nullptr, 100, 100000},
      {"hdd.bandwidth_mbps", "MB/s, sustained media rate", &p.hdd.bandwidthMBps,
       nullptr, 1, 1e5},
      {"object_store.first_byte_ms", "ms, GET to first byte",
       &p.objectStore.firstByteMs, nullptr, 0.1, 1e5},
      {"object_store.per_connection_mbps", "MB/s, one GET",
       &p.objectStore.perConnectionMBps, nullptr, 0.1, 1e6},
      {"object_store.nic_mbps", "MB/s, client network", &p.objectStore.nicMBps,
       nullptr, 1, 1e6},
      {"object_store.dollars_per_thousand_gets", "USD per 1000 GETs",
       &p.objectStore.dollarsPerThousandGets, nullptr, 1e-6, 1000},
  };
}
} // namespace

void StorageParams::set(const std::string &key, const std::string &value) {
  for (const ParamRef &ref : paramRefs(*this)) {
    if (key != ref.key)
      continue;
    const char *begin = value.c_str();
    char *end = nullptr;
    errno = 0;
    double v = std::strtod(begin, &end);
    if (value.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) ||
        v <= 0)
      throw std::invalid_argument("storage parameter " + key +
                                  ": expected a "
                                  "positive number, got '" +
                                  value + "'");
    if (v < ref.min || v > ref.max) {
      std::ostringstream range;
      range << ref.min << " .. " << ref.max;
      throw std::invalid_argument("storage parameter " + key + ": " + value +
                                  " is outside its range " + range.str() +
                                  " (" + ref.unit + ")");
    }
    if (ref.count) {
      if (v != std::floor(v))
        throw std::invalid_argument("storage parameter " + key +
                                    ": expected a whole number, got '" +
                                    value + "'");
      *ref.count = static_cast<unsigned>(v);
    } else {
      *ref.real = v;
    }
    return;
  }
  std::string known;
  for (const ParamRef &ref : paramRefs(*this))
    known += std::string(known.empty() ? "" : ", ") + ref.key;
  throw std::invalid_argument("unknown storage parameter '" + key +
                              "' (known: " + known + ")");
}

void StorageParams::loadFile(const std::string &path) {
  toml::table table = [&] {
    try {
      return arch::loadToml(path, "storage parameter file");
    } catch (const arch::ContractError &e) {
      throw std::invalid_argument(e.what());
    }
  }();
  // Keys in file order, so that the first bad one is reported.
  struct Entry {
    std::string key;
    const toml::node *value;
    uint32_t line;
  };
  std::vector<Entry> entries;
  std::function<void(const toml::table &, const std::string &)> walk =
      [&](const toml::table &t, const std::string &prefix) {
        for (auto &&[k, v] : t) {
          std::string key = prefix + std::string(k.str());
          if (const toml::table *sub = v.as_table())
            walk(*sub, key + ".");
          else
            entries.push_back({key, &v, k.source().begin.line});
        }
      };
  walk(table, "");
  std::stable_sort(
      entries.begin(), entries.end(),
      [](const Entry &a, const Entry &b) { return a.line < b.line; });
  for (const Entry &e : entries) {
    std::string where = path + ":" + std::to_string(e.line) + ": ";
    const toml::node &v = *e.value;
    bool decimal =
        v.is_floating_point() ||
        (v.is_integer() &&
         !(v.as_integer()->flags() & (toml::value_flags::format_as_hexadecimal |
                                      toml::value_flags::format_as_octal |
                                      toml::value_flags::format_as_binary)));
    if (!decimal)
      throw std::invalid_argument(where + "storage parameter " + e.key +
                                  ": expected a positive number, got " +
                                  arch::tomlRepr(v));
    try {
      set(e.key, arch::tomlRepr(v));
    } catch (const std::invalid_argument &err) {
      throw std::invalid_argument(where + err.what());
    }
  }
}

std::string StorageParams::describe() const {
  StorageParams copy = *this;
  std::ostringstream os;
  for (const ParamRef &ref : paramRefs(copy)) {
    os << ref.key << " = ";
    if (ref.count)
      os << *ref.count;
    else
      os << *ref.real;
    os << "  # " << ref.unit << "\n";
  }
  return os.str();
}

uint64_t transferPs(uint64_t bytes, double mbps) {
  // bytes / (mbps * 1e6 B/s) seconds = bytes * 1e6 / mbps picoseconds.
  long double ps = static_cast<long double>(bytes) * 1e6L / mbps;
  return static_cast<uint64_t>(std::ceil(ps));
}

uint64_t usToPs(double us) {
  return static_cast<uint64_t>(std::llround(us * 1e6));
}
uint64_t msToPs(double ms) {
  return static_cast<uint64_t>(std::llround(ms * 1e9));
}

DeviceModel::~DeviceModel() = default;

NvmeModel::NvmeModel(const NvmeParams &params)
    : params(params), latencyPs(usToPs(params.readLatencyUs)) {
  reset();
}

void NvmeModel::reset() {
  unitFreePs.assign(std::max(1u, params.parallelUnits), 0);
  linkFreePs = 0;
}

uint64_t NvmeModel::submit(const IoOp &op, uint64_t nowPs) {
  auto unit = std::min_element(unitFreePs.begin(), unitFreePs.end());
  uint64_t start = std::max(nowPs, *unit);
  uint64_t media = start + latencyPs;
  uint64_t done =
      std::max(media, linkFreePs) + transferPs(op.bytes, params.bandwidthMBps);
  linkFreePs = done;
  *unit = done;
  return done;
}

HddModel::HddModel(const HddParams &params)
    : params(params),
      positionPs(msToPs(params.avgSeekMs) + msToPs(30000.0 / params.rpm)) {
  reset();
}

void HddModel::reset() {
  busyUntilPs = 0;
  headValid = false;
  headFile = 0;
  headOffset = 0;
}

uint64_t HddModel::submit(const IoOp &op, uint64_t nowPs) {
  uint64_t start = std::max(nowPs, busyUntilPs);
  bool sequential = headValid && op.file == headFile && op.offset == headOffset;
  uint64_t done = start + (sequential ? 0 : positionPs) +
                  transferPs(op.bytes, params.bandwidthMBps);
  headValid = true;
  headFile = op.file;
  headOffset = op.offset + op.bytes;
  busyUntilPs = done;
  return done;
}

ObjectStoreModel::ObjectStoreModel(const ObjectStoreParams &params)
    : params(params), firstBytePs(msToPs(params.firstByteMs)) {}

void ObjectStoreModel::reset() { nicFreePs = 0; }

uint64_t ObjectStoreModel::submit(const IoOp &op, uint64_t nowPs) {
  uint64_t firstByte = nowPs + firstBytePs;
  uint64_t nicDone =
      std::max(firstByte, nicFreePs) + transferPs(op.bytes, params.nicMBps);
  nicFreePs = nicDone;
  return std::max(nicDone,
                  firstByte + transferPs(op.bytes, params.perConnectionMBps));
}

uint64_t sequentialPs(DeviceModel &device, const std::vector<IoOp> &ops) {
  device.reset();
  uint64_t t = 0;
  for (const IoOp &op : ops)
    t = device.submit(op, t);
  return t;
}

std::unique_ptr<DeviceModel> makeDevice(DeviceKind kind,
                                        const StorageParams &params) {
  switch (kind) {
  case DeviceKind::Nvme:
    return std::make_unique<NvmeModel>(params.nvme);
  case DeviceKind::Hdd:
    return std::make_unique<HddModel>(params.hdd);
  case DeviceKind::ObjectStore:
    return std::make_unique<ObjectStoreModel>(params.objectStore);
  }
  throw std::invalid_argument("unknown device kind");
}

} // namespace storage
} // namespace tessera
