//===- vector_unit_tb.cpp - Testbench of the vector unit ------------------===//
//
// Reference model (docs/timing-model.md, "Vector unit"): an instruction over
// rows x cols elements takes
//   vector_startup_cycles + passes(op) * ceil(rows * cols / vector_lanes)
// with passes from the op's config field. Values of every opcode against a
// double-precision reference on FP32 operands; random shapes, fixed seed, on
// two chips.
//
//===----------------------------------------------------------------------===//

#include "Testbench.h"

#include <cstring>

using namespace sc_core;
using namespace tessera;
using namespace tessera::sim;
using arch::Opcode;
using tessera::tb::ceilDiv;

namespace {

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

  void write(uint64_t addr, const std::vector<float> &v) {
    MemAccess a;
    a.cmd = MemAccess::Write;
    a.addr = addr;
    a.rows = 1;
    a.rowBytes = a.strideBytes = v.size() * 4;
    a.data = reinterpret_cast<uint8_t *>(const_cast<float *>(v.data()));
    mem->transport_dbg(a);
  }
  std::vector<float> read(uint64_t addr, size_t n) {
    std::vector<float> v(n);
    MemAccess a;
    a.cmd = MemAccess::Read;
    a.addr = addr;
    a.rows = 1;
    a.rowBytes = a.strideBytes = n * 4;
    a.data = reinterpret_cast<uint8_t *>(v.data());
    mem->transport_dbg(a);
    return v;
  }

  uint64_t passes(Opcode op) const {
    const arch::ChipConfig &c = frame.chip;
    switch (op) {
    case Opcode::VecLayerNorm:
      return c.vector_layernorm_passes;
    case Opcode::VecSoftmax:
      return c.vector_softmax_passes;
    case Opcode::VecGelu:
    case Opcode::VecGeluTanh:
    case Opcode::VecSigmoid:
      return c.vector_gelu_passes;
    case Opcode::VecTranspose:
      return c.vector_transpose_passes;
    default:
      return c.vector_elementwise_passes;
    }
  }

  /// The reference result of `in` on a (rows x cols) and b.
  std::vector<double> reference(const arch::Instr &in,
                                const std::vector<float> &a,
                                const std::vector<float> &b,
                                const std::vector<float> &beta) {
    uint32_t rows = in.dims[0], cols = in.dims[1];
    bool reduce =
        in.op == Opcode::VecReduceSum || in.op == Opcode::VecReduceMax;
    std::vector<double> out(size_t(rows) * (reduce ? 1 : cols));
    if (in.op == Opcode::VecGather) {
      for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t c = 0; c < cols; ++c)
          out[size_t(r) * cols + c] =
              a[size_t(r) * in.strides[0] + size_t(c) * in.strides[1]];
      return out;
    }
    for (uint32_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0, mx = -1e300, sum = 0;
      for (uint32_t c = 0; c < cols; ++c) {
        mean += a[r * cols + c] / double(cols);
        mx = std::max(mx, double(a[r * cols + c]));
      }
      for (uint32_t c = 0; c < cols; ++c) {
        var += std::pow(a[r * cols + c] - mean, 2) / cols;
        sum += std::exp(a[r * cols + c] - mx);
      }
      for (uint32_t c = 0; c < cols; ++c) {
        double x = a[r * cols + c];
        // The b operand of a binary op; other ops' b (LayerNorm's gamma,
        // 1 x cols) is read below, never at r * cols + c (ASan found that
        // read past gamma's end).
        bool binary = in.op == Opcode::VecAdd || in.op == Opcode::VecSub ||
                      in.op == Opcode::VecMul || in.op == Opcode::VecDiv ||
                      in.op == Opcode::VecMax;
        double y = 0;
        if (!binary)
          y = 0;
        else if (in.flags & arch::kFlagBroadcastScalar)
          y = b[0];
        else if (in.flags & arch::kFlagBroadcastRow)
          y = b[c];
        else if (in.flags & arch::kFlagBroadcastCol)
          y = b[r];
        else if (!b.empty())
          y = b[r * cols + c];
        double v = 0;
        switch (in.op) {
        case Opcode::VecAdd:
          v = x + y;
          break;
        case Opcode::VecSub:
          v = x - y;
          break;
        case Opcode::VecMul:
          v = x * y;
          break;
        case Opcode::VecDiv:
          v = x / y;
          break;
        case Opcode::VecScale:
          v = x * in.imm;
          break;
        case Opcode::VecLayerNorm:
          v = (x - mean) / std::sqrt(var + in.imm) * b[c] + beta[c];
          break;
        case Opcode::VecSoftmax:
          v = std::exp(x - mx) / sum;
          break;
        case Opcode::VecGelu:
          v = 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
          break;
        case Opcode::VecErf:
          v = std::erf(x);
          break;
        case Opcode::VecCopy:
          v = x;
          break;
        case Opcode::VecMax:
          v = std::max(x, y);
          break;
        case Opcode::VecMaxImm:
          v = std::max(x, double(in.imm));
          break;
        case Opcode::VecMinImm:
          v = std::min(x, double(in.imm));
          break;
        case Opcode::VecAddImm:
          v = x + in.imm;
          break;
        case Opcode::VecSigmoid:
          v = 1 / (1 + std::exp(-x));
          break;
        case Opcode::VecHardSwish:
          v = x * std::min(std::max(x / 6 + 0.5, 0.0), 1.0);
          break;
        case Opcode::VecFill:
          v = in.imm;
          break;
        case Opcode::VecEqImm:
          v = x == double(in.imm) ? 1 : 0;
          break;
        case Opcode::VecSelect:
          v = x != 0 ? b[size_t(r) * cols + c] : beta[size_t(r) * cols + c];
          break;
        case Opcode::VecTranspose:
          out[size_t(c) * rows + r] = x;
          continue;
        case Opcode::VecSqrt:
          v = std::sqrt(x);
          break;
        case Opcode::VecTanh:
          v = std::tanh(x);
          break;
        case Opcode::VecExp:
          v = std::exp(x);
          break;
        case Opcode::VecPow:
          v = std::pow(x, double(in.imm));
          break;
        case Opcode::VecGeluTanh:
          v = 0.5 * x *
              (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
          break;
        case Opcode::VecReduceSum:
          // Rows x 1 result: written once per row.
          out[r] = mean * cols * in.imm;
          continue;
        case Opcode::VecReduceMax:
          out[r] = mx;
          continue;
        default:
          break;
        }
        out[size_t(r) * cols + c] = v;
      }
    }
    return out;
  }

  void scenario(const arch::ChipConfig &chip) {
    frame = FrameState();
    frame.chip = chip;
    frame.functional = true;
    frame.originCycle = nowCycles();
    sram.reset(&frame, chip.sram_bytes);
    std::string on = " on " + chip.name;
    std::mt19937 rng(2024);
    std::uniform_real_distribution<float> dist(-2, 2);
    const Opcode ops[] = {
        Opcode::VecAdd,       Opcode::VecSub,       Opcode::VecMul,
        Opcode::VecDiv,       Opcode::VecScale,     Opcode::VecLayerNorm,
        Opcode::VecSoftmax,   Opcode::VecGelu,      Opcode::VecErf,
        Opcode::VecTranspose, Opcode::VecCopy,      Opcode::VecSqrt,
        Opcode::VecTanh,      Opcode::VecPow,       Opcode::VecReduceSum,
        Opcode::VecReduceMax, Opcode::VecGeluTanh,  Opcode::VecMax,
        Opcode::VecMaxImm,    Opcode::VecMinImm,    Opcode::VecAddImm,
        Opcode::VecSigmoid,   Opcode::VecHardSwish, Opcode::VecFill,
        Opcode::VecGather,    Opcode::VecEqImm,     Opcode::VecSelect,
        Opcode::VecExp};
    const uint32_t bcast[] = {0, arch::kFlagBroadcastRow,
                              arch::kFlagBroadcastCol,
                              arch::kFlagBroadcastScalar};
    int index = 0;
    for (int round = 0; round < 4; ++round)
      for (Opcode op : ops) {
        uint32_t rows = 1 + rng() % 40, cols = 1 + rng() % 300;
        arch::Instr in;
        in.op = op;
        in.dtype = in.outDtype = arch::DType::F32;
        in.dims[0] = rows;
        in.dims[1] = cols;
        bool binary = op == Opcode::VecAdd || op == Opcode::VecSub ||
                      op == Opcode::VecMul || op == Opcode::VecDiv ||
                      op == Opcode::VecMax;
        in.flags = binary ? bcast[round] : 0;
        in.imm = op == Opcode::VecLayerNorm ? 1e-5f
                 : op == Opcode::VecPow     ? 3.0f
                 : op == Opcode::VecEqImm   ? 1.0f
                                            : 0.37f;
        bool reduce = op == Opcode::VecReduceSum || op == Opcode::VecReduceMax;
        in.addr[0] = 0;
        in.addr[1] = 0x20000;
        in.addr[2] = 0x40000;
        in.addr[3] = 0x60000;
        in.strides[0] = cols;
        in.strides[2] = op == Opcode::VecTranspose ? rows : reduce ? 1 : cols;
        in.strides[1] = in.strides[3] = cols;
        size_t bSize = size_t(rows) * cols;
        if (in.flags & arch::kFlagBroadcastScalar)
          bSize = 1, in.strides[1] = 1;
        else if (in.flags & arch::kFlagBroadcastRow)
          bSize = cols;
        else if (in.flags & arch::kFlagBroadcastCol)
          bSize = rows, in.strides[1] = 1;
        if (op == Opcode::VecLayerNorm)
          bSize = cols;
        // vec.gather reads every third element of rows `span` apart.
        uint32_t span = cols;
        if (op == Opcode::VecGather) {
          in.strides[1] = 3;
          span = (cols - 1) * 3 + 1;
          in.strides[0] = span;
        }
        std::vector<float> a(size_t(rows) * span), b, beta;
        for (float &x : a)
          x = op == Opcode::VecSqrt ? std::fabs(dist(rng)) : dist(rng);
        // Equal and select see their special values: integers around the
        // immediate, conditions with zeros.
        if (op == Opcode::VecEqImm)
          for (float &x : a)
            x = float(int(rng() % 3)); // 0, 1, 2 against imm 1
        if (op == Opcode::VecSelect) {
          for (float &x : a)
            x = rng() % 2 ? 0.0f : x;
          b.resize(size_t(rows) * cols);
          beta.resize(size_t(rows) * cols);
          for (float &x : b)
            x = dist(rng);
          for (float &x : beta)
            x = dist(rng);
          write(0x20000, b);
          write(0x60000, beta);
        }
        if (binary || op == Opcode::VecLayerNorm) {
          b.resize(bSize);
          for (float &x : b)
            x = op == Opcode::VecDiv ? 0.5f + std::fabs(dist(rng)) : dist(rng);
          write(0x20000, b);
        }
        if (op == Opcode::VecLayerNorm) {
          beta.resize(cols);
          for (float &x : beta)
            x = dist(rng);
          write(0x60000, beta);
        }
        write(0, a);

        uint64_t expect =
            chip.vector_startup_cycles +
            passes(op) * ceilDiv(uint64_t(rows) * cols, chip.vector_lanes);
        uint64_t t0 = nowCycles();
        unit->execute(uint32_t(index++), in);
        std::ostringstream what;
        what << arch::opcodeName(op) << " " << rows << "x" << cols << " flags "
             << in.flags << on;
        ck.truth(!frame.failed(), "no error: " + frame.error);
        ck.equal(nowCycles() - t0, expect, "cycles of " + what.str());

        std::vector<double> ref = reference(in, a, b, beta);
        std::vector<float> out = read(0x40000, ref.size());
        double worst = 0;
        for (size_t i = 0; i < ref.size(); ++i)
          worst = std::max(worst, std::fabs(out[i] - ref[i]) /
                                      (1e-5 + 1e-5 * std::fabs(ref[i])));
        ck.truth(worst <= 1.0, "values of " + what.str());
      }
  }

  void run() {
    arch::ChipConfig ref = arch::ChipConfig::reference();
    ref.sram_bytes = 1 << 20;
    scenario(ref);
    arch::ChipConfig other = ref;
    other.name = "16-lanes";
    other.vector_lanes = 16;
    other.vector_startup_cycles = 4;
    other.vector_softmax_passes = 2;
    other.vector_gelu_passes = 6;
    scenario(other);
  }
};

} // namespace

int sc_main(int, char **) {
  tb::quietSystemC();
  tb::Checker ck;
  FrameState frame;
  Sram sram("sram");
  VectorUnit vector("vector");
  vector.sram.bind(sram.target);
  vector.reset(&frame);
  Bench bench("bench", ck, frame, sram);
  bench.unit.bind(vector.exec);
  bench.mem.bind(sram.target);
  sc_start();
  return ck.finish("vector_unit_tb");
}
