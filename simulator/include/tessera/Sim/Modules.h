//===- Modules.h - The SystemC modules of the chip ---------------*- C++
//-*-===//
//
// One sc_module per hardware block: the sequencer with its load, compute and
// store queues, the DMA engine, the DRAM, the banked SRAM, the systolic
// matrix unit and the vector unit. They talk through two interfaces in the
// TLM-2.0 loosely-timed style: MemIf (b_transport with a delay annotation,
// plus an untimed transport_dbg) for memories, ExecIf (a blocking execute of
// one instruction) for units. Time advances by wait() on whole transactions
// and instructions; nothing is woken on a clock edge.
//
// Simulated time counts core cycles: one cycle is one SystemC nanosecond.
// SystemC fixes its time resolution once per process, while the clock is a
// chip-config field that may change between frames; the report converts
// cycles to milliseconds with clock_ghz.
//
// simulateFrame() builds the module tree once per process (class Chip) and
// resets it for every frame. Testbenches instantiate single modules.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_SIM_MODULES_H
#define TESSERA_SIM_MODULES_H

#include "tessera/Sim/Timing.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Isa.h"
#include "tessera/arch/Program.h"

#include <systemc>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tessera::sim {

/// Simulated time of `cycles` core cycles.
sc_core::sc_time cyclesToTime(uint64_t cycles);
/// Core cycles of a simulated time (exact: times are whole cycles).
uint64_t timeToCycles(const sc_core::sc_time &t);
/// The current simulated time in cycles since the start of the process.
uint64_t nowCycles();

/// What the model recorded about one instruction (frame-relative cycles).
struct InstrRecord {
  uint64_t head = 0;                   ///< Reached the head of its queue.
  uint64_t start = 0;                  ///< Issued (every dependency completed).
  uint64_t end = 0;                    ///< Completed.
  uint64_t dramStart = 0, dramEnd = 0; ///< DMA: its data phase on the bus.
  uint64_t dramBusBytes = 0;           ///< DMA: burst-rounded bytes.
  uint64_t unitCycles = 0;             ///< Cycles the unit's formula gave it.
  /// DMA: cycles its data phase waited for the bus while the bus moved
  /// another NPU's data, and while it moved this NPU's own (shared-DRAM
  /// contention, docs/timing-model.md "Two NPUs").
  uint64_t dramWaitOtherNpu = 0, dramWaitOwnNpu = 0;
  bool done = false;
};

/// State one frame shares between the modules: the chip, the program, the
/// mode, what was recorded, and the first simulation error.
struct FrameState {
  arch::ChipConfig chip;
  const arch::Program *program = nullptr; ///< Null in module testbenches.
  bool functional = true;
  uint64_t originCycle = 0; ///< nowCycles() when the frame started.
  std::vector<InstrRecord> records;

  uint64_t dramBytesRead = 0, dramBytesWritten = 0, dramBusBytes = 0;
  uint64_t dramBusyCycles = 0, matrixBusyCycles = 0, vectorBusyCycles = 0;
  uint64_t loadBusyCycles = 0, storeBusyCycles = 0, macs = 0;
  /// Detailed DRAM: row-buffer hits and misses, read/write turnarounds.
  uint64_t dramRowHits = 0, dramRowMisses = 0, dramTurnarounds = 0;
  /// SRAM bank conflicts between DMA transfers and the compute instruction
  /// in flight: DMA beats that waited, and cycles added to DMA SRAM sides.
  uint64_t sramConflictBeats = 0, sramConflictCycles = 0;

  std::string error; ///< The first simulation error; empty if none.

  /// Cycles since the frame started.
  uint64_t frameCycle() const { return nowCycles() - originCycle; }
  /// The record of instruction `index` (grown on demand for testbenches).
  InstrRecord &record(uint32_t index);
  /// Records a simulation error of instruction `index` on `unit` at the
  /// current cycle (only the first is kept); the sequencer then stops issuing.
  void fail(uint32_t index, const arch::Instr &in, const char *unit,
            const std::string &what);
  bool failed() const { return !error.empty(); }
};

/// One memory transaction: `rows` rows of `rowBytes` bytes, `strideBytes`
/// apart from `addr`. `data` holds the rows packed (rows * rowBytes bytes);
/// when it is null only the timing and the bounds are computed.
struct MemAccess {
  enum Command : uint8_t { Read, Write };
  Command cmd = Read;
  uint64_t addr = 0, rows = 0, rowBytes = 0, strideBytes = 0;
  uint8_t *data = nullptr;
  uint32_t instr = 0; ///< The instruction that issued it.
  /// An untimed operand stream of a compute instruction that runs this many
  /// cycles from now: the SRAM holds the banks it touches for that long
  /// (DMA transfers meanwhile conflict with it). 0: no hold.
  uint64_t holdCycles = 0;
  /// A gather (dma.gather): row r is at rowAddrs[r] (functional mode; null
  /// when timing only) and each row is its own bursts whatever the
  /// addresses (timing::gatherBusBytes), on either DRAM model.
  bool gather = false;
  const std::vector<uint64_t> *rowAddrs = nullptr;
  bool ok = true; ///< Cleared, with `error` set, on an address error.
  std::string error;
  uint64_t bytes() const { return rows * rowBytes; }
};

/// Functional mode: sources an instruction reads as it issues but whose
/// bytes it takes only when it completes (to compute in place, without a
/// staging copy). The target keeps the promise that the bytes are those of
/// the issue: before a write overlaps a part, it copies that part into the
/// lease (the rows packed). A TLM-2.0 direct-memory grant with the
/// invalidation turned into copy-on-write.
struct ReadLease {
  struct Part {
    uint64_t addr = 0, rows = 0, rowBytes = 0, strideBytes = 0;
    bool copied = false;        ///< A write came: the bytes are in `saved`.
    std::vector<uint8_t> saved; ///< rows * rowBytes bytes once copied.
  };
  std::vector<Part> parts;
  /// Adds a part (rows of rowBytes, strideBytes apart from addr).
  void add(uint64_t addr, uint64_t rows, uint64_t rowBytes,
           uint64_t strideBytes) {
    parts.push_back({addr, rows, rowBytes, strideBytes, false, {}});
  }
};

/// A memory target.
class MemIf : public virtual sc_core::sc_interface {
public:
  /// Timed access (TLM-2.0 loosely timed): moves the data, if any, and adds
  /// the access time to `delay`, which the initiator then waits.
  virtual void b_transport(MemAccess &access, sc_core::sc_time &delay) = 0;
  /// Untimed access with the same bounds checks (the units' operand
  /// streams, whose time is part of the unit's own formula).
  virtual void transport_dbg(MemAccess &access) = 0;
  /// Functional mode, in place of `data` (TLM-2.0 direct memory access):
  /// the target's bytes of the access's first row, its rows strideBytes
  /// apart, after transport_dbg's checks (null if they fail, with the error
  /// set, or in timing-only mode). For a Write, the leases the access
  /// overlaps are copied first: the caller writes the rows right away.
  /// Valid until the calling process next waits.
  virtual uint8_t *directPtr(MemAccess &access) = 0;
  /// Registers `lease` until endLease (functional mode; its parts were
  /// checked by earlier accesses).
  virtual void lease(ReadLease &lease) = 0;
  virtual void endLease(ReadLease &lease) = 0;
};

/// A unit that executes instructions.
class ExecIf : public virtual sc_core::sc_interface {
public:
  /// Executes instruction `index`; returns, in the caller's thread, once the
  /// instruction has completed in simulated time.
  virtual void execute(uint32_t index, const arch::Instr &in) = 0;
};

/// Off-chip DRAM: one channel with access latency and peak bandwidth.
/// Transfers serialize on the data bus: a transfer issued at t starts moving
/// data at max(t + latency, bus free) and holds the bus for its data cycles.
class Dram : public sc_core::sc_module, public MemIf {
public:
  sc_core::sc_export<MemIf> target;

  explicit Dram(sc_core::sc_module_name name);
  /// Starts a frame: `image` holds the DRAM contents (empty in timing-only
  /// mode), `sizeBytes` the image size that accesses are checked against.
  void reset(FrameState *frame, std::vector<uint8_t> image, uint64_t sizeBytes);
  const std::vector<uint8_t> &image() const { return image_; }

  void b_transport(MemAccess &access, sc_core::sc_time &delay) override;
  void transport_dbg(MemAccess &access) override;
  uint8_t *directPtr(MemAccess &access) override;
  void lease(ReadLease &lease) override;
  void endLease(ReadLease &lease) override;

private:
  /// A data phase on the bus: [begin, end) absolute cycles, and its NPU.
  struct BusUse {
    uint64_t begin, end;
    uint8_t npu;
  };
  FrameState *frame_ = nullptr;
  std::vector<uint8_t> image_;
  uint64_t size_ = 0;
  uint64_t busFreeCycle_ = 0;   ///< Absolute cycle the data bus is free.
  timing::DramBankState banks_; ///< Detailed model: open rows, directions.
  /// The data phases that may still delay a new access (ending after now),
  /// in bus order: who made an access wait.
  std::deque<BusUse> busUses_;
  std::vector<ReadLease *> leases_; ///< In-flight DMA loads' sources.
};

/// On-chip SRAM: sram_banks banks interleaved every sram_bank_width_bytes,
/// sram_access_cycles latency. Its capacity (sram_bytes) is enforced, and,
/// when the program carries its buffer table, every access must lie inside
/// a buffer allocated to its instruction's layer: otherwise it fails the
/// instruction that issued it. A compute unit's operand streams hold their
/// banks while the instruction runs; a timed (DMA) access to a held bank
/// with sram_ports_per_bank = 1 is a bank conflict and waits
/// (docs/timing-model.md, "SRAM").
class Sram : public sc_core::sc_module, public MemIf {
public:
  sc_core::sc_export<MemIf> target;

  explicit Sram(sc_core::sc_module_name name);
  /// Starts a frame with zeroed contents. Functional mode backs the first
  /// `backedBytes` bytes (the program's sram_bytes_used) with storage.
  void reset(FrameState *frame, uint64_t backedBytes);

  void b_transport(MemAccess &access, sc_core::sc_time &delay) override;
  void transport_dbg(MemAccess &access) override;
  uint8_t *directPtr(MemAccess &access) override;
  void lease(ReadLease &lease) override;
  void endLease(ReadLease &lease) override;

private:
  /// Operand streams of the compute instruction(s) in flight.
  struct Hold {
    uint64_t addr, rows, rowBytes, strideBytes;
    uint64_t end; ///< Absolute cycle the hold ends.
  };
  void move(MemAccess &access);
  bool checkBuffers(MemAccess &access);
  /// Grows the backing store to `end` bytes if needed.
  void back(uint64_t end);
  FrameState *frame_ = nullptr;
  std::vector<uint8_t> store_;
  std::vector<Hold> holds_;
  /// Sources of the compute instruction and DMA stores in flight.
  std::vector<ReadLease *> leases_;
  /// Per layer, its buffers [begin, end) (program with a buffer table).
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> layerBuffers_;
};

/// The DMA engine: a load channel and a store channel (one per queue),
/// each moving one instruction's rows between DRAM and SRAM at a time.
class DmaEngine : public sc_core::sc_module, public ExecIf {
public:
  sc_core::sc_export<ExecIf> exec;
  sc_core::sc_port<MemIf> dram;
  sc_core::sc_port<MemIf> sram;

  explicit DmaEngine(sc_core::sc_module_name name);
  void reset(FrameState *frame) { frame_ = frame; }
  void execute(uint32_t index, const arch::Instr &in) override;

private:
  /// dma.gather: the indices from SRAM, then the table rows they name.
  void gather(uint32_t index, const arch::Instr &in);
  FrameState *frame_ = nullptr;
};

/// The systolic matrix unit (weight-stationary, matrix_rows x
/// matrix_cols): out = a * b (+ acc), timed per fold (SCALE-Sim).
class MatrixUnit : public sc_core::sc_module, public ExecIf {
public:
  sc_core::sc_export<ExecIf> exec;
  sc_core::sc_port<MemIf> sram;

  explicit MatrixUnit(sc_core::sc_module_name name);
  void reset(FrameState *frame) { frame_ = frame; }
  void execute(uint32_t index, const arch::Instr &in) override;

private:
  FrameState *frame_ = nullptr;
};

/// The vector unit: vector_lanes elements per cycle per pass.
class VectorUnit : public sc_core::sc_module, public ExecIf {
public:
  sc_core::sc_export<ExecIf> exec;
  sc_core::sc_port<MemIf> sram;

  explicit VectorUnit(sc_core::sc_module_name name);
  void reset(FrameState *frame) { frame_ = frame; }
  void execute(uint32_t index, const arch::Instr &in) override;

private:
  FrameState *frame_ = nullptr;
};

/// The sequencer: three in-order queues (load, compute, store). The compute
/// queue has one instruction in flight; each DMA queue has up to
/// dma_outstanding_transfers (a descriptor ring: transfer i issues once
/// transfer i - N of its queue has completed). An instruction issues when it
/// is at the head of its queue, its descriptor slot is free and every
/// instruction in its deps has completed; each completion signals a
/// dependency token that wakes the waiting queues.
class Sequencer : public sc_core::sc_module {
public:
  sc_core::sc_port<ExecIf> dma;
  sc_core::sc_port<ExecIf> matrix;
  sc_core::sc_port<ExecIf> vector;

  SC_HAS_PROCESS(Sequencer);
  explicit Sequencer(sc_core::sc_module_name name);
  ~Sequencer() override;
  /// Makes this the sequencer of NPU `npu` of a chip whose NPUs share one
  /// dependency token (`token`, notified when any instruction completes)
  /// and one queue of cross-NPU tokens (`remote`, notified
  /// npu_sync_cycles after a completion). By default a sequencer is NPU 0
  /// with its own tokens.
  void shareTokens(unsigned npu, sc_core::sc_event *token,
                   sc_core::sc_event_queue *remote);
  /// Queues the instructions of `frame->program` that run on this NPU and
  /// starts the queues in the next delta cycle; run sc_start() to execute
  /// them. With `resetRecords`, clears the frame's instruction records
  /// (the first NPU's sequencer does it for all).
  void start(FrameState *frame, bool resetRecords = true);
  /// True when every queue has run to its end (or stopped on an error).
  bool idle() const { return idleQueues_ == arch::kNumQueues; }

private:
  /// One descriptor slot of a DMA queue: a thread that runs the transfers
  /// the queue hands it, one at a time.
  struct Slot {
    sc_core::sc_event go;
    uint32_t index = 0;
    bool pending = false;
  };

  void loadQueue() { runQueue(arch::Queue::Load); }
  void computeQueue() { runQueue(arch::Queue::Compute); }
  void storeQueue() { runQueue(arch::Queue::Store); }
  void runQueue(arch::Queue q);
  void runSlot(arch::Queue q, size_t slot);
  /// Runs instruction `index` on its unit and signals its completion.
  void execute(arch::Queue q, uint32_t index);
  bool depsDone(const arch::Instr &in) const;

  /// Waits for the next dependency token (local or, with several NPUs,
  /// one crossing from another NPU).
  void waitToken();

  FrameState *frame_ = nullptr;
  std::vector<uint32_t> queues_[arch::kNumQueues];
  std::vector<Slot *> slots_[arch::kNumQueues];
  unsigned idleQueues_ = arch::kNumQueues;
  unsigned npu_ = 0;
  bool multiNpu_ = false; ///< The frame's program uses several NPUs.
  sc_core::sc_event frameStart_;
  sc_core::sc_event ownToken_;
  sc_core::sc_event *token_ = &ownToken_;
  sc_core::sc_event_queue *remote_ = nullptr;
};

/// One NPU: its sequencer, DMA engine, SRAM, matrix and vector units.
class Npu : public sc_core::sc_module {
public:
  Sequencer sequencer;
  DmaEngine dma;
  Sram sram;
  MatrixUnit matrix;
  VectorUnit vector;

  /// NPU `index`; its DMA engine reaches `dram`.
  Npu(sc_core::sc_module_name name, unsigned index, Dram &dram,
      sc_core::sc_event *token, sc_core::sc_event_queue *remote);
};

/// The whole chip: arch::Program::kMaxNpus NPUs (a frame runs on the first
/// chip.npus of them) sharing one DRAM.
class Chip : public sc_core::sc_module {
public:
  Dram dram;
  sc_core::sc_event token;        ///< Any instruction completed.
  sc_core::sc_event_queue remote; ///< A token reached another NPU.
  std::vector<std::unique_ptr<Npu>> npus;

  explicit Chip(sc_core::sc_module_name name);
  /// Runs one frame of frame.program to completion (sc_start until no event
  /// is left). `image` is the initial DRAM image (empty: timing only).
  void runFrame(FrameState &frame, std::vector<uint8_t> image);
};

} // namespace tessera::sim

#endif // TESSERA_SIM_MODULES_H
