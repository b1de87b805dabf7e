//===- sram_tb.cpp - Testbench of the banked SRAM module ------------------===//
//
// Reference model (docs/timing-model.md, "SRAM"): an access of `bytes`
// takes sram_access_cycles + ceil(bytes / (sram_banks *
// sram_bank_width_bytes)) cycles; untimed (transport_dbg) accesses take none.
// The capacity sram_bytes is enforced. Checked on three bank layouts, with
// a random write/read pattern (fixed seed).
//
// Bank conflicts (docs/timing-model.md, "SRAM"): an untimed access with
// holdCycles (a compute unit's operand stream) holds the banks it touches
// for that many cycles; a timed (DMA) access meanwhile, with
// sram_ports_per_bank = 1, takes max over the shared banks of its beats
// there extra cycles. The reference model counts beats byte by byte, without
// the module's closed form; a hand-computed case pins the formula. The
// buffer table: an access outside its layer's buffers is an error naming
// the layer.
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
  Sram &sram;

  SC_HAS_PROCESS(Driver);
  Driver(sc_module_name n, tb::Checker &ck, FrameState &frame, Sram &sram)
      : sc_module(n), mem("mem"), ck(ck), frame(frame), sram(sram) {
    SC_THREAD(run);
  }

  MemAccess make(MemAccess::Command cmd, uint64_t addr, uint64_t rows,
                 uint64_t rowBytes, uint64_t stride, uint8_t *data) {
    MemAccess a;
    a.cmd = cmd;
    a.addr = addr;
    a.rows = rows;
    a.rowBytes = rowBytes;
    a.strideBytes = stride;
    a.data = data;
    return a;
  }

  uint64_t timed(MemAccess a) {
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
    frame.functional = true;
    frame.originCycle = nowCycles();
    sram.reset(&frame, chip.sram_bytes);
    std::string on = " on " + chip.name;
    uint64_t perCycle = uint64_t(chip.sram_banks) * chip.sram_bank_width_bytes;

    for (uint64_t bytes :
         {1ull, 63ull, 64ull, 2047ull, 2048ull, 2049ull, 18432ull, 65536ull}) {
      uint64_t expect = chip.sram_access_cycles + ceilDiv(bytes, perCycle);
      std::vector<uint8_t> data(bytes, 0xab);
      uint64_t got =
          timed(make(MemAccess::Write, 0, 1, bytes, bytes, data.data()));
      ck.equal(got, expect, std::to_string(bytes) + "-byte access" + on);
    }

    // Random strided writes and reads against a shadow copy.
    std::mt19937 rng(7);
    std::vector<uint8_t> shadow(chip.sram_bytes, 0);
    sram.reset(&frame, chip.sram_bytes);
    for (int i = 0; i < 200; ++i) {
      uint64_t rows = 1 + rng() % 8, rowBytes = 1 + rng() % 300;
      uint64_t stride = rowBytes + rng() % 64;
      uint64_t span = (rows - 1) * stride + rowBytes;
      uint64_t addr = rng() % (chip.sram_bytes - span);
      std::vector<uint8_t> data(rows * rowBytes);
      for (uint8_t &b : data)
        b = uint8_t(rng());
      MemAccess w =
          make(MemAccess::Write, addr, rows, rowBytes, stride, data.data());
      mem->transport_dbg(w);
      for (uint64_t r = 0; r < rows; ++r)
        std::copy(data.begin() + r * rowBytes,
                  data.begin() + (r + 1) * rowBytes,
                  shadow.begin() + addr + r * stride);
      // Read back a random window.
      uint64_t rAddr = rng() % (chip.sram_bytes - 512);
      std::vector<uint8_t> back(512);
      MemAccess rd = make(MemAccess::Read, rAddr, 4, 128, 128, back.data());
      mem->transport_dbg(rd);
      ck.truth(std::equal(back.begin(), back.end(), shadow.begin() + rAddr),
               "read matches the shadow copy" + on);
    }

    // Capacity: the last byte is fine, one past it is an error naming it.
    uint8_t byte = 1;
    MemAccess last =
        make(MemAccess::Write, chip.sram_bytes - 1, 1, 1, 1, &byte);
    mem->transport_dbg(last);
    ck.truth(last.ok, "last byte accessible" + on);
    MemAccess past =
        make(MemAccess::Write, chip.sram_bytes - 100, 2, 64, 64, nullptr);
    sc_time delay = SC_ZERO_TIME;
    mem->b_transport(past, delay);
    ck.truth(!past.ok && past.error.find("outside the " +
                                         std::to_string(chip.sram_bytes) +
                                         "-byte SRAM") != std::string::npos,
             "access past capacity rejected: " + past.error);
    // Overflowing 64-bit address arithmetic is also rejected.
    MemAccess wrap = make(MemAccess::Read, ~0ull - 10, 2, 64, 64, nullptr);
    mem->transport_dbg(wrap);
    ck.truth(!wrap.ok, "wrapping access rejected" + on);
  }

  /// Reference model of a conflict: per bank, the beats (bank-width blocks
  /// each row touches) counted address by address.
  static std::vector<uint64_t> beatsByBank(const arch::ChipConfig &c,
                                           uint64_t addr, uint64_t rows,
                                           uint64_t rowBytes, uint64_t stride) {
    std::vector<uint64_t> beats(c.sram_banks, 0);
    for (uint64_t r = 0; r < rows; ++r) {
      uint64_t lastBlock = ~0ull;
      for (uint64_t x = addr + r * stride; x < addr + r * stride + rowBytes;
           ++x) {
        uint64_t block = x / c.sram_bank_width_bytes;
        if (block != lastBlock)
          ++beats[block % c.sram_banks];
        lastBlock = block;
      }
    }
    return beats;
  }

  /// Holds the banks of (addr, rows, rowBytes, stride) for `cycles`.
  void hold(uint64_t addr, uint64_t rows, uint64_t rowBytes, uint64_t stride,
            uint64_t cycles) {
    MemAccess h = make(MemAccess::Read, addr, rows, rowBytes, stride, nullptr);
    h.holdCycles = cycles;
    mem->transport_dbg(h);
    ck.truth(h.ok, "hold accepted: " + h.error);
  }

  void conflicts() {
    arch::ChipConfig chip = arch::ChipConfig::reference();
    chip.name = "4x16B";
    chip.sram_bytes = 1 << 16;
    chip.sram_banks = 4;
    chip.sram_bank_width_bytes = 16;
    chip.sram_access_cycles = 2;
    frame = FrameState();
    frame.chip = chip;
    frame.functional = false;
    frame.originCycle = nowCycles();
    sram.reset(&frame, chip.sram_bytes);

    // By hand: the unit holds banks 0 and 1 (32 bytes at 0) for 100 cycles;
    // a 128-byte DMA write at 0 sends 2 beats to each of the 4 banks: 4
    // beats wait (banks 0, 1), the SRAM side takes 2 + ceil(128 / 64) + 2.
    hold(0, 1, 32, 32, 100);
    ck.equal(timed(make(MemAccess::Write, 0, 1, 128, 128, nullptr)), 6ull,
             "128 bytes against banks 0-1 held (by hand)");
    ck.equal(frame.sramConflictBeats, 4ull, "4 beats waited (by hand)");
    ck.equal(frame.sramConflictCycles, 2ull, "2 cycles added (by hand)");
    // Strided on bank 0 only (stride = banks x width): 4 beats on bank 0.
    ck.equal(timed(make(MemAccess::Write, 0, 4, 16, 64, nullptr)), 2ull + 1 + 4,
             "4 rows on bank 0, held (by hand)");
    // Banks 2 and 3 only: no conflict.
    ck.equal(timed(make(MemAccess::Write, 32, 1, 32, 32, nullptr)), 2ull + 1,
             "banks 2-3, not held (by hand)");
    // After the hold ends (100 cycles after it began): no conflict.
    wait(cyclesToTime(100));
    ck.equal(timed(make(MemAccess::Write, 0, 1, 128, 128, nullptr)), 4ull,
             "hold expired (by hand)");
    // Two ports per bank: the DMA never waits for the unit.
    frame.chip.sram_ports_per_bank = 2;
    hold(0, 1, 64, 64, 50);
    ck.equal(timed(make(MemAccess::Write, 0, 1, 128, 128, nullptr)), 4ull,
             "two ports per bank (by hand)");
    frame.chip.sram_ports_per_bank = 1;
    wait(cyclesToTime(100));

    // Random holds and DMA accesses against the reference model.
    std::mt19937 rng(11);
    for (int i = 0; i < 300; ++i) {
      uint64_t beforeBeats = frame.sramConflictBeats;
      uint64_t beforeCycles = frame.sramConflictCycles;
      std::vector<uint8_t> held(chip.sram_banks, 0);
      int holds = int(rng() % 3);
      for (int h = 0; h < holds; ++h) {
        uint64_t rows = 1 + rng() % 4, rowBytes = 1 + rng() % 40;
        uint64_t stride = rowBytes + rng() % 80, addr = rng() % 4096;
        hold(addr, rows, rowBytes, stride, 10 + rng() % 50);
        std::vector<uint64_t> b =
            beatsByBank(chip, addr, rows, rowBytes, stride);
        for (size_t k = 0; k < b.size(); ++k)
          held[k] |= b[k] > 0;
      }
      uint64_t rows = 1 + rng() % 6, rowBytes = 1 + rng() % 100;
      uint64_t stride = rowBytes + rng() % 100, addr = rng() % 8192;
      std::vector<uint64_t> beats =
          beatsByBank(chip, addr, rows, rowBytes, stride);
      uint64_t waitBeats = 0, extra = 0;
      for (size_t k = 0; k < beats.size(); ++k)
        if (held[k]) {
          waitBeats += beats[k];
          extra = std::max(extra, beats[k]);
        }
      uint64_t expect =
          chip.sram_access_cycles + ceilDiv(rows * rowBytes, 64) + extra;
      std::string what = "random conflict " + std::to_string(i);
      ck.equal(
          timed(make(MemAccess::Write, addr, rows, rowBytes, stride, nullptr)),
          expect, what + " cycles");
      ck.equal(frame.sramConflictBeats - beforeBeats, waitBeats,
               what + " beats");
      ck.equal(frame.sramConflictCycles - beforeCycles, extra,
               what + " added cycles");
      wait(cyclesToTime(100)); // every hold ends
    }
  }

  void buffers() {
    arch::ChipConfig chip = arch::ChipConfig::reference();
    chip.sram_bytes = 4096;
    arch::Program prog;
    prog.layers = {"first", "second"};
    prog.sramBytesUsed = 1024;
    prog.instrs.resize(2);
    prog.instrs[1].layer = 1;
    prog.hasSramBuffers = true;
    prog.sramBuffers = {{0, 0, 256}, {0, 512, 256}, {1, 256, 512}};
    frame = FrameState();
    frame.chip = chip;
    frame.program = &prog;
    frame.functional = true;
    frame.originCycle = nowCycles();
    sram.reset(&frame, chip.sram_bytes);
    std::vector<uint8_t> data(256, 1);
    auto access = [&](uint32_t instr, uint64_t addr, uint64_t rows,
                      uint64_t rowBytes, uint64_t stride) {
      MemAccess a =
          make(MemAccess::Write, addr, rows, rowBytes, stride, data.data());
      a.instr = instr;
      mem->transport_dbg(a);
      return a;
    };
    ck.truth(access(0, 0, 1, 256, 256).ok, "whole first buffer of layer 0");
    ck.truth(access(0, 512, 2, 64, 128).ok, "strided inside a buffer");
    ck.truth(access(1, 256, 2, 128, 384).ok, "layer 1 inside its buffer");
    MemAccess across = access(0, 200, 1, 100, 100);
    ck.truth(!across.ok &&
                 across.error.find("outside the SRAM buffers of layer 0 "
                                   "'first' (0x0..0x100, 0x200..0x300)") !=
                     std::string::npos,
             "access across a buffer's end rejected: " + across.error);
    MemAccess other = access(1, 0, 1, 16, 16);
    ck.truth(!other.ok &&
                 other.error.find("layer 1 'second'") != std::string::npos,
             "another layer's buffer rejected: " + other.error);
    sc_time delay = SC_ZERO_TIME;
    MemAccess timedBad =
        make(MemAccess::Read, 768, 1, 64, 64, nullptr); // instr 0
    mem->b_transport(timedBad, delay);
    ck.truth(!timedBad.ok, "timed access outside the buffers rejected");
  }

  void run() {
    conflicts();
    buffers();
    arch::ChipConfig chip = arch::ChipConfig::reference();
    chip.name = "32x64B";
    chip.sram_bytes = 1 << 20;
    scenario(chip);
    chip.name = "8x16B-slow";
    chip.sram_banks = 8;
    chip.sram_bank_width_bytes = 16;
    chip.sram_access_cycles = 5;
    scenario(chip);
    chip.name = "1x64B-zero-latency";
    chip.sram_banks = 1;
    chip.sram_bank_width_bytes = 64;
    chip.sram_access_cycles = 0;
    chip.sram_bytes = 100000;
    scenario(chip);
  }
};

} // namespace

int sc_main(int, char **) {
  tb::quietSystemC();
  tb::Checker ck;
  FrameState frame;
  Sram sram("sram");
  Driver driver("driver", ck, frame, sram);
  driver.mem.bind(sram.target);
  sc_start();
  return ck.finish("sram_tb");
}
