//===- DeviceModel.h - NVMe SSD, HDD and object-store timing ----*- C++ -*-===//
//
// Part of Tessera. Closed-form timing of one I/O operation on three kinds of
// storage device, each a small state machine over integer picoseconds so that
// replays are exactly deterministic. Every parameter is a named field with a
// unit and a documented default; docs/storage-model.md gives the formulas and
// the sources of the defaults.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_STORAGE_DEVICEMODEL_H
#define TESSERA_STORAGE_DEVICEMODEL_H

#include "tessera/Storage/IoTrace.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tessera {
namespace storage {

/// The modeled device kinds.
enum class DeviceKind { Nvme, Hdd, ObjectStore };

/// "nvme", "hdd", "object-store".
const char *deviceKindName(DeviceKind kind);
/// Inverse of deviceKindName; throws std::invalid_argument on an unknown name.
DeviceKind parseDeviceKind(const std::string &name);

/// Datacenter NVMe SSD (PCIe Gen3 x4 class).
struct NvmeParams {
  /// Latency of one 4 KiB random read at queue depth 1, in microseconds.
  double readLatencyUs = 90.0;
  /// Reads the drive serves concurrently (flash dies/channels busy at once);
  /// queue depths above this wait for a free unit.
  unsigned parallelUnits = 64;
  /// Host-link/sequential read bandwidth shared by all reads, in MB/s
  /// (1 MB = 10^6 bytes).
  double bandwidthMBps = 3500.0;
};

/// 7200 rpm enterprise hard disk with one actuator, serving requests in
/// arrival order.
struct HddParams {
  /// Average seek time of a random read, in milliseconds.
  double avgSeekMs = 8.0;
  /// Spindle speed; the average rotational latency is half a revolution.
  double rpm = 7200.0;
  /// Sustained media transfer rate, in MB/s.
  double bandwidthMBps = 250.0;
};

/// Cloud object store reached over HTTP; every read is one ranged GET.
struct ObjectStoreParams {
  /// Time from sending a GET to its first byte, in milliseconds.
  double firstByteMs = 30.0;
  /// Transfer rate of one connection (one GET), in MB/s.
  double perConnectionMBps = 85.0;
  /// Client network bandwidth shared by all GETs, in MB/s (10 Gb/s NIC).
  double nicMBps = 1250.0;
  /// Price of GET requests, in US dollars per 1000 requests.
  double dollarsPerThousandGets = 0.0004;
};

/// All device parameters; each device reads its own group.
struct StorageParams {
  NvmeParams nvme;
  HddParams hdd;
  ObjectStoreParams objectStore;

  /// Sets one parameter by its documented name, e.g. "nvme.read_latency_us"
  /// "90". Throws std::invalid_argument naming the key on an unknown key or a
  /// value that is not a positive finite number.
  void set(const std::string &key, const std::string &value);
  /// Applies the parameters of a TOML file (read with toml++): `key = value`
  /// lines with the dotted keys above ('#' starts a comment), or the same
  /// keys in sections (`[hdd]` then `rpm = 7200`). Throws
  /// std::invalid_argument naming the file and line on any error.
  void loadFile(const std::string &path);
  /// Every key with its current value and unit, one "key = value  # unit"
  /// line each.
  std::string describe() const;
};

/// Picoseconds to transfer `bytes` at `mbps` MB/s, rounded up.
uint64_t transferPs(uint64_t bytes, double mbps);
/// Microseconds/milliseconds to picoseconds, rounded to nearest.
uint64_t usToPs(double us);
uint64_t msToPs(double ms);

/// Timing state of one device. submit() must be called in non-decreasing
/// submission time; it returns the completion time of the read and updates
/// the device state (busy units, head position, link occupancy).
class DeviceModel {
public:
  virtual ~DeviceModel();
  virtual DeviceKind kind() const = 0;
  /// Back to the idle state at time 0.
  virtual void reset() = 0;
  /// Completion time, in picoseconds, of `op` submitted at `nowPs`.
  virtual uint64_t submit(const IoOp &op, uint64_t nowPs) = 0;
};

/// NVMe: start = max(now, earliest free unit); media = start + L;
/// done = max(media, linkFree) + bytes / B; the unit and the link are busy
/// until done.
class NvmeModel : public DeviceModel {
public:
  explicit NvmeModel(const NvmeParams &params);
  DeviceKind kind() const override { return DeviceKind::Nvme; }
  void reset() override;
  uint64_t submit(const IoOp &op, uint64_t nowPs) override;

private:
  NvmeParams params;
  uint64_t latencyPs;
  std::vector<uint64_t> unitFreePs;
  uint64_t linkFreePs = 0;
};

/// HDD: start = max(now, busyUntil); a read that begins where the previous
/// one ended (same file) costs bytes / B; any other read costs
/// seek + 30000 / rpm ms + bytes / B.
class HddModel : public DeviceModel {
public:
  explicit HddModel(const HddParams &params);
  DeviceKind kind() const override { return DeviceKind::Hdd; }
  void reset() override;
  uint64_t submit(const IoOp &op, uint64_t nowPs) override;

private:
  HddParams params;
  uint64_t positionPs;
  uint64_t busyUntilPs = 0;
  bool headValid = false;
  uint32_t headFile = 0;
  uint64_t headOffset = 0;
};

/// Object store: firstByte = now + F; the bytes cross the NIC after the first
/// byte, serialized with other GETs: nicDone = max(firstByte, nicFree) +
/// bytes / Bnic; done = max(nicDone, firstByte + bytes / Bconn).
class ObjectStoreModel : public DeviceModel {
public:
  explicit ObjectStoreModel(const ObjectStoreParams &params);
  DeviceKind kind() const override { return DeviceKind::ObjectStore; }
  void reset() override;
  uint64_t submit(const IoOp &op, uint64_t nowPs) override;

private:
  ObjectStoreParams params;
  uint64_t firstBytePs;
  uint64_t nicFreePs = 0;
};

/// Time to issue `ops` one after another, each when the previous completes
/// (queue depth 1, as a reader opening a dataset does), from an idle device:
/// t_0 = 0, t_{i+1} = submit(op_i, t_i); returns t_n.
uint64_t sequentialPs(DeviceModel &device, const std::vector<IoOp> &ops);

/// The model of `kind` with the parameters of `params`.
std::unique_ptr<DeviceModel> makeDevice(DeviceKind kind,
                                        const StorageParams &params);

} // namespace storage
} // namespace tessera

#endif // TESSERA_STORAGE_DEVICEMODEL_H
