//===- Isa.cpp - Instruction names, queues, operands and assembly ---------===//

#include "tessera/arch/Isa.h"

#include <sstream>

using namespace tessera::arch;

unsigned tessera::arch::dtypeBytes(DType t) {
  switch (t) {
  case DType::F32: return 4;
  case DType::F16: return 2;
  case DType::I8: return 1;
  case DType::I32: return 4;
  }
  return 0;
}

const char *tessera::arch::dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F16: return "f16";
  case DType::I8: return "i8";
  case DType::I32: return "i32";
  }
  return "?";
}

const char *tessera::arch::opcodeName(Opcode op) {
  switch (op) {
  case Opcode::DmaLoad: return "dma.load";
  case Opcode::DmaStore: return "dma.store";
  case Opcode::MatMul: return "mm.matmul";
  case Opcode::VecAdd: return "vec.add";
  case Opcode::VecSub: return "vec.sub";
  case Opcode::VecMul: return "vec.mul";
  case Opcode::VecDiv: return "vec.div";
  case Opcode::VecScale: return "vec.scale";
  case Opcode::VecLayerNorm: return "vec.layernorm";
  case Opcode::VecSoftmax: return "vec.softmax";
  case Opcode::VecGelu: return "vec.gelu";
  case Opcode::VecErf: return "vec.erf";
  case Opcode::VecTranspose: return "vec.transpose";
  case Opcode::VecCopy: return "vec.copy";
  case Opcode::VecSqrt: return "vec.sqrt";
  case Opcode::VecTanh: return "vec.tanh";
  case Opcode::VecPow: return "vec.pow";
  case Opcode::VecReduceSum: return "vec.reduce_sum";
  case Opcode::VecReduceMax: return "vec.reduce_max";
  case Opcode::VecGeluTanh: return "vec.gelu_tanh";
  case Opcode::VecMax:
    return "vec.max";
  case Opcode::VecMaxImm:
    return "vec.maximm";
  case Opcode::VecMinImm:
    return "vec.minimm";
  case Opcode::VecAddImm:
    return "vec.addimm";
  case Opcode::VecSigmoid:
    return "vec.sigmoid";
  case Opcode::VecHardSwish:
    return "vec.hardswish";
  case Opcode::VecFill:
    return "vec.fill";
  case Opcode::VecGather:
    return "vec.gather";
  case Opcode::DmaGather:
    return "dma.gather";
  case Opcode::VecEqImm:
    return "vec.eqimm";
  case Opcode::VecSelect:
    return "vec.select";
  case Opcode::VecExp:
    return "vec.exp";
  }
  return "?";
}

Queue tessera::arch::opcodeQueue(Opcode op) {
  if (op == Opcode::DmaLoad || op == Opcode::DmaGather)
    return Queue::Load;
  if (op == Opcode::DmaStore)
    return Queue::Store;
  return Queue::Compute;
}

bool tessera::arch::isVectorOp(Opcode op) {
  return op != Opcode::DmaLoad && op != Opcode::DmaStore &&
         op != Opcode::MatMul && op != Opcode::DmaGather;
}

uint64_t Instr::dmaBytes() const {
  if (op != Opcode::DmaLoad && op != Opcode::DmaStore &&
      op != Opcode::DmaGather)
    return 0;
  return uint64_t(dims[0]) * dims[1];
}

bool Operand::end(uint64_t &out) const {
  if (rows == 0 || rowBytes == 0) {
    out = addr;
    return true;
  }
  uint64_t span;
  if (__builtin_mul_overflow(rows - 1, strideBytes, &span) ||
      __builtin_add_overflow(span, rowBytes, &span) ||
      __builtin_add_overflow(span, addr, &out))
    return false;
  return true;
}

std::vector<Operand> tessera::arch::operandsOf(const Instr &in) {
  std::vector<Operand> ops;
  auto view = [&](const char *role, bool isWrite, int slot, uint64_t rows,
                  uint64_t cols, uint32_t stride, DType t) {
    uint64_t eb = dtypeBytes(t);
    uint64_t strideElems = rows > 1 ? stride : cols;
    ops.push_back(Operand{role, false, isWrite, in.addr[slot], rows, cols * eb,
                          strideElems * eb});
  };
  uint64_t r = in.dims[0], c = in.dims[1];
  switch (in.op) {
  case Opcode::DmaLoad:
    ops.push_back(Operand{"src", true, false, in.addr[0], r, c, in.strides[0]});
    ops.push_back(Operand{"dst", false, true, in.addr[1], r, c, in.strides[1]});
    break;
  case Opcode::DmaStore:
    ops.push_back(Operand{"src", false, false, in.addr[1], r, c, in.strides[1]});
    ops.push_back(Operand{"dst", true, true, in.addr[0], r, c, in.strides[0]});
    break;
  case Opcode::MatMul: {
    uint64_t m = in.dims[0], k = in.dims[1], n = in.dims[2];
    view("a", false, 0, m, k, in.strides[0], in.dtype);
    if (in.flags & kFlagTransposeB)
      view("b", false, 1, n, k, in.strides[1], in.dtype);
    else
      view("b", false, 1, k, n, in.strides[1], in.dtype);
    view("out", true, 2, m, n, in.strides[2], in.outDtype);
    if (in.flags & kFlagAccumulate)
      view("acc", false, 3, m, n, in.strides[3], in.accDtype);
    break;
  }
  case Opcode::VecAdd:
  case Opcode::VecSub:
  case Opcode::VecMul:
  case Opcode::VecDiv:
  case Opcode::VecMax:
    view("a", false, 0, r, c, in.strides[0], in.dtype);
    if (in.flags & kFlagBroadcastScalar)
      view("b", false, 1, 1, 1, in.strides[1], in.dtype);
    else if (in.flags & kFlagBroadcastRow)
      view("b", false, 1, 1, c, in.strides[1], in.dtype);
    else if (in.flags & kFlagBroadcastCol)
      view("b", false, 1, r, 1, in.strides[1], in.dtype);
    else
      view("b", false, 1, r, c, in.strides[1], in.dtype);
    view("out", true, 2, r, c, in.strides[2], in.outDtype);
    break;
  case Opcode::VecLayerNorm:
    view("a", false, 0, r, c, in.strides[0], in.dtype);
    view("gamma", false, 1, 1, c, in.strides[1], in.dtype);
    view("beta", false, 3, 1, c, in.strides[3], in.dtype);
    view("out", true, 2, r, c, in.strides[2], in.outDtype);
    break;
  case Opcode::VecTranspose:
    view("a", false, 0, r, c, in.strides[0], in.dtype);
    view("out", true, 2, c, r, in.strides[2], in.outDtype);
    break;
  case Opcode::VecScale:
  case Opcode::VecSoftmax:
  case Opcode::VecGelu:
  case Opcode::VecErf:
  case Opcode::VecCopy:
  case Opcode::VecSqrt:
  case Opcode::VecTanh:
  case Opcode::VecPow:
  case Opcode::VecGeluTanh:
  case Opcode::VecExp:
    view("a", false, 0, r, c, in.strides[0], in.dtype);
    view("out", true, 2, r, c, in.strides[2], in.outDtype);
    break;
  case Opcode::VecReduceSum:
  case Opcode::VecReduceMax:
    view("a", false, 0, r, c, in.strides[0], in.dtype);
    view("out", true, 2, r, 1, in.strides[2], in.outDtype);
    break;
  case Opcode::VecMaxImm:
  case Opcode::VecMinImm:
  case Opcode::VecAddImm:
  case Opcode::VecSigmoid:
  case Opcode::VecHardSwish:
  case Opcode::VecEqImm:
    view("a", false, 0, r, c, in.strides[0], in.dtype);
    view("out", true, 2, r, c, in.strides[2], in.outDtype);
    break;
  case Opcode::VecFill:
    view("out", true, 2, r, c, in.strides[2], in.outDtype);
    break;
  case Opcode::VecSelect:
    view("a", false, 0, r, c, in.strides[0], in.dtype);
    view("b", false, 1, r, c, in.strides[1], in.dtype);
    view("c", false, 3, r, c, in.strides[3], in.dtype);
    view("out", true, 2, r, c, in.strides[2], in.outDtype);
    break;
  case Opcode::DmaGather:
    // The rows read are data: the DRAM operand is the whole table (dims[2]
    // rows strides[0] apart), which bounds every index the chip accepts.
    ops.push_back(Operand{"idx", false, false, in.addr[2], 1, r * 4, r * 4});
    ops.push_back(
        Operand{"src", true, false, in.addr[0], in.dims[2], c, in.strides[0]});
    ops.push_back(Operand{"dst", false, true, in.addr[1], r, c, in.strides[1]});
    break;
  case Opcode::VecGather: {
    // Row r reads the elements r * strides[0] + c * step, c < cols: a view
    // of rows spanning (cols - 1) * step + 1 elements.
    uint64_t step = in.strides[1] ? in.strides[1] : 1;
    view("a", false, 0, r, c ? (c - 1) * step + 1 : 0, in.strides[0], in.dtype);
    view("out", true, 2, r, c, in.strides[2], in.outDtype);
    break;
  }
  }
  return ops;
}

std::string Instr::toString() const {
  std::ostringstream os;
  os << opcodeName(op);
  auto hex = [&](uint64_t v) {
    std::ostringstream h;
    h << "0x" << std::hex << v;
    return h.str();
  };
  switch (op) {
  case Opcode::DmaLoad:
  case Opcode::DmaStore:
    os << " dram=" << hex(addr[0]) << " sram=" << hex(addr[1])
       << " rows=" << dims[0] << " bytes=" << dims[1]
       << " dram_stride=" << strides[0] << " sram_stride=" << strides[1];
    break;
  case Opcode::DmaGather:
    os << " table=" << hex(addr[0]) << " table_rows=" << dims[2]
       << " idx=" << hex(addr[2]) << " sram=" << hex(addr[1])
       << " rows=" << dims[0] << " bytes=" << dims[1]
       << " dram_stride=" << strides[0] << " sram_stride=" << strides[1];
    break;
  case Opcode::MatMul:
    os << "." << dtypeName(dtype) << " m=" << dims[0] << " k=" << dims[1]
       << " n=" << dims[2] << " a=" << hex(addr[0]) << "/" << strides[0]
       << " b=" << hex(addr[1]) << "/" << strides[1]
       << " out=" << hex(addr[2]) << "/" << strides[2] << ":"
       << dtypeName(outDtype);
    if (flags & kFlagAccumulate)
      os << " acc=" << hex(addr[3]) << "/" << strides[3] << ":"
         << dtypeName(accDtype);
    if (flags & kFlagTransposeB)
      os << " transpose_b";
    break;
  default:
    os << "." << dtypeName(dtype) << " rows=" << dims[0] << " cols=" << dims[1]
       << " a=" << hex(addr[0]) << "/" << strides[0];
    if (op == Opcode::VecAdd || op == Opcode::VecSub || op == Opcode::VecMul ||
        op == Opcode::VecDiv || op == Opcode::VecMax ||
        op == Opcode::VecLayerNorm)
      os << " b=" << hex(addr[1]) << "/" << strides[1];
    if (op == Opcode::VecGather)
      os << " step=" << strides[1];
    if (op == Opcode::VecLayerNorm)
      os << " beta=" << hex(addr[3]);
    os << " out=" << hex(addr[2]) << "/" << strides[2] << ":"
       << dtypeName(outDtype);
    if (op == Opcode::VecScale || op == Opcode::VecLayerNorm ||
        op == Opcode::VecPow || op == Opcode::VecReduceSum ||
        op == Opcode::VecMaxImm || op == Opcode::VecMinImm ||
        op == Opcode::VecAddImm || op == Opcode::VecFill ||
        op == Opcode::VecEqImm)
      os << " imm=" << imm;
    if (op == Opcode::VecSelect)
      os << " b=" << hex(addr[1]) << "/" << strides[1] << " c=" << hex(addr[3])
         << "/" << strides[3];
    if (flags & kFlagBroadcastRow)
      os << " bcast=row";
    if (flags & kFlagBroadcastCol)
      os << " bcast=col";
    if (flags & kFlagBroadcastScalar)
      os << " bcast=scalar";
    break;
  }
  if (!deps.empty()) {
    os << " deps=";
    for (size_t i = 0; i < deps.size(); ++i)
      os << (i ? "," : "") << deps[i];
  }
  return os.str();
}
