//===- ChipDialect.cpp - chip dialect, verifiers, building, emission ------===//
//
// Part of Tessera. The ops of ChipOps.td, their verifiers (the program's
// checks the arch contract by running arch::Program::verify on what it would
// emit, then every operand against the declared buffers and tensors), the
// construction of a chip.program from a code generator program
// (buildProgram) and the translation back (emitProgram): one instruction
// per op in both directions, so that emitProgram(buildProgram(p)) == p.
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Chip/Chip.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/arch/Error.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OpImplementation.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cctype>
#include <cstring>

using namespace mlir;
using namespace tessera;
using namespace tessera::chip;

#include "tessera/Dialect/Chip/ChipDialect.cpp.inc"
#include "tessera/Dialect/Chip/ChipEnums.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "tessera/Dialect/Chip/ChipTypes.cpp.inc"

void ChipDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "tessera/Dialect/Chip/ChipTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "tessera/Dialect/Chip/ChipOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Opcodes and queues
//===----------------------------------------------------------------------===//

std::optional<arch::Opcode> tessera::chip::parseOpcode(llvm::StringRef name) {
  static const llvm::StringMap<arch::Opcode> byName = [] {
    llvm::StringMap<arch::Opcode> m;
    for (unsigned i = 0; i < arch::kNumOpcodes; ++i)
      m[arch::opcodeName(arch::Opcode(i))] = arch::Opcode(i);
    return m;
  }();
  auto it = byName.find(name);
  if (it == byName.end())
    return std::nullopt;
  return it->second;
}

namespace {

const char *queueName(arch::Queue q) {
  switch (q) {
  case arch::Queue::Load:
    return "load";
  case arch::Queue::Store:
    return "store";
  case arch::Queue::Compute:
    break;
  }
  return "compute";
}

} // namespace

/// `on <queue>` of chip.vec: the queue of its opcode, checked when parsed.
static ParseResult parseVecQueue(OpAsmParser &parser, StringAttr kind) {
  StringRef queue;
  llvm::SMLoc loc = parser.getCurrentLocation();
  if (parser.parseKeyword(&queue))
    return failure();
  // An unknown kind is the verifier's error (it names the op).
  if (std::optional<arch::Opcode> op = parseOpcode(kind.getValue()))
    if (queue != queueName(arch::opcodeQueue(*op)))
      return parser.emitError(loc) << "'" << kind.getValue() << "' runs on the "
                                   << queueName(arch::opcodeQueue(*op))
                                   << " queue, not '" << queue << "'";
  return success();
}

static void printVecQueue(OpAsmPrinter &p, Operation *, StringAttr kind) {
  std::optional<arch::Opcode> op = parseOpcode(kind.getValue());
  p << (op ? queueName(arch::opcodeQueue(*op)) : "compute");
}

#define GET_OP_CLASSES
#include "tessera/Dialect/Chip/ChipOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Result names: %ld, %st, %gt, %mm, %v for tokens, the kernel's name for its
//===----------------------------------------------------------------------===//

void KernelOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  if (getNumResults() == 0)
    return;
  // An identifier from the layer name ("/attn/MatMul" -> "attn_MatMul").
  std::string name;
  for (char c : getName()) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (ok)
      name += c;
    else if (!name.empty() && name.back() != '_')
      name += '_';
  }
  while (!name.empty() && name.back() == '_')
    name.pop_back();
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    name = "k" + name;
  setName(getResult(0), name);
}
void DmaLoadOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getToken(), "ld");
}
void DmaStoreOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getToken(), "st");
}
void DmaGatherOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getToken(), "gt");
}
void MatMulOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getToken(), "mm");
}
void VecOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getToken(), "v");
}

//===----------------------------------------------------------------------===//
// Builders and simple verifiers
//===----------------------------------------------------------------------===//

void KernelOp::build(OpBuilder &b, OperationState &state, StringRef name,
                     unsigned numTokens) {
  state.getOrAddProperties<Properties>().name = b.getStringAttr(name);
  state.addTypes(SmallVector<Type>(numTokens, b.getType<TokenType>()));
  Region *body = state.addRegion();
  body->push_back(new Block);
}

namespace {

arch::DType archType(DType t) { return arch::DType(uint32_t(t)); }
DType chipType(arch::DType t) { return DType(uint32_t(t)); }

Type elementType(MLIRContext *ctx, DType t) {
  switch (t) {
  case DType::f32:
    return Float32Type::get(ctx);
  case DType::f16:
    return Float16Type::get(ctx);
  case DType::i8:
    return IntegerType::get(ctx, 8);
  case DType::i32:
    break;
  }
  return IntegerType::get(ctx, 32);
}

/// The bytes of a weight's data attribute (a resource blob or dense
/// elements), or false when it holds none.
bool dataBytes(ElementsAttr data, std::vector<uint8_t> &out) {
  if (auto res = dyn_cast<DenseResourceElementsAttr>(data)) {
    const AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return false;
    ArrayRef<char> d = blob->getData();
    out.assign(d.begin(), d.end());
    return true;
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(data)) {
    ArrayRef<char> raw = dense.getRawData();
    if (!dense.isSplat()) {
      out.assign(raw.begin(), raw.end());
      return true;
    }
    size_t n = size_t(dense.getNumElements());
    out.clear();
    out.reserve(n * raw.size());
    for (size_t i = 0; i < n; ++i)
      out.insert(out.end(), raw.begin(), raw.end());
    return true;
  }
  return false;
}

} // namespace

LogicalResult TensorOp::verify() {
  uint64_t n = 1, bytes = 0;
  for (int64_t d : getShape()) {
    if (d <= 0)
      return emitOpError("tensor '")
             << getName() << "': dimension " << d << " is not positive";
    if (__builtin_mul_overflow(n, uint64_t(d), &n))
      return emitOpError("tensor '") << getName() << "': shape overflows";
  }
  if (__builtin_mul_overflow(n, arch::dtypeBytes(archType(getDtype())),
                             &bytes) ||
      bytes != getBytes())
    return emitOpError("tensor '")
           << getName() << "': bytes is " << getBytes() << ", its shape and "
           << stringifyDType(getDtype()) << " need " << bytes;
  std::optional<ElementsAttr> data = getData();
  if (getKind() != TensorKind::weight) {
    if (data)
      return emitOpError("tensor '")
             << getName() << "': only weights carry data, this is "
             << stringifyTensorKind(getKind());
    return success();
  }
  if (!data)
    return emitOpError("weight '") << getName() << "' has no data";
  auto type = cast<ShapedType>(data->getType());
  if (type.getElementType() != elementType(getContext(), getDtype()) ||
      uint64_t(type.getNumElements()) != n)
    return emitOpError("weight '")
           << getName() << "': data of type " << type << " does not hold " << n
           << " " << stringifyDType(getDtype()) << " elements";
  if (auto res = dyn_cast<DenseResourceElementsAttr>(*data)) {
    const AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return emitOpError("weight '")
             << getName() << "': resource '" << res.getRawHandle().getKey()
             << "' has no data";
    if (blob->getData().size() != bytes)
      return emitOpError("weight '")
             << getName() << "': resource holds " << blob->getData().size()
             << " bytes, expected " << bytes;
  } else if (!isa<DenseElementsAttr>(*data)) {
    return emitOpError("weight '")
           << getName() << "': data must be dense or a dense_resource";
  }
  return success();
}

LogicalResult BufferOp::verify() {
  if (getBytes() == 0)
    return emitOpError("bytes must be positive");
  uint64_t end;
  if (__builtin_add_overflow(getOffset(), getBytes(), &end))
    return emitOpError("offset + bytes overflows");
  return success();
}

LogicalResult YieldOp::verify() {
  for (Value t : getTokens())
    if (!t.getDefiningOp() ||
        t.getDefiningOp()->getParentOp() != (*this)->getParentOp() ||
        isa<KernelOp>(t.getDefiningOp()))
      return emitOpError("yields a token not produced by an instruction of "
                         "its kernel");
  if (getNumOperands() != (*this)->getParentOp()->getNumResults())
    return emitOpError("yields ")
           << getNumOperands() << " tokens, the kernel has "
           << (*this)->getParentOp()->getNumResults() << " results";
  return success();
}

//===----------------------------------------------------------------------===//
// Instructions <-> ops
//===----------------------------------------------------------------------===//

arch::Instr tessera::chip::instrOf(Operation *op) {
  arch::Instr in;
  llvm::TypeSwitch<Operation *>(op)
      .Case<DmaLoadOp, DmaStoreOp>([&](auto o) {
        in.op =
            isa<DmaLoadOp>(o) ? arch::Opcode::DmaLoad : arch::Opcode::DmaStore;
        in.addr[0] = o.getDram();
        in.addr[1] = o.getSram();
        in.dims[0] = o.getRows();
        in.dims[1] = o.getRowBytes();
        in.strides[0] = o.getDramStride();
        in.strides[1] = o.getSramStride();
        in.npu = uint8_t(o.getNpu());
      })
      .Case([&](DmaGatherOp o) {
        in.op = arch::Opcode::DmaGather;
        in.addr[0] = o.getTable();
        in.addr[1] = o.getSram();
        in.addr[2] = o.getIndex();
        in.dims[0] = o.getRows();
        in.dims[1] = o.getRowBytes();
        in.dims[2] = o.getTableRows();
        in.strides[0] = o.getTableStride();
        in.strides[1] = o.getSramStride();
        in.npu = uint8_t(o.getNpu());
      })
      .Case([&](MatMulOp o) {
        in.op = arch::Opcode::MatMul;
        in.dtype = archType(o.getDtype());
        in.outDtype = archType(o.getOutDtype());
        in.accDtype = archType(o.getAccDtype());
        in.dims[0] = o.getM();
        in.dims[1] = o.getK();
        in.dims[2] = o.getN();
        in.addr[0] = o.getA();
        in.addr[1] = o.getB();
        in.addr[2] = o.getOut();
        in.addr[3] = o.getAcc();
        in.strides[0] = o.getAStride();
        in.strides[1] = o.getBStride();
        in.strides[2] = o.getOutStride();
        in.strides[3] = o.getAccStride();
        in.flags = (o.getAccumulate() ? arch::kFlagAccumulate : 0) |
                   (o.getTransposeB() ? arch::kFlagTransposeB : 0);
        in.npu = uint8_t(o.getNpu());
      })
      .Case([&](VecOp o) {
        // The verifier has checked the kind.
        in.op = parseOpcode(o.getKind()).value_or(arch::Opcode::VecCopy);
        in.dtype = archType(o.getDtype());
        in.outDtype = archType(o.getOutDtype());
        in.dims[0] = o.getRows();
        in.dims[1] = o.getCols();
        in.dims[2] = o.getDim2();
        in.addr[0] = o.getA();
        in.addr[1] = o.getB();
        in.addr[2] = o.getOut();
        in.addr[3] = o.getC();
        in.strides[0] = o.getAStride();
        in.strides[1] = o.getBStride();
        in.strides[2] = o.getOutStride();
        in.strides[3] = o.getCStride();
        in.imm = o.getImm().convertToFloat();
        in.flags = (o.getBcastRow() ? arch::kFlagBroadcastRow : 0) |
                   (o.getBcastCol() ? arch::kFlagBroadcastCol : 0) |
                   (o.getBcastScalar() ? arch::kFlagBroadcastScalar : 0);
        in.npu = uint8_t(o.getNpu());
      });
  return in;
}

namespace {

bool isInstr(Operation *op) {
  return isa<DmaLoadOp, DmaStoreOp, DmaGatherOp, MatMulOp, VecOp>(op);
}

/// The instruction op a token stands for (through a kernel's results).
Operation *producerOf(Value token) {
  Operation *def = token.getDefiningOp();
  if (auto kernel = dyn_cast_or_null<KernelOp>(def)) {
    auto yield = cast<YieldOp>(kernel.getBody().front().getTerminator());
    unsigned i = cast<OpResult>(token).getResultNumber();
    if (i >= yield.getNumOperands())
      return nullptr;
    return yield.getTokens()[i].getDefiningOp();
  }
  return def;
}

/// The program `program` declares; `ops` (when given) receives the
/// instruction ops in program order.
arch::Program emit(ProgramOp program, bool weightData,
                   std::vector<Operation *> *ops) {
  arch::Program prog;
  prog.chipName = program.getChip().str();
  prog.npus = program.getNpus();
  prog.sramBytesUsed = program.getSramBytesUsed();
  prog.dramBytes = program.getDramBytes();
  prog.hasSramBuffers = true;
  prog.weightDataElided = !weightData;
  llvm::DenseMap<Operation *, uint32_t> index;
  for (Operation &op : program.getBody().front()) {
    if (auto t = dyn_cast<TensorOp>(op)) {
      arch::TensorInfo info;
      info.name = t.getName().str();
      info.kind = arch::TensorKind(uint32_t(t.getKind()));
      info.dtype = archType(t.getDtype());
      info.shape.assign(t.getShape().begin(), t.getShape().end());
      info.dramAddr = t.getAddr();
      if (weightData && t.getData())
        dataBytes(*t.getData(), info.data);
      prog.tensors.push_back(std::move(info));
      continue;
    }
    auto kernel = dyn_cast<KernelOp>(op);
    if (!kernel)
      continue;
    uint32_t layer = uint32_t(prog.layers.size());
    prog.layers.push_back(kernel.getName().str());
    for (Operation &inner : kernel.getBody().front()) {
      if (auto buf = dyn_cast<BufferOp>(inner)) {
        prog.sramBuffers.push_back({layer, buf.getOffset(), buf.getBytes()});
        continue;
      }
      if (!isInstr(&inner))
        continue;
      arch::Instr in = instrOf(&inner);
      in.layer = layer;
      in.deps.reserve(inner.getNumOperands());
      for (Value dep : inner.getOperands()) {
        auto it = index.find(producerOf(dep));
        if (it != index.end())
          in.deps.push_back(it->second);
      }
      index[&inner] = uint32_t(prog.instrs.size());
      prog.instrs.push_back(std::move(in));
      if (ops)
        ops->push_back(&inner);
    }
  }
  return prog;
}

} // namespace

arch::Program tessera::chip::emitProgram(ProgramOp program, bool weightData) {
  return emit(program, weightData, nullptr);
}

//===----------------------------------------------------------------------===//
// The program verifier
//===----------------------------------------------------------------------===//

LogicalResult ProgramOp::verifyRegions() {
  uint32_t npus = getNpus();
  if (npus < 1 || npus > arch::Program::kMaxNpus)
    return emitOpError("npus is ")
           << npus << ", expected 1 .. " << arch::Program::kMaxNpus;
  // Structure, kinds and dependencies, op by op.
  std::vector<std::pair<uint64_t, uint64_t>> tensors; // [begin, end)
  bool seenKernel = false;
  for (Operation &op : getBody().front()) {
    if (auto t = dyn_cast<TensorOp>(op)) {
      if (seenKernel)
        return t.emitOpError("the tensor table comes before the kernels");
      tensors.push_back({t.getAddr(), t.getAddr() + t.getBytes()});
      continue;
    }
    auto kernel = dyn_cast<KernelOp>(op);
    if (!kernel)
      return op.emitOpError("is not allowed in a chip.program (tensors and "
                            "kernels only)");
    seenKernel = true;
    for (Operation &inner : kernel.getBody().front()) {
      if (isa<BufferOp, YieldOp>(inner))
        continue;
      if (!isInstr(&inner))
        return inner.emitOpError("is not allowed in a chip.kernel (buffers "
                                 "and instructions only)");
      if (auto vec = dyn_cast<VecOp>(inner)) {
        std::optional<arch::Opcode> code = parseOpcode(vec.getKind());
        if (!code)
          return vec.emitOpError("kind '")
                 << vec.getKind() << "' is not an opcode of the ISA";
        if (!arch::isVectorOp(*code))
          return vec.emitOpError("kind '")
                 << vec.getKind() << "' is not a vector-unit opcode";
      }
      if (uint32_t npu = instrOf(&inner).npu; npu >= npus)
        return inner.emitOpError("npu ")
               << npu << " is not below the program's " << npus << " NPUs";
      llvm::SmallPtrSet<Operation *, 8> waited;
      for (Value dep : inner.getOperands()) {
        Operation *producer = producerOf(dep);
        if (!producer || !isInstr(producer))
          return inner.emitOpError("waits for a token that no instruction "
                                   "produced");
        if (!waited.insert(producer).second)
          return inner.emitOpError("waits twice for the same instruction");
      }
    }
  }
  // The arch contract, on the program this IR emits (bounds, dimensions,
  // strides, flags, tensor overlaps, the buffer table).
  std::vector<Operation *> ops;
  arch::Program prog = emit(*this, /*weightData=*/false, &ops);
  try {
    prog.verify("chip.program");
  } catch (const arch::ContractError &e) {
    std::string msg = e.what();
    // "chip.program: instruction N (name): ..." names the op.
    const std::string key = "chip.program: instruction ";
    if (msg.rfind(key, 0) == 0) {
      size_t n = std::strtoull(msg.c_str() + key.size(), nullptr, 10);
      if (n < ops.size())
        return ops[n]->emitOpError("breaks the arch contract: ")
               << msg.substr(key.size());
    }
    return emitOpError("breaks the arch contract: ") << msg;
  }
  // Every DRAM operand inside one tensor: the tensors by start address,
  // with the furthest end of any tensor starting at or before each.
  std::sort(tensors.begin(), tensors.end());
  std::vector<uint64_t> maxEnd(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i)
    maxEnd[i] = std::max(i ? maxEnd[i - 1] : 0, tensors[i].second);
  size_t i = 0;
  for (Operation &op : getBody().front()) {
    auto kernel = dyn_cast<KernelOp>(op);
    if (!kernel)
      continue;
    SmallVector<std::pair<uint64_t, uint64_t>> buffers;
    for (BufferOp b : kernel.getBody().front().getOps<BufferOp>())
      buffers.push_back({b.getOffset(), b.getOffset() + b.getBytes()});
    for (Operation &inner : kernel.getBody().front()) {
      if (!isInstr(&inner))
        continue;
      const arch::Instr &in = prog.instrs[i++];
      for (const arch::Operand &o : arch::operandsOf(in)) {
        uint64_t end = 0;
        o.end(end); // Checked by verify() above.
        if (o.inDram) {
          auto it = std::upper_bound(tensors.begin(), tensors.end(),
                                     std::make_pair(o.addr, UINT64_MAX));
          if (it == tensors.begin() ||
              maxEnd[size_t(it - tensors.begin()) - 1] < end)
            return inner.emitOpError("operand '")
                   << o.role << "' [" << o.addr << ", " << end
                   << ") of DRAM lies in no chip.tensor";
          continue;
        }
        bool inside = false;
        for (auto [b, e] : buffers)
          inside |= b <= o.addr && end <= e;
        if (!inside)
          return inner.emitOpError("operand '")
                 << o.role << "' [" << o.addr << ", " << end
                 << ") of SRAM lies in no chip.buffer of kernel '"
                 << kernel.getName() << "'";
      }
    }
  }
  // Every hazard is covered by a token: the code generator's dependency
  // rule (codegen::HazardTracker, docs/lowering.md "Dependencies") gives,
  // per other queue, the latest earlier instruction an instruction must
  // wait for (RAW, WAR, WAW over the bytes its operands touch); waiting for
  // it or for a later instruction of the same queue (in order) covers it.
  codegen::HazardTracker hazards;
  const unsigned kQueues = codegen::HazardTracker::kQueues;
  auto queueOf = [](const arch::Instr &in) {
    return in.npu * arch::kNumQueues + unsigned(in.queue());
  };
  for (uint32_t n = 0; n < prog.instrs.size(); ++n) {
    const arch::Instr &in = prog.instrs[n];
    int64_t waited[codegen::HazardTracker::kQueues];
    std::fill(waited, waited + kQueues, -1);
    for (uint32_t d : in.deps) {
      unsigned q = queueOf(prog.instrs[d]);
      waited[q] = std::max<int64_t>(waited[q], d);
    }
    for (uint32_t need : hazards.add(in, n))
      if (waited[queueOf(prog.instrs[need])] < int64_t(need))
        return ops[n]->emitOpError("does not wait for instruction ")
               << need << " (" << arch::opcodeName(prog.instrs[need].op)
               << "), which accesses bytes it "
               << "touches: a missing dependency";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Building a chip.program from a program
//===----------------------------------------------------------------------===//

namespace {

bool sameInstr(const arch::Instr &a, const arch::Instr &b, std::string &field) {
  auto differ = [&](const char *f) {
    field = f;
    return false;
  };
  if (a.op != b.op)
    return differ("opcode");
  if (a.dtype != b.dtype || a.outDtype != b.outDtype ||
      a.accDtype != b.accDtype)
    return differ("element types");
  if (a.flags != b.flags)
    return differ("flags");
  if (a.npu != b.npu)
    return differ("npu");
  for (int k = 0; k < 4; ++k)
    if (a.addr[k] != b.addr[k])
      return differ("addr");
  for (int k = 0; k < 3; ++k)
    if (a.dims[k] != b.dims[k])
      return differ("dims");
  for (int k = 0; k < 4; ++k)
    if (a.strides[k] != b.strides[k])
      return differ("strides");
  if (std::memcmp(&a.imm, &b.imm, sizeof(float)) != 0)
    return differ("imm");
  return true;
}

std::string resourceName(const std::string &tensor) {
  std::string s;
  for (char c : tensor)
    s += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'
             ? c
             : '_';
  return s.empty() || std::isdigit(static_cast<unsigned char>(s[0])) ? "w_" + s
                                                                     : s;
}

/// The op of instruction `in` (its fields only).
Operation *buildInstr(OpBuilder &b, Location loc, const arch::Instr &in,
                      ValueRange deps) {
  Type tokenType = b.getType<TokenType>();
  ArrayRef<Type> token(tokenType);
  switch (in.op) {
  case arch::Opcode::DmaLoad:
  case arch::Opcode::DmaStore: {
    auto set = [&](auto o) {
      o.setDram(in.addr[0]);
      o.setSram(in.addr[1]);
      o.setRows(in.dims[0]);
      o.setRowBytes(in.dims[1]);
      o.setDramStride(in.strides[0]);
      o.setSramStride(in.strides[1]);
      if (in.npu)
        o.setNpu(in.npu);
      return o.getOperation();
    };
    if (in.op == arch::Opcode::DmaLoad)
      return set(
          b.create<DmaLoadOp>(loc, token, deps, ArrayRef<NamedAttribute>{}));
    return set(
        b.create<DmaStoreOp>(loc, token, deps, ArrayRef<NamedAttribute>{}));
  }
  case arch::Opcode::DmaGather: {
    auto o =
        b.create<DmaGatherOp>(loc, token, deps, ArrayRef<NamedAttribute>{});
    o.setTable(in.addr[0]);
    o.setSram(in.addr[1]);
    o.setIndex(in.addr[2]);
    o.setRows(in.dims[0]);
    o.setRowBytes(in.dims[1]);
    o.setTableRows(in.dims[2]);
    o.setTableStride(in.strides[0]);
    o.setSramStride(in.strides[1]);
    if (in.npu)
      o.setNpu(in.npu);
    return o;
  }
  case arch::Opcode::MatMul: {
    auto o = b.create<MatMulOp>(loc, token, deps, ArrayRef<NamedAttribute>{});
    o.setDtype(chipType(in.dtype));
    o.setOutDtype(chipType(in.outDtype));
    o.setAccDtype(chipType(in.accDtype));
    o.setM(in.dims[0]);
    o.setK(in.dims[1]);
    o.setN(in.dims[2]);
    o.setA(in.addr[0]);
    o.setB(in.addr[1]);
    o.setOut(in.addr[2]);
    o.setAcc(in.addr[3]);
    o.setAStride(in.strides[0]);
    o.setBStride(in.strides[1]);
    o.setOutStride(in.strides[2]);
    o.setAccStride(in.strides[3]);
    o.setAccumulate(in.flags & arch::kFlagAccumulate);
    o.setTransposeB(in.flags & arch::kFlagTransposeB);
    if (in.npu)
      o.setNpu(in.npu);
    return o;
  }
  default:
    break;
  }
  auto o = b.create<VecOp>(loc, token, deps, ArrayRef<NamedAttribute>{});
  o.setKind(arch::opcodeName(in.op));
  o.setDtype(chipType(in.dtype));
  o.setOutDtype(chipType(in.outDtype));
  o.setRows(in.dims[0]);
  o.setCols(in.dims[1]);
  // Fields at their default (0) are left unset: nothing to store or print.
  if (in.dims[2])
    o.setDim2(in.dims[2]);
  if (in.addr[0])
    o.setA(in.addr[0]);
  if (in.addr[1])
    o.setB(in.addr[1]);
  if (in.addr[2])
    o.setOut(in.addr[2]);
  if (in.addr[3])
    o.setC(in.addr[3]);
  if (in.strides[0])
    o.setAStride(in.strides[0]);
  if (in.strides[1])
    o.setBStride(in.strides[1]);
  if (in.strides[2])
    o.setOutStride(in.strides[2]);
  if (in.strides[3])
    o.setCStride(in.strides[3]);
  uint32_t immBits;
  std::memcpy(&immBits, &in.imm, sizeof immBits);
  if (immBits)
    o.setImm(llvm::APFloat(in.imm));
  o.setBcastRow(in.flags & arch::kFlagBroadcastRow);
  o.setBcastCol(in.flags & arch::kFlagBroadcastCol);
  o.setBcastScalar(in.flags & arch::kFlagBroadcastScalar);
  if (in.npu)
    o.setNpu(in.npu);
  return o;
}

} // namespace

ProgramBuilder::ProgramBuilder(OpBuilder &b, Location loc, StringRef name)
    : loc(loc) {
  program = b.create<ProgramOp>(loc, name, "", 1u, uint64_t(0), uint64_t(0));
  program.getBody().push_back(new Block);
}

void ProgramBuilder::fail(const std::string &why) {
  throw codegen::CodegenError("internal error: " + why);
}

void ProgramBuilder::layer(uint32_t index, const std::string &name) {
  if (index != kernels.size())
    fail("layer " + std::to_string(index) + " after " +
         std::to_string(kernels.size()) + " layers");
  OpBuilder b = OpBuilder::atBlockEnd(&program.getBody().front());
  kernels.push_back(b.create<KernelOp>(loc, name, 0u));
  exported.emplace_back();
  lastBuffer = nullptr;
}

void ProgramBuilder::buffer(uint64_t addr, uint64_t bytes) {
  if (kernels.empty())
    fail("a buffer before the first layer");
  // The kernel's buffers come first, in the order they were allocated.
  OpBuilder b(program.getContext());
  if (lastBuffer)
    b.setInsertionPointAfter(lastBuffer);
  else
    b.setInsertionPointToStart(&kernels.back().getBody().front());
  lastBuffer = b.create<BufferOp>(loc, addr, bytes);
}

void ProgramBuilder::instr(const arch::Instr &in, uint32_t index) {
  if (kernels.empty())
    fail("an instruction before the first layer");
  if (index != tokens.size())
    fail("instruction " + std::to_string(index) + " after " +
         std::to_string(tokens.size()) + " instructions");
  uint32_t layer = uint32_t(kernels.size() - 1);
  deps.clear();
  for (uint32_t d : in.deps) {
    if (d >= index)
      fail("instruction " + std::to_string(index) + " depends on instruction " +
           std::to_string(d) + ", which is not earlier");
    // A token of an earlier kernel: that kernel passes it on (finish()).
    if (layerOf[d] != layer && exportIndex.find(d) == exportIndex.end()) {
      exportIndex[d] = uint32_t(exported[layerOf[d]].size());
      exported[layerOf[d]].push_back(d);
    }
    deps.push_back(tokens[d]);
  }
  OpBuilder b = OpBuilder::atBlockEnd(&kernels.back().getBody().front());
  Operation *op = buildInstr(b, loc, in, deps);
  std::string field;
  if (!sameInstr(instrOf(op), in, field))
    fail("instruction " + std::to_string(index) + " (" +
         arch::opcodeName(in.op) + "): its " + field +
         " cannot be expressed by chip." + op->getName().stripDialect().str());
  tokens.push_back(op->getResult(0));
  layerOf.push_back(layer);
}

ProgramOp ProgramBuilder::finish(arch::Program &&prog) {
  MLIRContext *ctx = program.getContext();
  // Each kernel passes the tokens later kernels wait for out as results:
  // the kernel is rebuilt with them and the later uses go through them.
  for (size_t l = 0; l < kernels.size(); ++l) {
    KernelOp old = kernels[l];
    OpBuilder b(old);
    if (exported[l].empty()) {
      OpBuilder::atBlockEnd(&old.getBody().front())
          .create<YieldOp>(loc, ValueRange{});
      continue;
    }
    auto kernel =
        b.create<KernelOp>(loc, old.getName(), unsigned(exported[l].size()));
    kernel.getBody().takeBody(old.getBody());
    SmallVector<Value> yielded;
    for (uint32_t d : exported[l])
      yielded.push_back(tokens[d]);
    OpBuilder::atBlockEnd(&kernel.getBody().front())
        .create<YieldOp>(loc, yielded);
    for (auto [i, d] : llvm::enumerate(exported[l]))
      tokens[d].replaceUsesWithIf(kernel.getResult(i), [&](OpOperand &use) {
        return use.getOwner()->getParentOp() != kernel.getOperation();
      });
    old.erase();
    kernels[l] = kernel;
  }
  // The tensor table, before the kernels; each weight's bytes move into a
  // blob the attribute owns.
  Block &body = program.getBody().front();
  OpBuilder tb(&body, body.begin());
  for (arch::TensorInfo &t : prog.tensors) {
    auto op = tb.create<TensorOp>(loc, t.name, TensorKind(uint32_t(t.kind)),
                                  chipType(t.dtype), t.shape, t.dramAddr,
                                  t.byteSize(), ElementsAttr());
    if (t.kind != arch::TensorKind::Weight)
      continue;
    auto *bytes = new std::vector<uint8_t>(std::move(t.data));
    SmallVector<int64_t> shape(t.shape.begin(), t.shape.end());
    auto type =
        RankedTensorType::get(shape, elementType(ctx, chipType(t.dtype)));
    AsmResourceBlob blob(
        ArrayRef<char>(reinterpret_cast<const char *>(bytes->data()),
                       bytes->size()),
        arch::dtypeBytes(t.dtype),
        [bytes](void *, size_t, size_t) { delete bytes; },
        /*dataIsMutable=*/false);
    op.setDataAttr(DenseResourceElementsAttr::get(type, resourceName(t.name),
                                                  std::move(blob)));
  }
  program.setChip(prog.chipName);
  program.setNpus(prog.npus);
  program.setSramBytesUsed(prog.sramBytesUsed);
  program.setDramBytes(prog.dramBytes);
  return program;
}

FailureOr<ProgramOp> tessera::chip::buildProgram(OpBuilder &b, Location loc,
                                                 arch::Program &&prog,
                                                 StringRef name,
                                                 std::string &error) {
  if (!prog.hasSramBuffers) {
    error = "the program has no buffer table";
    return failure();
  }
  const size_t n = prog.instrs.size();
  for (size_t i = 0; i < n; ++i)
    if (prog.instrs[i].layer >= prog.layers.size() ||
        (i && prog.instrs[i].layer < prog.instrs[i - 1].layer)) {
      error = "instruction " + std::to_string(i) + " of layer " +
              std::to_string(prog.instrs[i].layer) +
              " is not in layer order (or past the " +
              std::to_string(prog.layers.size()) + " layers)";
      return failure();
    }
  ProgramBuilder pb(b, loc, name);
  try {
    size_t i = 0, buf = 0;
    for (uint32_t layer = 0; layer < prog.layers.size(); ++layer) {
      pb.layer(layer, prog.layers[layer]);
      for (; buf < prog.sramBuffers.size() &&
             prog.sramBuffers[buf].layer == layer;
           ++buf)
        pb.buffer(prog.sramBuffers[buf].addr, prog.sramBuffers[buf].bytes);
      for (; i < n && prog.instrs[i].layer == layer; ++i)
        pb.instr(prog.instrs[i], uint32_t(i));
    }
    if (buf != prog.sramBuffers.size())
      throw codegen::CodegenError("the buffer table is not ordered by layer");
  } catch (const codegen::CodegenError &e) {
    error = e.what();
    pb.program.erase();
    return failure();
  }
  return pb.finish(std::move(prog));
}
