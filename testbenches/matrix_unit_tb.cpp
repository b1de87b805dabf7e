//===- matrix_unit_tb.cpp - Testbench of the systolic matrix unit ---------===//
//
// Reference model (docs/timing-model.md, "Matrix unit"): an M x K x N matmul
// on an R x C array takes
//   folds * fold - (folds - 1) * hidden cycles, with
//   weight-stationary:  folds = ceil(K / R) * ceil(N / C), T = M*d,
//                       fold = 2R + C + T - 2
//   output-stationary:  folds = ceil(M / R) * ceil(N / C), T = K*d,
//                       fold = R + C + T - 2
//   hidden = 0 when scale_sim_compatible, else min(R, T),
// d = matrix_fp16_rate_divisor for FP16 inputs and 1 for INT8. In compatible
// mode the INT8 cycles also equal a table of golden values produced by
// SCALE-Sim v2 itself (testbenches/scalesim_golden.py: the length of its
// demand matrices) over edge-case shapes: one tile, ragged tiles, K larger
// than the array, M = 1. The values are checked against a double-precision
// triple loop on the same rounded inputs (FP16/INT8 products are exact in
// FP32; only the FP32 accumulation order differs). Random shapes and flags,
// fixed seed, on the reference 96 x 96 array and a small 8 x 16 one, for
// both dataflows in both modes. M beyond matrix_accumulator_rows is a
// simulation error in weight-stationary mode.
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

/// The closed form of docs/timing-model.md, written out independently.
uint64_t referenceCycles(const arch::ChipConfig &chip, uint64_t m, uint64_t k,
                         uint64_t n, DType t) {
  const uint64_t R = chip.matrix_rows, C = chip.matrix_cols;
  uint64_t d = t == DType::F16 ? chip.matrix_fp16_rate_divisor : 1;
  bool ws = chip.matrix_dataflow == "weight_stationary";
  uint64_t folds = ceilDiv(ws ? k : m, R) * ceilDiv(n, C);
  uint64_t T = (ws ? m : k) * d;
  uint64_t fold = (ws ? 2 * R : R) + C + T - 2;
  uint64_t hidden = chip.scale_sim_compatible ? 0 : std::min(R, T);
  return folds * fold - (folds - 1) * hidden;
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

      uint64_t expect = referenceCycles(chip, m, k, n, t);
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

  /// Runs one timing-only matmul; returns its cycles.
  uint64_t timeOne(const arch::ChipConfig &chip, uint32_t m, uint32_t k,
                   uint32_t n, DType t) {
    frame = FrameState();
    frame.chip = chip;
    frame.functional = false;
    frame.originCycle = nowCycles();
    sram.reset(&frame, 0);
    arch::Instr in;
    in.op = arch::Opcode::MatMul;
    in.dtype = t;
    in.outDtype = DType::F32;
    in.dims[0] = m;
    in.dims[1] = k;
    in.dims[2] = n;
    in.addr[1] = uint64_t(m) * k * 4;
    in.addr[2] = in.addr[1] + uint64_t(k) * n * 4;
    in.strides[0] = k;
    in.strides[1] = n;
    in.strides[2] = n;
    uint64_t t0 = nowCycles();
    unit->execute(0, in);
    return nowCycles() - t0;
  }

  /// SCALE-Sim v2's cycles (testbenches/scalesim_golden.py) in compatible
  /// mode, INT8 (one streamed row per cycle), and the default mode's
  /// closed form on the same shapes.
  void goldenTable() {
    struct Row {
      uint32_t r, c, m, k, n;
      uint64_t ws, os;
    };
    static const Row rows[] = {
        {4, 4, 1, 1, 1, 11, 7},           {4, 4, 4, 4, 4, 14, 10},
        {4, 4, 1, 96, 96, 6336, 2448},    {4, 4, 1, 200, 50, 7150, 2678},
        {4, 4, 3, 9, 17, 195, 75},        {4, 4, 100, 200, 50, 71500, 66950},
        {4, 4, 96, 96, 96, 61056, 58752}, {4, 4, 97, 97, 97, 66875, 64375},
        {4, 4, 5, 300, 7, 2250, 1224},    {4, 4, 128, 768, 96, 635904, 594432},
        {8, 16, 1, 1, 1, 31, 23},         {8, 16, 4, 4, 4, 34, 26},
        {8, 16, 1, 96, 96, 2232, 708},    {8, 16, 1, 200, 50, 3100, 888},
        {8, 16, 3, 9, 17, 132, 62},       {8, 16, 100, 200, 50, 13000, 11544},
        {8, 16, 96, 96, 96, 9072, 8496},  {8, 16, 97, 97, 97, 11557, 10829},
        {8, 16, 5, 300, 7, 1330, 322},    {8, 16, 128, 768, 96, 91008, 75840},
        {96, 96, 1, 1, 1, 287, 191},      {96, 96, 4, 4, 4, 290, 194},
        {96, 96, 1, 96, 96, 287, 286},    {96, 96, 1, 200, 50, 861, 390},
        {96, 96, 3, 9, 17, 289, 199},     {96, 96, 100, 200, 50, 1158, 780},
        {96, 96, 96, 96, 96, 382, 286},   {96, 96, 97, 97, 97, 1532, 1148},
        {96, 96, 5, 300, 7, 1164, 490},   {96, 96, 128, 768, 96, 3312, 1916},
    };
    for (const Row &row : rows) {
      arch::ChipConfig chip = arch::ChipConfig::reference();
      chip.matrix_rows = row.r;
      chip.matrix_cols = row.c;
      std::ostringstream what;
      what << row.m << "x" << row.k << "x" << row.n << " on " << row.r << "x"
           << row.c;
      for (const char *flow : {"weight_stationary", "output_stationary"}) {
        chip.matrix_dataflow = flow;
        bool ws = chip.matrix_dataflow == "weight_stationary";
        for (bool compatible : {true, false}) {
          chip.scale_sim_compatible = compatible;
          for (DType t : {DType::I8, DType::F16}) {
            uint64_t got = timeOne(chip, row.m, row.k, row.n, t);
            std::string label = what.str() + " " + flow +
                                (compatible ? " scale-sim " : " preload ") +
                                arch::dtypeName(t);
            ck.equal(got, referenceCycles(chip, row.m, row.k, row.n, t),
                     "closed form, " + label);
            if (compatible && t == DType::I8)
              ck.equal(got, ws ? row.ws : row.os, "SCALE-Sim v2, " + label);
          }
        }
      }
    }
  }

  /// M beyond the accumulator is an error naming the instruction.
  void accumulatorLimit() {
    arch::ChipConfig chip = arch::ChipConfig::reference();
    chip.matrix_accumulator_rows = 64;
    timeOne(chip, 64, 8, 8, DType::F16);
    ck.truth(!frame.failed(), "64 rows fit 64 accumulator rows");
    timeOne(chip, 65, 8, 8, DType::F16);
    ck.truth(frame.failed() &&
                 frame.error.find("instruction 0 (mm.matmul) on the matrix "
                                  "unit") != std::string::npos &&
                 frame.error.find("matrix_accumulator_rows") !=
                     std::string::npos,
             "65 rows overflow the accumulator: " + frame.error);
    chip.matrix_dataflow = "output_stationary";
    timeOne(chip, 65, 8, 8, DType::F16);
    ck.truth(!frame.failed(), "output-stationary keeps sums in the PEs");
  }

  void run() {
    for (const char *flow : {"weight_stationary", "output_stationary"})
      for (bool compatible : {true, false}) {
        arch::ChipConfig ref = arch::ChipConfig::reference();
        ref.sram_bytes = 1 << 20;
        ref.matrix_dataflow = flow;
        ref.scale_sim_compatible = compatible;
        ref.name = std::string("96x96-") + flow +
                   (compatible ? "-scale-sim" : "-preload");
        scenario(ref);
        arch::ChipConfig small = ref;
        small.name = std::string("8x16-fp16-half-rate-") + flow +
                     (compatible ? "-scale-sim" : "-preload");
        small.matrix_rows = 8;
        small.matrix_cols = 16;
        small.matrix_fp16_rate_divisor = 2;
        scenario(small);
      }
    goldenTable();
    accumulatorLimit();
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
