//===- Isa.h - The chip's instruction set --------------------------*- C++ -*-===//
//
// The instruction set of the virtual NPU, shared by the compiler (which emits
// it) and the simulator (which executes it). docs/isa.md is the reference.
//
// The chip has three in-order queues: load (DRAM -> SRAM DMA), compute (matrix
// and vector units) and store (SRAM -> DRAM DMA). An instruction starts when it
// is at the head of its queue and every instruction listed in its `deps` has
// completed (each completed instruction signals its own dependency token).
// Queues therefore overlap loads, compute and stores wherever the
// dependencies allow.
//
// Addresses are byte addresses: DRAM addresses index the program's DRAM image,
// SRAM addresses index the on-chip SRAM. Compute operands are 2-D row-major
// views: `rows` x `cols` elements with a row stride in elements.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_ARCH_ISA_H
#define TESSERA_ARCH_ISA_H

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::arch {

enum class Queue : uint8_t { Load = 0, Compute = 1, Store = 2 };
constexpr unsigned kNumQueues = 3;

enum class DType : uint8_t { F32 = 0, F16 = 1, I8 = 2, I32 = 3 };
constexpr unsigned kNumDTypes = 4;
unsigned dtypeBytes(DType t);
const char *dtypeName(DType t);

enum class Opcode : uint8_t {
  // Load queue. Copies dims[0] rows of dims[1] bytes from DRAM addr[0] (row
  // stride strides[0] bytes) to SRAM addr[1] (row stride strides[1] bytes).
  DmaLoad = 0,
  // Store queue. Copies dims[0] rows of dims[1] bytes from SRAM addr[1] (row
  // stride strides[1] bytes) to DRAM addr[0] (row stride strides[0] bytes).
  DmaStore = 1,
  // Compute queue, matrix unit. out[M,N] = A[M,K] * B[K,N] (+ acc[M,N] when
  // flags has kFlagAccumulate). dims = {M, K, N}; A at addr[0] (row stride
  // strides[0] elements), B at addr[1] (strides[1]), out at addr[2]
  // (strides[2]), acc at addr[3] (strides[3], element type accDtype).
  // Inputs have element type `dtype`; products accumulate in FP32; out has
  // element type `outDtype`. With kFlagTransposeB, B is stored N x K.
  MatMul = 2,
  // Compute queue, vector unit. Elementwise over dims = {rows, cols}:
  // out = a <op> b, a at addr[0], b at addr[1], out at addr[2], row strides
  // strides[0..2] in elements. The broadcast flags say how b is read.
  VecAdd = 3,
  VecSub = 4,
  VecMul = 5,
  VecDiv = 6,
  // out = a * imm.
  VecScale = 7,
  // Row-wise layer normalization over cols: out = (a - mean) / sqrt(var + imm)
  // * gamma + beta; gamma at addr[1] and beta at addr[3], each 1 x cols.
  VecLayerNorm = 8,
  // Row-wise softmax over cols (numerically stable: max subtracted).
  VecSoftmax = 9,
  // GELU, erf form: out = 0.5 * a * (1 + erf(a / sqrt(2))).
  VecGelu = 10,
  // out = erf(a).
  VecErf = 11,
  // out[cols, rows] = a[rows, cols]^T.
  VecTranspose = 12,
  // out = a, converting from dtype to outDtype.
  VecCopy = 13,
  // Transformer math (issue 9, part 2). Elementwise: out = sqrt(a),
  // tanh(a), a ** imm (FP32 pow; imm is the constant exponent).
  VecSqrt = 14,
  VecTanh = 15,
  VecPow = 16,
  // Row reductions over cols: out is rows x 1 (row stride strides[2]);
  // out = imm * sum(row) (imm = 1/cols gives the mean), out = max(row).
  VecReduceSum = 17,
  VecReduceMax = 18,
  // GELU, tanh form: 0.5 * a * (1 + tanh(sqrt(2/pi) * (a + 0.044715 a^3))).
  VecGeluTanh = 19,
  // CNN ops (pooling, activations, im2col).
  // out = max(a, b), operands and broadcast flags as VecAdd.
  VecMax = 20,
  // out = max(a, imm) (ReLU: imm = 0; Clip's lower bound).
  VecMaxImm = 21,
  // out = min(a, imm) (Clip's upper bound).
  VecMinImm = 22,
  // out = a + imm.
  VecAddImm = 23,
  // out = 1 / (1 + exp(-a)).
  VecSigmoid = 24,
  // out = a * min(max(a / 6 + 1/2, 0), 1) (ONNX HardSwish).
  VecHardSwish = 25,
  // out = imm; no input operand (zero or -inf borders of a tile).
  VecFill = 26,
  // Strided gather: out[r, c] = a[r * strides[0] + c * strides[1]]
  // (strides[1] is the column step in elements, >= 1): one im2col row or a
  // pooling window's tap, picked out of rows staged in SRAM.
  VecGather = 27,
  // Embeddings and masks (issue 9: BERT on the chip).
  // Load queue. Indexed (gather) DMA: reads dims[0] int32 row indices from
  // SRAM addr[2] and copies table row idx[r] (dims[1] bytes at DRAM addr[0]
  // + idx[r] * strides[0]) to SRAM addr[1] + r * strides[1]. dims[2] is the
  // table's row count: an index in [-dims[2], 0) reads row dims[2] + idx
  // (ONNX Gather), one outside [-dims[2], dims[2]) is a simulation error.
  DmaGather = 28,
  // out = (a == imm) ? 1 : 0 (Equal against a constant: a padding mask).
  VecEqImm = 29,
  // out = (a != 0) ? b : c, with c at addr[3] (row stride strides[3]); a, b,
  // c and out all rows x cols (Where).
  VecSelect = 30,
  // Online softmax (issue 10): out = exp(a), elementwise (libmvec's expf on
  // the FP32 value, rounded to outDtype).
  VecExp = 31,
};
constexpr unsigned kNumOpcodes = 32;
const char *opcodeName(Opcode op);
/// The queue an opcode is issued on.
Queue opcodeQueue(Opcode op);
/// True for opcodes executed by the vector unit.
bool isVectorOp(Opcode op);

// Instruction flags.
constexpr uint32_t kFlagAccumulate = 1u << 0;  ///< MatMul: add acc operand.
constexpr uint32_t kFlagTransposeB = 1u << 1;  ///< MatMul: B stored N x K.
constexpr uint32_t kFlagBroadcastRow = 1u << 2; ///< Vec binary: b is 1 x cols.
constexpr uint32_t kFlagBroadcastCol = 1u << 3; ///< Vec binary: b is rows x 1.
constexpr uint32_t kFlagBroadcastScalar = 1u << 4; ///< Vec binary: b is 1 x 1.
constexpr uint32_t kKnownFlags = 0x1f;

struct Instr {
  Opcode op = Opcode::VecCopy;
  DType dtype = DType::F16;    ///< Element type of the inputs.
  DType outDtype = DType::F16; ///< Element type of the output.
  DType accDtype = DType::F32; ///< MatMul: element type of the acc operand.
  uint32_t flags = 0;
  uint32_t layer = 0;          ///< Index into Program::layers (report only).
  /// The NPU whose queues run it (Program::npus > 1; docs/isa.md, "NPUs").
  uint8_t npu = 0;
  uint64_t addr[4] = {0, 0, 0, 0};
  uint32_t dims[3] = {0, 0, 0};
  uint32_t strides[4] = {0, 0, 0, 0};
  float imm = 0.0f;
  std::vector<uint32_t> deps; ///< Indices of earlier instructions to wait for.

  Queue queue() const { return opcodeQueue(op); }
  /// Bytes moved by a DMA instruction (rows * row bytes; for dma.gather the
  /// gathered rows, not the indices); 0 otherwise.
  uint64_t dmaBytes() const;
  /// One-line assembly form, as in the program listing.
  std::string toString() const;
};

/// A 2-D operand of an instruction in SRAM (or, for DMA, in DRAM): `rows`
/// rows of `rowBytes` bytes, `strideBytes` apart, starting at `addr`.
struct Operand {
  const char *role; ///< "a", "b", "out", "acc", "gamma", "beta", "src", "dst".
  bool inDram;
  bool isWrite;
  uint64_t addr;
  uint64_t rows;
  uint64_t rowBytes;
  uint64_t strideBytes;
  /// One past the last byte touched; false when it overflows 64 bits.
  bool end(uint64_t &out) const;
};

/// Every memory operand the instruction reads or writes, for bounds checks
/// (Program::verify, the simulator) and traffic accounting.
std::vector<Operand> operandsOf(const Instr &in);

} // namespace tessera::arch

#endif // TESSERA_ARCH_ISA_H
