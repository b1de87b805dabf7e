//===- dma_tb.cpp - Testbench of the DMA engine ---------------------------===//
//
// Reference model (docs/timing-model.md, "DMA"): a dma.load or dma.store of
// rows x rowBytes on an idle chip takes
//   max(L + ceil(bus / dram_bytes_per_cycle),
//       sram_access_cycles + ceil(rows * rowBytes / sram_bytes_per_cycle)),
// and a load and a store issued together share the DRAM data bus. The
// bytes land where the strides say. A dma.gather of n rows takes
//   sram_cycles(4 n) + max(L + ceil(n * roundup(rowBytes, burst) / B),
//                          sram_cycles(n * rowBytes))
// and lands table row idx[r] (idx[r] + rows when negative) at SRAM row r; an
// index outside [-rows, rows) fails the instruction. Random shapes with a
// fixed seed.
//
//===----------------------------------------------------------------------===//

#include "Testbench.h"

#include <cstring>

using namespace sc_core;
using namespace tessera;
using namespace tessera::sim;
using tessera::tb::ceilDiv;

namespace {

struct Bench : sc_module {
  sc_port<ExecIf> dma;
  tb::Checker &ck;
  FrameState &frame;
  Dram &dram;
  Sram &sram;

  SC_HAS_PROCESS(Bench);
  Bench(sc_module_name n, tb::Checker &ck, FrameState &frame, Dram &dram,
        Sram &sram)
      : sc_module(n), dma("dma"), ck(ck), frame(frame), dram(dram), sram(sram) {
    SC_THREAD(run);
  }

  uint64_t dramSide(uint64_t rows, uint64_t rowBytes, uint64_t stride) {
    const arch::ChipConfig &c = frame.chip;
    uint64_t burst = c.dram_burst_bytes;
    uint64_t bus = (rows == 1 || stride == rowBytes)
                       ? ceilDiv(rows * rowBytes, burst) * burst
                       : rows * ceilDiv(rowBytes, burst) * burst;
    return uint64_t(std::ceil(c.dram_latency_ns * c.clock_ghz - 1e-9)) +
           uint64_t(std::ceil(
               double(bus) * c.clock_ghz / c.dram_bandwidth_gbps - 1e-9));
  }
  uint64_t sramSide(uint64_t bytes) {
    const arch::ChipConfig &c = frame.chip;
    return c.sram_access_cycles +
           ceilDiv(bytes, uint64_t(c.sram_banks) * c.sram_bank_width_bytes);
  }

  arch::Instr dmaInstr(arch::Opcode op, uint64_t dramAddr, uint64_t sramAddr,
                       uint32_t rows, uint32_t rowBytes, uint32_t dramStride,
                       uint32_t sramStride) {
    arch::Instr in;
    in.op = op;
    in.addr[0] = dramAddr;
    in.addr[1] = sramAddr;
    in.dims[0] = rows;
    in.dims[1] = rowBytes;
    in.strides[0] = dramStride;
    in.strides[1] = sramStride;
    return in;
  }

  uint64_t run1(uint32_t index, const arch::Instr &in) {
    uint64_t t0 = nowCycles();
    dma->execute(index, in);
    ck.truth(!frame.failed(), "no error: " + frame.error);
    return nowCycles() - t0;
  }

  void reset(const arch::ChipConfig &chip, std::vector<uint8_t> image) {
    frame = FrameState();
    frame.chip = chip;
    frame.functional = true;
    frame.originCycle = nowCycles();
    uint64_t size = image.size();
    dram.reset(&frame, std::move(image), size);
    sram.reset(&frame, 1 << 20);
  }

  void scenario(const arch::ChipConfig &chip) {
    std::string on = " on " + chip.name;
    std::mt19937 rng(1234);
    std::vector<uint8_t> image(1 << 20);
    for (uint8_t &b : image)
      b = uint8_t(rng());
    reset(chip, image);

    for (int i = 0; i < 40; ++i) {
      uint32_t rows = 1 + rng() % 64, rowBytes = 1 + rng() % 1024;
      uint32_t dStride = rowBytes + (rng() % 2 ? 0 : rng() % 512);
      uint32_t sStride = rowBytes + (rng() % 2 ? 0 : rng() % 128);
      uint64_t dramAddr = rng() % (image.size() / 2);
      uint64_t sramAddr = rng() % (1 << 19);
      arch::Instr load = dmaInstr(arch::Opcode::DmaLoad, dramAddr, sramAddr,
                                  rows, rowBytes, dStride, sStride);
      uint64_t expect = std::max(dramSide(rows, rowBytes, dStride),
                                 sramSide(uint64_t(rows) * rowBytes));
      std::ostringstream what;
      what << "load " << rows << " x " << rowBytes << " strides " << dStride
           << "/" << sStride << on;
      ck.equal(run1(uint32_t(i), load), expect, what.str());

      // Store it back elsewhere in DRAM, contiguously; compare bytes.
      uint64_t dst = image.size() / 2 + rng() % (image.size() / 4);
      arch::Instr store = dmaInstr(arch::Opcode::DmaStore, dst, sramAddr, rows,
                                   rowBytes, rowBytes, sStride);
      ck.equal(run1(uint32_t(i), store),
               std::max(dramSide(rows, rowBytes, rowBytes),
                        sramSide(uint64_t(rows) * rowBytes)),
               "store back" + on);
      bool same = true;
      for (uint32_t r = 0; r < rows; ++r)
        same = same &&
               std::equal(image.begin() + dramAddr + r * dStride,
                          image.begin() + dramAddr + r * dStride + rowBytes,
                          dram.image().begin() + dst + r * rowBytes);
      ck.truth(same, "strided load then contiguous store moves the bytes" + on);
    }

    // A load and a store issued together contend for the DRAM bus.
    arch::Instr load =
        dmaInstr(arch::Opcode::DmaLoad, 0, 0, 64, 2048, 2048, 2048);
    arch::Instr store = dmaInstr(arch::Opcode::DmaStore, 1 << 19, 0x40000, 16,
                                 2048, 2048, 2048);
    uint64_t L =
        uint64_t(std::ceil(chip.dram_latency_ns * chip.clock_ghz - 1e-9));
    uint64_t dLoad = dramSide(64, 2048, 2048) - L;
    uint64_t dStore = dramSide(16, 2048, 2048) - L;
    uint64_t t0 = nowCycles(), endLoad = 0, endStore = 0;
    sc_event done1, done2;
    sc_spawn([&] {
      dma->execute(0, load);
      endLoad = nowCycles() - t0;
      done1.notify();
    });
    sc_spawn([&] {
      dma->execute(1, store);
      endStore = nowCycles() - t0;
      done2.notify();
    });
    wait(done1 & done2);
    // The later DRAM data phase ends at L + D(load) + D(store); each side's
    // SRAM port is its own, so an SRAM-bound transfer ends at its SRAM time.
    ck.equal(std::max(endLoad, endStore),
             std::max({L + dLoad + dStore, sramSide(64 * 2048),
                       sramSide(16 * 2048)}),
             "load and store together: L + D(load) + D(store)" + on);
    ck.equal(frame.loadBusyCycles > 0 && frame.storeBusyCycles > 0, true,
             "busy cycles counted");

    // dma.gather: int32 indices in SRAM pick rows of a DRAM table.
    reset(chip, image);
    for (int i = 0; i < 30; ++i) {
      uint32_t tableRows = 1 + rng() % 200, rowBytes = 1 + rng() % 300;
      uint32_t dStride = rowBytes + (rng() % 2 ? 0 : rng() % 64);
      uint32_t sStride = rowBytes + (rng() % 2 ? 0 : rng() % 32);
      uint32_t n = 1 + rng() % 80;
      uint64_t table = rng() % (image.size() / 2);
      std::vector<int32_t> idx(n);
      for (int32_t &v : idx)
        v = int32_t(rng() % (2 * tableRows)) - int32_t(tableRows);
      uint64_t idxAddr = 0x80000 + 4 * (rng() % 1024);
      std::vector<uint8_t> idxBytes(4 * n);
      std::memcpy(idxBytes.data(), idx.data(), 4 * n);
      MemAccess w;
      w.cmd = MemAccess::Write;
      w.addr = idxAddr;
      w.rows = 1;
      w.rowBytes = w.strideBytes = 4 * n;
      w.data = idxBytes.data();
      sram.transport_dbg(w);
      uint64_t sramAddr = rng() % (1 << 18);
      arch::Instr g = dmaInstr(arch::Opcode::DmaGather, table, sramAddr, n,
                               rowBytes, dStride, sStride);
      g.addr[2] = idxAddr;
      g.dims[2] = tableRows;
      uint64_t burst = chip.dram_burst_bytes;
      uint64_t L =
          uint64_t(std::ceil(chip.dram_latency_ns * chip.clock_ghz - 1e-9));
      uint64_t bus = uint64_t(n) * ceilDiv(rowBytes, burst) * burst;
      uint64_t dramT = L + uint64_t(std::ceil(double(bus) * chip.clock_ghz /
                                                  chip.dram_bandwidth_gbps -
                                              1e-9));
      uint64_t expect = sramSide(4 * uint64_t(n)) +
                        std::max(dramT, sramSide(uint64_t(n) * rowBytes));
      std::ostringstream what;
      what << "gather " << n << " of " << tableRows << " rows x " << rowBytes
           << " strides " << dStride << "/" << sStride << on;
      ck.equal(run1(uint32_t(i), g), expect, what.str());
      std::vector<uint8_t> got(uint64_t(n) * rowBytes);
      MemAccess rd;
      rd.addr = sramAddr;
      rd.rows = n;
      rd.rowBytes = rowBytes;
      rd.strideBytes = sStride;
      rd.data = got.data();
      sram.transport_dbg(rd);
      bool same = true;
      for (uint32_t r = 0; r < n; ++r) {
        int64_t row = idx[r] < 0 ? idx[r] + int64_t(tableRows) : idx[r];
        auto from = dram.image().begin() + table + row * dStride;
        same = same && std::equal(from, from + rowBytes,
                                  got.begin() + uint64_t(r) * rowBytes);
      }
      ck.truth(same, "gathered rows are the indexed table rows" + on);
    }
    // An index outside [-rows, rows) fails the gather, naming it.
    {
      int32_t bad[2] = {3, 10};
      MemAccess w;
      w.cmd = MemAccess::Write;
      w.addr = 0x80000;
      w.rows = 1;
      w.rowBytes = w.strideBytes = 8;
      w.data = reinterpret_cast<uint8_t *>(bad);
      sram.transport_dbg(w);
      arch::Instr g = dmaInstr(arch::Opcode::DmaGather, 0, 0, 2, 16, 16, 16);
      g.addr[2] = 0x80000;
      g.dims[2] = 10;
      dma->execute(5, g);
      ck.truth(frame.failed() &&
                   frame.error.find("instruction 5 (dma.gather)") !=
                       std::string::npos &&
                   frame.error.find("index 10 (position 1) is outside the "
                                    "10-row table") != std::string::npos,
               "out-of-range gather index names it: " + frame.error);
    }

    // An SRAM destination past the capacity fails the instruction.
    arch::ChipConfig small = chip;
    small.sram_bytes = 4096;
    reset(small, image);
    arch::Instr bad = dmaInstr(arch::Opcode::DmaLoad, 0, 4000, 2, 64, 64, 64);
    dma->execute(7, bad);
    ck.truth(frame.failed() &&
                 frame.error.find("instruction 7 (dma.load) on the DMA load "
                                  "channel") != std::string::npos &&
                 frame.error.find("outside the 4096-byte SRAM") !=
                     std::string::npos,
             "SRAM overflow names the instruction: " + frame.error);
  }

  void run() {
    arch::ChipConfig ref = arch::ChipConfig::reference();
    scenario(ref);
    // A chip whose SRAM side is the bottleneck for large transfers.
    arch::ChipConfig narrow = ref;
    narrow.name = "narrow-sram";
    narrow.sram_banks = 1;
    narrow.sram_bank_width_bytes = 16;
    narrow.dram_bandwidth_gbps = 256;
    narrow.dram_latency_ns = 20;
    scenario(narrow);
  }
};

} // namespace

int sc_main(int, char **) {
  tb::quietSystemC();
  tb::Checker ck;
  FrameState frame;
  Dram dram("dram");
  Sram sram("sram");
  DmaEngine dma("dma");
  dma.dram.bind(dram.target);
  dma.sram.bind(sram.target);
  dma.reset(&frame);
  Bench bench("bench", ck, frame, dram, sram);
  bench.dma.bind(dma.exec);
  sc_start();
  return ck.finish("dma_tb");
}
