//===- sim-bench.cpp - How fast the chip model simulates a frame ----------===//
//
//   sim-bench [layers] [tiles-per-layer]
//
// Builds a synthetic tiled program shaped like a transformer's projections
// (per tile: load an activation tile and a weight tile, an FP16 matmul
// accumulating over K, a GELU, a store; double-buffered through two SRAM
// slots), simulates one frame in timing-only and in functional mode, and
// prints the simulated latency and the wall-clock speed. A benchmark that
// prints figures, not a timed test.
//
//===----------------------------------------------------------------------===//

#include "tessera/Sim/Simulator.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Program.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace tessera;

namespace {

arch::Program buildProgram(unsigned layers, unsigned tiles) {
  const uint32_t T = 96;                // tile edge (one array fold)
  const uint32_t tileBytes = T * T * 2; // FP16
  arch::Program p;
  p.chipName = "reference";
  arch::TensorInfo x{"x",
                     arch::TensorKind::Input,
                     arch::DType::F16,
                     {int64_t(tiles) * T, T},
                     0,
                     {}};
  arch::TensorInfo w{"w",
                     arch::TensorKind::Weight,
                     arch::DType::F16,
                     {int64_t(T), T},
                     x.byteSize(),
                     {}};
  w.data.assign(w.byteSize(), 0x3c); // small FP16 values
  arch::TensorInfo y{"y",
                     arch::TensorKind::Output,
                     arch::DType::F16,
                     {int64_t(tiles) * T, T},
                     w.dramAddr + w.byteSize(),
                     {}};
  p.tensors = {x, w, y};
  p.dramBytes = y.dramAddr + y.byteSize();
  // SRAM: weight at 0, two slots of (a, out f32, gelu) after it.
  const uint64_t slotBytes = tileBytes + T * T * 4 + tileBytes;
  p.sramBytesUsed = tileBytes + 2 * slotBytes;
  for (unsigned l = 0; l < layers; ++l) {
    p.layers.push_back("layer" + std::to_string(l));
    arch::Instr lw;
    lw.op = arch::Opcode::DmaLoad;
    lw.addr[0] = w.dramAddr;
    lw.dims[0] = T;
    lw.dims[1] = T * 2;
    lw.strides[0] = lw.strides[1] = T * 2;
    lw.layer = l;
    if (!p.instrs.empty())
      lw.deps = {uint32_t(p.instrs.size() - 1)};
    p.instrs.push_back(lw);
    uint32_t wIdx = uint32_t(p.instrs.size() - 1);
    std::vector<uint32_t> lastUse(2, wIdx);
    for (unsigned t = 0; t < tiles; ++t) {
      uint64_t slot = tileBytes + (t % 2) * slotBytes;
      arch::Instr la = lw;
      la.addr[0] = uint64_t(t) * tileBytes;
      la.addr[1] = slot;
      la.deps = {lastUse[t % 2]}; // the slot's previous store is done
      p.instrs.push_back(la);
      uint32_t laIdx = uint32_t(p.instrs.size() - 1);
      arch::Instr mm;
      mm.op = arch::Opcode::MatMul;
      mm.dtype = arch::DType::F16;
      mm.outDtype = arch::DType::F32;
      mm.dims[0] = mm.dims[1] = mm.dims[2] = T;
      mm.addr[0] = slot;
      mm.addr[1] = 0;
      mm.addr[2] = slot + tileBytes;
      mm.strides[0] = mm.strides[1] = mm.strides[2] = T;
      mm.layer = l;
      mm.deps = {laIdx, wIdx};
      p.instrs.push_back(mm);
      arch::Instr g;
      g.op = arch::Opcode::VecGelu;
      g.dtype = arch::DType::F32;
      g.outDtype = arch::DType::F16;
      g.dims[0] = g.dims[1] = T;
      g.addr[0] = slot + tileBytes;
      g.addr[2] = slot + tileBytes + T * T * 4;
      g.strides[0] = g.strides[2] = T;
      g.layer = l;
      g.deps = {uint32_t(p.instrs.size() - 1)};
      p.instrs.push_back(g);
      arch::Instr st = lw;
      st.op = arch::Opcode::DmaStore;
      st.addr[0] = y.dramAddr + uint64_t(t) * tileBytes;
      st.addr[1] = g.addr[2];
      st.deps = {uint32_t(p.instrs.size() - 1)};
      p.instrs.push_back(st);
      lastUse[t % 2] = uint32_t(p.instrs.size() - 1);
    }
  }
  return p;
}

} // namespace

int main(int argc, char **argv) {
  unsigned layers = argc > 1 ? unsigned(std::atoi(argv[1])) : 40;
  unsigned tiles = argc > 2 ? unsigned(std::atoi(argv[2])) : 64;
  if (layers == 0 || tiles == 0) {
    std::fprintf(stderr, "usage: sim-bench [layers] [tiles-per-layer]\n");
    return 1;
  }
  arch::Program prog = buildProgram(layers, tiles);
  prog.verify("sim-bench");
  arch::ChipConfig chip = arch::ChipConfig::reference();
  std::map<std::string, std::vector<float>> inputs = {
      {"x", std::vector<float>(prog.findTensor("x")->numElements(), 0.5f)}};
  std::printf("synthetic program: %u layers x %u tiles = %zu instructions\n",
              layers, tiles, prog.instrs.size());
  for (bool functional : {false, true}) {
    sim::SimOptions opts;
    opts.functional = functional;
    auto t0 = std::chrono::steady_clock::now();
    sim::SimResult r = sim::simulateFrame(prog, chip, inputs, opts);
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    std::printf("%-11s %12llu cycles = %8.4f ms simulated, %7.3f s wall, "
                "%10.0f instructions/s, matrix utilization %.1f%%\n",
                functional ? "functional" : "timing-only",
                (unsigned long long)r.totalCycles, r.frameMs, s,
                double(prog.instrs.size()) / s, 100 * r.matrixUtilization);
  }
  return 0;
}
