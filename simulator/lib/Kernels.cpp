//===- Kernels.cpp - The arithmetic of the matrix and vector units --------===//

#include "Kernels.h"

#include <Eigen/Core>
#include <cblas.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using namespace tessera;
using namespace tessera::sim;
using arch::DType;
using arch::Opcode;

float tessera::sim::loadElement(const uint8_t *p, DType t) {
  switch (t) {
  case DType::F32: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::F16: {
    uint16_t bits;
    std::memcpy(&bits, p, 2);
    return float(Eigen::numext::bit_cast<Eigen::half>(bits));
  }
  case DType::I8:
    return float(int8_t(*p));
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return float(v);
  }
  }
  return 0;
}

namespace {

#if defined(__x86_64__) && defined(__GNUC__)
/// The CPU's own FP16 conversions (F16C, every x86-64 CPU since 2013), 8
/// values per instruction: the same IEEE round-to-nearest-even as
/// Eigen::half, used when the CPU has them (checked at run time; the build
/// stays generic x86-64). NaNs go through Eigen so their bits stay Eigen's.
bool cpuHasF16c() {
  static const bool has =
      __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
  return has;
}

__attribute__((target("avx,f16c"))) void halfToFloatF16c(const uint8_t *in,
                                                         float *out, size_t n) {
  auto scalar = [&](size_t j) {
    uint16_t bits;
    std::memcpy(&bits, in + 2 * j, 2);
    out[j] = float(Eigen::numext::bit_cast<Eigen::half>(bits));
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_cvtph_ps(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + 2 * i)));
    _mm256_storeu_ps(out + i, x);
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)))
      for (size_t j = i; j < i + 8; ++j)
        if (std::isnan(out[j]))
          scalar(j); // F16C quiets a signalling NaN; Eigen keeps its bits
  }
  for (; i < n; ++i)
    scalar(i);
}

__attribute__((target("avx,f16c"))) void
floatToHalfF16c(const float *in, uint8_t *out, size_t n) {
  auto scalar = [&](size_t j) {
    uint16_t bits = Eigen::numext::bit_cast<uint16_t>(Eigen::half(in[j]));
    std::memcpy(out + 2 * j, &bits, 2);
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(in + i);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 2 * i),
                     _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)))
      for (size_t j = i; j < i + 8; ++j)
        if (std::isnan(in[j]))
          scalar(j);
  }
  for (; i < n; ++i)
    scalar(i);
}
#else
bool cpuHasF16c() { return false; }
void halfToFloatF16c(const uint8_t *, float *, size_t) {}
void floatToHalfF16c(const float *, uint8_t *, size_t) {}
#endif

} // namespace

// glibc's vector math library (libmvec), by its x86-64 vector-function ABI
// names: 4 floats in SSE registers ('b', dispatched inside glibc to the
// best SSE implementation) or 8 in AVX2 registers ('d').
extern "C" {
#if defined(__x86_64__) && defined(__GNUC__)
__m128 _ZGVbN4v_expf(__m128);
__m128 _ZGVbN4v_erff(__m128);
__m128 _ZGVbN4v_tanhf(__m128);
__m256 _ZGVdN8v_expf(__m256);
__m256 _ZGVdN8v_erff(__m256);
__m256 _ZGVdN8v_tanhf(__m256);
#endif
}

namespace {

#if defined(__x86_64__) && defined(__GNUC__)
bool cpuHasAvx2Fma() {
  static const bool has =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

template <__m256 (*F)(__m256)>
__attribute__((target("avx2,fma"))) void applyAvx2(const float *x, float *y,
                                                   size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, F(_mm256_loadu_ps(x + i)));
  if (i < n) { // The tail through the same function, zero-padded.
    alignas(32) float t[8] = {};
    std::memcpy(t, x + i, (n - i) * 4);
    _mm256_store_ps(t, F(_mm256_load_ps(t)));
    std::memcpy(y + i, t, (n - i) * 4);
  }
}

template <__m128 (*F)(__m128)>
void applySse(const float *x, float *y, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm_storeu_ps(y + i, F(_mm_loadu_ps(x + i)));
  if (i < n) {
    alignas(16) float t[4] = {};
    std::memcpy(t, x + i, (n - i) * 4);
    _mm_store_ps(t, F(_mm_load_ps(t)));
    std::memcpy(y + i, t, (n - i) * 4);
  }
}
#endif

} // namespace

void tessera::sim::vectorMath(MathFn fn, const float *x, float *y, size_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (cpuHasAvx2Fma()) {
    switch (fn) {
    case MathFn::Exp:
      return applyAvx2<_ZGVdN8v_expf>(x, y, n);
    case MathFn::Erf:
      return applyAvx2<_ZGVdN8v_erff>(x, y, n);
    case MathFn::Tanh:
      return applyAvx2<_ZGVdN8v_tanhf>(x, y, n);
    }
  }
  switch (fn) {
  case MathFn::Exp:
    return applySse<_ZGVbN4v_expf>(x, y, n);
  case MathFn::Erf:
    return applySse<_ZGVbN4v_erff>(x, y, n);
  case MathFn::Tanh:
    return applySse<_ZGVbN4v_tanhf>(x, y, n);
  }
#else
  for (size_t i = 0; i < n; ++i)
    y[i] = fn == MathFn::Exp   ? std::exp(x[i])
           : fn == MathFn::Erf ? std::erf(x[i])
                               : std::tanh(x[i]);
#endif
}

namespace {

/// Round to nearest, saturate to [lo, hi], NaN -> 0.
double saturate(float v, double lo, double hi) {
  if (std::isnan(v))
    return 0;
  double r = std::nearbyint(double(v));
  return r < lo ? lo : r > hi ? hi : r;
}

} // namespace

void tessera::sim::storeElement(uint8_t *p, DType t, float v) {
  switch (t) {
  case DType::F32:
    std::memcpy(p, &v, 4);
    return;
  case DType::F16: {
    uint16_t bits = Eigen::numext::bit_cast<uint16_t>(Eigen::half(v));
    std::memcpy(p, &bits, 2);
    return;
  }
  case DType::I8:
    *p = uint8_t(int8_t(saturate(v, -128, 127)));
    return;
  case DType::I32: {
    int32_t i = int32_t(saturate(v, -2147483648.0, 2147483647.0));
    std::memcpy(p, &i, 4);
    return;
  }
  }
}

namespace {

/// `n` elements of type `t` at `src` -> floats at `dst`: the common types as
/// whole-array conversions (F16C or Eigen, vectorized), the same
/// conversions as loadElement, element for element.
void toFloats(const uint8_t *src, float *dst, size_t n, DType t) {
  if (t == DType::F32) {
    std::memcpy(dst, src, n * 4);
    return;
  }
  if (t == DType::F16) {
    if (cpuHasF16c())
      return halfToFloatF16c(src, dst, n);
    // Eigen::half is a 2-byte standard-layout wrapper of the bits;
    // Map<..., Unaligned> needs no alignment.
    Eigen::Map<Eigen::VectorXf>(dst, Eigen::Index(n)) =
        Eigen::Map<const Eigen::Matrix<Eigen::half, Eigen::Dynamic, 1>,
                   Eigen::Unaligned>(reinterpret_cast<const Eigen::half *>(src),
                                     Eigen::Index(n))
            .cast<float>();
    return;
  }
  unsigned eb = arch::dtypeBytes(t);
  for (size_t i = 0; i < n; ++i)
    dst[i] = loadElement(src + i * eb, t);
}

/// `n` floats -> elements of type `t` at `dst` (storeElement's rounding:
/// F16 to nearest even, integers saturated).
void fromFloats(const float *src, uint8_t *dst, size_t n, DType t) {
  if (t == DType::F32) {
    std::memcpy(dst, src, n * 4);
    return;
  }
  if (t == DType::F16) {
    if (cpuHasF16c())
      return floatToHalfF16c(src, dst, n);
    Eigen::Map<Eigen::Matrix<Eigen::half, Eigen::Dynamic, 1>, Eigen::Unaligned>(
        reinterpret_cast<Eigen::half *>(dst), Eigen::Index(n)) =
        Eigen::Map<const Eigen::VectorXf>(src, Eigen::Index(n))
            .cast<Eigen::half>();
    return;
  }
  unsigned eb = arch::dtypeBytes(t);
  for (size_t i = 0; i < n; ++i)
    storeElement(dst + i * eb, t, src[i]);
}

} // namespace

void tessera::sim::unpackInto(const uint8_t *first, uint64_t rows,
                              uint64_t cols, uint64_t strideBytes, DType t,
                              float *dst, uint64_t ld) {
  uint64_t rowBytes = cols * arch::dtypeBytes(t);
  if ((strideBytes == rowBytes && ld == cols) || rows <= 1) {
    toFloats(first, dst, size_t(rows * cols), t);
    return;
  }
  for (uint64_t r = 0; r < rows; ++r)
    toFloats(first + r * strideBytes, dst + r * ld, size_t(cols), t);
}

void tessera::sim::packFrom(const float *src, uint64_t rows, uint64_t cols,
                            uint64_t ld, DType t, uint8_t *first,
                            uint64_t strideBytes) {
  uint64_t rowBytes = cols * arch::dtypeBytes(t);
  if ((strideBytes == rowBytes && ld == cols) || rows <= 1)
    return fromFloats(src, first, size_t(rows * cols), t);
  for (uint64_t r = 0; r < rows; ++r)
    fromFloats(src + r * ld, first + r * strideBytes, size_t(cols), t);
}

Mat tessera::sim::unpackRows(const uint8_t *first, uint64_t rows, uint64_t cols,
                             uint64_t strideBytes, DType t) {
  Mat m(rows, cols);
  unpackInto(first, rows, cols, strideBytes, t, m.data(), cols);
  return m;
}

void tessera::sim::packRows(const Mat &m, DType t, uint8_t *first,
                            uint64_t strideBytes) {
  packFrom(m.data(), uint64_t(m.rows()), uint64_t(m.cols()), uint64_t(m.cols()),
           t, first, strideBytes);
}

Mat tessera::sim::unpack(const uint8_t *bytes, uint64_t rows, uint64_t cols,
                         DType t) {
  return unpackRows(bytes, rows, cols, cols * arch::dtypeBytes(t), t);
}

std::vector<uint8_t> tessera::sim::pack(const Mat &m, DType t) {
  std::vector<uint8_t> bytes(size_t(m.size()) * arch::dtypeBytes(t));
  packRows(m, t, bytes.data(), uint64_t(m.cols()) * arch::dtypeBytes(t));
  return bytes;
}

ConstView tessera::sim::floatView(const uint8_t *first, uint64_t rows,
                                  uint64_t cols, uint64_t strideBytes, DType t,
                                  Scratch &scratch) {
  using Stride = Eigen::OuterStride<>;
  if (t == DType::F32 && reinterpret_cast<uintptr_t>(first) % 4 == 0 &&
      (rows <= 1 || (strideBytes % 4 == 0 && strideBytes >= 4 * cols)))
    return ConstView(reinterpret_cast<const float *>(first), Eigen::Index(rows),
                     Eigen::Index(cols),
                     Stride(Eigen::Index(rows <= 1 ? cols : strideBytes / 4)));
  float *dst = scratch.get(size_t(rows * cols));
  unpackInto(first, rows, cols, strideBytes, t, dst, cols);
  return ConstView(dst, Eigen::Index(rows), Eigen::Index(cols),
                   Stride(Eigen::Index(cols)));
}

void tessera::sim::matmulInto(const arch::Instr &in, const ConstView &a,
                              const ConstView &b, float *c, int64_t ldc,
                              bool accumulate) {
  // The operands hold values of the input type; the product of two FP16 (or
  // INT8) values is exact in FP32, so an FP32 GEMM multiplies "in the input
  // type" and accumulates in FP32. OpenBLAS's sgemm (row-major):
  // c = a * op(b) + (accumulate ? c : 0), c written where it is.
  // One thread: the summation order (so the output bits) then does not
  // depend on the machine's core count, and no BLAS threads spin for a core
  // that ctest's other jobs use (OpenBLAS would start one per core).
  static const bool oneThread = (openblas_set_num_threads(1), true);
  (void)oneThread;
  bool transB = in.flags & arch::kFlagTransposeB;
  Eigen::Index m = a.rows(), k = a.cols(), n = transB ? b.rows() : b.cols();
  if (m == 0 || n == 0)
    return;
  if (k == 0) {
    if (!accumulate)
      for (Eigen::Index r = 0; r < m; ++r)
        std::fill(c + r * ldc, c + r * ldc + n, 0.0f);
    return;
  }
  // Leading dimensions of at least one row (BLAS requires it; a single row
  // may have any stride).
  auto ld = [](const ConstView &v) {
    return int(std::max<Eigen::Index>(v.outerStride(), v.cols()));
  };
  cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              int(m), int(n), int(k), 1.0f, a.data(), ld(a), b.data(), ld(b),
              accumulate ? 1.0f : 0.0f, c, int(std::max<int64_t>(ldc, n)));
}

namespace {

/// vectorMath over a contiguous result, in place.
void contiguousMath(MathFn fn, View &out) {
  // Results always have rows outerStride() == cols() apart (vectorOp's out).
  vectorMath(fn, out.data(), out.data(), size_t(out.size()));
}

/// out = f(a, y) row by row, y the second operand broadcast as the flags say
/// (precedence as in arch::operandsOf: scalar, row, column): Eigen array
/// expressions, vectorized over each row.
template <typename F>
void broadcastBinary(uint32_t flags, const ConstView &a, const ConstView &b,
                     View &out, F f) {
  Eigen::Index rows = a.rows(), cols = a.cols();
  using RowConst = Eigen::Array<float, 1, Eigen::Dynamic>;
  for (Eigen::Index r = 0; r < rows; ++r) {
    auto x = a.row(r).array();
    auto o = out.row(r).array();
    if (flags & arch::kFlagBroadcastScalar)
      o = f(x, RowConst::Constant(cols, b(0, 0)));
    else if (flags & arch::kFlagBroadcastRow)
      o = f(x, b.row(0).array());
    else if (flags & arch::kFlagBroadcastCol)
      o = f(x, RowConst::Constant(cols, b(r, 0)));
    else
      o = f(x, b.row(r).array());
  }
}

} // namespace

void tessera::sim::vectorOp(const arch::Instr &in, const ConstView *aPtr,
                            const ConstView *b, const ConstView *c, View &out) {
  if (in.op == Opcode::VecFill) {
    out.setConstant(in.imm);
    return;
  }
  const ConstView &a = *aPtr;
  Eigen::Index rows = a.rows(), cols = a.cols();
  auto unary = [&](auto f) { out = a.unaryExpr(f); };
  switch (in.op) {
  case Opcode::VecAdd:
    return broadcastBinary(in.flags, a, *b, out,
                           [](auto x, auto y) { return x + y; });
  case Opcode::VecSub:
    return broadcastBinary(in.flags, a, *b, out,
                           [](auto x, auto y) { return x - y; });
  case Opcode::VecMul:
    return broadcastBinary(in.flags, a, *b, out,
                           [](auto x, auto y) { return x * y; });
  case Opcode::VecDiv:
    return broadcastBinary(in.flags, a, *b, out,
                           [](auto x, auto y) { return x / y; });
  case Opcode::VecMax:
    // Eigen's max keeps std::max(x, y)'s result, NaNs included.
    return broadcastBinary(in.flags, a, *b, out,
                           [](auto x, auto y) { return x.max(y); });
  case Opcode::VecScale:
    out = a * in.imm;
    return;
  case Opcode::VecLayerNorm:
    for (Eigen::Index r = 0; r < rows; ++r) {
      float mean = a.row(r).mean();
      float var = (a.row(r).array() - mean).square().mean();
      float inv = 1.0f / std::sqrt(var + in.imm);
      out.row(r).array() = (a.row(r).array() - mean) * inv * b->row(0).array() +
                           c->row(0).array();
    }
    return;
  case Opcode::VecSoftmax:
    // exp through libmvec, the row sum vectorized (docs/sim-performance.md).
    for (Eigen::Index r = 0; r < rows; ++r) {
      float mx = a.row(r).maxCoeff();
      out.row(r).array() = a.row(r).array() - mx;
      float *o = &out(r, 0);
      vectorMath(MathFn::Exp, o, o, size_t(out.cols()));
      float sum = out.row(r).sum();
      out.row(r) /= sum;
    }
    return;
  case Opcode::VecGelu:
    // The erf form; erf through libmvec.
    out = a / std::sqrt(2.0f);
    contiguousMath(MathFn::Erf, out);
    out.array() = 0.5f * a.array() * (1.0f + out.array());
    return;
  case Opcode::VecErf:
    out = a;
    contiguousMath(MathFn::Erf, out);
    return;
  case Opcode::VecTranspose:
    out = a.transpose();
    return;
  case Opcode::VecCopy:
    out = a;
    return;
  case Opcode::VecSqrt:
    return unary([](float x) { return std::sqrt(x); });
  case Opcode::VecTanh:
    out = a;
    contiguousMath(MathFn::Tanh, out);
    return;
  case Opcode::VecExp:
    out = a;
    contiguousMath(MathFn::Exp, out);
    return;
  case Opcode::VecPow: {
    float p = in.imm;
    return unary([p](float x) { return std::pow(x, p); });
  }
  case Opcode::VecGeluTanh: {
    const float k = std::sqrt(2.0f / 3.14159265358979f);
    out.array() =
        k * (a.array() + 0.044715f * a.array() * a.array() * a.array());
    contiguousMath(MathFn::Tanh, out);
    out.array() = 0.5f * a.array() * (1.0f + out.array());
    return;
  }
  case Opcode::VecReduceSum:
    // Summed in FP32, then scaled (imm = 1/cols for a mean).
    out = a.rowwise().sum() * in.imm;
    return;
  case Opcode::VecReduceMax:
    out = a.rowwise().maxCoeff();
    return;
  case Opcode::VecMaxImm:
    out = a.cwiseMax(in.imm);
    return;
  case Opcode::VecMinImm:
    out = a.cwiseMin(in.imm);
    return;
  case Opcode::VecAddImm:
    out = (a.array() + in.imm).matrix();
    return;
  case Opcode::VecSigmoid:
    out = -a;
    contiguousMath(MathFn::Exp, out);
    out.array() = 1.0f / (1.0f + out.array());
    return;
  case Opcode::VecHardSwish:
    return unary([](float x) {
      return x * std::min(std::max(x / 6.0f + 0.5f, 0.0f), 1.0f);
    });
  case Opcode::VecGather: {
    // `a` holds each row's span; take every step-th element.
    Eigen::Index step = in.strides[1] ? in.strides[1] : 1;
    for (Eigen::Index r = 0; r < out.rows(); ++r)
      for (Eigen::Index col = 0; col < out.cols(); ++col)
        out(r, col) = a(r, col * step);
    return;
  }
  case Opcode::VecEqImm: {
    float v = in.imm;
    return unary([v](float x) { return x == v ? 1.0f : 0.0f; });
  }
  case Opcode::VecSelect:
    out.array() = (a.array() != 0.0f).select(b->array(), c->array());
    return;
  case Opcode::VecFill:
  case Opcode::DmaLoad:
  case Opcode::DmaStore:
  case Opcode::MatMul:
  case Opcode::DmaGather:
    break;
  }
}
