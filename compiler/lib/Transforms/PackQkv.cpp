//===- PackQkv.cpp - sibling projections of one input as one matmul -------===//
//
// Part of Tessera. Issue 10's "QKV projections as one matmul (packed
// weights)": attention written by hand (`self.q = nn.Linear(...)`, `self.k`,
// `self.v`, as the bundled encoder layer and most perception codebases do)
// exports three products of the same activation x with three constant
// weights, each with its bias:
//
//   q = x W_q + b_q,   k = x W_k + b_k,   v = x W_v + b_v
//
// tsr-pack-qkv replaces every such set of sibling projections (two or more
// `tsr.matmul` whose A is the same value, whose B is a 2-D `tsr.weight` and
// whose result, through its bias add, an attention reads as q, k or v)
// with one product against the packed weight [K, N_q + N_k + N_v] (the
// columns side by side, in program order), one add of the packed bias when
// every member has one, and a `tsr.slice` along the last axis per member —
// the form nn.MultiheadAttention's `in_proj_weight` exports. x is read from
// DRAM once instead of once per projection; a layernorm feeding x is
// computed once instead of once per projection (tsr-fuse-layernorm); the
// attention reads q, k and v in place from the packed tensor
// (tsr-fuse-attention), and tsr-keep-kv can keep K and V of its first heads
// in SRAM from the packed projection. Packing changes no arithmetic: every
// output element is the same dot product of the same FP16 operands.
//
// The packed product carries `tsr.packed = [names of the packed weights]`;
// docs/fusion.md ("Packing the QKV projections") describes it.
//
//===----------------------------------------------------------------------===//

#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace tessera::tsr {
#define GEN_PASS_DEF_TSRPACKQKV
#include "tessera/Dialect/Tsr/Passes.h.inc"
} // namespace tessera::tsr

using namespace mlir;
using namespace tessera::tsr;

namespace {

/// A projection that may be packed: x W (+ b).
struct Member {
  MatMulOp matmul;
  WeightOp weight;        ///< W, [K, N].
  AddOp bias;             ///< The bias add, or null.
  WeightOp biasWeight;    ///< b, [N] (with `bias`).
  DenseElementsAttr w, b; ///< Their values.
  int64_t n = 0;
  /// The value the members' users read: the bias add's, else the product's.
  Value result() { return bias ? bias.getResult() : matmul.getResult(); }
};

/// W of `mm` when it is a 2-D f32 weight with its values (a static [K, N]).
std::optional<Member> asMember(MatMulOp mm) {
  auto w = mm.getRhs().getDefiningOp<WeightOp>();
  auto out = dyn_cast<RankedTensorType>(mm.getResult().getType());
  if (!w || !out || !out.hasStaticShape())
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(w.getResult().getType());
  auto dense = dyn_cast<DenseElementsAttr>(w.getValue());
  if (!type || type.getRank() != 2 || !dense || !dense.getElementType().isF32())
    return std::nullopt;
  Member m;
  m.matmul = mm;
  m.weight = w;
  m.w = dense;
  m.n = type.getShape()[1];
  // The bias: the product's only user adds a 1-D weight of N elements and
  // keeps its shape (the export's `Add(b, x W)`, either operand order).
  if (!mm.getResult().hasOneUse())
    return m;
  auto add = dyn_cast<AddOp>(*mm.getResult().getUsers().begin());
  if (!add || add.getResult().getType() != mm.getResult().getType())
    return m;
  Value other = add.getLhs() == mm.getResult() ? add.getRhs() : add.getLhs();
  auto bw = other.getDefiningOp<WeightOp>();
  if (!bw)
    return m;
  auto btype = dyn_cast<RankedTensorType>(bw.getResult().getType());
  auto bdense = dyn_cast<DenseElementsAttr>(bw.getValue());
  if (!btype || btype.getRank() != 1 || btype.getShape()[0] != m.n || !bdense ||
      !bdense.getElementType().isF32())
    return m;
  m.bias = add;
  m.biasWeight = bw;
  m.b = bdense;
  return m;
}

/// The members' [K, N] blocks side by side: [K, sum N] row-major.
DenseElementsAttr packColumns(ArrayRef<Member> ms, int64_t k, int64_t n) {
  std::vector<float> out(size_t(k * n));
  int64_t col = 0;
  for (const Member &m : ms) {
    int64_t i = 0;
    for (float f : m.w.getValues<float>()) {
      out[size_t((i / m.n) * n + col + i % m.n)] = f;
      ++i;
    }
    col += m.n;
  }
  auto type =
      RankedTensorType::get({k, n}, Float32Type::get(ms[0].w.getContext()));
  return DenseElementsAttr::get(type, ArrayRef<float>(out));
}

/// The members' biases one after the other: [sum N].
DenseElementsAttr packBiases(ArrayRef<Member> ms, int64_t n) {
  std::vector<float> out;
  out.reserve(size_t(n));
  for (const Member &m : ms)
    for (float f : m.b.getValues<float>())
      out.push_back(f);
  auto type =
      RankedTensorType::get({n}, Float32Type::get(ms[0].b.getContext()));
  return DenseElementsAttr::get(type, ArrayRef<float>(out));
}

/// Replaces the sibling projections `ms` of `x` with one packed product.
void pack(Value x, SmallVector<Member> &ms) {
  OpBuilder b(x.getContext());
  if (Operation *def = x.getDefiningOp())
    b.setInsertionPointAfter(def);
  else
    b.setInsertionPointToStart(cast<BlockArgument>(x).getOwner());
  Location loc = ms.front().matmul.getLoc();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t k = xType.getShape().back();
  int64_t n = 0;
  std::string name;
  SmallVector<Attribute> names;
  for (Member &m : ms) {
    n += m.n;
    name += (name.empty() ? "" : "+") + m.weight.getName().str();
    names.push_back(m.weight.getNameAttr());
  }
  bool biased = llvm::all_of(ms, [](Member &m) { return bool(m.bias); });

  DenseElementsAttr weight = packColumns(ms, k, n);
  auto packedW = b.create<WeightOp>(loc, weight.getType(),
                                    b.getStringAttr(name + ".packed"), weight);
  SmallVector<int64_t> shape(
      cast<RankedTensorType>(ms.front().matmul.getResult().getType())
          .getShape());
  shape.back() = n;
  auto outType = RankedTensorType::get(shape, b.getF32Type());
  auto mm = b.create<MatMulOp>(loc, outType, x, packedW.getResult());
  mm->setAttr("tsr.packed", b.getArrayAttr(names));
  Value packed = mm.getResult();
  if (biased) {
    std::string bname;
    for (Member &m : ms)
      bname += (bname.empty() ? "" : "+") + m.biasWeight.getName().str();
    DenseElementsAttr bias = packBiases(ms, n);
    auto packedB = b.create<WeightOp>(loc, bias.getType(),
                                      b.getStringAttr(bname + ".packed"), bias);
    packed = b.create<AddOp>(ms.front().bias.getLoc(), outType,
                             packedB.getResult(), packed)
                 .getResult();
  }

  // One slice per member along the last axis, in its place.
  int64_t col = 0;
  SmallVector<int64_t> steps(shape.size(), 1);
  for (Member &m : ms) {
    SmallVector<int64_t> offsets(shape.size(), 0);
    offsets.back() = col;
    col += m.n;
    Value old = m.result();
    Value slice = b.create<SliceOp>(m.matmul.getLoc(), old.getType(), packed,
                                    b.getDenseI64ArrayAttr(offsets),
                                    b.getDenseI64ArrayAttr(steps))
                      .getResult();
    // Without a packed bias, a member's own bias add moves onto its slice.
    if (m.bias && !biased)
      m.matmul.getResult().replaceAllUsesWith(slice);
    else
      old.replaceAllUsesWith(slice);
  }
  // The members' ops, then their weights once no op reads them (members
  // may share a weight: an exporter deduplicates equal initializers).
  llvm::SetVector<Operation *> weights;
  for (Member &m : ms) {
    if (m.bias && biased) {
      m.bias.erase();
      weights.insert(m.biasWeight);
    }
    if (m.matmul->use_empty())
      m.matmul.erase();
    weights.insert(m.weight);
  }
  for (Operation *w : weights)
    if (w->use_empty())
      w->erase();
}

/// The values attentions read as q, k or v, seen back through the ops that
/// move no data and a [1, 0, 2] transpose (a sequence-first export), as
/// tsr-fuse-attention traces them: the projections worth packing.
llvm::DenseSet<Value> attentionOperands(Operation *root) {
  llvm::DenseSet<Value> out;
  root->walk([&](AttentionOp a) {
    for (Value v : {a.getQuery(), a.getKey(), a.getValue()})
      for (;;) {
        out.insert(v);
        Operation *def = v.getDefiningOp();
        if (!def || !(movesNoData(def) || isa<TransposeOp>(def)))
          break;
        v = def->getOperand(0);
      }
  });
  return out;
}

struct PackQkvPass : tessera::tsr::impl::TsrPackQkvBase<PackQkvPass> {
  void runOnOperation() override {
    // Only projections an attention reads: their slices are read in place
    // by the fused attention (tsr-fuse-attention); other siblings' slices
    // would be copy kernels.
    llvm::DenseSet<Value> qkv = attentionOperands(getOperation());
    // The candidate products of each A, in program order (deterministic).
    llvm::MapVector<Value, SmallVector<Member>> byInput;
    getOperation()->walk([&](MatMulOp mm) {
      if (std::optional<Member> m = asMember(mm))
        if (qkv.contains(m->result()))
          byInput[mm.getLhs()].push_back(*m);
    });
    for (auto &entry : byInput) {
      SmallVector<Member> &ms = entry.second;
      if (ms.size() < 2)
        continue;
      // A is read from the members now: an earlier packing may have
      // replaced the value the map was keyed by (a packed projection's
      // result that is itself the A of these) with its slice.
      Value x = ms.front().matmul.getLhs();
      auto xType = dyn_cast<RankedTensorType>(x.getType());
      if (!xType || !xType.hasStaticShape())
        continue;
      pack(x, ms);
    }
  }
};

} // namespace

std::unique_ptr<Pass> tessera::tsr::createPackQkvPass() {
  return std::make_unique<PackQkvPass>();
}
