//===- matrix_unit_tb.cpp - Testbench of the systolic matrix unit ---------===//
//
// Reference model (docs/timing-model.md, "Matrix unit", SCALE-Sim's
// weight-stationary formula): an M x K x N matmul on an R x C array takes
//   ceil(K / R) * ceil(N / C) * (2R + C + M*d - 2)
// cycles, d = matrix_fp16_rate_divisor for FP16 inputs and 1 for INT8. The
// values are checked against a double-precision triple loop on the same
// rounded inputs (FP16/INT8 products are exact in FP32; only the FP32
// accumulation order differs). Random shapes and flags, fixed seed, on the
// reference 96 x 96 array and a small 8 x 16 one.
//
//===----------------------------------------------------------------------===//

#include "Testbench.h"

#include <Eigen/Core>

#include <cstring>

using namespace sc_core;
using namespace tessera;
using namespace tessera::sim;
using arch::DType;
using tessera::tb::ceilDiv;

namespace {

/// Stores `v` as `t` at p; returns the value the chip holds.
double put(uint8_t *p, DType t, double v) {
  switch (t) {
  case DType::F16: {
    Eigen::half h(static_cast<float>(v));
    uint16_t bits = Eigen::numext::bit_cast<uint16_t>(h);
    std::memcpy(p, &bits, 2);
    return double(float(h));
  }
  case DType::I8: {
    int8_t i = int8_t(std::lround(v));
    *p = uint8_t(i);
    return i;
  }
  case DType::F32: {
    float f = float(v);
    std::memcpy(p, &f, 4);
    return f;
  }
  case DType::I32:
    break;
  }
  return 0;
}

struct Bench : sc_module {
  sc_port<ExecIf> unit;
  sc_port<MemIf> mem;
  tb::Checker &ck;
  FrameState &frame;
  Sram &sram;

  SC_HAS_PROCESS(Bench);
  Bench(sc_module_name n, tb::Checker &ck, FrameState &frame, Sram &sram)
      : sc_module(n), unit("unit"), mem("mem"), ck(ck), frame(frame),
        sram(sram) {
    SC_THREAD(run);
  }

  /// Writes a rows x cols matrix of random values as `t` at addr (row
  /// stride `stride` elements); returns the values as held.
  std::vector<double> fill(std::mt19937 &rng, uint64_t addr, uint64_t rows,
                           uint64_t cols, uint64_t stride, DType t) {
    unsigned eb = arch::dtypeBytes(t);
    std::vector<uint8_t> packed(rows * cols * eb);
    std::vector<double> held(rows * cols);
    std::uniform_real_distribution<double> dist(-1, 1);
    for (uint64_t i = 0; i < rows * cols; ++i)
      held[i] = put(packed.data() + i * eb, t,
                    t == DType::I8 ? std::round(dist(rng) * 100) : dist(rng));
    MemAccess a;
    a.cmd = MemAccess::Write;
    a.addr = addr;
    a.rows = rows;
    a.rowBytes = cols * eb;
    a.strideBytes = stride * eb;
    a.data = packed.data();
    mem->transport_dbg(a);
    return held;
  }

  std::vector<float> readF32(uint64_t addr, uint64_t rows, uint64_t cols) {
    std::vector<float> out(rows * cols);
    MemAccess a;
    a.cmd = MemAccess::Read;
    a.addr = addr;
    a.rows = rows;
    a.rowBytes = cols * 4;
    a.strideBytes = cols * 4;
    a.data = reinterpret_cast<uint8_t *>(out.data());
    mem->transport_dbg(a);
    return out;
  }

  void scenario(const arch::ChipConfig &chip) {
    frame = FrameState();
    frame.chip = chip;
    frame.functional = true;
    frame.originCycle = nowCycles();
    sram.reset(&frame, chip.sram_bytes);
    std::string on = " on " + chip.name;
    std::mt19937 rng(99);
    const uint64_t R = chip.matrix_rows, C = chip.matrix_cols;

    for (int i = 0; i < 30; ++i) {
      uint32_t m = 1 + rng() % 130, k = 1 + rng() % 200, n = 1 + rng() % 200;
      DType t = rng() % 2 ? DType::F16 : DType::I8;
      bool transB = rng() % 2, accumulate = rng() % 2;
      uint32_t aStride = k + rng() % 8;
      const uint64_t aAddr = 0, bAddr = 0x40000, outAddr = 0x80000;
      std::vector<double> a = fill(rng, aAddr, m, k, aStride, t);
      std::vector<double> b =
          transB ? fill(rng, bAddr, n, k, k, t) : fill(rng, bAddr, k, n, n, t);
      std::vector<double> acc = accumulate
                                    ? fill(rng, outAddr, m, n, n, DType::F32)
                                    : std::vector<double>();

      arch::Instr in;
      in.op = arch::Opcode::MatMul;
      in.dtype = t;
      in.outDtype = DType::F32;
      in.accDtype = DType::F32;
      in.flags = (transB ? arch::kFlagTransposeB : 0) |
                 (accumulate ? arch::kFlagAccumulate : 0);
      in.dims[0] = m;
      in.dims[1] = k;
      in.dims[2] = n;
      in.addr[0] = aAddr;
      in.addr[1] = bAddr;
      in.addr[2] = outAddr;
      in.addr[3] = outAddr; // acc aliases out: read before write
      in.strides[0] = aStride;
      in.strides[1] = transB ? k : n;
      in.strides[2] = n;
      in.strides[3] = n;

      uint64_t d = t == DType::F16 ? chip.matrix_fp16_rate_divisor : 1;
      uint64_t expect = ceilDiv(k, R) * ceilDiv(n, C) * (2 * R + C + m * d - 2);
      uint64_t t0 = nowCycles();
      unit->execute(uint32_t(i), in);
      std::ostringstream what;
      what << m << "x" << k << "x" << n << " " << arch::dtypeName(t)
           << (transB ? " transpose_b" : "") << (accumulate ? " acc" : "")
           << on;
      ck.truth(!frame.failed(), "no error: " + frame.error);
      ck.equal(nowCycles() - t0, expect, "cycles of " + what.str());

      std::vector<float> out = readF32(outAddr, m, n);
      double worst = 0;
      for (uint32_t r = 0; r < m; ++r)
        for (uint32_t c = 0; c < n; ++c) {
          double sum = accumulate ? acc[r * n + c] : 0, mag = std::fabs(sum);
          for (uint32_t x = 0; x < k; ++x) {
            double p = a[r * k + x] * (transB ? b[c * k + x] : b[x * n + c]);
            sum += p;
            mag += std::fabs(p);
          }
          // FP32 accumulation: error below k * 2^-24 * sum of |terms|.
          double err = std::fabs(out[r * n + c] - sum);
          worst = std::max(worst, err / ((k + 1) * 6e-8 * mag + 1e-30));
        }
      ck.truth(worst <= 1.0, "values of " + what.str());
    }
    ck.equal(frame.matrixBusyCycles > 0, true, "busy cycles counted" + on);
  }

  void run() {
    arch::ChipConfig ref = arch::ChipConfig::reference();
    ref.sram_bytes = 1 << 20;
    scenario(ref);
    arch::ChipConfig small = ref;
    small.name = "8x16-fp16-half-rate";
    small.matrix_rows = 8;
    small.matrix_cols = 16;
    small.matrix_fp16_rate_divisor = 2;
    scenario(small);
  }
};

} // namespace

int sc_main(int, char **) {
  tb::quietSystemC();
  tb::Checker ck;
  FrameState frame;
  Sram sram("sram");
  MatrixUnit matrix("matrix");
  matrix.sram.bind(sram.target);
  matrix.reset(&frame);
  Bench bench("bench", ck, frame, sram);
  bench.unit.bind(matrix.exec);
  bench.mem.bind(sram.target);
  sc_start();
  return ck.finish("matrix_unit_tb");
}
