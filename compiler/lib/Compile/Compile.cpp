//===- Compile.cpp - the compiler driver and graph extraction -------------===//
//
// Part of Tessera. See Compile.h. The one translation unit that walks tsr ops
// into the MLIR-free Graph the code generator and the reference executor use.
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler/Compile.h"

#include "tessera/Compiler/Codegen.h"
#include "tessera/Compiler/KernelDecisions.h"
#include "tessera/Dialect/Chip/Chip.h"
#include "tessera/Dialect/Chip/Passes.h"
#include "tessera/Dialect/Tsr/Tsr.h"
#include "tessera/Import/OnnxImporter.h"
#include "tessera/Transforms/Fusion.h"
#include "tessera/Transforms/SramAlloc.h"
#include "tessera/Transforms/Tiling.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <map>
#include <optional>
#include <set>

using namespace mlir;
using namespace tessera;
using namespace tessera::codegen;

namespace {

llvm::Error error(const std::string &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// The ONNX node name a location carries (NameLoc, possibly inside a
/// FusedLoc or CallSiteLoc), or "".
std::string nameOf(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations())
      if (std::string s = nameOf(l); !s.empty())
        return s;
  if (auto c = dyn_cast<CallSiteLoc>(loc))
    return nameOf(c.getCallee());
  return "";
}

std::vector<int64_t> shapeOf(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return {t.getShape().begin(), t.getShape().end()};
}

int64_t normalizeAxis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + int64_t(rank) : axis;
}

/// What a fused group keeps out of DRAM against the unfused pipeline
/// (docs/fusion.md, "In the report"): its region is cloned into a function
/// and lowered as the unfused pipeline lowers it (tsr-expand-attention for
/// an attention); every value a kernel writes there (not a reshape or a
/// transpose that moves no data: those alias their input) other than the
/// group's result is an intermediate the unfused program writes to DRAM
/// once and each reading kernel loads back. FP16 in DRAM: 2 bytes per
/// element. A value computed from the group's inputs alone by an op that
/// an earlier group also holds (a layernorm prologue copied into each of
/// the projections it feeds: one tensor unfused, stored once and loaded by
/// each) is counted once: `shared` holds those seen, and a repeat adds only
/// its loads.
///
/// A product packed by tsr-pack-qkv (`tsr.packed`, k members) is k tensors
/// unfused (the members' outputs, the same bytes in all), each loaded by its
/// own reader, and its A is loaded by each of the k products. Slices of a
/// packed projection's result (q, k and v of an attention, read in place) are
/// the members' results unfused, stored and loaded there, while the fused
/// program still stores the packed tensor once and its group loads it once:
/// they remove one round trip and one load per slice beyond the first, and no
/// bytes when they cover the tensor.
using SharedKey =
    std::tuple<std::string, std::vector<const void *>, const void *>;

/// The number of projections packed into `v`'s product: the `tsr.packed`
/// of the tsr.matmul computing `v`, seen through its bias add and inside a
/// matmul group; 0 when `v` is not a packed projection's result.
size_t packedMembers(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return 0;
  size_t n = 0;
  auto count = [&](Operation *op) {
    if (auto names = op->getAttrOfType<ArrayAttr>("tsr.packed"))
      n = std::max<size_t>(n, names.size());
  };
  if (isa<tsr::GroupOp>(def))
    def->walk([&](tsr::MatMulOp mm) { count(mm); });
  else if (isa<tsr::MatMulOp>(def))
    count(def);
  else if (isa<tsr::AddOp>(def))
    for (Value in : def->getOperands())
      if (auto mm = in.getDefiningOp<tsr::MatMulOp>())
        count(mm);
  return n;
}

GraphNode::Fusion fusionOf(tsr::GroupOp group, std::set<SharedKey> &shared) {
  GraphNode::Fusion f;
  MLIRContext *ctx = group.getContext();
  Location loc = group.getLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module->getBody());
  Block &body = group.getBody().front();
  auto fn = b.create<func::FuncOp>(
      loc, "group",
      b.getFunctionType(body.getArgumentTypes(), group.getResultTypes()));
  Block *entry = fn.addEntryBlock();
  IRMapping map;
  for (auto [from, to] : llvm::zip(body.getArguments(), entry->getArguments()))
    map.map(from, to);
  b.setInsertionPointToEnd(entry);
  for (Operation &op : body.without_terminator())
    b.clone(op, map);
  SmallVector<Value> results;
  for (Value v : body.getTerminator()->getOperands())
    results.push_back(map.lookup(v));
  b.create<func::ReturnOp>(loc, results);
  if (group.getKind() == "attention") {
    PassManager pm(ctx);
    pm.addPass(tsr::createExpandAttentionPass());
    if (failed(pm.run(*module)))
      return f;
  }
  // The group's result and the aliases it is seen through.
  llvm::DenseSet<Value> result;
  for (Value v : fn.getBody().front().getTerminator()->getOperands())
    for (;;) {
      result.insert(v);
      Operation *def = v.getDefiningOp();
      if (!def || !tsr::movesNoData(def))
        break;
      v = def->getOperand(0);
    }
  // Slices of each packed projection's result: their bytes and loads.
  struct PackedSource {
    uint64_t bytes = 0, slices = 0, sliceBytes = 0, loads = 0, loadBytes = 0;
  };
  std::map<unsigned, PackedSource> packedSources;
  for (Operation &op : fn.getBody().front()) {
    if (op.getNumResults() != 1 || isa<tsr::WeightOp>(op) ||
        tsr::movesNoData(&op) || result.count(op.getResult(0)))
      continue;
    // A packed product: one tensor per member unfused.
    uint64_t members = 1;
    if (auto names = op.getAttrOfType<ArrayAttr>("tsr.packed"))
      members = std::max<uint64_t>(1, names.size());
    // A slice of a packed projection's result read in place.
    std::optional<unsigned> packedSource;
    if (isa<tsr::SliceOp>(op))
      if (auto arg = dyn_cast<BlockArgument>(op.getOperand(0));
          arg && arg.getOwner() == entry &&
          packedMembers(group.getInputs()[arg.getArgNumber()]) > 0)
        packedSource = arg.getArgNumber();
    // Every kernel operand reading it, through aliases (a packed product's
    // A: each of its members' products reads it unfused).
    uint64_t loads = 0;
    SmallVector<Value> work{op.getResult(0)};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (OpOperand &use : v.getUses()) {
        Operation *user = use.getOwner();
        if (tsr::movesNoData(user))
          work.push_back(user->getResult(0));
        else if (auto names = user->getAttrOfType<ArrayAttr>("tsr.packed"))
          loads += std::max<uint64_t>(1, names.size());
        else if (!isa<func::ReturnOp>(user))
          ++loads;
      }
    }
    uint64_t bytes = uint64_t(cast<RankedTensorType>(op.getResult(0).getType())
                                  .getNumElements()) *
                     2;
    if (packedSource) {
      PackedSource &p = packedSources[*packedSource];
      p.bytes = uint64_t(cast<RankedTensorType>(
                             entry->getArgument(*packedSource).getType())
                             .getNumElements()) *
                2;
      ++p.slices;
      p.sliceBytes += bytes;
      p.loads += loads;
      p.loadBytes += loads * bytes;
      continue;
    }
    f.loads += loads * members;
    f.loadBytes += loads * bytes;
    // Computed from the group's inputs alone: the same tensor as an
    // earlier group's copy of the op?
    SharedKey key{op.getName().getStringRef().str(),
                  {},
                  op.getAttrDictionary().getAsOpaquePointer()};
    bool fromInputs = op.getNumOperands() > 0;
    for (Value v : op.getOperands()) {
      auto arg = dyn_cast<BlockArgument>(v);
      fromInputs &= arg && arg.getOwner() == entry;
      if (fromInputs)
        std::get<1>(key).push_back(
            group.getInputs()[arg.getArgNumber()].getAsOpaquePointer());
    }
    if (fromInputs && !shared.insert(key).second)
      continue;
    f.roundTrips += members;
    f.storeBytes += bytes;
  }
  // The members' results against the packed tensor the fused program
  // still stores once and its group loads once.
  for (auto &[arg, p] : packedSources) {
    f.roundTrips += p.slices - 1;
    f.storeBytes += p.sliceBytes - std::min(p.sliceBytes, p.bytes);
    f.loads += p.loads - std::min<uint64_t>(p.loads, 1);
    f.loadBytes += p.loadBytes - std::min(p.loadBytes, p.bytes);
  }
  return f;
}

/// The decisions a pass recorded on `op` into the node, one reader for every
/// kind (docs/lowering.md, "Decisions of the unfused kernels"): every
/// integer field of `tsr.tiling` (the named tile fields filled from them:
/// tm, tk, tn, npus of a matmul; tq, tk of an attention) and the SRAM plan
/// `tsr.sram`.
llvm::Error readRecorded(DictionaryAttr tiling, DictionaryAttr sram,
                         const std::string &who,
                         std::map<std::string, int64_t> &fields,
                         cost::SramPlan &plan) {
  if (tiling)
    for (NamedAttribute f : tiling)
      if (auto v = dyn_cast<IntegerAttr>(f.getValue()))
        fields[f.getName().str()] = v.getInt();
  if (!sram)
    return llvm::Error::success();
  std::string why;
  FailureOr<cost::SramPlan> read = tsr::readSramPlan(sram, why);
  if (failed(read))
    return error(who + ": " + why);
  plan = std::move(*read);
  return llvm::Error::success();
}

llvm::Error readDecisions(Operation *op, const std::string &nodeName,
                          GraphNode &node) {
  if (llvm::Error e =
          readRecorded(op->getAttrOfType<DictionaryAttr>("tsr.tiling"),
                       op->getAttrOfType<DictionaryAttr>(tsr::kSramPlanAttr),
                       nodeName, node.tiling, node.sram))
    return e;
  // `tk` is a product's reduction tile (tileK) but an attention's K/V rows
  // per tile (tileKeys): one field, read by the node's kind.
  bool attention = node.kind == NodeKind::Attention;
  node.tileM = node.tile("tm");
  node.tileK = attention ? 0 : node.tile("tk");
  node.tileN = node.tile("tn");
  node.npuParts = node.tile("npus");
  node.tileRows = node.tile("tq");
  node.tileKeys = attention ? node.tile("tk") : 0;
  return llvm::Error::success();
}

/// The decisions recorded on argument `arg` of `fn` for an integer input's
/// FP16 conversion (its `tsr.tiling`, `tsr.sram` argument attributes).
llvm::Error readConversion(func::FuncOp fn, unsigned arg, GraphValue &v) {
  return readRecorded(
      fn.getArgAttrOfType<DictionaryAttr>(arg, "tsr.tiling"),
      fn.getArgAttrOfType<DictionaryAttr>(arg, tsr::kSramPlanAttr),
      "input '" + v.name + "'", v.convertTiling, v.convertSram);
}

/// The group's recorded SRAM plan (tsr-allocate-sram) into the node.
llvm::Error readPlan(tsr::GroupOp group, const std::string &nodeName,
                     GraphNode &node) {
  std::string why;
  // The resident K/V region across the projection and the attention.
  FailureOr<cost::ResidentKv> kv = tsr::residentKvOf(group, why);
  if (failed(kv))
    return error("group '" + nodeName + "': " + why);
  node.kv = *kv;
  return readDecisions(group, "group '" + nodeName + "'", node);
}

/// The node kind and attributes of a tsr op outside a group (not its
/// inputs and output); false when the op has no lowering to the chip.
bool fillNode(Operation &op, GraphNode &node) {
  bool known = true;
  llvm::TypeSwitch<Operation *>(&op)
      .Case([&](tsr::MatMulOp) { node.kind = NodeKind::MatMul; })
      .Case([&](tsr::AddOp) { node.kind = NodeKind::Add; })
      .Case([&](tsr::SubOp) { node.kind = NodeKind::Sub; })
      .Case([&](tsr::MulOp) { node.kind = NodeKind::Mul; })
      .Case([&](tsr::DivOp) { node.kind = NodeKind::Div; })
      .Case([&](tsr::LayerNormOp o) {
        node.kind = NodeKind::LayerNorm;
        node.axis =
            normalizeAxis(int64_t(o.getAxis()), shapeOf(o.getInput()).size());
        node.epsilon = o.getEpsilon().convertToFloat();
      })
      .Case([&](tsr::SoftmaxOp o) {
        node.kind = NodeKind::Softmax;
        node.axis =
            normalizeAxis(int64_t(o.getAxis()), shapeOf(o.getInput()).size());
      })
      // Transformer ops (issue 9, part 2).
      .Case([&](tsr::SliceOp o) {
        node.kind = NodeKind::Slice;
        node.offsets.assign(o.getOffsets().begin(), o.getOffsets().end());
        node.steps.assign(o.getSteps().begin(), o.getSteps().end());
      })
      .Case([&](tsr::ConcatOp o) {
        node.kind = NodeKind::Concat;
        node.axis = int64_t(o.getAxis());
      })
      .Case([&](tsr::PowOp o) {
        node.kind = NodeKind::Pow;
        node.exponent = o.getExponent().convertToFloat();
      })
      .Case([&](tsr::SqrtOp) { node.kind = NodeKind::Sqrt; })
      .Case([&](tsr::NegOp) { node.kind = NodeKind::Neg; })
      .Case([&](tsr::TanhOp) { node.kind = NodeKind::Tanh; })
      .Case([&](tsr::ReduceSumOp o) {
        node.kind = NodeKind::ReduceSum;
        node.axes.assign(o.getAxes().begin(), o.getAxes().end());
      })
      .Case([&](tsr::ReduceMeanOp o) {
        node.kind = NodeKind::ReduceMean;
        node.axes.assign(o.getAxes().begin(), o.getAxes().end());
      })
      .Case([&](tsr::ReduceMaxOp o) {
        node.kind = NodeKind::ReduceMax;
        node.axes.assign(o.getAxes().begin(), o.getAxes().end());
      })
      .Case([&](tsr::ErfOp) { node.kind = NodeKind::Erf; })
      .Case([&](tsr::GeluOp o) {
        node.kind = NodeKind::Gelu;
        node.tanhGelu = o.getApproximate() == "tanh";
      })
      .Case([&](tsr::TransposeOp o) {
        node.kind = NodeKind::Transpose;
        node.perm.assign(o.getPerm().begin(), o.getPerm().end());
      })
      .Case([&](tsr::ReshapeOp) { node.kind = NodeKind::Reshape; })
      // CNN and miscellaneous ops.
      .Case([&](tsr::ConvOp o) {
        node.kind = NodeKind::Conv;
        node.strides.assign(o.getStrides().begin(), o.getStrides().end());
        node.pads.assign(o.getPads().begin(), o.getPads().end());
        node.dilations.assign(o.getDilations().begin(), o.getDilations().end());
        node.groups = int64_t(o.getGroups());
      })
      .Case([&](tsr::MaxPoolOp o) {
        node.kind = NodeKind::MaxPool;
        node.kernel.assign(o.getKernel().begin(), o.getKernel().end());
        node.strides.assign(o.getStrides().begin(), o.getStrides().end());
        node.pads.assign(o.getPads().begin(), o.getPads().end());
      })
      .Case([&](tsr::AvgPoolOp o) {
        node.kind = NodeKind::AvgPool;
        node.kernel.assign(o.getKernel().begin(), o.getKernel().end());
        node.strides.assign(o.getStrides().begin(), o.getStrides().end());
        node.pads.assign(o.getPads().begin(), o.getPads().end());
        node.countIncludePad = o.getCountIncludePad();
      })
      .Case([&](tsr::ReluOp) { node.kind = NodeKind::Relu; })
      .Case([&](tsr::SigmoidOp) { node.kind = NodeKind::Sigmoid; })
      .Case([&](tsr::HardSwishOp) { node.kind = NodeKind::HardSwish; })
      .Case([&](tsr::HardSigmoidOp o) {
        node.kind = NodeKind::HardSigmoid;
        node.alpha = o.getAlpha().convertToFloat();
        node.beta = o.getBeta().convertToFloat();
      })
      .Case([&](tsr::ClipOp o) {
        node.kind = NodeKind::Clip;
        node.lo = o.getMin().convertToFloat();
        node.hi = o.getMax().convertToFloat();
      })
      .Case([&](tsr::EmbeddingOp) { node.kind = NodeKind::Embedding; })
      .Case([&](tsr::EqualOp) { node.kind = NodeKind::Equal; })
      .Case([&](tsr::WhereOp) { node.kind = NodeKind::Where; })
      .Case([&](tsr::ExpandOp) { node.kind = NodeKind::Expand; })
      .Default([&](Operation *) { known = false; });
  return known;
}

} // namespace

const char *tessera::compiler::pipelineName(Pipeline p) {
  switch (p) {
  case Pipeline::Unfused:
    return "unfused";
  case Pipeline::Standard:
    return "standard";
  case Pipeline::Fused:
    break;
  }
  return "fused";
}

bool tessera::compiler::parsePipeline(const std::string &name, Pipeline &out) {
  for (Pipeline p : {Pipeline::Unfused, Pipeline::Standard, Pipeline::Fused})
    if (name == pipelineName(p)) {
      out = p;
      return true;
    }
  return false;
}

llvm::Expected<Graph> tessera::compiler::opGraph(Operation *op) {
  Graph g;
  GraphNode node;
  node.name = nameOf(op->getLoc());
  if (node.name.empty())
    node.name = op->getName().stripDialect().str();
  if (op->getNumResults() != 1 || !fillNode(*op, node))
    return error("op '" + op->getName().getStringRef().str() +
                 "' has no lowering to the chip");
  // Constants the kernels read at compile time: scalars (an immediate), and
  // the operands of the mask ops, which graph normalization may broadcast.
  bool maskOp = isa<tsr::WhereOp, tsr::EqualOp>(op);
  for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
    GraphValue v;
    v.name = "operand" + std::to_string(i);
    if (!isa<RankedTensorType>(operand.getType()))
      return error("operand " + std::to_string(i) + " is not a ranked tensor");
    v.shape = shapeOf(operand);
    if (auto w = operand.getDefiningOp<tsr::WeightOp>()) {
      v.role = ValueRole::Weight;
      auto dense = dyn_cast<DenseElementsAttr>(w.getValue());
      if (dense && (maskOp || dense.getNumElements() <= 1))
        for (float f : dense.getValues<float>())
          v.data.push_back(f);
    } else if (auto arg = dyn_cast<BlockArgument>(operand)) {
      v.role = ValueRole::Input;
      if (auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()))
        v.integer = bool(
            fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "tsr.dtype"));
    }
    node.inputs.push_back(g.addValue(std::move(v)));
  }
  GraphValue out;
  out.name = node.name;
  out.shape = shapeOf(op->getResult(0));
  for (Operation *user : op->getResult(0).getUsers())
    if (isa<func::ReturnOp>(user))
      out.role = ValueRole::Output;
  node.output = g.addValue(std::move(out));
  if (llvm::Error e = readDecisions(op, "'" + node.name + "'", node))
    return std::move(e);
  g.nodes.push_back(std::move(node));
  return g;
}

llvm::Expected<std::optional<Graph>>
tessera::compiler::conversionGraph(BlockArgument arg) {
  auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  if (!fn || !fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "tsr.dtype"))
    return std::nullopt;
  // Read as data by some op (codegen::readsAsData; a group reads its
  // operands as data, a return is no kernel).
  bool data = false;
  for (OpOperand &use : arg.getUses()) {
    GraphNode reader;
    if (fillNode(*use.getOwner(), reader))
      data |= codegen::readsAsData(reader.kind, use.getOperandNumber());
    else
      data |= isa<tsr::GroupOp>(use.getOwner());
  }
  if (!data)
    return std::nullopt;
  Graph g;
  GraphValue v;
  auto name = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "tsr.name");
  v.name = name ? name.str() : "arg" + std::to_string(arg.getArgNumber());
  v.shape = shapeOf(arg);
  v.role = ValueRole::Input;
  v.integer = true;
  if (llvm::Error e = readConversion(fn, arg.getArgNumber(), v))
    return std::move(e);
  int in = g.addValue(std::move(v));
  g.nodes.push_back(codegen::conversionNode(g, in));
  return std::optional<Graph>(std::move(g));
}

llvm::Expected<Graph> tessera::compiler::extractGraph(ModuleOp module) {
  func::FuncOp fn = module.lookupSymbol<func::FuncOp>("main");
  if (!fn) {
    auto fns = module.getOps<func::FuncOp>();
    if (std::distance(fns.begin(), fns.end()) != 1)
      return error("module has no 'main' function (and not exactly one "
                   "function)");
    fn = *fns.begin();
  }
  if (fn.getBody().getBlocks().size() != 1)
    return error("function '" + fn.getName().str() +
                 "' must have one block (no control flow)");

  Graph g;
  g.name = fn.getName().str();
  llvm::DenseMap<Value, int> ids;
  std::set<std::string> names;
  auto uniqueName = [&](std::string base) {
    std::string name = base;
    for (int i = 1; !names.insert(name).second; ++i)
      name = base + "." + std::to_string(i);
    return name;
  };
  for (BlockArgument arg : fn.getArguments()) {
    auto name = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "tsr.name");
    GraphValue v;
    v.name = uniqueName(name ? name.str()
                             : "arg" + std::to_string(arg.getArgNumber()));
    v.shape = shapeOf(arg);
    v.role = ValueRole::Input;
    v.integer =
        bool(fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "tsr.dtype"));
    if (v.integer)
      if (llvm::Error e = readConversion(fn, arg.getArgNumber(), v))
        return std::move(e);
    ids[arg] = g.addValue(std::move(v));
  }

  unsigned index = 0;
  std::set<SharedKey> sharedInternals; // fusionOf's values seen in a group.
  for (Operation &op : fn.getBody().front()) {
    ++index;
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
        int id = ids.lookup(value);
        GraphValue &v = g.values[id];
        if (v.role != ValueRole::Intermediate)
          return error("result " + std::to_string(i) + " returns '" + v.name +
                       "' unchanged (an input, a weight or another result); "
                       "the chip computes every output");
        auto name = fn.getResultAttrOfType<StringAttr>(i, "tsr.name");
        names.erase(v.name);
        v.name = uniqueName(name ? name.str() : "output" + std::to_string(i));
        v.role = ValueRole::Output;
      }
      continue;
    }
    std::string nodeName = nameOf(op.getLoc());
    if (nodeName.empty())
      nodeName =
          op.getName().stripDialect().str() + "_" + std::to_string(index);

    if (auto w = dyn_cast<tsr::WeightOp>(op)) {
      auto dense = dyn_cast<DenseElementsAttr>(w.getValue());
      if (!dense)
        return error("weight '" + w.getName().str() +
                     "': only dense f32 values are supported");
      GraphValue v;
      v.name = uniqueName(w.getName().str());
      v.shape = shapeOf(w.getResult());
      v.role = ValueRole::Weight;
      for (float f : dense.getValues<float>())
        v.data.push_back(f);
      ids[w.getResult()] = g.addValue(std::move(v));
      continue;
    }

    if (auto group = dyn_cast<tsr::GroupOp>(op);
        group && group.getKind() == "matmul") {
      // A fused matmul (tsr-fuse-epilogue, tsr-fuse-layernorm): one node,
      // its operands in the order Graph.h states.
      std::string why;
      FailureOr<tsr::MatMulGroupParts> parts =
          tsr::matchMatMulGroup(group, why);
      if (failed(parts))
        return error("group '" + nodeName + "': " + why);
      GraphNode node;
      node.name = nodeName;
      node.kind = NodeKind::FusedMatMul;
      auto operand = [&](int i) {
        node.inputs.push_back(ids.lookup(group.getInputs()[i]));
      };
      operand(parts->a);
      operand(parts->b);
      if (parts->layernorm) {
        node.layerNormPrologue = true;
        node.epsilon = parts->layernorm.getEpsilon().convertToFloat();
        operand(parts->gamma);
        operand(parts->beta);
      }
      if (parts->bias >= 0) {
        node.biasEpilogue = true;
        node.foldBias = parts->foldBias;
        operand(parts->bias);
      }
      node.geluEpilogue = parts->gelu;
      node.tanhGelu = parts->tanhGelu;
      if (parts->residual >= 0) {
        node.residualEpilogue = true;
        operand(parts->residual);
      }
      node.fusion = fusionOf(group, sharedInternals);
      if (size_t members = packedMembers(group.getResult(0)))
        node.fusion.applied.push_back("packed(" + std::to_string(members) +
                                      ")");
      if (parts->layernorm)
        node.fusion.applied.push_back("layernorm");
      if (parts->bias >= 0)
        node.fusion.applied.push_back("bias");
      if (parts->gelu)
        node.fusion.applied.push_back(parts->tanhGelu ? "gelu(tanh)" : "gelu");
      if (parts->residual >= 0)
        node.fusion.applied.push_back("residual");
      if (llvm::Error e = readPlan(group, nodeName, node))
        return std::move(e);
      GraphValue out;
      out.name = uniqueName(nodeName);
      out.shape = shapeOf(group.getResult(0));
      node.output = ids[group.getResult(0)] = g.addValue(std::move(out));
      g.nodes.push_back(std::move(node));
      continue;
    }

    if (auto group = dyn_cast<tsr::GroupOp>(op)) {
      // A fused attention (tsr-fuse-attention): one Attention node reading
      // q, k and v in place from the group's inputs.
      GraphNode node;
      node.name = nodeName;
      node.kind = NodeKind::Attention;
      Block &body = group.getBody().front();
      auto attns = body.getOps<tsr::AttentionOp>();
      if (group.getKind() != "attention" || attns.empty() ||
          group.getNumResults() != 1)
        return error("group '" + nodeName + "' of kind '" +
                     group.getKind().str() + "' has no lowering to the chip");
      tsr::AttentionOp a = *attns.begin();
      node.heads = int64_t(a.getHeads());
      node.seqK = shapeOf(a.getKey())[1];
      node.scale = a.getScale().convertToFloat();
      for (Value x : {a.getQuery(), a.getKey(), a.getValue()}) {
        tsr::OperandLayout l = tsr::traceAttentionOperand(x);
        auto arg = dyn_cast<BlockArgument>(l.source);
        if (!arg || arg.getOwner() != &body)
          return error("group '" + nodeName +
                       "': q, k and v must be group inputs or slices and "
                       "transposes of them");
        node.inputs.push_back(
            ids.lookup(group.getInputs()[arg.getArgNumber()]));
        node.qkvLayout.push_back({l.offset, l.batchStride, l.rowStride});
      }
      node.onlineSoftmax =
          group.getSoftmax() && *group.getSoftmax() == "online";
      node.fusion = fusionOf(group, sharedInternals);
      node.fusion.applied = {"attention"};
      node.fusion.heads = node.heads;
      // Heads whose K and V stay in SRAM from the projection (tsr-keep-kv).
      node.fusion.headsFused =
          group.getHeadsOnChip() ? int64_t(*group.getHeadsOnChip()) : 0;
      if (llvm::Error e = readPlan(group, nodeName, node))
        return std::move(e);
      GraphValue out;
      out.name = uniqueName(nodeName);
      out.shape = shapeOf(group.getResult(0));
      node.output = ids[group.getResult(0)] = g.addValue(std::move(out));
      g.nodes.push_back(std::move(node));
      continue;
    }

    GraphNode node;
    node.name = nodeName;
    bool known = fillNode(op, node);
    if (!known || op.getNumResults() != 1)
      return error("op '" + op.getName().getStringRef().str() + "' (node '" +
                   nodeName + "') has no lowering to the chip");
    for (Value operand : op.getOperands())
      node.inputs.push_back(ids.lookup(operand));
    if (llvm::Error e = readDecisions(&op, "'" + nodeName + "'", node))
      return std::move(e);
    GraphValue out;
    out.name = uniqueName(nodeName);
    out.shape = shapeOf(op.getResult(0));
    node.output = ids[op.getResult(0)] = g.addValue(std::move(out));
    g.nodes.push_back(std::move(node));
  }
  try {
    g.verify();
  } catch (const CodegenError &e) {
    return error(e.what());
  }
  return g;
}

namespace {
/// Counts the ops inside the module's functions by name.
void countOps(ModuleOp module, compiler::OpCounts &counts) {
  module.walk([&](Operation *op) {
    if (!isa<ModuleOp, func::FuncOp>(op))
      ++counts[op->getName().getStringRef().str()];
  });
}
} // namespace

namespace {
/// `--print-ir-after-all`: the module after every pass of `pm` to stderr,
/// large constants and weight blobs elided.
void printIrAfterEachPass(PassManager &pm) {
  pm.getContext()->disableMultithreading();
  pm.enableIRPrinting(
      /*shouldPrintBeforePass=*/[](Pass *, Operation *) { return false; },
      /*shouldPrintAfterPass=*/[](Pass *, Operation *) { return true; },
      /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
      /*printAfterOnlyOnFailure=*/false, llvm::errs(),
      OpPrintingFlags().elideLargeElementsAttrs(8).elideLargeResourceString(
          64));
}
} // namespace

void tessera::compiler::addGraphPasses(OpPassManager &pm,
                                       const CompileOptions &opts,
                                       const arch::ChipConfig &chip) {
  // Layernorm first: its chain contains a Pow the GELU pattern never
  // matches, and attention last, after the MLPs are named.
  if (opts.raiseLayerNorm)
    pm.addPass(tsr::createRaiseLayerNormPass());
  if (opts.raiseGelu)
    pm.addPass(tsr::createRaiseGeluPass());
  if (opts.raiseAttention)
    pm.addPass(tsr::createRaiseAttentionPass());
  // The fusion passes of the pipeline (docs/fusion.md). Sibling projections
  // of one input (hand-written q, k, v Linears) as one packed product, as
  // nn.MultiheadAttention exports them.
  bool standard =
      opts.pipeline == Pipeline::Fused || opts.pipeline == Pipeline::Standard;
  if (standard)
    pm.addPass(tsr::createPackQkvPass());
  if (opts.pipeline == Pipeline::Fused) {
    pm.addPass(tsr::createFuseAttentionPass(chip));
    pm.addPass(tsr::createFuseEpiloguePass(chip));
  }
  if (standard)
    pm.addPass(tsr::createFuseLayerNormPass(chip));
  // K and V of the first heads kept in SRAM across the QKV projection ->
  // attention boundary (the source's split, docs/fusion.md).
  if (opts.pipeline == Pipeline::Fused) {
    pm.addPass(tsr::createKeepKvPass(chip));
    // Each matmul group's bias added by the matrix unit where the cost
    // model finds it faster than a vec.add per output tile.
    if (opts.foldBias)
      pm.addPass(tsr::createFoldBiasPass(chip));
  }
}

void tessera::compiler::addKernelPasses(OpPassManager &pm,
                                        const arch::ChipConfig &chip) {
  // The kernels' decisions (docs/lowering.md): an attention no group took
  // becomes the chip's kernels, every remaining matrix product gets its
  // tiling and NPU split (and every bare kernel whose kind records its
  // decisions its tiling), every group and bare kernel its SRAM placement,
  // each proved.
  pm.addPass(tsr::createExpandAttentionPass());
  pm.addPass(tsr::createSelectTilingPass(chip));
  pm.addPass(tsr::createVerifyTilingPass(chip));
  pm.addPass(tsr::createAllocateSramPass(chip));
  pm.addPass(tsr::createVerifySramPass(chip));
}

namespace {
/// `tsr-pipeline`'s options (tessera-opt).
struct PipelineOptions : mlir::PassPipelineOptions<PipelineOptions> {
  Option<std::string> pipeline{
      *this, "pipeline",
      llvm::cl::desc("Fusion pipeline: fused (default), standard or unfused"),
      llvm::cl::init("fused")};
  Option<std::string> chipConfig{
      *this, "chip-config",
      llvm::cl::desc("Chip config file (default: the reference chip)"),
      llvm::cl::init("")};
  Option<uint64_t> sramBytes{
      *this, "sram-bytes",
      llvm::cl::desc("SRAM capacity in bytes, overriding the chip config's"),
      llvm::cl::init(0)};
};
} // namespace

void tessera::compiler::registerPipelines() {
  mlir::registerPassPipeline(
      "tsr-pipeline",
      "Every pass tessera compile runs before tsr-lower-to-chip: raising, "
      "the fusions of the named pipeline, then the kernels' decisions "
      "(tiling, SRAM placement) and their verifiers (docs/compiler.md)",
      [](OpPassManager &pm, StringRef text,
         llvm::function_ref<LogicalResult(const llvm::Twine &)> fail)
          -> LogicalResult {
        auto options = PipelineOptions::createFromString(text);
        if (!options)
          return failure();
        CompileOptions opts;
        if (!parsePipeline(options->pipeline, opts.pipeline))
          return fail("tsr-pipeline: pipeline must be unfused, standard or "
                      "fused, got '" +
                      options->pipeline + "'");
        arch::ChipConfig chip = arch::ChipConfig::reference();
        try {
          if (!options->chipConfig.empty())
            chip = arch::ChipConfig::load(options->chipConfig);
        } catch (const std::exception &e) {
          return fail(llvm::Twine("tsr-pipeline: ") + e.what());
        }
        if (options->sramBytes)
          chip.sram_bytes = options->sramBytes;
        addGraphPasses(pm, opts, chip);
        addKernelPasses(pm, chip);
        return success();
      },
      [](llvm::function_ref<void(const mlir::detail::PassOptions &)> handler) {
        handler(PipelineOptions());
      });
}

llvm::Error tessera::compiler::runPipeline(ModuleOp module,
                                           const CompileOptions &opts,
                                           OpCounts *counts) {
  MLIRContext *ctx = module.getContext();
  std::string diag;
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
    if (diag.empty())
      diag = d.str();
    return success();
  });
  auto withPrinting = [&](PassManager &pm) {
    if (opts.printIrAfterAll)
      printIrAfterEachPass(pm);
  };
  // The graph passes: raising, then the fusions of the pipeline.
  arch::ChipConfig chip =
      opts.chip ? *opts.chip : arch::ChipConfig::reference();
  PassManager graph(ctx);
  withPrinting(graph);
  addGraphPasses(graph, opts, chip);
  if (failed(graph.run(module)))
    return error("pass pipeline failed: " + diag);
  // What the graph passes made of the model (an attention left unfused is
  // still one op here).
  if (counts)
    countOps(module, *counts);
  PassManager kernels(ctx);
  withPrinting(kernels);
  addKernelPasses(kernels, chip);
  if (failed(kernels.run(module)))
    return error("pass pipeline failed: " + diag);
  return llvm::Error::success();
}

llvm::Error tessera::compiler::expandForChip(ModuleOp module) {
  // The chip has no attention kernel yet: tsr.attention becomes the
  // kernels it has.
  std::string diag;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &d) {
    if (diag.empty())
      diag = d.str();
    return success();
  });
  PassManager pm(module.getContext());
  pm.addPass(tsr::createExpandAttentionPass());
  if (failed(pm.run(module)))
    return error("tsr-expand-attention failed: " + diag);
  return llvm::Error::success();
}

llvm::Expected<arch::Program> tessera::compiler::generate(
    ModuleOp module, const arch::ChipConfig &chip, const std::string &source,
    Graph *graphOut, std::vector<cost::Kernel> *plans, bool printIrAfterAll) {
  // The last rung of the ladder (docs/lowering.md): tsr -> chip.program by
  // tsr-lower-to-chip, then the program file by a translation of it.
  MLIRContext *ctx = module.getContext();
  std::string diag;
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
    if (diag.empty())
      diag = d.str();
    return success();
  });
  PassManager pm(ctx);
  pm.addPass(chip::createLowerToChipPass(chip, graphOut, plans));
  if (printIrAfterAll)
    printIrAfterEachPass(pm);
  if (failed(pm.run(module)))
    return error(source + ": " + diag);
  auto programs = module.getOps<chip::ProgramOp>();
  if (programs.empty())
    return error(source + ": tsr-lower-to-chip produced no chip.program");
  return chip::emitProgram(*programs.begin());
}

llvm::Expected<arch::Program> tessera::compiler::compileOnnxFile(
    const std::string &path, const arch::ChipConfig &chip,
    const CompileOptions &opts, Graph *graph, OpCounts *opCounts) {
  MLIRContext ctx;
  ctx.loadDialect<tsr::TsrDialect, chip::ChipDialect, func::FuncDialect>();
  auto module = importer::importOnnxFile(ctx, path);
  if (!module)
    return module.takeError();
  CompileOptions withChip = opts;
  withChip.chip = &chip;
  if (llvm::Error e = runPipeline(**module, withChip, opCounts))
    return error(path + ": " + llvm::toString(std::move(e)));
  return generate(**module, chip, path, graph, opts.plans,
                  opts.printIrAfterAll);
}

llvm::Expected<Graph> tessera::compiler::importOnnxGraph(
    const std::string &path, const CompileOptions &opts, OpCounts *opCounts) {
  MLIRContext ctx;
  ctx.loadDialect<tsr::TsrDialect, chip::ChipDialect, func::FuncDialect>();
  auto module = importer::importOnnxFile(ctx, path);
  if (!module)
    return module.takeError();
  if (llvm::Error e = runPipeline(**module, opts, opCounts))
    return error(path + ": " + llvm::toString(std::move(e)));
  if (llvm::Error e = expandForChip(**module))
    return error(path + ": " + llvm::toString(std::move(e)));
  llvm::Expected<Graph> graph = extractGraph(**module);
  if (!graph)
    return error(path + ": " + llvm::toString(graph.takeError()));
  try {
    graph->verify();
  } catch (const CodegenError &e) {
    return error(path + ": " + e.what());
  }
  return graph;
}
