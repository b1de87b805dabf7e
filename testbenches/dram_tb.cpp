//===- dram_tb.cpp - Testbench of the DRAM module -------------------------===//
//
// Reference model (docs/timing-model.md, "DRAM"): an access of `bus` bytes
// (rows rounded to bursts) issued at t on an idle channel completes at
//   t + L + ceil(bus / (dram_bandwidth_gbps / clock_ghz)),
//   L = ceil(dram_latency_ns * clock_ghz);
// concurrent accesses share the data bus: one issued at t while the bus is
// busy until F starts its data at max(t + L, F). Checked on two chips, plus
// data round trips and the bounds check. The detailed model
// (dram_model = detailed, docs/timing-model.md "DRAM (detailed)") is checked
// against a hand-computed access sequence on a small chip: row hits, misses
// on closed banks (tRCD), row conflicts (tRP + tRCD), read/write
// turnarounds, channels in parallel.
//
//===----------------------------------------------------------------------===//

#include "Testbench.h"

using namespace sc_core;
using namespace tessera;
using namespace tessera::sim;
using tessera::tb::ceilDiv;

namespace {

struct Driver : sc_module {
  sc_port<MemIf> mem;
  tb::Checker &ck;
  FrameState &frame;
  Dram &dram;

  SC_HAS_PROCESS(Driver);
  Driver(sc_module_name n, tb::Checker &ck, FrameState &frame, Dram &dram)
      : sc_module(n), mem("mem"), ck(ck), frame(frame), dram(dram) {
    SC_THREAD(run);
  }

  uint64_t latency() const {
    return uint64_t(
        std::ceil(frame.chip.dram_latency_ns * frame.chip.clock_ghz - 1e-9));
  }
  uint64_t busBytes(uint64_t rows, uint64_t rowBytes, uint64_t stride) const {
    uint64_t burst = frame.chip.dram_burst_bytes;
    if (rows == 1 || stride == rowBytes)
      return ceilDiv(rows * rowBytes, burst) * burst;
    return rows * ceilDiv(rowBytes, burst) * burst;
  }
  uint64_t dataCycles(uint64_t bus) const {
    return uint64_t(std::ceil(double(bus) * frame.chip.clock_ghz /
                                  frame.chip.dram_bandwidth_gbps -
                              1e-9));
  }

  /// One blocking access from the calling thread; returns its cycles.
  uint64_t access(MemAccess::Command cmd, uint64_t addr, uint64_t rows,
                  uint64_t rowBytes, uint64_t stride, uint8_t *data) {
    MemAccess a;
    a.cmd = cmd;
    a.addr = addr;
    a.rows = rows;
    a.rowBytes = rowBytes;
    a.strideBytes = stride;
    a.data = data;
    uint64_t t0 = nowCycles();
    sc_time delay = SC_ZERO_TIME;
    mem->b_transport(a, delay);
    ck.truth(a.ok, "access accepted: " + a.error);
    wait(delay);
    return nowCycles() - t0;
  }

  void scenario(const arch::ChipConfig &chip) {
    frame = FrameState();
    frame.chip = chip;
    frame.originCycle = nowCycles();
    std::vector<uint8_t> image(1 << 20);
    std::mt19937 rng(42);
    for (uint8_t &b : image)
      b = uint8_t(rng());
    std::vector<uint8_t> original = image;
    dram.reset(&frame, image, image.size());
    std::string on = " on " + chip.name;

    // Isolated accesses: contiguous, strided, odd sizes.
    struct Shape {
      uint64_t rows, rowBytes, stride;
    } shapes[] = {{1, 1, 1},         {1, 64, 64},     {1, 1000, 1000},
                  {96, 192, 192},    {96, 192, 4096}, {7, 100, 300},
                  {1, 65536, 65536}, {128, 33, 64}};
    for (const Shape &s : shapes) {
      uint64_t expect =
          latency() + dataCycles(busBytes(s.rows, s.rowBytes, s.stride));
      uint64_t got =
          access(MemAccess::Read, 0, s.rows, s.rowBytes, s.stride, nullptr);
      std::ostringstream what;
      what << "isolated " << s.rows << " x " << s.rowBytes << " stride "
           << s.stride << on;
      ck.equal(got, expect, what.str());
    }

    // Two accesses issued together: the second waits for the bus.
    uint64_t d1 = dataCycles(busBytes(64, 2048, 2048));
    uint64_t d2 = dataCycles(busBytes(32, 2048, 2048));
    uint64_t t0 = nowCycles(), end1 = 0, end2 = 0;
    sc_event done1, done2;
    sc_spawn([&] {
      access(MemAccess::Read, 0, 64, 2048, 2048, nullptr);
      end1 = nowCycles() - t0;
      done1.notify();
    });
    sc_spawn([&] {
      access(MemAccess::Write, 0x40000, 32, 2048, 2048, nullptr);
      end2 = nowCycles() - t0;
      done2.notify();
    });
    wait(done1 & done2);
    ck.equal(std::max(end1, end2), latency() + d1 + d2,
             "concurrent: the later one ends at L + D1 + D2" + on);
    ck.truth(std::min(end1, end2) == latency() + d1 ||
                 std::min(end1, end2) == latency() + d2,
             "concurrent: the earlier one ends at L + its own D" + on);

    // A transfer issued while the bus is busy: starts when the bus frees.
    uint64_t dBig = dataCycles(busBytes(1, 1 << 19, 1 << 19));
    uint64_t dSmall = dataCycles(busBytes(1, 4096, 4096));
    uint64_t late = dBig / 2;
    t0 = nowCycles();
    uint64_t endBig = 0, endSmall = 0;
    sc_spawn([&] {
      access(MemAccess::Read, 0, 1, 1 << 19, 1 << 19, nullptr);
      endBig = nowCycles() - t0;
      done1.notify();
    });
    sc_spawn([&] {
      wait(cyclesToTime(late));
      access(MemAccess::Read, 0, 1, 4096, 4096, nullptr);
      endSmall = nowCycles() - t0;
      done2.notify();
    });
    wait(done1 & done2);
    ck.equal(endBig, latency() + dBig, "busy bus: first transfer" + on);
    ck.equal(endSmall, std::max(late + latency(), latency() + dBig) + dSmall,
             "busy bus: late transfer starts when the bus frees" + on);

    // Data: a strided write then read back.
    std::vector<uint8_t> rows(5 * 40);
    for (size_t i = 0; i < rows.size(); ++i)
      rows[i] = uint8_t(i * 7 + 1);
    access(MemAccess::Write, 0x1000, 5, 40, 100, rows.data());
    std::vector<uint8_t> back(rows.size());
    access(MemAccess::Read, 0x1000, 5, 40, 100, back.data());
    ck.truth(back == rows, "strided write/read round trip" + on);
    const std::vector<uint8_t> &img = dram.image();
    ck.equal(int(img[0x1000 + 100]), int(rows[40]), "row 1 lands at stride");
    ck.equal(int(img[0x1000 + 40]), int(original[0x1000 + 40]),
             "bytes between rows untouched");

    // Bounds: past the image is an error, nothing moves.
    MemAccess bad;
    bad.cmd = MemAccess::Read;
    bad.addr = (1 << 20) - 10;
    bad.rows = 1;
    bad.rowBytes = 20;
    bad.strideBytes = 20;
    sc_time delay = SC_ZERO_TIME;
    mem->b_transport(bad, delay);
    ck.truth(!bad.ok && bad.error.find("outside the 1048576-byte DRAM") !=
                            std::string::npos,
             "out-of-bounds access rejected: " + bad.error);
    ck.truth(delay == SC_ZERO_TIME, "a rejected access takes no time");
  }

  /// The detailed model, by hand. 1 GHz, 64 B/cycle, 64-byte bursts, 2
  /// channels (32 B/cycle each: a burst takes 2 cycles on its channel), 2
  /// banks of 128-byte rows (2 bursts), tRCD 5, tRP 3, tWTR 7, tRTW 4, L 10.
  /// Burst b: channel b % 2, bank (b / 4) % 2, row b / 8.
  void detailed() {
    arch::ChipConfig chip = arch::ChipConfig::reference();
    chip.name = "detailed-2ch";
    chip.dram_model = "detailed";
    chip.clock_ghz = 1;
    chip.dram_bandwidth_gbps = 64;
    chip.dram_latency_ns = 10;
    chip.dram_channels = 2;
    chip.dram_banks = 2;
    chip.dram_row_bytes = 128;
    chip.dram_trcd_ns = 5;
    chip.dram_trp_ns = 3;
    chip.dram_twtr_ns = 7;
    chip.dram_trtw_ns = 4;
    frame = FrameState();
    frame.chip = chip;
    frame.originCycle = nowCycles();
    dram.reset(&frame, {}, 1 << 20);
    struct Step {
      MemAccess::Command cmd;
      uint64_t addr, rows, rowBytes, stride;
      uint64_t cycles, hits, misses, turnarounds;
      const char *what;
    } steps[] = {
        // b0-b3: each channel opens bank 0 row 0 (5) then hits: 2*2 + 5.
        {MemAccess::Read, 0, 1, 256, 256, 10 + 9, 2, 2, 0, "cold read"},
        {MemAccess::Read, 0, 1, 256, 256, 10 + 4, 4, 0, 0, "row hits"},
        // b8, b9: bank 0 row 1 on both channels: conflict 3 + 5, read->write
        // 4: 2 + 8 + 4.
        {MemAccess::Write, 512, 1, 128, 128, 10 + 14, 0, 2, 2,
         "write, row conflict"},
        // b4: channel 0 bank 1 closed (5), write->read 7: 2 + 5 + 7.
        {MemAccess::Read, 256, 1, 64, 64, 10 + 14, 0, 1, 1, "read after write"},
        // b0, b2 (stride 128): channel 0 bank 0 holds row 1: 8, then a hit.
        {MemAccess::Read, 0, 2, 64, 128, 10 + 12, 1, 1, 0, "strided"},
        // 100 bytes at 30: b0 (hit), b1 (channel 1 bank 0 holds row 1:
        // 8, and it last wrote: 7), b2 (hit). Channel 1: 2 + 8 + 7.
        {MemAccess::Read, 30, 1, 100, 100, 10 + 17, 2, 1, 1, "unaligned"},
    };
    uint64_t hits = 0, misses = 0, turns = 0, bus = 0;
    for (const Step &st : steps) {
      uint64_t got =
          access(st.cmd, st.addr, st.rows, st.rowBytes, st.stride, nullptr);
      ck.equal(got, st.cycles, std::string("detailed: ") + st.what);
      hits += st.hits;
      misses += st.misses;
      turns += st.turnarounds;
      ck.equal(frame.dramRowHits, hits, std::string("hits after ") + st.what);
      ck.equal(frame.dramRowMisses, misses,
               std::string("misses after ") + st.what);
      ck.equal(frame.dramTurnarounds, turns,
               std::string("turnarounds after ") + st.what);
    }
    bus = 256 + 256 + 128 + 64 + 128 + 192;
    ck.equal(frame.dramBusBytes, bus, "detailed: burst-aligned bus bytes");
  }

  void run() {
    arch::ChipConfig ref = arch::ChipConfig::reference();
    scenario(ref);
    detailed();
    arch::ChipConfig other = ref;
    other.name = "lpddr5-1.5ghz";
    other.clock_ghz = 1.5;
    other.dram_bandwidth_gbps = 51.2;
    other.dram_latency_ns = 120;
    other.dram_burst_bytes = 32;
    scenario(other);
  }
};

} // namespace

int sc_main(int, char **) {
  tb::quietSystemC();
  tb::Checker ck;
  FrameState frame;
  Dram dram("dram");
  Driver driver("driver", ck, frame, dram);
  driver.mem.bind(dram.target);
  sc_start();
  return ck.finish("dram_tb");
}
