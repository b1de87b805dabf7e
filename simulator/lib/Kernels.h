//===- Kernels.h - The arithmetic of the matrix and vector units -*- C++
//-*-===//
//
// Functional semantics of the compute instructions (docs/isa.md), on
// operands unpacked from SRAM bytes into FP32 Eigen matrices: element-type
// conversion, matmul (inputs in their type, FP32 accumulation) and the vector
// operations (FP32 arithmetic, rounded to the output type when packed).
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_SIM_LIB_KERNELS_H
#define TESSERA_SIM_LIB_KERNELS_H

#include "tessera/arch/Isa.h"

#include <Eigen/Core>

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

/// mm.matmul: a (M x K) * b (K x N, or N x K with transpose_b) (+ acc).
Mat matmul(const arch::Instr &in, const Mat &a, const Mat &b, const Mat *acc);

/// A vector instruction: `a` is rows x cols; `b` the second operand (binary
/// ops: full or broadcast shape; layernorm: gamma), `beta` layernorm's beta.
Mat vectorOp(const arch::Instr &in, const Mat &a, const Mat *b,
             const Mat *beta);

} // namespace tessera::sim

#endif // TESSERA_SIM_LIB_KERNELS_H
