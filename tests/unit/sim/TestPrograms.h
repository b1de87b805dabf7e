//===- TestPrograms.h - Building small programs by hand for sim tests -----===//
//
// A tiny assembler for the simulator's tests: tensors in a DRAM image,
// instructions with the fields set by name, and the sizes filled in so that
// Program::verify accepts the result.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TESTS_UNIT_SIM_TESTPROGRAMS_H
#define TESSERA_TESTS_UNIT_SIM_TESTPROGRAMS_H

#include "tessera/arch/Isa.h"
#include "tessera/arch/Program.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace tessera::simtest {

using Mat =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The value `v` takes when stored as `t` (what the chip holds).
inline float roundTo(arch::DType t, float v) {
  switch (t) {
  case arch::DType::F32:
    return v;
  case arch::DType::F16:
    return float(Eigen::half(v));
  case arch::DType::I8:
    return std::isnan(v) ? 0.f
                         : std::min(127.f, std::max(-128.f, std::nearbyint(v)));
  case arch::DType::I32:
    return std::nearbyint(v);
  }
  return v;
}

inline Mat roundTo(arch::DType t, const Mat &m) {
  return m.unaryExpr([t](float v) { return roundTo(t, v); });
}

/// Bytes of `values` stored as `t`.
inline std::vector<uint8_t> encode(arch::DType t,
                                   const std::vector<float> &values) {
  unsigned eb = arch::dtypeBytes(t);
  std::vector<uint8_t> bytes(values.size() * eb);
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t *p = bytes.data() + i * eb;
    float v = roundTo(t, values[i]);
    switch (t) {
    case arch::DType::F32:
      std::memcpy(p, &v, 4);
      break;
    case arch::DType::F16: {
      uint16_t h = Eigen::numext::bit_cast<uint16_t>(Eigen::half(v));
      std::memcpy(p, &h, 2);
      break;
    }
    case arch::DType::I8:
      *p = uint8_t(int8_t(v));
      break;
    case arch::DType::I32: {
      int32_t i32 = int32_t(v);
      std::memcpy(p, &i32, 4);
      break;
    }
    }
  }
  return bytes;
}

inline std::vector<float> flat(const Mat &m) {
  return std::vector<float>(m.data(), m.data() + m.size());
}

inline Mat fromFlat(const std::vector<float> &v, Eigen::Index rows,
                    Eigen::Index cols) {
  Mat m(rows, cols);
  std::copy(v.begin(), v.end(), m.data());
  return m;
}

/// Deterministic values in [-range, range] (a fixed LCG: tests are exact).
inline Mat randomMat(Eigen::Index rows, Eigen::Index cols, uint32_t seed,
                     float range = 1.0f) {
  Mat m(rows, cols);
  uint32_t s = seed * 2654435761u + 12345u;
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    s = s * 1664525u + 1013904223u;
    m.data()[i] = range * (float(s >> 8) / float(1u << 24) * 2.0f - 1.0f);
  }
  return m;
}

class ProgramBuilder {
public:
  arch::Program prog;

  ProgramBuilder() {
    prog.chipName = "test";
    prog.layers = {"layer0"};
  }

  /// Adds a tensor at the next 64-byte-aligned DRAM address.
  uint64_t tensor(const std::string &name, arch::TensorKind kind, arch::DType t,
                  std::vector<int64_t> shape,
                  const std::vector<float> &weightValues = {}) {
    arch::TensorInfo info;
    info.name = name;
    info.kind = kind;
    info.dtype = t;
    info.shape = std::move(shape);
    info.dramAddr = (dramTop + 63) / 64 * 64;
    if (kind == arch::TensorKind::Weight)
      info.data = encode(t, weightValues);
    dramTop = info.dramAddr + info.byteSize();
    prog.tensors.push_back(info);
    prog.dramBytes = dramTop;
    return info.dramAddr;
  }

  uint32_t add(arch::Instr in) {
    for (const arch::Operand &o : arch::operandsOf(in)) {
      uint64_t end = 0;
      if (!o.inDram && o.end(end))
        prog.sramBytesUsed = std::max(prog.sramBytesUsed, end);
    }
    prog.instrs.push_back(in);
    return uint32_t(prog.instrs.size() - 1);
  }

  /// dma.load of `rows` rows of `rowBytes` (contiguous unless strides given).
  uint32_t load(uint64_t dram, uint64_t sram, uint32_t rows, uint32_t rowBytes,
                std::vector<uint32_t> deps = {}, uint32_t dramStride = 0,
                uint32_t sramStride = 0, uint32_t layer = 0) {
    arch::Instr in;
    in.op = arch::Opcode::DmaLoad;
    in.addr[0] = dram;
    in.addr[1] = sram;
    in.dims[0] = rows;
    in.dims[1] = rowBytes;
    in.strides[0] = dramStride ? dramStride : rowBytes;
    in.strides[1] = sramStride ? sramStride : rowBytes;
    in.deps = std::move(deps);
    in.layer = layer;
    return add(in);
  }

  uint32_t store(uint64_t dram, uint64_t sram, uint32_t rows, uint32_t rowBytes,
                 std::vector<uint32_t> deps = {}, uint32_t dramStride = 0,
                 uint32_t sramStride = 0, uint32_t layer = 0) {
    uint32_t i = load(dram, sram, rows, rowBytes, std::move(deps), dramStride,
                      sramStride, layer);
    prog.instrs[i].op = arch::Opcode::DmaStore;
    return i;
  }

  uint32_t matmul(arch::DType t, arch::DType outT, uint32_t m, uint32_t k,
                  uint32_t n, uint64_t a, uint64_t b, uint64_t out,
                  std::vector<uint32_t> deps = {}, uint32_t flags = 0,
                  uint64_t acc = 0, arch::DType accT = arch::DType::F32,
                  uint32_t layer = 0) {
    arch::Instr in;
    in.op = arch::Opcode::MatMul;
    in.dtype = t;
    in.outDtype = outT;
    in.accDtype = accT;
    in.flags = flags;
    in.dims[0] = m;
    in.dims[1] = k;
    in.dims[2] = n;
    in.addr[0] = a;
    in.addr[1] = b;
    in.addr[2] = out;
    in.addr[3] = acc;
    in.strides[0] = k;
    in.strides[1] = (flags & arch::kFlagTransposeB) ? k : n;
    in.strides[2] = n;
    in.strides[3] = n;
    in.deps = std::move(deps);
    in.layer = layer;
    return add(in);
  }

  uint32_t vec(arch::Opcode op, arch::DType t, arch::DType outT, uint32_t rows,
               uint32_t cols, uint64_t a, uint64_t b, uint64_t out,
               std::vector<uint32_t> deps = {}, uint32_t flags = 0,
               float imm = 0, uint64_t beta = 0, uint32_t layer = 0) {
    arch::Instr in;
    in.op = op;
    in.dtype = t;
    in.outDtype = outT;
    in.flags = flags;
    in.dims[0] = rows;
    in.dims[1] = cols;
    in.addr[0] = a;
    in.addr[1] = b;
    in.addr[2] = out;
    in.addr[3] = beta;
    in.strides[0] = cols;
    in.strides[1] =
        (flags & (arch::kFlagBroadcastCol | arch::kFlagBroadcastScalar)) ? 1
                                                                         : cols;
    in.strides[2] = op == arch::Opcode::VecTranspose ? rows : cols;
    in.strides[3] = cols;
    in.imm = imm;
    in.deps = std::move(deps);
    in.layer = layer;
    return add(in);
  }

private:
  uint64_t dramTop = 0;
};

} // namespace tessera::simtest

#endif // TESSERA_TESTS_UNIT_SIM_TESTPROGRAMS_H
