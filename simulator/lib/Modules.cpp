//===- Modules.cpp - The SystemC modules of the chip ----------------------===//
//
// Timing comes from the closed forms in Timing.h (docs/timing-model.md); the
// arithmetic from Kernels.h. Sources are read when an instruction issues and
// destinations written when it completes, so acc may alias out and a racing
// instruction never sees half a result. Functional mode computes at
// completion, in place in the memories' bytes: the sources are leased at
// issue (ReadLease), and a write that reaches one before the instruction
// completes first copies it, so the values are those of the issue.
//
//===----------------------------------------------------------------------===//

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "tessera/Sim/Modules.h"
#include "tessera/Sim/Timing.h"

#include "Kernels.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <sstream>

using namespace sc_core;
using namespace tessera;
using namespace tessera::sim;

//===----------------------------------------------------------------------===//
// Time and frame state
//===----------------------------------------------------------------------===//

sc_time tessera::sim::cyclesToTime(uint64_t cycles) {
  return sc_time(double(cycles), SC_NS);
}

uint64_t tessera::sim::timeToCycles(const sc_time &t) {
  static const uint64_t perCycle = sc_time(1, SC_NS).value();
  return t.value() / perCycle;
}

uint64_t tessera::sim::nowCycles() { return timeToCycles(sc_time_stamp()); }

InstrRecord &FrameState::record(uint32_t index) {
  if (index >= records.size())
    records.resize(size_t(index) + 1);
  return records[index];
}

void FrameState::fail(uint32_t index, const arch::Instr &in, const char *unit,
                      const std::string &what) {
  if (failed())
    return;
  std::ostringstream os;
  os << "instruction " << index << " (" << arch::opcodeName(in.op) << ") on "
     << unit << " at cycle " << frameCycle() << ": " << what;
  error = os.str();
}

namespace {

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

/// One past the last byte `a` touches; false on a 64-bit overflow.
bool accessEnd(const MemAccess &a, uint64_t &end) {
  arch::Operand o{"", false, false, a.addr, a.rows, a.rowBytes, a.strideBytes};
  return o.end(end);
}

/// Checks `a` against a memory of `limit` bytes; sets its error if outside.
bool checkBounds(MemAccess &a, uint64_t limit, const char *memory) {
  uint64_t end;
  if (a.rowAddrs) {
    for (uint64_t addr : *a.rowAddrs)
      if (addr > limit || a.rowBytes > limit - addr) {
        a.ok = false;
        a.error = std::string(memory) + " gather row at " + hex(addr) +
                  " is outside the " + std::to_string(limit) + "-byte " +
                  memory;
        return false;
      }
    return true;
  }
  if (a.gather)
    return true; // Timing only: the engine checked the table's bounds.
  if (accessEnd(a, end) && end <= limit)
    return true;
  a.ok = false;
  std::ostringstream os;
  os << memory << (a.cmd == MemAccess::Read ? " read" : " write") << " of "
     << a.rows << " x " << a.rowBytes << " bytes at " << hex(a.addr)
     << " (stride " << a.strideBytes << ") is outside the " << limit << "-byte "
     << memory;
  a.error = os.str();
  return false;
}

/// One past the last byte of `rows` rows of rowBytes, strideBytes apart
/// from addr (addr itself when there are none).
uint64_t spanEnd(uint64_t addr, uint64_t rows, uint64_t rowBytes,
                 uint64_t strideBytes) {
  return rows && rowBytes ? addr + (rows - 1) * strideBytes + rowBytes : addr;
}

/// Copies `rows` rows of rowBytes: one memcpy when both sides are
/// contiguous, else one per row.
void copyRows(uint8_t *to, uint64_t toStride, const uint8_t *from,
              uint64_t fromStride, uint64_t rows, uint64_t rowBytes) {
  if (rows <= 1 || (toStride == rowBytes && fromStride == rowBytes)) {
    std::memcpy(to, from, rows * rowBytes);
    return;
  }
  for (uint64_t r = 0; r < rows; ++r)
    std::memcpy(to + r * toStride, from + r * fromStride, rowBytes);
}

/// Before bytes [begin, end) of `mem` are written: copies every leased part
/// they overlap (ReadLease's promise).
void preserveLeases(std::vector<ReadLease *> &leases, uint64_t begin,
                    uint64_t end, const uint8_t *mem) {
  if (begin >= end)
    return;
  for (ReadLease *l : leases)
    for (ReadLease::Part &p : l->parts) {
      uint64_t pEnd = spanEnd(p.addr, p.rows, p.rowBytes, p.strideBytes);
      if (p.copied || p.addr >= pEnd || p.addr >= end || begin >= pEnd)
        continue;
      p.saved.resize(p.rows * p.rowBytes);
      copyRows(p.saved.data(), p.rowBytes, mem + p.addr, p.strideBytes, p.rows,
               p.rowBytes);
      p.copied = true;
    }
}

/// preserveLeases for the rows a write access `a` is about to write.
void preserveLeases(std::vector<ReadLease *> &leases, const MemAccess &a,
                    const uint8_t *mem) {
  if (leases.empty() || a.cmd != MemAccess::Write)
    return;
  if (a.rowAddrs) {
    for (uint64_t addr : *a.rowAddrs)
      preserveLeases(leases, addr, addr + a.rowBytes, mem);
    return;
  }
  preserveLeases(leases, a.addr,
                 spanEnd(a.addr, a.rows, a.rowBytes, a.strideBytes), mem);
}

/// Copies the rows of `a` between `mem` and a.data (a write first keeps
/// the leases it overlaps).
void moveRows(MemAccess &a, uint8_t *mem, std::vector<ReadLease *> &leases) {
  if (!a.data)
    return;
  preserveLeases(leases, a, mem);
  for (uint64_t r = 0; r < a.rows; ++r) {
    uint8_t *row =
        mem + (a.rowAddrs ? (*a.rowAddrs)[r] : a.addr + r * a.strideBytes);
    uint8_t *packed = a.data + r * a.rowBytes;
    if (a.cmd == MemAccess::Read)
      std::memcpy(packed, row, a.rowBytes);
    else
      std::memcpy(row, packed, a.rowBytes);
  }
}

void dropLease(std::vector<ReadLease *> &leases, ReadLease &lease) {
  leases.erase(std::remove(leases.begin(), leases.end(), &lease), leases.end());
}

} // namespace

//===----------------------------------------------------------------------===//
// Dram
//===----------------------------------------------------------------------===//

Dram::Dram(sc_module_name name) : sc_module(name), target("target") {
  target.bind(*this);
}

void Dram::reset(FrameState *frame, std::vector<uint8_t> image,
                 uint64_t sizeBytes) {
  frame_ = frame;
  image_ = std::move(image);
  size_ = sizeBytes;
  busFreeCycle_ = 0;
  banks_.reset(frame->chip);
  busUses_.clear();
  leases_.clear();
}

void Dram::b_transport(MemAccess &a, sc_time &delay) {
  if (!checkBounds(a, size_, "DRAM"))
    return;
  const arch::ChipConfig &chip = frame_->chip;
  uint64_t issue = nowCycles() + timeToCycles(delay);
  uint64_t busBytes, dataCycles;
  if (a.gather) {
    // Data-dependent addresses: the same time on both DRAM models and with
    // or without the data (docs/timing-model.md, "dma.gather").
    busBytes = timing::gatherBusBytes(chip, a.rows, a.rowBytes);
    dataCycles = timing::dramDataCycles(chip, busBytes);
  } else if (chip.detailedDram()) {
    timing::DramDetail d =
        timing::detailedDramAccess(chip, banks_, a.cmd == MemAccess::Write,
                                   a.addr, a.rows, a.rowBytes, a.strideBytes);
    busBytes = d.busBytes;
    dataCycles = d.dataCycles;
    frame_->dramRowHits += d.rowHits;
    frame_->dramRowMisses += d.rowMisses;
    frame_->dramTurnarounds += d.turnarounds;
  } else {
    busBytes = timing::dramBusBytes(chip, a.rows, a.rowBytes, a.strideBytes);
    dataCycles = timing::dramDataCycles(chip, busBytes);
  }
  uint64_t ready = issue + chip.dramLatencyCycles();
  uint64_t dataStart = std::max(ready, busFreeCycle_);
  uint64_t dataEnd = dataStart + dataCycles;
  busFreeCycle_ = dataEnd;
  delay += cyclesToTime(dataEnd - issue);

  // Who the access waited for: the data phases on the bus over [ready,
  // dataStart), which they cover without a gap (docs/timing-model.md, "Two
  // NPUs"). Phases that ended by now can delay no later access.
  const arch::Program *prog = frame_->program;
  uint8_t npu =
      prog && a.instr < prog->instrs.size() ? prog->instrs[a.instr].npu : 0;
  uint64_t now = nowCycles();
  while (!busUses_.empty() && busUses_.front().end <= now)
    busUses_.pop_front();
  uint64_t waitOther = 0, waitOwn = 0;
  if (dataStart > ready)
    for (const BusUse &u : busUses_) {
      uint64_t from = std::max(u.begin, ready), to = std::min(u.end, dataStart);
      if (to > from)
        (u.npu == npu ? waitOwn : waitOther) += to - from;
    }
  if (dataCycles)
    busUses_.push_back({dataStart, dataEnd, npu});

  InstrRecord &rec = frame_->record(a.instr);
  rec.dramWaitOtherNpu = waitOther;
  rec.dramWaitOwnNpu = waitOwn;
  rec.dramStart = dataStart - frame_->originCycle;
  rec.dramEnd = dataEnd - frame_->originCycle;
  rec.dramBusBytes = busBytes;
  frame_->dramBusBytes += busBytes;
  frame_->dramBusyCycles += dataCycles;
  (a.cmd == MemAccess::Read ? frame_->dramBytesRead
                            : frame_->dramBytesWritten) += a.bytes();
  transport_dbg(a);
}

void Dram::transport_dbg(MemAccess &a) {
  if (checkBounds(a, size_, "DRAM") && !image_.empty())
    moveRows(a, image_.data(), leases_);
}

uint8_t *Dram::directPtr(MemAccess &a) {
  if (!checkBounds(a, size_, "DRAM") || image_.empty() || a.rowAddrs)
    return nullptr;
  preserveLeases(leases_, a, image_.data());
  return image_.data() + a.addr;
}

void Dram::lease(ReadLease &lease) { leases_.push_back(&lease); }

void Dram::endLease(ReadLease &lease) { dropLease(leases_, lease); }

//===----------------------------------------------------------------------===//
// Sram
//===----------------------------------------------------------------------===//

Sram::Sram(sc_module_name name) : sc_module(name), target("target") {
  target.bind(*this);
}

void Sram::reset(FrameState *frame, uint64_t backedBytes) {
  frame_ = frame;
  store_.assign(frame->functional
                    ? size_t(std::min(backedBytes, frame->chip.sram_bytes))
                    : 0,
                0);
  holds_.clear();
  leases_.clear();
  layerBuffers_.clear();
  const arch::Program *prog = frame->program;
  if (prog && prog->hasSramBuffers) {
    layerBuffers_.resize(std::max<size_t>(prog->layers.size(), 1));
    for (const arch::SramBuffer &b : prog->sramBuffers)
      layerBuffers_[b.layer].push_back({b.addr, b.end()});
  }
}

bool Sram::checkBuffers(MemAccess &a) {
  const arch::Program *prog = frame_->program;
  if (!prog || !prog->hasSramBuffers || a.instr >= prog->instrs.size())
    return true;
  uint64_t end;
  accessEnd(a, end);
  uint32_t layer = prog->instrs[a.instr].layer;
  const auto &buffers =
      layerBuffers_[std::min<size_t>(layer, layerBuffers_.size() - 1)];
  for (const auto &[begin, bufEnd] : buffers)
    if (a.addr >= begin && end <= bufEnd)
      return true;
  a.ok = false;
  std::ostringstream os;
  os << "SRAM" << (a.cmd == MemAccess::Read ? " read" : " write") << " of "
     << a.rows << " x " << a.rowBytes << " bytes at " << hex(a.addr)
     << " (stride " << a.strideBytes
     << ") is outside the SRAM buffers of layer " << layer;
  if (layer < prog->layers.size())
    os << " '" << prog->layers[layer] << "'";
  os << " (";
  for (size_t b = 0; b < buffers.size() && b < 4; ++b)
    os << (b ? ", " : "") << hex(buffers[b].first) << ".."
       << hex(buffers[b].second);
  os << (buffers.empty() ? "none" : buffers.size() > 4 ? ", ...)" : ")");
  a.error = os.str();
  return false;
}

void Sram::back(uint64_t end) {
  if (end > store_.size())
    store_.resize(size_t(end), 0);
}

void Sram::move(MemAccess &a) {
  if (!checkBounds(a, frame_->chip.sram_bytes, "SRAM") || !checkBuffers(a) ||
      !frame_->functional)
    return;
  // Functional mode backs the program's sram_bytes_used; a program that
  // touches SRAM past it (but inside sram_bytes) gets more backing store,
  // as soon as an access is checked (so that pointers handed out later stay
  // valid).
  uint64_t end;
  accessEnd(a, end);
  back(end);
  moveRows(a, store_.data(), leases_);
}

uint8_t *Sram::directPtr(MemAccess &a) {
  move(a); // The checks and the backing store; no data to move.
  if (!a.ok || !frame_->functional || a.rowAddrs)
    return nullptr;
  preserveLeases(leases_, a, store_.data());
  return store_.data() + a.addr;
}

void Sram::lease(ReadLease &lease) {
  for (const ReadLease::Part &p : lease.parts)
    back(spanEnd(p.addr, p.rows, p.rowBytes, p.strideBytes));
  leases_.push_back(&lease);
}

void Sram::endLease(ReadLease &lease) { dropLease(leases_, lease); }

void Sram::b_transport(MemAccess &a, sc_time &delay) {
  move(a);
  if (!a.ok)
    return;
  const arch::ChipConfig &chip = frame_->chip;
  uint64_t cycles = timing::sramAccessCycles(chip, a.bytes());
  // Bank conflicts with the compute instruction in flight (its operand
  // streams hold their banks until it completes).
  uint64_t now = nowCycles() + timeToCycles(delay);
  if (chip.sram_ports_per_bank < 2) {
    std::vector<uint8_t> held;
    for (const Hold &h : holds_)
      if (h.end > now) {
        held.resize(chip.sram_banks, 0);
        timing::markSramBanks(chip, h.addr, h.rows, h.rowBytes, h.strideBytes,
                              held);
      }
    if (!held.empty()) {
      timing::SramConflict c = timing::sramConflict(
          chip, a.addr, a.rows, a.rowBytes, a.strideBytes, held);
      cycles += c.cycles;
      frame_->sramConflictBeats += c.beats;
      frame_->sramConflictCycles += c.cycles;
    }
  }
  delay += cyclesToTime(cycles);
}

void Sram::transport_dbg(MemAccess &a) {
  move(a);
  if (!a.ok || !a.holdCycles)
    return;
  uint64_t now = nowCycles();
  holds_.erase(std::remove_if(holds_.begin(), holds_.end(),
                              [&](const Hold &h) { return h.end <= now; }),
               holds_.end());
  holds_.push_back(
      {a.addr, a.rows, a.rowBytes, a.strideBytes, now + a.holdCycles});
}

//===----------------------------------------------------------------------===//
// DmaEngine
//===----------------------------------------------------------------------===//

DmaEngine::DmaEngine(sc_module_name name)
    : sc_module(name), exec("exec"), dram("dram"), sram("sram") {
  exec.bind(*this);
}

void DmaEngine::execute(uint32_t index, const arch::Instr &in) {
  if (in.op == arch::Opcode::DmaGather)
    return gather(index, in);
  bool load = in.op == arch::Opcode::DmaLoad;
  const char *unit = load ? "the DMA load channel" : "the DMA store channel";
  uint64_t rows = in.dims[0], rowBytes = in.dims[1];

  MemAccess dramSide, sramSide;
  dramSide.cmd = load ? MemAccess::Read : MemAccess::Write;
  sramSide.cmd = load ? MemAccess::Write : MemAccess::Read;
  dramSide.addr = in.addr[0];
  dramSide.strideBytes = in.strides[0];
  sramSide.addr = in.addr[1];
  sramSide.strideBytes = in.strides[1];
  for (MemAccess *a : {&dramSide, &sramSide}) {
    a->rows = rows;
    a->rowBytes = rowBytes;
    a->instr = index;
  }

  // Both sides are timed and bounds-checked now. The source is read as the
  // transfer starts and the destination written on completion: the source
  // is leased now and copied straight into the destination then (one
  // memcpy per contiguous run), with the bytes it had at the start.
  MemAccess &src = load ? dramSide : sramSide;
  MemAccess &dst = load ? sramSide : dramSide;
  sc_port<MemIf> &srcMem = load ? dram : sram;
  sc_port<MemIf> &dstMem = load ? sram : dram;
  sc_time dramDelay = SC_ZERO_TIME, sramDelay = SC_ZERO_TIME;
  sram->b_transport(sramSide, sramDelay);
  if (!sramSide.ok)
    return frame_->fail(index, in, unit, sramSide.error);
  dram->b_transport(dramSide, dramDelay);
  if (!dramSide.ok)
    return frame_->fail(index, in, unit, dramSide.error);
  ReadLease lease;
  if (frame_->functional) {
    lease.add(src.addr, rows, rowBytes, src.strideBytes);
    srcMem->lease(lease);
  }

  sc_time delay = std::max(dramDelay, sramDelay);
  uint64_t cycles = timeToCycles(delay);
  frame_->record(index).unitCycles = cycles;
  (load ? frame_->loadBusyCycles : frame_->storeBusyCycles) += cycles;
  wait(delay);
  if (!frame_->functional)
    return;
  srcMem->endLease(lease);
  const ReadLease::Part &p = lease.parts[0];
  const uint8_t *from = p.saved.data();
  uint64_t fromStride = rowBytes;
  if (!p.copied) {
    MemAccess read = src;
    read.cmd = MemAccess::Read;
    from = srcMem->directPtr(read);
    fromStride = src.strideBytes;
  }
  MemAccess write = dst;
  write.cmd = MemAccess::Write;
  uint8_t *to = dstMem->directPtr(write);
  if (from && to)
    copyRows(to, dst.strideBytes, from, fromStride, rows, rowBytes);
}

void DmaEngine::gather(uint32_t index, const arch::Instr &in) {
  const char *unit = "the DMA load channel";
  const bool functional = frame_->functional;
  uint64_t rows = in.dims[0], rowBytes = in.dims[1], tableRows = in.dims[2];

  // The indices: rows int32 values in SRAM, read before any row request.
  MemAccess idx;
  idx.cmd = MemAccess::Read;
  idx.addr = in.addr[2];
  idx.rows = 1;
  idx.rowBytes = idx.strideBytes = 4 * rows;
  idx.instr = index;
  std::vector<uint8_t> idxBytes(functional ? 4 * rows : 0);
  idx.data = functional ? idxBytes.data() : nullptr;
  sc_time idxDelay = SC_ZERO_TIME;
  sram->b_transport(idx, idxDelay);
  if (!idx.ok)
    return frame_->fail(index, in, unit, "indices: " + idx.error);

  // The table must lie inside DRAM (every accepted index reads inside it).
  MemAccess table;
  table.addr = in.addr[0];
  table.rows = tableRows;
  table.rowBytes = rowBytes;
  table.strideBytes = in.strides[0];
  table.instr = index;
  dram->transport_dbg(table);
  if (!table.ok)
    return frame_->fail(index, in, unit, "table: " + table.error);

  std::vector<uint64_t> addrs;
  if (functional) {
    addrs.reserve(rows);
    for (uint64_t r = 0; r < rows; ++r) {
      int32_t v;
      std::memcpy(&v, idxBytes.data() + 4 * r, 4);
      int64_t i = v;
      if (i < -int64_t(tableRows) || i >= int64_t(tableRows))
        return frame_->fail(index, in, unit,
                            "index " + std::to_string(i) + " (position " +
                                std::to_string(r) + ") is outside the " +
                                std::to_string(tableRows) + "-row table");
      uint64_t row = uint64_t(i < 0 ? i + int64_t(tableRows) : i);
      addrs.push_back(in.addr[0] + row * in.strides[0]);
    }
  }
  std::vector<uint8_t> buffer(functional ? rows * rowBytes : 0);
  MemAccess src, dst;
  src.cmd = MemAccess::Read;
  src.addr = in.addr[0];
  src.rows = rows;
  src.rowBytes = rowBytes;
  src.strideBytes = in.strides[0];
  src.gather = true;
  src.rowAddrs = functional ? &addrs : nullptr;
  src.data = functional ? buffer.data() : nullptr;
  src.instr = index;
  dst.cmd = MemAccess::Write;
  dst.addr = in.addr[1];
  dst.rows = rows;
  dst.rowBytes = rowBytes;
  dst.strideBytes = in.strides[1];
  dst.instr = index;
  // Both sides start once the indices are read.
  sc_time dramDelay = idxDelay, sramDelay = idxDelay;
  sram->b_transport(dst, sramDelay);
  if (!dst.ok)
    return frame_->fail(index, in, unit, dst.error);
  dram->b_transport(src, dramDelay);
  if (!src.ok)
    return frame_->fail(index, in, unit, src.error);
  sc_time delay = std::max(dramDelay, sramDelay);
  uint64_t cycles = timeToCycles(delay);
  frame_->record(index).unitCycles = cycles;
  frame_->loadBusyCycles += cycles;
  wait(delay);
  if (functional) {
    dst.data = buffer.data();
    sram->transport_dbg(dst);
  }
}

//===----------------------------------------------------------------------===//
// Compute units: operand access shared by the matrix and vector units
//===----------------------------------------------------------------------===//

namespace {

/// The SRAM operands of a compute instruction, checked as it issues; in
/// functional mode its sources are leased until it completes and computes.
struct Operands {
  std::vector<arch::Operand> views;
  ReadLease lease;       ///< The sources, in views' order.
  std::vector<int> part; ///< views[i]'s part in `lease` (-1: destination).
  std::string error;
  sc_port<MemIf> *leasedFrom = nullptr;

  Operands() = default;
  Operands(const Operands &) = delete;
  Operands &operator=(const Operands &) = delete;
  ~Operands() { release(); }
  void release() {
    if (leasedFrom)
      (*leasedFrom)->endLease(lease);
    leasedFrom = nullptr;
  }
  const arch::Operand *find(const char *role) const {
    for (const arch::Operand &o : views)
      if (std::strcmp(o.role, role) == 0)
        return &o;
    return nullptr;
  }
};

arch::DType operandType(const arch::Instr &in, const arch::Operand &o) {
  if (o.isWrite)
    return in.outDtype;
  if (std::strcmp(o.role, "acc") == 0)
    return in.accDtype;
  return in.dtype;
}

MemAccess toAccess(const arch::Operand &o, uint32_t index) {
  MemAccess a;
  a.cmd = o.isWrite ? MemAccess::Write : MemAccess::Read;
  a.addr = o.addr;
  a.rows = o.rows;
  a.rowBytes = o.rowBytes;
  a.strideBytes = o.strideBytes;
  a.instr = index;
  return a;
}

/// Checks every operand (and holds its banks for `cycles`); in functional
/// mode leases the sources. Returns false on an address error.
bool checkOperands(sc_port<MemIf> &sram, const FrameState &frame,
                   uint32_t index, const arch::Instr &in, uint64_t cycles,
                   Operands &ops) {
  ops.views = arch::operandsOf(in);
  for (const arch::Operand &o : ops.views) {
    MemAccess a = toAccess(o, index);
    a.holdCycles = cycles; // The operand streams run for the whole instr.
    sram->transport_dbg(a);
    if (!a.ok) {
      ops.error = std::string("operand ") + o.role + ": " + a.error;
      return false;
    }
    if (o.isWrite) {
      ops.part.push_back(-1);
    } else {
      ops.part.push_back(int(ops.lease.parts.size()));
      ops.lease.add(o.addr, o.rows, o.rowBytes, o.strideBytes);
    }
  }
  if (frame.functional) {
    sram->lease(ops.lease);
    ops.leasedFrom = &sram;
  }
  return true;
}

/// Source `role`'s bytes at completion: its first row and the stride
/// between rows, in the SRAM or, if a write came meanwhile, in the lease.
struct Source {
  const arch::Operand *op = nullptr;
  const uint8_t *first = nullptr;
  uint64_t stride = 0;
};

Source sourceOf(sc_port<MemIf> &sram, const Operands &ops, uint32_t index,
                const char *role) {
  Source s;
  for (size_t i = 0; i < ops.views.size(); ++i) {
    const arch::Operand &o = ops.views[i];
    if (o.isWrite || std::strcmp(o.role, role) != 0)
      continue;
    s.op = &o;
    const ReadLease::Part &p = ops.lease.parts[size_t(ops.part[i])];
    if (p.copied) {
      s.first = p.saved.data();
      s.stride = p.rowBytes;
    } else {
      MemAccess a = toAccess(o, index);
      s.first = sram->directPtr(a);
      s.stride = o.strideBytes;
    }
    break;
  }
  return s;
}

/// The FP32 view of a source (its elements' columns from the operand).
std::optional<ConstView> viewOf(const arch::Instr &in, const Source &s,
                                Scratch &scratch) {
  if (!s.op || !s.first)
    return std::nullopt;
  arch::DType t = operandType(in, *s.op);
  return floatView(s.first, s.op->rows, s.op->rowBytes / arch::dtypeBytes(t),
                   s.stride, t, scratch);
}

/// Whether a view's floats overlap bytes [p, p + n).
bool overlaps(const ConstView &v, const uint8_t *p, uint64_t n) {
  if (v.size() == 0 || n == 0)
    return false;
  auto *begin = reinterpret_cast<const uint8_t *>(v.data());
  const uint8_t *end =
      begin + 4 * ((v.rows() - 1) * v.outerStride() + v.cols());
  return begin < p + n && p < end;
}

} // namespace

//===----------------------------------------------------------------------===//
// MatrixUnit
//===----------------------------------------------------------------------===//

MatrixUnit::MatrixUnit(sc_module_name name)
    : sc_module(name), exec("exec"), sram("sram") {
  exec.bind(*this);
}

void MatrixUnit::execute(uint32_t index, const arch::Instr &in) {
  Operands ops;
  uint64_t m = in.dims[0], k = in.dims[1], n = in.dims[2];
  uint64_t cycles = timing::matmulCycles(frame_->chip, m, k, n, in.dtype);
  if (!checkOperands(sram, *frame_, index, in, cycles, ops))
    return frame_->fail(index, in, "the matrix unit", ops.error);
  // Weight-stationary partial sums of the M streamed rows wait in the
  // accumulators below the array (output-stationary ones stay in the PEs).
  if (!frame_->chip.outputStationary() &&
      m > frame_->chip.matrix_accumulator_rows)
    return frame_->fail(
        index, in, "the matrix unit",
        "M = " + std::to_string(m) + " rows exceed the accumulator's " +
            std::to_string(frame_->chip.matrix_accumulator_rows) +
            " rows (matrix_accumulator_rows)");
  frame_->record(index).unitCycles = cycles;
  frame_->matrixBusyCycles += cycles;
  frame_->macs += m * k * n;
  wait(cyclesToTime(cycles));
  if (!frame_->functional)
    return;

  // The arithmetic, on the sources as they were at issue (the lease).
  thread_local Scratch scratchA, scratchB, scratchOut;
  ops.release();
  bool accumulate = in.flags & arch::kFlagAccumulate;
  Source sa = sourceOf(sram, ops, index, "a"),
         sb = sourceOf(sram, ops, index, "b");
  Source sacc = accumulate ? sourceOf(sram, ops, index, "acc") : Source();
  std::optional<ConstView> a = viewOf(in, sa, scratchA),
                           b = viewOf(in, sb, scratchB);
  const arch::Operand &o = *ops.find("out");
  MemAccess w = toAccess(o, index);
  uint8_t *out = sram->directPtr(w);
  if (!a || !b || !out || (accumulate && !sacc.first))
    return;
  // FP32 output: the GEMM writes it in place (accumulating into it when acc
  // is the output itself), unless a source it reads in place overlaps it.
  uint64_t outBytes = spanEnd(0, o.rows, o.rowBytes, o.strideBytes);
  bool inPlace =
      in.outDtype == arch::DType::F32 &&
      reinterpret_cast<uintptr_t>(out) % 4 == 0 &&
      (o.rows <= 1 ||
       (o.strideBytes % 4 == 0 && o.strideBytes >= o.rowBytes)) &&
      (!accumulate || (in.accDtype == arch::DType::F32 && sacc.first == out &&
                       (o.rows <= 1 || sacc.stride == o.strideBytes))) &&
      !overlaps(*a, out, outBytes) && !overlaps(*b, out, outBytes);
  if (inPlace) {
    matmulInto(in, *a, *b, reinterpret_cast<float *>(out),
               o.rows <= 1 ? int64_t(n) : int64_t(o.strideBytes / 4),
               accumulate);
    return;
  }
  float *c = scratchOut.get(size_t(m * n));
  if (accumulate)
    unpackInto(sacc.first, m, n, sacc.stride, in.accDtype, c, n);
  matmulInto(in, *a, *b, c, int64_t(n), accumulate);
  packFrom(c, m, n, n, in.outDtype, out, o.strideBytes);
}

//===----------------------------------------------------------------------===//
// VectorUnit
//===----------------------------------------------------------------------===//

VectorUnit::VectorUnit(sc_module_name name)
    : sc_module(name), exec("exec"), sram("sram") {
  exec.bind(*this);
}

void VectorUnit::execute(uint32_t index, const arch::Instr &in) {
  Operands ops;
  uint64_t cycles =
      timing::vectorCycles(frame_->chip, in.op, in.dims[0], in.dims[1]);
  if (!checkOperands(sram, *frame_, index, in, cycles, ops))
    return frame_->fail(index, in, "the vector unit", ops.error);
  frame_->record(index).unitCycles = cycles;
  frame_->vectorBusyCycles += cycles;
  wait(cyclesToTime(cycles));
  if (!frame_->functional)
    return;

  // The arithmetic, on the sources as they were at issue (the lease), into
  // an FP32 result rounded to the output type where it goes.
  thread_local Scratch scratchA, scratchB, scratchC, scratchOut;
  ops.release();
  const char *second = in.op == arch::Opcode::VecLayerNorm ? "gamma" : "b";
  const char *third = in.op == arch::Opcode::VecSelect ? "c" : "beta";
  std::optional<ConstView> a = viewOf(in, sourceOf(sram, ops, index, "a"),
                                      scratchA),
                           b = viewOf(in, sourceOf(sram, ops, index, second),
                                      scratchB),
                           c = viewOf(in, sourceOf(sram, ops, index, third),
                                      scratchC);
  const arch::Operand &o = *ops.find("out");
  uint64_t rows = o.rows, cols = o.rowBytes / arch::dtypeBytes(in.outDtype);
  View result(scratchOut.get(size_t(rows * cols)), Eigen::Index(rows),
              Eigen::Index(cols), Eigen::OuterStride<>(Eigen::Index(cols)));
  vectorOp(in, a ? &*a : nullptr, b ? &*b : nullptr, c ? &*c : nullptr, result);
  MemAccess w = toAccess(o, index);
  if (uint8_t *out = sram->directPtr(w))
    packFrom(result.data(), rows, cols, cols, in.outDtype, out, o.strideBytes);
}

//===----------------------------------------------------------------------===//
// Sequencer
//===----------------------------------------------------------------------===//

Sequencer::Sequencer(sc_module_name name)
    : sc_module(name), dma("dma"), matrix("matrix"), vector("vector") {
  SC_THREAD(loadQueue);
  SC_THREAD(computeQueue);
  SC_THREAD(storeQueue);
}

Sequencer::~Sequencer() {
  for (auto &slots : slots_)
    for (Slot *s : slots)
      delete s;
}

void Sequencer::shareTokens(unsigned npu, sc_event *token,
                            sc_event_queue *remote) {
  npu_ = npu;
  token_ = token;
  remote_ = remote;
}

void Sequencer::start(FrameState *frame, bool resetRecords) {
  frame_ = frame;
  for (auto &q : queues_)
    q.clear();
  const std::vector<arch::Instr> &instrs = frame->program->instrs;
  if (resetRecords)
    frame->records.assign(instrs.size(), InstrRecord());
  multiNpu_ = frame->program->npus > 1 && remote_;
  for (uint32_t i = 0; i < instrs.size(); ++i)
    if (instrs[i].npu == npu_)
      queues_[unsigned(instrs[i].queue())].push_back(i);
  idleQueues_ = 0;
  frameStart_.notify(SC_ZERO_TIME);
}

bool Sequencer::depsDone(const arch::Instr &in) const {
  for (uint32_t d : in.deps) {
    const InstrRecord &rec = frame_->records[d];
    if (!rec.done)
      return false;
    // Another NPU's completion token arrives npu_sync_cycles later.
    if (multiNpu_ && frame_->program->instrs[d].npu != npu_ &&
        rec.end + frame_->chip.npu_sync_cycles > frame_->frameCycle())
      return false;
  }
  return true;
}

void Sequencer::waitToken() {
  if (multiNpu_)
    wait(*token_ | remote_->default_event());
  else
    wait(*token_);
}

void Sequencer::execute(arch::Queue q, uint32_t index) {
  const arch::Instr &in = frame_->program->instrs[index];
  InstrRecord &rec = frame_->records[index];
  if (q != arch::Queue::Compute)
    dma->execute(index, in);
  else if (in.op == arch::Opcode::MatMul)
    matrix->execute(index, in);
  else
    vector->execute(index, in);
  rec.end = frame_->frameCycle();
  rec.done = !frame_->failed();
  // The instruction's dependency token (and, after an error, the signal for
  // the other queues to stop waiting); with several NPUs also the token as
  // it reaches the others.
  token_->notify(SC_ZERO_TIME);
  if (multiNpu_ && frame_->chip.npu_sync_cycles)
    remote_->notify(cyclesToTime(frame_->chip.npu_sync_cycles));
}

void Sequencer::runSlot(arch::Queue q, size_t slot) {
  Slot &s = *slots_[unsigned(q)][slot];
  while (true) {
    while (!s.pending)
      wait(s.go);
    s.pending = false;
    execute(q, s.index);
  }
}

void Sequencer::runQueue(arch::Queue q) {
  while (true) {
    wait(frameStart_);
    const std::vector<uint32_t> &queue = queues_[unsigned(q)];
    size_t inFlight =
        q == arch::Queue::Compute ? 1 : frame_->chip.dma_outstanding_transfers;
    // DMA queues run each transfer on a slot thread (created on first use
    // and kept for later frames), so up to inFlight run at once.
    std::vector<Slot *> &slots = slots_[unsigned(q)];
    if (q != arch::Queue::Compute)
      while (slots.size() < inFlight) {
        size_t n = slots.size();
        slots.push_back(new Slot);
        std::string name =
            std::string(q == arch::Queue::Load ? "load" : "store") + "_slot_" +
            std::to_string(n);
        sc_core::sc_spawn([this, q, n] { runSlot(q, n); }, name.c_str());
      }
    for (size_t pos = 0; pos < queue.size(); ++pos) {
      uint32_t index = queue[pos];
      const arch::Instr &in = frame_->program->instrs[index];
      InstrRecord &rec = frame_->records[index];
      rec.head = frame_->frameCycle();
      auto slotFree = [&] {
        return pos < inFlight || frame_->records[queue[pos - inFlight]].done;
      };
      while (!frame_->failed() && !(depsDone(in) && slotFree()))
        waitToken();
      if (frame_->failed())
        break;
      rec.start = frame_->frameCycle();
      if (q == arch::Queue::Compute) {
        execute(q, index);
      } else {
        Slot &slot = *slots[pos % inFlight];
        slot.index = index;
        slot.pending = true;
        slot.go.notify();
        // Let the slot make its DRAM request now, so that requests reach
        // the DRAM in issue order even when several issue in one cycle.
        wait(SC_ZERO_TIME);
      }
      if (frame_->failed())
        break;
    }
    // The queue is done when its last transfers have completed.
    auto allDone = [&] {
      for (size_t pos = queue.size() > inFlight ? queue.size() - inFlight : 0;
           pos < queue.size(); ++pos)
        if (!frame_->records[queue[pos]].done)
          return false;
      return true;
    };
    while (!frame_->failed() && !allDone())
      waitToken();
    ++idleQueues_;
  }
}

//===----------------------------------------------------------------------===//
// Chip
//===----------------------------------------------------------------------===//

Npu::Npu(sc_module_name name, unsigned index, Dram &dram, sc_event *token,
         sc_event_queue *remote)
    : sc_module(name), sequencer("sequencer"), dma("dma"), sram("sram"),
      matrix("matrix"), vector("vector") {
  sequencer.shareTokens(index, token, remote);
  sequencer.dma.bind(dma.exec);
  sequencer.matrix.bind(matrix.exec);
  sequencer.vector.bind(vector.exec);
  dma.dram.bind(dram.target);
  dma.sram.bind(sram.target);
  matrix.sram.bind(sram.target);
  vector.sram.bind(sram.target);
}

Chip::Chip(sc_module_name name)
    : sc_module(name), dram("dram"), remote("remote") {
  for (unsigned n = 0; n < arch::Program::kMaxNpus; ++n)
    npus.push_back(std::make_unique<Npu>(("npu" + std::to_string(n)).c_str(), n,
                                         dram, &token, &remote));
}

void Chip::runFrame(FrameState &frame, std::vector<uint8_t> image) {
  frame.originCycle = nowCycles();
  dram.reset(&frame, std::move(image), frame.program->dramBytes);
  // The program's NPUs run it (Program::checkFits: at most the chip's).
  unsigned active = std::max(1u, frame.program->npus);
  for (unsigned n = 0; n < active; ++n) {
    Npu &npu = *npus[n];
    npu.sram.reset(&frame, frame.program->sramBytesUsed);
    npu.dma.reset(&frame);
    npu.matrix.reset(&frame);
    npu.vector.reset(&frame);
    npu.sequencer.start(&frame, n == 0);
  }
  sc_start();
  bool idle = true;
  for (unsigned n = 0; n < active; ++n)
    idle = idle && npus[n]->sequencer.idle();
  if (!idle && !frame.failed())
    frame.error = "the frame stopped before every queue finished (internal "
                  "error: a dependency token was never signalled)";
}
