//===- Kernels.h - The arithmetic of the matrix and vector units -*- C++
//-*-===//
//
// Functional semantics of the compute instructions (docs/isa.md), on FP32
// views of the operands (the SRAM bytes themselves when they are FP32, else
// converted into reusable scratch buffers): element-type conversion, matmul
// (inputs in their type, FP32 accumulation) and the vector operations (FP32
// arithmetic, rounded to the output type when packed).
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_SIM_LIB_KERNELS_H
#define TESSERA_SIM_LIB_KERNELS_H

#include "tessera/arch/Isa.h"

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tessera::sim {

using Mat =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Reads one element of type `t` as float.
float loadElement(const uint8_t *p, arch::DType t);
/// Writes `v` as type `t`: F16 rounds to nearest even; I8 and I32 round to
/// nearest and saturate (NaN becomes 0).
void storeElement(uint8_t *p, arch::DType t, float v);

/// Packed rows of `t` elements -> rows x cols floats.
Mat unpack(const uint8_t *bytes, uint64_t rows, uint64_t cols, arch::DType t);
/// rows x cols floats -> packed rows of `t` elements.
std::vector<uint8_t> pack(const Mat &m, arch::DType t);
/// unpack of rows that are strideBytes apart (the first at `first`).
Mat unpackRows(const uint8_t *first, uint64_t rows, uint64_t cols,
               uint64_t strideBytes, arch::DType t);
/// pack of m's rows into rows that are strideBytes apart.
void packRows(const Mat &m, arch::DType t, uint8_t *first,
              uint64_t strideBytes);

/// rows x cols floats, rows `ld` elements apart at `dst` <- packed rows of
/// `t` elements strideBytes apart at `first` (unpackRows without the Mat).
void unpackInto(const uint8_t *first, uint64_t rows, uint64_t cols,
                uint64_t strideBytes, arch::DType t, float *dst, uint64_t ld);
/// packRows from rows `ld` elements apart at `src`.
void packFrom(const float *src, uint64_t rows, uint64_t cols, uint64_t ld,
              arch::DType t, uint8_t *first, uint64_t strideBytes);

/// A rows x cols FP32 matrix over memory it does not own (an SRAM operand
/// in place, or a scratch buffer), rows outerStride() elements apart.
using ConstView = Eigen::Map<const Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
using View = Eigen::Map<Mat, Eigen::Unaligned, Eigen::OuterStride<>>;

/// A reusable FP32 buffer: grows to the largest request and keeps it, so
/// that operands and results need no allocation per instruction.
class Scratch {
public:
  /// At least n floats (never null, even for n = 0).
  float *get(size_t n) {
    if (buf_.size() < std::max<size_t>(n, 1))
      buf_.resize(std::max<size_t>(n, 1));
    return buf_.data();
  }

private:
  std::vector<float> buf_;
};

/// The rows x cols elements of type `t` whose rows lie strideBytes apart
/// from `first`, as FP32: a view of the bytes themselves when they already
/// are FP32 rows (4-byte aligned, stride a whole number of elements, at
/// least a row), else converted into `scratch` (contiguous).
ConstView floatView(const uint8_t *first, uint64_t rows, uint64_t cols,
                    uint64_t strideBytes, arch::DType t, Scratch &scratch);

/// mm.matmul: c (M x N, rows ldc elements apart) = a (M x K) * b (K x N, or
/// N x K with transpose_b) + (accumulate ? c : 0), one FP32 sgemm that
/// writes c where it is.
void matmulInto(const arch::Instr &in, const ConstView &a, const ConstView &b,
                float *c, int64_t ldc, bool accumulate);

/// The transcendental functions the vector unit evaluates in bulk.
enum class MathFn { Exp, Erf, Tanh };
/// y[i] = fn(x[i]) for i < n (x may be y) through glibc's vector math
/// library (libmvec: 8 lanes with AVX2 and FMA when the CPU has them, else
/// 4 SSE lanes; every element, the tail too, through the same function).
/// Within 1-2 ulp of the scalar C library functions; not bit for bit.
void vectorMath(MathFn fn, const float *x, float *y, size_t n);

/// A vector instruction: `a` its first source (null for vec.fill); `b` the
/// second (binary ops: full or broadcast shape; layernorm: gamma; select:
/// b), `c` the third (layernorm: beta; select: c). `out` has the shape of
/// the instruction's destination operand, its rows contiguous (outerStride
/// == cols), and must not overlap the sources.
void vectorOp(const arch::Instr &in, const ConstView *a, const ConstView *b,
              const ConstView *c, View &out);

} // namespace tessera::sim

#endif // TESSERA_SIM_LIB_KERNELS_H
