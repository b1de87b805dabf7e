//===- sram_tb.cpp - Testbench of the banked SRAM module ------------------===//
//
// Reference model (docs/timing-model.md, "SRAM"): an access of `bytes`
// takes sram_access_cycles + ceil(bytes / (sram_banks *
// sram_bank_width_bytes)) cycles; untimed (transport_dbg) accesses take none.
// The capacity sram_bytes is enforced. Checked on three bank layouts, with
// a random write/read pattern (fixed seed).
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

  void run() {
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
