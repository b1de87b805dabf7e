//===- OnnxImporter.cpp - ONNX model -> tsr module ------------------------===//
//
// Part of Tessera. Reads an ONNX ModelProto and builds `func.func @main` in the
// tsr dialect, in four steps:
//
//   1. parse the protobuf, check the default-domain opset (13 to 17) and that
//      every node is an op this importer knows, then run the ONNX checker --
//      all before anything is built;
//   2. turn the non-initializer graph inputs into function arguments (f32,
//      static shapes);
//   3. walk the nodes in order. Every ONNX value is either *runtime* (an SSA
//      value of the function), a *constant* known at import time
//      (initializers, Constant nodes and everything computed from them only),
//      or *unfoldable* (a shape computation that depends on something not
//      known statically; an error only if something needs it). Compute ops
//      become tsr ops; shape ops (Shape, Gather, Slice, Concat, Unsqueeze,
//      Squeeze, Cast, ConstantOfShape and integer arithmetic) are evaluated
//      here on constants, so PyTorch's reshape chains fold to static shapes;
//   4. return the graph outputs and run the MLIR verifier.
//
// Constants become `tsr.weight` only when a compute op uses them, once each.
// The mapping of every op and every error message is in docs/onnx-import.md.
//
//===----------------------------------------------------------------------===//

#include "tessera/Import/OnnxImporter.h"

#include "tessera/Dialect/Tsr/Tsr.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/checker.h"
#include "onnx/defs/tensor_proto_util.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

using namespace mlir;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

constexpr int64_t kMinOpset = 13;
constexpr int64_t kMaxOpset = 17;
/// Largest constant the shape evaluator materializes (elements); shape
/// tensors are tiny, this only stops a hostile ConstantOfShape.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 28;
/// Largest graph input (elements); keeps every later product in int64.
constexpr int64_t kMaxInputElements = int64_t(1) << 40;

/// ONNX ops that become tsr ops.
const char *const kComputeOps[] = {"MatMul",  "Gemm",     "Add",
                                   "Sub",     "Mul",      "Div",
                                   "Softmax", "Erf",      "Transpose",
                                   "Reshape", "Identity", "LayerNormalization"};
/// ONNX ops evaluated at import time (and Unsqueeze/Squeeze, which become
/// tsr.reshape on runtime values).
const char *const kShapeOps[] = {"Shape",  "Gather",    "Slice",
                                 "Concat", "Unsqueeze", "Squeeze",
                                 "Cast",   "Constant",  "ConstantOfShape"};

/// ONNX ops of transformers (issue 9, part 2) that become tsr ops; Slice,
/// Gather and Concat (listed with the shape ops) become tsr.slice/tsr.concat
/// when they read runtime tensors.
const char *const kTransformerOps[] = {"Split",      "Pow",       "Sqrt",
                                       "Neg",        "Tanh",      "Dropout",
                                       "ReduceMean", "ReduceSum", "ReduceMax"};

/// CNN and miscellaneous ops (Conv, pooling, activations, embedding lookup,
/// masks); Equal, Where and Expand also fold on constants.
const char *const kCnnOps[] = {"Conv",
                               "BatchNormalization",
                               "MaxPool",
                               "AveragePool",
                               "GlobalAveragePool",
                               "Relu",
                               "Sigmoid",
                               "HardSwish",
                               "HardSigmoid",
                               "Clip",
                               "Flatten",
                               "Equal",
                               "Where",
                               "Expand"};

bool isSupportedOp(StringRef opType) {
  return llvm::is_contained(kTransformerOps, opType) ||
         llvm::is_contained(kComputeOps, opType) ||
         llvm::is_contained(kShapeOps, opType) ||
         llvm::is_contained(kCnnOps, opType);
}

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// The linear index into a tensor of shape `in` that numpy broadcasting reads
/// for element `linear` of the broadcast result of shape `out`.
int64_t broadcastSource(ArrayRef<int64_t> out, ArrayRef<int64_t> in,
                        int64_t linear) {
  SmallVector<int64_t> outStrides = stridesOf(out), inStrides = stridesOf(in);
  int64_t offset = out.size() - in.size(), src = 0;
  for (size_t d = 0; d < out.size(); ++d) {
    int64_t coord = (linear / outStrides[d]) % out[d];
    if (static_cast<int64_t>(d) >= offset && in[d - offset] != 1)
      src += coord * inStrides[d - offset];
  }
  return src;
}

/// A tensor known at import time: f32 data (weights) or int64 data (shapes).
struct ConstTensor {
  bool isFloat = true;
  SmallVector<int64_t> shape;
  std::vector<float> f;
  std::vector<int64_t> i;

  int64_t size() const { return isFloat ? f.size() : i.size(); }
  /// A tensor of the same element type whose element k is element src[k].
  ConstTensor gather(ArrayRef<int64_t> newShape, ArrayRef<int64_t> src) const {
    ConstTensor t;
    t.isFloat = isFloat;
    t.shape.assign(newShape.begin(), newShape.end());
    for (int64_t s : src) {
      if (isFloat)
        t.f.push_back(f[s]);
      else
        t.i.push_back(i[s]);
    }
    return t;
  }
};

/// What an ONNX value name stands for while the graph is walked.
struct Entry {
  enum Kind { Runtime, Constant, Unfoldable } kind = Runtime;
  Value value;                       // Runtime
  std::shared_ptr<ConstTensor> data; // Constant
  std::string weightName;            // Constant: name of its tsr.weight
  std::string reason;                // Unfoldable: which node, and why
  /// Runtime: every element is an integer (an integer graph input, a 0/1
  /// mask), so a Cast to an integer type is the identity.
  bool integral = false;

  static std::shared_ptr<Entry> runtime(Value v, bool integral = false) {
    auto e = std::make_shared<Entry>();
    e->value = v;
    e->integral = integral;
    return e;
  }
  static std::shared_ptr<Entry> constant(ConstTensor t, std::string name) {
    auto e = std::make_shared<Entry>();
    e->kind = Constant;
    e->data = std::make_shared<ConstTensor>(std::move(t));
    e->weightName = std::move(name);
    return e;
  }
  static std::shared_ptr<Entry> unfoldable(std::string why) {
    auto e = std::make_shared<Entry>();
    e->kind = Unfoldable;
    e->reason = std::move(why);
    return e;
  }
  ArrayRef<int64_t> shape() const {
    if (kind == Constant)
      return data->shape;
    return cast<RankedTensorType>(value.getType()).getShape();
  }
};
using EntryPtr = std::shared_ptr<Entry>;

class Importer {
public:
  Importer(MLIRContext &ctx, StringRef sourceName)
      : ctx(ctx), builder(&ctx), sourceName(sourceName.str()),
        fileName(llvm::sys::path::filename(sourceName).str()),
        curLoc(UnknownLoc::get(&ctx)) {}

  Expected<OwningOpRef<ModuleOp>> run(StringRef bytes);

private:
  // --- errors ---------------------------------------------------------------
  Error fail(const llvm::Twine &msg) const {
    // One line: newlines (the ONNX checker's messages have them) become
    // spaces and runs of spaces collapse.
    std::string text;
    for (char c : sourceName + ": " + msg.str()) {
      if (c == '\n' || c == '\r' || c == '\t')
        c = ' ';
      if (c != ' ' || text.empty() || text.back() != ' ')
        text += c;
    }
    return llvm::createStringError(llvm::inconvertibleErrorCode(), text);
  }
  Error nodeFail(const llvm::Twine &msg) const {
    return fail("node '" + curName + "' (" + curNode->op_type() + "): " + msg);
  }

  // --- front checks ---------------------------------------------------------
  Error checkModel();
  std::string nodeName(size_t index) const;

  // --- values ---------------------------------------------------------------
  Expected<ConstTensor> convertTensor(const onnx::TensorProto &t,
                                      StringRef what) const;
  Expected<EntryPtr> lookup(StringRef name);
  Expected<EntryPtr> input(unsigned k);
  bool hasInput(unsigned k) const {
    return curNode->input_size() > static_cast<int>(k) &&
           !curNode->input(k).empty();
  }
  /// Input k as an f32 SSA value (constants become tsr.weight).
  Expected<Value> operand(unsigned k);
  /// Input k as a constant (shape inputs); errors if it cannot be folded.
  Expected<std::shared_ptr<ConstTensor>> constantInput(unsigned k,
                                                       StringRef role);
  Value weight(StringRef name, const ConstTensor &t);
  std::string uniqueName(const std::string &base);
  void define(unsigned outIndex, EntryPtr e);
  void defineValue(Value v) { define(0, Entry::runtime(v)); }

  // --- attributes -----------------------------------------------------------
  const onnx::AttributeProto *attr(StringRef name) const;
  int64_t intAttr(StringRef name, int64_t dflt) const;
  float floatAttr(StringRef name, float dflt) const;
  std::optional<SmallVector<int64_t>> intsAttr(StringRef name) const;

  // --- nodes ----------------------------------------------------------------
  Error importNode();
  // Transformer ops (issue 9, part 2).
  Error importTransformerNode(bool &handled);
  Error importRuntimeSlice(Value x, ArrayRef<int64_t> begin,
                           ArrayRef<int64_t> step, ArrayRef<int64_t> shape);
  Error importRuntimeGather(Value x, const ConstTensor &indices);
  Error importRuntimeConcat();
  Error importSplit();
  Error importPow();
  Error importUnaryMath();
  Error importReduce();
  Error importDropout();
  Error importBinary();
  Error importMatMul();
  Error importGemm();
  Error importLayerNorm();
  Error importSoftmax();
  Error importTranspose();
  Error importReshape();
  Error importUnsqueezeSqueeze(bool unsqueeze);
  Error importShape();
  Error importGather();
  Error importSlice();
  Error importConcat();
  Error importCast();
  Error importConstant();
  Error importConstantOfShape();
  // CNN and miscellaneous ops.
  Error importConv();
  Error importBatchNorm();
  Error importPool();
  Error importActivation();
  Error importClip();
  Error importFlatten();
  Error importEqual();
  Error importWhere();
  Error importExpand();
  Error importEmbedding(Value indices);
  /// Input k as an f32 SSA value; an integer constant becomes an f32
  /// weight (mask comparisons, Where branches).
  Expected<Value> floatOperand(unsigned k);
  /// Folds a BatchNormalization that is the only consumer of the conv
  /// output into the conv's weight and bias; returns false (nothing done)
  /// when the pattern does not apply.
  Expected<bool> foldBatchNorm(ConstTensor &w, ConstTensor &b);
  /// The constant float tensor `name` stands for, or null.
  const ConstTensor *floatConstant(const std::string &name);
  /// Set by foldBatchNorm: the folded node's output, defined as the conv's.
  std::string foldedOutput;

  Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
    if (axis < -rank || axis >= rank)
      return nodeFail("axis " + llvm::Twine(axis) +
                      " is out of range for rank " + llvm::Twine(rank));
    return axis < 0 ? axis + rank : axis;
  }
  RankedTensorType f32Tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    return builder.create<tessera::tsr::ReshapeOp>(curLoc, f32Tensor(shape), v);
  }

  MLIRContext &ctx;
  OpBuilder builder;
  std::string sourceName, fileName;
  onnx::ModelProto model;
  int64_t opset = 0;

  llvm::StringMap<const onnx::TensorProto *> initializers;
  llvm::StringMap<EntryPtr> values;
  llvm::StringMap<Value> weights;    // by tsr.weight name
  llvm::StringMap<Value> transposed; // Gemm: weight name -> "<name>.T"
  llvm::StringSet<> usedNames;       // every value/weight name in sight
  llvm::StringSet<> consumed;        // names read by a node or output
  /// Value name -> indices of the nodes reading it (graph outputs: -1).
  llvm::StringMap<SmallVector<int>> consumers;
  /// BatchNormalization nodes folded into the conv before them.
  llvm::DenseSet<int> foldedNodes;
  int curIndex = -1;

  const onnx::NodeProto *curNode = nullptr;
  std::string curName;
  Location curLoc;
};

std::string Importer::nodeName(size_t index) const {
  const onnx::NodeProto &n = model.graph().node(index);
  if (!n.name().empty())
    return n.name();
  return n.op_type() + "_" + std::to_string(index);
}

//===----------------------------------------------------------------------===//
// Step 1: parse and check
//===----------------------------------------------------------------------===//

Error Importer::checkModel() {
  // The default-domain opset decides the semantics of every node.
  bool found = false;
  for (const onnx::OperatorSetIdProto &id : model.opset_import()) {
    if (id.domain().empty() || id.domain() == "ai.onnx") {
      found = true;
      opset = id.version();
    }
  }
  if (!found)
    return fail("model imports no default-domain (ai.onnx) opset");
  if (opset < kMinOpset || opset > kMaxOpset)
    return fail("unsupported opset " + llvm::Twine(opset) + " (expected " +
                llvm::Twine(kMinOpset) + " to " + llvm::Twine(kMaxOpset) + ")");

  // Every unsupported op type at once, with its count and first node, so a
  // user sees the whole gap of a model in one run.
  const onnx::GraphProto &graph = model.graph();
  struct Unsupported {
    int count = 0;
    std::string first;
  };
  std::vector<std::pair<std::string, Unsupported>> unsupported;
  for (int k = 0; k < graph.node_size(); ++k) {
    const onnx::NodeProto &n = graph.node(k);
    bool defaultDomain = n.domain().empty() || n.domain() == "ai.onnx";
    if (!defaultDomain || !isSupportedOp(n.op_type())) {
      std::string op =
          defaultDomain ? n.op_type() : n.domain() + "." + n.op_type();
      auto it = llvm::find_if(unsupported,
                              [&](const auto &p) { return p.first == op; });
      if (it == unsupported.end()) {
        unsupported.push_back({op, Unsupported{0, nodeName(k)}});
        it = unsupported.end() - 1;
      }
      ++it->second.count;
    }
  }
  if (unsupported.size() == 1) {
    auto &[op, u] = unsupported.front();
    return fail("unsupported op '" + op + "' (" +
                (u.count == 1 ? "node '" + u.first + "'"
                              : std::to_string(u.count) + " nodes, first '" +
                                    u.first + "'") +
                ", opset " + llvm::Twine(opset) + ")");
  }
  if (!unsupported.empty()) {
    std::string list;
    for (auto &[op, u] : unsupported)
      list += (list.empty() ? "'" : ", '") + op + "' (" +
              std::to_string(u.count) + (u.count == 1 ? " node" : " nodes") +
              ", first '" + u.first + "')";
    return fail(llvm::Twine(unsupported.size()) +
                " unsupported op types (opset " + llvm::Twine(opset) +
                "): " + list);
  }

  // Before the checker, which would look for the file relative to the
  // current directory.
  for (const onnx::TensorProto &t : graph.initializer())
    if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL ||
        t.external_data_size() > 0)
      return fail("initializer '" + t.name() +
                  "' stores its data externally; external data is not "
                  "supported (save the model with its weights inside)");

  // A name no one defines (typically an initializer missing from the
  // file), reported with the node that reads it before the checker's
  // generic "not topologically sorted".
  llvm::StringSet<> defined;
  for (const onnx::ValueInfoProto &v : graph.input())
    defined.insert(v.name());
  for (const onnx::TensorProto &t : graph.initializer())
    defined.insert(t.name());
  for (int k = 0; k < graph.node_size(); ++k) {
    const onnx::NodeProto &n = graph.node(k);
    for (const std::string &in : n.input())
      if (!in.empty() && !defined.contains(in))
        return fail("node '" + nodeName(k) + "' (" + n.op_type() +
                    "): input '" + in +
                    "' is not a graph input, an initializer or the output "
                    "of an earlier node (missing initializer?)");
    for (const std::string &out : n.output())
      defined.insert(out);
  }

  // The ONNX checker throws; nothing from the onnx library may escape.
  try {
    onnx::checker::check_model(model);
  } catch (const onnx::checker::ValidationError &e) {
    return fail(llvm::Twine("invalid ONNX model: ") + e.what());
  } catch (const std::exception &e) {
    return fail(llvm::Twine("invalid ONNX model: ") + e.what());
  } catch (...) {
    return fail("invalid ONNX model: unknown error from the ONNX checker");
  }
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

Expected<ConstTensor> Importer::convertTensor(const onnx::TensorProto &t,
                                              StringRef what) const {
  ConstTensor c;
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL ||
      t.external_data_size() > 0)
    return fail(what + " stores its data externally; external data is not "
                       "supported (save the model with its weights inside)");
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && n > kMaxFoldedElements / d))
      return fail(what + " has an invalid or too large shape");
    n *= d;
    c.shape.push_back(d);
  }
  auto sizeError = [&](int64_t got) {
    return fail(what + " holds " + llvm::Twine(got) + " values for shape " +
                shapeStr(c.shape));
  };
  // onnx::ParseData reads raw_data (little-endian) or the typed field; its
  // complaint, if any, goes to `parseError`.
  std::string parseError;
  auto parse = [&](auto element, auto &out) {
    using T = decltype(element);
    try {
      std::vector<T> v = onnx::ParseData<T>(&t);
      out.assign(v.begin(), v.end());
    } catch (const std::exception &e) {
      parseError = e.what();
    }
  };
  switch (t.data_type()) {
  case onnx::TensorProto_DataType_FLOAT:
    c.isFloat = true;
    parse(float(), c.f);
    break;
  case onnx::TensorProto_DataType_DOUBLE:
    c.isFloat = true;
    parse(double(), c.f);
    break;
  case onnx::TensorProto_DataType_INT64:
    c.isFloat = false;
    parse(int64_t(), c.i);
    break;
  case onnx::TensorProto_DataType_INT32:
    c.isFloat = false;
    parse(int32_t(), c.i);
    break;
  default:
    return fail(what + " has element type " +
                onnx::TensorProto_DataType_Name(
                    static_cast<onnx::TensorProto_DataType>(t.data_type())) +
                "; only float, double, int32 and int64 constants are "
                "supported");
  }
  if (!parseError.empty())
    return fail(what + ": " + parseError);
  if (c.size() != n)
    return sizeError(c.size());
  return c;
}

Expected<EntryPtr> Importer::lookup(StringRef name) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  // Initializers are converted when first used, so an unused initializer of
  // an unsupported type is harmless.
  auto init = initializers.find(name);
  if (init == initializers.end())
    return nodeFail("input '" + name + "' is not defined before this node");
  Expected<ConstTensor> t =
      convertTensor(*init->second, ("initializer '" + name + "'").str());
  if (!t)
    return t.takeError();
  EntryPtr e = Entry::constant(std::move(*t), name.str());
  values[name] = e;
  return e;
}

Expected<EntryPtr> Importer::input(unsigned k) {
  if (!hasInput(k))
    return nodeFail("missing input " + llvm::Twine(k));
  return lookup(curNode->input(k));
}

void Importer::define(unsigned outIndex, EntryPtr e) {
  if (curNode->output_size() > static_cast<int>(outIndex) &&
      !curNode->output(outIndex).empty())
    values[curNode->output(outIndex)] = std::move(e);
}

std::string Importer::uniqueName(const std::string &base) {
  std::string name = base;
  for (int k = 1; usedNames.contains(name); ++k)
    name = base + "." + std::to_string(k);
  usedNames.insert(name);
  return name;
}

Value Importer::weight(StringRef name, const ConstTensor &t) {
  auto it = weights.find(name);
  if (it != weights.end())
    return it->second;
  RankedTensorType type = f32Tensor(t.shape);
  auto value = DenseElementsAttr::get(type, ArrayRef<float>(t.f));
  Location loc = NameLoc::get(StringAttr::get(&ctx, name),
                              FileLineColLoc::get(&ctx, fileName, 0, 0));
  Value w = builder.create<tessera::tsr::WeightOp>(
      loc, type, builder.getStringAttr(name), value);
  weights[name] = w;
  usedNames.insert(name);
  return w;
}

Expected<Value> Importer::operand(unsigned k) {
  Expected<EntryPtr> e = input(k);
  if (!e)
    return e.takeError();
  switch ((*e)->kind) {
  case Entry::Runtime:
    return (*e)->value;
  case Entry::Constant:
    if (!(*e)->data->isFloat)
      return nodeFail("input '" + curNode->input(k) +
                      "' is an integer tensor; tsr computes in f32");
    return weight((*e)->weightName, *(*e)->data);
  case Entry::Unfoldable:
    break;
  }
  return nodeFail(
      "input '" + curNode->input(k) +
      "' is a shape computation that cannot be folded: " + (*e)->reason);
}

Expected<std::shared_ptr<ConstTensor>> Importer::constantInput(unsigned k,
                                                               StringRef role) {
  Expected<EntryPtr> e = input(k);
  if (!e)
    return e.takeError();
  if ((*e)->kind == Entry::Unfoldable)
    return nodeFail(role + " '" + curNode->input(k) +
                    "' cannot be folded to constants: " + (*e)->reason);
  if ((*e)->kind == Entry::Runtime)
    return nodeFail(role + " '" + curNode->input(k) +
                    "' is computed at run time; it must fold to a constant");
  return (*e)->data;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *Importer::attr(StringRef name) const {
  for (const onnx::AttributeProto &a : curNode->attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t Importer::intAttr(StringRef name, int64_t dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->i() : dflt;
}

float Importer::floatAttr(StringRef name, float dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : dflt;
}

std::optional<SmallVector<int64_t>> Importer::intsAttr(StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

//===----------------------------------------------------------------------===//
// Compute ops -> tsr
//===----------------------------------------------------------------------===//

Error Importer::importBinary() {
  StringRef op = curNode->op_type();
  Expected<EntryPtr> lhs = input(0), rhs = input(1);
  if (!lhs)
    return lhs.takeError();
  if (!rhs)
    return rhs.takeError();
  SmallVector<int64_t> shape;
  Entry &a = **lhs, &b = **rhs;
  if (a.kind == Entry::Unfoldable || b.kind == Entry::Unfoldable) {
    define(0, Entry::unfoldable(a.kind == Entry::Unfoldable ? a.reason
                                                            : b.reason));
    return Error::success();
  }
  if (!OpTrait::util::getBroadcastedShape(a.shape(), b.shape(), shape))
    return nodeFail("operand shapes " + shapeStr(a.shape()) + " and " +
                    shapeStr(b.shape()) + " do not broadcast");

  // Integer arithmetic on constants is shape computation: fold it.
  bool intA = a.kind == Entry::Constant && !a.data->isFloat;
  bool intB = b.kind == Entry::Constant && !b.data->isFloat;
  if (intA || intB) {
    if (!intA || !intB)
      return nodeFail("mixes an integer tensor with a float tensor");
    ConstTensor r;
    r.isFloat = false;
    r.shape = shape;
    for (int64_t k = 0, n = numElements(shape); k < n; ++k) {
      int64_t x = a.data->i[broadcastSource(shape, a.shape(), k)];
      int64_t y = b.data->i[broadcastSource(shape, b.shape(), k)];
      std::optional<int64_t> v;
      if (op == "Add")
        v = llvm::checkedAdd(x, y);
      else if (op == "Sub")
        v = llvm::checkedSub(x, y);
      else if (op == "Mul")
        v = llvm::checkedMul(x, y);
      else if (y == 0)
        return nodeFail("integer division by zero");
      else if (!(x == std::numeric_limits<int64_t>::min() && y == -1))
        v = x / y;
      if (!v)
        return nodeFail("integer overflow in " + op + " of " + llvm::Twine(x) +
                        " and " + llvm::Twine(y));
      r.i.push_back(*v);
    }
    define(0, Entry::constant(std::move(r), curNode->output(0)));
    return Error::success();
  }

  Expected<Value> x = operand(0), y = operand(1);
  if (!x)
    return x.takeError();
  if (!y)
    return y.takeError();
  RankedTensorType type = f32Tensor(shape);
  Value result;
  if (op == "Add")
    result = builder.create<tessera::tsr::AddOp>(curLoc, type, *x, *y);
  else if (op == "Sub")
    result = builder.create<tessera::tsr::SubOp>(curLoc, type, *x, *y);
  else if (op == "Mul")
    result = builder.create<tessera::tsr::MulOp>(curLoc, type, *x, *y);
  else
    result = builder.create<tessera::tsr::DivOp>(curLoc, type, *x, *y);
  defineValue(result);
  return Error::success();
}

/// ONNX MatMul on values of rank >= 1 (numpy semantics): rank-1 operands are
/// reshaped to matrices and the added unit dimension is dropped again.
Error Importer::importMatMul() {
  Expected<Value> lhs = operand(0), rhs = operand(1);
  if (!lhs)
    return lhs.takeError();
  if (!rhs)
    return rhs.takeError();
  Value a = *lhs, b = *rhs;
  SmallVector<int64_t> as(cast<RankedTensorType>(a.getType()).getShape());
  SmallVector<int64_t> bs(cast<RankedTensorType>(b.getType()).getShape());
  if (as.empty() || bs.empty())
    return nodeFail("MatMul operands must have rank >= 1");
  bool vecA = as.size() == 1, vecB = bs.size() == 1;
  if (vecA) {
    as.insert(as.begin(), 1);
    a = reshape(a, as);
  }
  if (vecB) {
    bs.push_back(1);
    b = reshape(b, bs);
  }
  if (as.back() != bs[bs.size() - 2])
    return nodeFail("contraction mismatch: " + shapeStr(as) + " x " +
                    shapeStr(bs));
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(ArrayRef(as).drop_back(2),
                                          ArrayRef(bs).drop_back(2), shape))
    return nodeFail("batch dimensions of " + shapeStr(as) + " and " +
                    shapeStr(bs) + " do not broadcast");
  shape.push_back(as[as.size() - 2]);
  shape.push_back(bs.back());
  Value result =
      builder.create<tessera::tsr::MatMulOp>(curLoc, f32Tensor(shape), a, b);
  if (vecA || vecB) {
    SmallVector<int64_t> squeezed(ArrayRef<int64_t>(shape).drop_back(2));
    if (!vecA)
      squeezed.push_back(shape[shape.size() - 2]);
    if (!vecB)
      squeezed.push_back(shape.back());
    result = reshape(result, squeezed);
  }
  defineValue(result);
  return Error::success();
}

/// Gemm: Y = alpha * op(A) @ op(B) + beta * C, op = transpose if trans*.
/// A transposed constant becomes a new weight "<name>.T" instead of a
/// tsr.transpose, so a Linear layer exported as Gemm costs nothing extra.
Error Importer::importGemm() {
  auto side = [&](unsigned k, bool trans) -> Expected<Value> {
    Expected<EntryPtr> e = input(k);
    if (!e)
      return e.takeError();
    if ((*e)->kind != Entry::Constant || !trans) {
      Expected<Value> v = operand(k);
      if (!v || !trans)
        return std::move(v);
      ArrayRef<int64_t> s = cast<RankedTensorType>(v->getType()).getShape();
      if (s.size() != 2)
        return nodeFail("Gemm operands must be matrices, got " + shapeStr(s));
      return builder
          .create<tessera::tsr::TransposeOp>(
              curLoc, f32Tensor({s[1], s[0]}), *v,
              builder.getDenseI64ArrayAttr({1, 0}))
          .getResult();
    }
    Entry &c = **e;
    if (!c.data->isFloat)
      return nodeFail("input '" + curNode->input(k) +
                      "' is an integer tensor; tsr computes in f32");
    if (c.data->shape.size() != 2)
      return nodeFail("Gemm operands must be matrices, got " +
                      shapeStr(c.data->shape));
    auto it = transposed.find(c.weightName);
    if (it != transposed.end())
      return it->second;
    int64_t rows = c.data->shape[0], cols = c.data->shape[1];
    SmallVector<int64_t> src;
    for (int64_t r = 0; r < cols; ++r)
      for (int64_t q = 0; q < rows; ++q)
        src.push_back(q * cols + r);
    ConstTensor t = c.data->gather({cols, rows}, src);
    Value w = weight(uniqueName(c.weightName + ".T"), t);
    transposed[c.weightName] = w;
    return w;
  };
  Expected<Value> a = side(0, intAttr("transA", 0) != 0);
  if (!a)
    return a.takeError();
  Expected<Value> b = side(1, intAttr("transB", 0) != 0);
  if (!b)
    return b.takeError();
  ArrayRef<int64_t> as = cast<RankedTensorType>(a->getType()).getShape();
  ArrayRef<int64_t> bs = cast<RankedTensorType>(b->getType()).getShape();
  if (as.size() != 2 || bs.size() != 2)
    return nodeFail("Gemm operands must be matrices, got " + shapeStr(as) +
                    " and " + shapeStr(bs));
  if (as[1] != bs[0])
    return nodeFail("contraction mismatch: " + shapeStr(as) + " x " +
                    shapeStr(bs) + " (after transA/transB)");
  RankedTensorType type = f32Tensor({as[0], bs[1]});
  Value y = builder.create<tessera::tsr::MatMulOp>(curLoc, type, *a, *b);

  auto scalar = [&](StringRef suffix, float v) {
    ConstTensor s;
    s.f.push_back(v);
    return weight(uniqueName(curName + "." + suffix.str()), s);
  };
  float alpha = floatAttr("alpha", 1.0f), beta = floatAttr("beta", 1.0f);
  if (alpha != 1.0f)
    y = builder.create<tessera::tsr::MulOp>(curLoc, type, y,
                                            scalar("alpha", alpha));
  if (hasInput(2)) {
    Expected<Value> c = operand(2);
    if (!c)
      return c.takeError();
    auto cType = cast<RankedTensorType>(c->getType());
    SmallVector<int64_t> shape;
    if (!OpTrait::util::getBroadcastedShape(cType.getShape(), type.getShape(),
                                            shape) ||
        ArrayRef<int64_t>(shape) != type.getShape())
      return nodeFail("C of shape " + shapeStr(cType.getShape()) +
                      " does not broadcast to " + shapeStr(type.getShape()));
    Value cv = *c;
    if (beta != 1.0f)
      cv = builder.create<tessera::tsr::MulOp>(curLoc, cType, cv,
                                               scalar("beta", beta));
    y = builder.create<tessera::tsr::AddOp>(curLoc, type, y, cv);
  }
  defineValue(y);
  return Error::success();
}

Error Importer::importLayerNorm() {
  for (int k = 1; k < curNode->output_size(); ++k)
    if (!curNode->output(k).empty() && consumed.contains(curNode->output(k)))
      return nodeFail("output " + llvm::Twine(k) + " ('" + curNode->output(k) +
                      "') is used; only the normalized output (0) is "
                      "supported");
  Expected<Value> x = operand(0), scale = operand(1);
  if (!x)
    return x.takeError();
  if (!scale)
    return scale.takeError();
  auto type = cast<RankedTensorType>(x->getType());
  Expected<int64_t> axis = normalizeAxis(intAttr("axis", -1), type.getRank());
  if (!axis)
    return axis.takeError();
  Value bias;
  if (hasInput(2)) {
    Expected<Value> b = operand(2);
    if (!b)
      return b.takeError();
    bias = *b;
  } else {
    ConstTensor zero;
    zero.shape.assign(
        cast<RankedTensorType>(scale->getType()).getShape().begin(),
        cast<RankedTensorType>(scale->getType()).getShape().end());
    zero.f.assign(numElements(zero.shape), 0.0f);
    bias = weight(uniqueName(curName + ".bias"), zero);
  }
  Value y = builder.create<tessera::tsr::LayerNormOp>(
      curLoc, type, *x, *scale, bias, builder.getI64IntegerAttr(*axis),
      builder.getF32FloatAttr(floatAttr("epsilon", 1e-5f)));
  defineValue(y);
  return Error::success();
}

Error Importer::importSoftmax() {
  Expected<Value> x = operand(0);
  if (!x)
    return x.takeError();
  auto type = cast<RankedTensorType>(x->getType());
  Expected<int64_t> axis = normalizeAxis(intAttr("axis", -1), type.getRank());
  if (!axis)
    return axis.takeError();
  defineValue(builder.create<tessera::tsr::SoftmaxOp>(
      curLoc, type, *x, builder.getI64IntegerAttr(*axis)));
  return Error::success();
}

Error Importer::importTranspose() {
  Expected<Value> x = operand(0);
  if (!x)
    return x.takeError();
  ArrayRef<int64_t> in = cast<RankedTensorType>(x->getType()).getShape();
  int64_t rank = in.size();
  SmallVector<int64_t> perm;
  if (auto p = intsAttr("perm"))
    perm = *p;
  else
    for (int64_t k = rank - 1; k >= 0; --k)
      perm.push_back(k);
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> shape;
  if (static_cast<int64_t>(perm.size()) != rank)
    return nodeFail("perm has " + llvm::Twine(perm.size()) +
                    " entries for an input of rank " + llvm::Twine(rank));
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return nodeFail("perm is not a permutation of the input's axes");
    seen[p] = true;
    shape.push_back(in[p]);
  }
  defineValue(builder.create<tessera::tsr::TransposeOp>(
      curLoc, f32Tensor(shape), *x, builder.getDenseI64ArrayAttr(perm)));
  return Error::success();
}

Error Importer::importReshape() {
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  Expected<std::shared_ptr<ConstTensor>> shapeT =
      constantInput(1, "shape input");
  if (!shapeT)
    return shapeT.takeError();
  if ((*shapeT)->isFloat || (*shapeT)->shape.size() != 1)
    return nodeFail("shape input must be a 1-D int64 tensor");
  if ((*data)->kind == Entry::Unfoldable) {
    define(0, *data);
    return Error::success();
  }
  ArrayRef<int64_t> in = (*data)->shape();
  bool allowZero = intAttr("allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int inferred = -1;
  int64_t known = 1;
  for (size_t k = 0; k < (*shapeT)->i.size(); ++k) {
    int64_t d = (*shapeT)->i[k];
    if (d == 0 && !allowZero) {
      if (k >= in.size())
        return nodeFail("shape entry " + llvm::Twine(k) +
                        " is 0 (copy) but the input has rank " +
                        llvm::Twine(in.size()));
      d = in[k];
    } else if (d == -1) {
      if (inferred >= 0)
        return nodeFail("shape " + shapeStr((*shapeT)->i) +
                        " has more than one -1");
      inferred = k;
      shape.push_back(-1);
      continue;
    } else if (d < 0) {
      return nodeFail("shape " + shapeStr((*shapeT)->i) +
                      " has a negative entry");
    }
    std::optional<int64_t> product = llvm::checkedMul(known, d);
    if (!product)
      return nodeFail("shape " + shapeStr((*shapeT)->i) + " is too large");
    known = *product;
    shape.push_back(d);
  }
  int64_t total = numElements(in);
  if (inferred >= 0) {
    if (known == 0 || total % known != 0)
      return nodeFail("cannot infer the -1 in shape " + shapeStr((*shapeT)->i) +
                      " for " + shapeStr(in));
    shape[inferred] = total / known;
  }
  if (numElements(shape) != total)
    return nodeFail("cannot reshape " + shapeStr(in) + " to " +
                    shapeStr(shape));
  if ((*data)->kind == Entry::Constant) {
    ConstTensor t = *(*data)->data;
    t.shape = shape;
    define(0, Entry::constant(std::move(t), curNode->output(0)));
    return Error::success();
  }
  defineValue(reshape((*data)->value, shape));
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Shape computation, evaluated on constants
//===----------------------------------------------------------------------===//

/// Unsqueeze/Squeeze (opset 13: axes as an input). On a constant the data is
/// kept and the shape changes; on a runtime value it is a tsr.reshape.
Error Importer::importUnsqueezeSqueeze(bool unsqueeze) {
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  SmallVector<int64_t> axes;
  if (hasInput(1)) {
    Expected<std::shared_ptr<ConstTensor>> a = constantInput(1, "axes input");
    if (!a)
      return a.takeError();
    if ((*a)->isFloat)
      return nodeFail("axes input must be an int64 tensor");
    axes.assign((*a)->i.begin(), (*a)->i.end());
  } else if (unsqueeze) {
    return nodeFail("Unsqueeze needs an axes input");
  }
  if ((*data)->kind == Entry::Unfoldable) {
    define(0, *data);
    return Error::success();
  }
  ArrayRef<int64_t> in = (*data)->shape();
  SmallVector<int64_t> shape;
  if (unsqueeze) {
    int64_t rank = in.size() + axes.size();
    SmallVector<bool> isNew(rank, false);
    for (int64_t a : axes) {
      Expected<int64_t> n = normalizeAxis(a, rank);
      if (!n)
        return n.takeError();
      if (isNew[*n])
        return nodeFail("axes repeat axis " + llvm::Twine(*n));
      isNew[*n] = true;
    }
    size_t next = 0;
    for (int64_t k = 0; k < rank; ++k)
      shape.push_back(isNew[k] ? 1 : in[next++]);
  } else {
    int64_t rank = in.size();
    SmallVector<bool> drop(rank, axes.empty());
    if (axes.empty()) {
      for (int64_t k = 0; k < rank; ++k)
        drop[k] = in[k] == 1;
    }
    for (int64_t a : axes) {
      Expected<int64_t> n = normalizeAxis(a, rank);
      if (!n)
        return n.takeError();
      if (in[*n] != 1)
        return nodeFail("cannot squeeze axis " + llvm::Twine(*n) + " of " +
                        shapeStr(in) + " (size is not 1)");
      drop[*n] = true;
    }
    for (int64_t k = 0; k < rank; ++k)
      if (!drop[k])
        shape.push_back(in[k]);
  }
  if ((*data)->kind == Entry::Constant) {
    ConstTensor t = *(*data)->data;
    t.shape = shape;
    define(0, Entry::constant(std::move(t), curNode->output(0)));
    return Error::success();
  }
  defineValue(reshape((*data)->value, shape));
  return Error::success();
}

Error Importer::importShape() {
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  if ((*data)->kind == Entry::Unfoldable) {
    define(0, *data);
    return Error::success();
  }
  ArrayRef<int64_t> in = (*data)->shape();
  int64_t rank = in.size();
  // Opset 15 added start/end, clamped like Slice.
  auto clampEnd = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t start = clampEnd(intAttr("start", 0));
  int64_t end = clampEnd(intAttr("end", rank));
  ConstTensor t;
  t.isFloat = false;
  for (int64_t k = start; k < end; ++k)
    t.i.push_back(in[k]);
  t.shape.push_back(t.i.size());
  define(0, Entry::constant(std::move(t), curNode->output(0)));
  return Error::success();
}

Error Importer::importGather() {
  Expected<EntryPtr> data = input(0), idx = input(1);
  if (!data)
    return data.takeError();
  if (!idx)
    return idx.takeError();
  // A constant index into a runtime tensor (x[:, 0]) is a window of it.
  if ((*data)->kind == Entry::Runtime && (*idx)->kind == Entry::Constant)
    return importRuntimeGather((*data)->value, *(*idx)->data);
  // An embedding lookup: a constant float table, run-time token ids.
  if ((*data)->kind == Entry::Constant && (*data)->data->isFloat &&
      (*idx)->kind == Entry::Runtime)
    return importEmbedding((*idx)->value);
  for (Entry *e : {data->get(), idx->get()}) {
    if (e->kind == Entry::Unfoldable) {
      define(0, Entry::unfoldable(e->reason));
      return Error::success();
    }
    if (e->kind == Entry::Runtime) {
      define(0, Entry::unfoldable("node '" + curName +
                                  "' (Gather) reads a tensor computed at run "
                                  "time"));
      return Error::success();
    }
  }
  const ConstTensor &d = *(*data)->data, &ix = *(*idx)->data;
  if (ix.isFloat)
    return nodeFail("indices must be integers");
  int64_t rank = d.shape.size();
  if (rank == 0)
    return nodeFail("cannot gather from a scalar");
  Expected<int64_t> axis = normalizeAxis(intAttr("axis", 0), rank);
  if (!axis)
    return axis.takeError();
  int64_t outer = numElements(ArrayRef(d.shape).take_front(*axis));
  int64_t inner = numElements(ArrayRef(d.shape).drop_front(*axis + 1));
  int64_t dim = d.shape[*axis];
  SmallVector<int64_t> shape(ArrayRef(d.shape).take_front(*axis));
  shape.append(ix.shape.begin(), ix.shape.end());
  shape.append(ArrayRef(d.shape).drop_front(*axis + 1).begin(), d.shape.end());
  SmallVector<int64_t> src;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j : ix.i) {
      if (j < -dim || j >= dim)
        return nodeFail("index " + llvm::Twine(j) + " is out of range for " +
                        "a dimension of size " + llvm::Twine(dim));
      int64_t jj = j < 0 ? j + dim : j;
      for (int64_t q = 0; q < inner; ++q)
        src.push_back((o * dim + jj) * inner + q);
    }
  define(0, Entry::constant(d.gather(shape, src), curNode->output(0)));
  return Error::success();
}

Error Importer::importSlice() {
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  if ((*data)->kind == Entry::Unfoldable) {
    define(0, *data);
    return Error::success();
  }
  SmallVector<int64_t> dataShape((*data)->shape());
  int64_t rank = dataShape.size();
  auto ints =
      [&](unsigned k,
          StringRef role) -> Expected<std::optional<SmallVector<int64_t>>> {
    if (!hasInput(k))
      return std::optional<SmallVector<int64_t>>();
    Expected<std::shared_ptr<ConstTensor>> t = constantInput(k, role);
    if (!t)
      return t.takeError();
    if ((*t)->isFloat)
      return nodeFail(role + " must be integers");
    return std::optional<SmallVector<int64_t>>(
        SmallVector<int64_t>((*t)->i.begin(), (*t)->i.end()));
  };
  auto starts = ints(1, "starts"), ends = ints(2, "ends"),
       axesIn = ints(3, "axes"), stepsIn = ints(4, "steps");
  for (auto *e : {&starts, &ends, &axesIn, &stepsIn})
    if (!*e)
      return e->takeError();
  if (!*starts || !*ends || (*starts)->size() != (*ends)->size())
    return nodeFail("starts and ends must be given with the same length");
  size_t n = (*starts)->size();
  SmallVector<int64_t> axes, steps(n, 1);
  if (*axesIn)
    axes = **axesIn;
  else
    for (size_t k = 0; k < n; ++k)
      axes.push_back(k);
  if (*stepsIn)
    steps = **stepsIn;
  if (axes.size() != n || steps.size() != n)
    return nodeFail("starts, ends, axes and steps differ in length");

  SmallVector<int64_t> begin(rank, 0), step(rank, 1), shape(dataShape);
  for (size_t k = 0; k < n; ++k) {
    Expected<int64_t> axis = normalizeAxis(axes[k], rank);
    if (!axis)
      return axis.takeError();
    int64_t dim = dataShape[*axis], s = steps[k];
    if (s == 0 || s == std::numeric_limits<int64_t>::min())
      return nodeFail("step " + llvm::Twine(s) + " is not supported");
    int64_t b = (**starts)[k], e = (**ends)[k];
    b = b < 0 ? std::max<int64_t>(b, -dim) + dim : b;
    e = e < 0 ? std::max<int64_t>(e, -dim - 1) + dim : e;
    if (s > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      shape[*axis] = e > b ? 1 + (e - b - 1) / s : 0;
    } else {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      shape[*axis] = b > e ? 1 + (b - e - 1) / -s : 0;
    }
    begin[*axis] = b;
    step[*axis] = s;
  }
  if ((*data)->kind == Entry::Runtime)
    return importRuntimeSlice((*data)->value, begin, step, shape);
  const ConstTensor &d = *(*data)->data;
  SmallVector<int64_t> inStrides = stridesOf(d.shape),
                       outStrides = stridesOf(shape), src;
  for (int64_t k = 0, total = numElements(shape); k < total; ++k) {
    int64_t off = 0;
    for (int64_t a = 0; a < rank; ++a)
      off += (begin[a] + ((k / outStrides[a]) % shape[a]) * step[a]) *
             inStrides[a];
    src.push_back(off);
  }
  define(0, Entry::constant(d.gather(shape, src), curNode->output(0)));
  return Error::success();
}

Error Importer::importConcat() {
  SmallVector<const ConstTensor *> parts;
  bool anyRuntime = false;
  for (int k = 0; k < curNode->input_size(); ++k) {
    Expected<EntryPtr> e = input(k);
    if (!e)
      return e.takeError();
    if ((*e)->kind == Entry::Unfoldable) {
      define(0, *e);
      return Error::success();
    }
    anyRuntime |= (*e)->kind == Entry::Runtime;
  }
  if (anyRuntime)
    return importRuntimeConcat();
  for (int k = 0; k < curNode->input_size(); ++k) {
    Expected<EntryPtr> e = input(k);
    if (!e)
      return e.takeError();
    if ((*e)->kind != Entry::Constant) {
      define(0, (*e)->kind == Entry::Unfoldable
                    ? *e
                    : Entry::unfoldable("node '" + curName +
                                        "' (Concat) reads a tensor computed "
                                        "at run time"));
      return Error::success();
    }
    parts.push_back((*e)->data.get());
  }
  if (parts.empty())
    return nodeFail("needs at least one input");
  const ConstTensor &first = *parts.front();
  int64_t rank = first.shape.size();
  Expected<int64_t> axis = normalizeAxis(intAttr("axis", 0), rank);
  if (!axis)
    return axis.takeError();
  SmallVector<int64_t> shape(first.shape);
  shape[*axis] = 0;
  for (const ConstTensor *p : parts) {
    if (p->isFloat != first.isFloat ||
        static_cast<int64_t>(p->shape.size()) != rank)
      return nodeFail("inputs differ in element type or rank");
    for (int64_t a = 0; a < rank; ++a)
      if (a != *axis && p->shape[a] != first.shape[a])
        return nodeFail("input shapes " + shapeStr(first.shape) + " and " +
                        shapeStr(p->shape) + " differ off the concat axis");
    shape[*axis] += p->shape[*axis];
  }
  int64_t outer = numElements(ArrayRef(first.shape).take_front(*axis));
  ConstTensor t;
  t.isFloat = first.isFloat;
  t.shape = shape;
  for (int64_t o = 0; o < outer; ++o)
    for (const ConstTensor *p : parts) {
      int64_t block = numElements(ArrayRef(p->shape).drop_front(*axis));
      for (int64_t q = 0; q < block; ++q) {
        if (t.isFloat)
          t.f.push_back(p->f[o * block + q]);
        else
          t.i.push_back(p->i[o * block + q]);
      }
    }
  define(0, Entry::constant(std::move(t), curNode->output(0)));
  return Error::success();
}

Error Importer::importCast() {
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  int64_t to = intAttr("to", 0);
  bool toFloat = to == onnx::TensorProto_DataType_FLOAT ||
                 to == onnx::TensorProto_DataType_DOUBLE;
  bool toInt = to == onnx::TensorProto_DataType_INT64 ||
               to == onnx::TensorProto_DataType_INT32 ||
               to == onnx::TensorProto_DataType_BOOL;
  if (!toFloat && !toInt)
    return nodeFail("casts to element type " + llvm::Twine(to) +
                    "; only float and integer casts are supported");
  Entry &e = **data;
  if (e.kind == Entry::Unfoldable) {
    define(0, *data);
    return Error::success();
  }
  if (e.kind == Entry::Runtime && to == onnx::TensorProto_DataType_BOOL) {
    // x != 0 as 0/1: 1 - (x == 0).
    ConstTensor zero, one;
    zero.f.push_back(0.0f);
    one.f.push_back(1.0f);
    auto type = cast<RankedTensorType>(e.value.getType());
    Value isZero = builder.create<tessera::tsr::EqualOp>(
        curLoc, type, e.value, weight(uniqueName(curName + ".zero"), zero));
    Value ne = builder.create<tessera::tsr::SubOp>(
        curLoc, type, weight(uniqueName(curName + ".one"), one), isZero);
    define(0, Entry::runtime(ne, /*integral=*/true));
    return Error::success();
  }
  if (e.kind == Entry::Runtime) {
    // f32 -> float is the identity, and so is a cast of an integer-valued
    // tensor (integer input, mask) to an integer type; anything else would
    // need rounding and leaves the f32 world.
    define(0, toFloat || e.integral
                  ? *data
                  : Entry::unfoldable("node '" + curName +
                                      "' (Cast) converts a tensor "
                                      "computed at run time to integers"));
    return Error::success();
  }
  ConstTensor t;
  t.isFloat = toFloat;
  t.shape = e.data->shape;
  if (toFloat) {
    if (e.data->isFloat)
      t.f = e.data->f;
    else
      for (int64_t v : e.data->i)
        t.f.push_back(static_cast<float>(v));
  } else if (to == onnx::TensorProto_DataType_BOOL) {
    for (int64_t k = 0; k < e.data->size(); ++k)
      t.i.push_back(e.data->isFloat ? e.data->f[k] != 0.0f : e.data->i[k] != 0);
  } else if (!e.data->isFloat) {
    t.i = e.data->i;
  } else {
    for (float v : e.data->f) {
      if (!std::isfinite(v) || std::fabs(v) > 9.2e18f)
        return nodeFail("cannot cast " + std::to_string(v) + " to an integer");
      t.i.push_back(static_cast<int64_t>(v));
    }
  }
  define(0, Entry::constant(std::move(t), curNode->output(0)));
  return Error::success();
}

Error Importer::importConstant() {
  const onnx::AttributeProto *a = nullptr;
  for (const onnx::AttributeProto &x : curNode->attribute())
    a = &x;
  if (curNode->attribute_size() != 1)
    return nodeFail("needs exactly one value attribute");
  ConstTensor t;
  StringRef name = a->name();
  if (name == "value") {
    Expected<ConstTensor> c =
        convertTensor(a->t(), "Constant '" + curNode->output(0) + "'");
    if (!c)
      return c.takeError();
    t = std::move(*c);
  } else if (name == "value_float") {
    t.f.push_back(a->f());
  } else if (name == "value_floats") {
    t.f.assign(a->floats().begin(), a->floats().end());
    t.shape.push_back(t.f.size());
  } else if (name == "value_int") {
    t.isFloat = false;
    t.i.push_back(a->i());
  } else if (name == "value_ints") {
    t.isFloat = false;
    t.i.assign(a->ints().begin(), a->ints().end());
    t.shape.push_back(t.i.size());
  } else {
    return nodeFail("attribute '" + name + "' is not supported");
  }
  define(0, Entry::constant(std::move(t), curNode->output(0)));
  return Error::success();
}

Error Importer::importConstantOfShape() {
  Expected<std::shared_ptr<ConstTensor>> s = constantInput(0, "shape input");
  if (!s)
    return s.takeError();
  if ((*s)->isFloat || (*s)->shape.size() != 1)
    return nodeFail("shape input must be a 1-D int64 tensor");
  ConstTensor fill;
  fill.f.push_back(0.0f);
  if (const onnx::AttributeProto *a = attr("value")) {
    Expected<ConstTensor> c = convertTensor(a->t(), "ConstantOfShape value");
    if (!c)
      return c.takeError();
    if (c->size() != 1)
      return nodeFail("value must hold one element");
    fill = std::move(*c);
  }
  int64_t n = 1;
  for (int64_t d : (*s)->i) {
    if (d < 0 || (d > 0 && n > kMaxFoldedElements / d))
      return nodeFail("shape " + shapeStr((*s)->i) +
                      " is negative or too large to fold");
    n *= d;
  }
  ConstTensor t;
  t.isFloat = fill.isFloat;
  t.shape.assign((*s)->i.begin(), (*s)->i.end());
  if (t.isFloat)
    t.f.assign(n, fill.f[0]);
  else
    t.i.assign(n, fill.i[0]);
  define(0, Entry::constant(std::move(t), curNode->output(0)));
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Transformer ops -> tsr (issue 9, part 2)
//===----------------------------------------------------------------------===//

/// Dispatch for the transformer ops; sets `handled` when the node was one.
Error Importer::importTransformerNode(bool &handled) {
  StringRef op = curNode->op_type();
  handled = true;
  if (op == "Split")
    return importSplit();
  if (op == "Pow")
    return importPow();
  if (op == "Sqrt" || op == "Neg" || op == "Tanh")
    return importUnaryMath();
  if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax")
    return importReduce();
  if (op == "Dropout")
    return importDropout();
  handled = false;
  return Error::success();
}

/// A window of a runtime tensor: begin/step/shape per axis, as importSlice
/// computed them (positive steps only: the chip's DMA walks forward).
Error Importer::importRuntimeSlice(Value x, ArrayRef<int64_t> begin,
                                   ArrayRef<int64_t> step,
                                   ArrayRef<int64_t> shape) {
  for (size_t d = 0; d < shape.size(); ++d) {
    if (step[d] < 0)
      return nodeFail("step " + llvm::Twine(step[d]) + " on axis " +
                      llvm::Twine(d) +
                      " of a tensor computed at run time; only positive "
                      "steps are supported");
    if (shape[d] == 0)
      return nodeFail("the slice of " +
                      shapeStr(cast<RankedTensorType>(x.getType()).getShape()) +
                      " is empty along axis " + llvm::Twine(d));
  }
  if (ArrayRef<int64_t>(shape) ==
          cast<RankedTensorType>(x.getType()).getShape() &&
      llvm::all_of(step, [](int64_t s) { return s == 1; })) {
    defineValue(x); // The whole tensor.
    return Error::success();
  }
  defineValue(builder.create<tessera::tsr::SliceOp>(
      curLoc, f32Tensor(shape), x, builder.getDenseI64ArrayAttr(begin),
      builder.getDenseI64ArrayAttr(step)));
  return Error::success();
}

/// Gather with constant indices on a runtime tensor: one tsr.slice when the
/// indices are an arithmetic progression with a positive step (x[:, 0],
/// x[:, 1:4]), else one slice per index and a tsr.concat; then a reshape to
/// data.shape[:axis] + indices.shape + data.shape[axis+1:].
Error Importer::importRuntimeGather(Value x, const ConstTensor &indices) {
  if (indices.isFloat)
    return nodeFail("indices must be integers");
  ArrayRef<int64_t> in = cast<RankedTensorType>(x.getType()).getShape();
  int64_t rank = in.size();
  if (rank == 0)
    return nodeFail("cannot gather from a scalar");
  Expected<int64_t> axis = normalizeAxis(intAttr("axis", 0), rank);
  if (!axis)
    return axis.takeError();
  int64_t dim = in[*axis];
  SmallVector<int64_t> idx;
  for (int64_t j : indices.i) {
    if (j < -dim || j >= dim)
      return nodeFail("index " + llvm::Twine(j) + " is out of range for " +
                      "a dimension of size " + llvm::Twine(dim));
    idx.push_back(j < 0 ? j + dim : j);
  }
  if (idx.empty())
    return nodeFail("gathers no elements (empty indices)");
  SmallVector<int64_t> shape(in.take_front(*axis));
  shape.append(indices.shape.begin(), indices.shape.end());
  shape.append(in.drop_front(*axis + 1).begin(), in.end());

  auto window = [&](int64_t first, int64_t count, int64_t stride) -> Value {
    SmallVector<int64_t> begin(rank, 0), step(rank, 1), wshape(in);
    begin[*axis] = first;
    step[*axis] = stride;
    wshape[*axis] = count;
    if (count == dim && stride == 1)
      return x;
    return builder.create<tessera::tsr::SliceOp>(
        curLoc, f32Tensor(wshape), x, builder.getDenseI64ArrayAttr(begin),
        builder.getDenseI64ArrayAttr(step));
  };
  int64_t stride = idx.size() > 1 ? idx[1] - idx[0] : 1;
  bool progression = stride >= 1;
  for (size_t k = 1; progression && k < idx.size(); ++k)
    progression = idx[k] - idx[k - 1] == stride;
  Value result;
  if (progression) {
    result = window(idx[0], idx.size(), stride);
  } else {
    SmallVector<Value> parts;
    for (int64_t j : idx)
      parts.push_back(window(j, 1, 1));
    SmallVector<int64_t> cshape(in);
    cshape[*axis] = idx.size();
    result = builder.create<tessera::tsr::ConcatOp>(
        curLoc, f32Tensor(cshape), parts, builder.getI64IntegerAttr(*axis));
  }
  if (cast<RankedTensorType>(result.getType()).getShape() !=
      ArrayRef<int64_t>(shape))
    result = reshape(result, shape);
  defineValue(result);
  return Error::success();
}

/// Concat with at least one runtime input: constants become weights.
Error Importer::importRuntimeConcat() {
  SmallVector<Value> parts;
  for (int k = 0; k < curNode->input_size(); ++k) {
    Expected<Value> v = operand(k);
    if (!v)
      return v.takeError();
    parts.push_back(*v);
  }
  ArrayRef<int64_t> first =
      cast<RankedTensorType>(parts.front().getType()).getShape();
  int64_t rank = first.size();
  Expected<int64_t> axis = normalizeAxis(intAttr("axis", 0), rank);
  if (!axis)
    return axis.takeError();
  SmallVector<int64_t> shape(first);
  shape[*axis] = 0;
  for (Value p : parts) {
    ArrayRef<int64_t> s = cast<RankedTensorType>(p.getType()).getShape();
    if (static_cast<int64_t>(s.size()) != rank)
      return nodeFail("inputs differ in rank");
    for (int64_t a = 0; a < rank; ++a)
      if (a != *axis && s[a] != first[a])
        return nodeFail("input shapes " + shapeStr(first) + " and " +
                        shapeStr(s) + " differ off the concat axis");
    shape[*axis] += s[*axis];
  }
  if (parts.size() == 1) {
    defineValue(parts.front());
    return Error::success();
  }
  defineValue(builder.create<tessera::tsr::ConcatOp>(
      curLoc, f32Tensor(shape), parts, builder.getI64IntegerAttr(*axis)));
  return Error::success();
}

/// Split (opset 13: sizes as an optional input; equal parts without it).
/// Each output is a window: tsr.slice on runtime data, folded on constants.
Error Importer::importSplit() {
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  if ((*data)->kind == Entry::Unfoldable) {
    for (int k = 0; k < curNode->output_size(); ++k)
      define(k, *data);
    return Error::success();
  }
  SmallVector<int64_t> in((*data)->shape());
  int64_t rank = in.size();
  if (rank == 0)
    return nodeFail("cannot split a scalar");
  Expected<int64_t> axis = normalizeAxis(intAttr("axis", 0), rank);
  if (!axis)
    return axis.takeError();
  int64_t parts = curNode->output_size(), dim = in[*axis];
  SmallVector<int64_t> sizes;
  if (hasInput(1)) {
    Expected<std::shared_ptr<ConstTensor>> s = constantInput(1, "split input");
    if (!s)
      return s.takeError();
    if ((*s)->isFloat)
      return nodeFail("split input must be integers");
    sizes.assign((*s)->i.begin(), (*s)->i.end());
  } else if (auto a = intsAttr("split")) {
    sizes = *a;
  } else {
    if (parts == 0 || dim % parts != 0)
      return nodeFail("axis " + llvm::Twine(*axis) + " of " + shapeStr(in) +
                      " does not split into " + llvm::Twine(parts) +
                      " equal parts");
    sizes.assign(parts, dim / parts);
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 1)
      return nodeFail("split sizes must be positive");
    total += s;
  }
  if (static_cast<int64_t>(sizes.size()) != parts || total != dim)
    return nodeFail("split sizes " + shapeStr(sizes) + " do not cover axis " +
                    llvm::Twine(*axis) + " of " + shapeStr(in) + " in " +
                    llvm::Twine(parts) + " outputs");
  int64_t offset = 0;
  SmallVector<int64_t> strides = stridesOf(in);
  for (int64_t k = 0; k < parts; ++k) {
    SmallVector<int64_t> begin(rank, 0), step(rank, 1), shape(in);
    begin[*axis] = offset;
    shape[*axis] = sizes[k];
    if ((*data)->kind == Entry::Runtime) {
      define(k, Entry::runtime(builder.create<tessera::tsr::SliceOp>(
                    curLoc, f32Tensor(shape), (*data)->value,
                    builder.getDenseI64ArrayAttr(begin),
                    builder.getDenseI64ArrayAttr(step))));
    } else {
      SmallVector<int64_t> outStrides = stridesOf(shape), src;
      for (int64_t e = 0, n = numElements(shape); e < n; ++e) {
        int64_t off = 0;
        for (int64_t a = 0; a < rank; ++a)
          off += (begin[a] + (e / outStrides[a]) % shape[a]) * strides[a];
        src.push_back(off);
      }
      define(k, Entry::constant((*data)->data->gather(shape, src),
                                curNode->output(k)));
    }
    offset += sizes[k];
  }
  return Error::success();
}

/// Pow with a one-element constant exponent (tsr.pow); on two float
/// constants (d ** 0.5 with d known) it folds.
Error Importer::importPow() {
  Expected<EntryPtr> base = input(0), expo = input(1);
  if (!base)
    return base.takeError();
  if (!expo)
    return expo.takeError();
  if ((*base)->kind == Entry::Unfoldable) {
    define(0, *base);
    return Error::success();
  }
  if ((*expo)->kind != Entry::Constant || (*expo)->data->size() != 1)
    return nodeFail("exponent '" + curNode->input(1) +
                    "' must be a one-element constant");
  const ConstTensor &e = *(*expo)->data;
  double p = e.isFloat ? double(e.f[0]) : double(e.i[0]);
  if ((*base)->kind == Entry::Constant) {
    const ConstTensor &b = *(*base)->data;
    ConstTensor r;
    r.shape = b.shape;
    if (b.isFloat)
      for (float v : b.f)
        r.f.push_back(static_cast<float>(std::pow(double(v), p)));
    else
      for (int64_t v : b.i)
        r.f.push_back(static_cast<float>(std::pow(double(v), p)));
    define(0, Entry::constant(std::move(r), curNode->output(0)));
    return Error::success();
  }
  Value x = (*base)->value;
  defineValue(builder.create<tessera::tsr::PowOp>(
      curLoc, x.getType(), x, builder.getF32FloatAttr(static_cast<float>(p))));
  return Error::success();
}

/// Sqrt, Neg, Tanh: a tsr op on runtime values, folded on constants.
Error Importer::importUnaryMath() {
  StringRef op = curNode->op_type();
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  if ((*data)->kind == Entry::Unfoldable) {
    define(0, *data);
    return Error::success();
  }
  if ((*data)->kind == Entry::Constant) {
    ConstTensor t = *(*data)->data;
    if (!t.isFloat && op != "Neg")
      return nodeFail("input '" + curNode->input(0) +
                      "' is an integer tensor; " + op + " needs floats");
    for (float &v : t.f)
      v = op == "Sqrt" ? std::sqrt(v) : op == "Neg" ? -v : std::tanh(v);
    for (int64_t &v : t.i) {
      if (v == std::numeric_limits<int64_t>::min())
        return nodeFail("integer overflow negating " + llvm::Twine(v));
      v = -v;
    }
    define(0, Entry::constant(std::move(t), curNode->output(0)));
    return Error::success();
  }
  Value x = (*data)->value;
  Value y;
  if (op == "Sqrt")
    y = builder.create<tessera::tsr::SqrtOp>(curLoc, x.getType(), x);
  else if (op == "Neg")
    y = builder.create<tessera::tsr::NegOp>(curLoc, x.getType(), x);
  else
    y = builder.create<tessera::tsr::TanhOp>(curLoc, x.getType(), x);
  defineValue(y);
  return Error::success();
}

/// ReduceMean/ReduceSum/ReduceMax: axes from the attribute (opset < 18; not
/// ReduceSum) or the second input (ReduceSum from opset 13); no axes means
/// all axes unless noop_with_empty_axes.
Error Importer::importReduce() {
  StringRef op = curNode->op_type();
  Expected<Value> x = operand(0);
  if (!x)
    return x.takeError();
  ArrayRef<int64_t> in = cast<RankedTensorType>(x->getType()).getShape();
  int64_t rank = in.size();
  SmallVector<int64_t> axes;
  bool given = false;
  if (hasInput(1)) {
    Expected<std::shared_ptr<ConstTensor>> a = constantInput(1, "axes input");
    if (!a)
      return a.takeError();
    if ((*a)->isFloat)
      return nodeFail("axes input must be integers");
    axes.assign((*a)->i.begin(), (*a)->i.end());
    given = true;
  } else if (auto a = intsAttr("axes")) {
    axes = *a;
    given = true;
  }
  if (axes.empty()) {
    if (given && intAttr("noop_with_empty_axes", 0) != 0) {
      defineValue(*x);
      return Error::success();
    }
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  SmallVector<bool> reduced(rank, false);
  for (int64_t a : axes) {
    Expected<int64_t> n = normalizeAxis(a, rank);
    if (!n)
      return n.takeError();
    if (reduced[*n])
      return nodeFail("axes repeat axis " + llvm::Twine(*n));
    reduced[*n] = true;
  }
  if (rank == 0)
    return nodeFail("cannot reduce a scalar");
  bool keep = intAttr("keepdims", 1) != 0;
  SmallVector<int64_t> sorted, shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[d])
      sorted.push_back(d);
    if (!reduced[d])
      shape.push_back(in[d]);
    else if (keep)
      shape.push_back(1);
  }
  RankedTensorType type = f32Tensor(shape);
  auto axesAttr = builder.getDenseI64ArrayAttr(sorted);
  auto keepAttr = builder.getBoolAttr(keep);
  Value y;
  if (op == "ReduceMean")
    y = builder.create<tessera::tsr::ReduceMeanOp>(curLoc, type, *x, axesAttr,
                                                   keepAttr);
  else if (op == "ReduceSum")
    y = builder.create<tessera::tsr::ReduceSumOp>(curLoc, type, *x, axesAttr,
                                                  keepAttr);
  else
    y = builder.create<tessera::tsr::ReduceMaxOp>(curLoc, type, *x, axesAttr,
                                                  keepAttr);
  defineValue(y);
  return Error::success();
}

/// Dropout at inference: the identity. A used mask output, or training_mode
/// that is not a constant false, is an error.
Error Importer::importDropout() {
  if (curNode->output_size() > 1 && !curNode->output(1).empty() &&
      consumed.contains(curNode->output(1)))
    return nodeFail("output 1 (the mask '" + curNode->output(1) +
                    "') is used; only inference Dropout is supported");
  if (hasInput(2)) {
    Expected<std::shared_ptr<ConstTensor>> t =
        constantInput(2, "training_mode input");
    if (!t)
      return t.takeError();
    bool training = (*t)->isFloat ? ((*t)->f.size() && (*t)->f[0] != 0)
                                  : ((*t)->i.size() && (*t)->i[0] != 0);
    if (training)
      return nodeFail("training_mode is true; only inference Dropout is "
                      "supported (export the model in eval mode)");
  }
  Expected<EntryPtr> x = input(0);
  if (!x)
    return x.takeError();
  define(0, *x);
  return Error::success();
}

//===----------------------------------------------------------------------===//
// CNN and miscellaneous ops
//===----------------------------------------------------------------------===//

Expected<Value> Importer::floatOperand(unsigned k) {
  Expected<EntryPtr> e = input(k);
  if (!e)
    return e.takeError();
  if ((*e)->kind == Entry::Constant && !(*e)->data->isFloat) {
    ConstTensor f;
    f.shape = (*e)->data->shape;
    for (int64_t v : (*e)->data->i)
      f.f.push_back(static_cast<float>(v));
    return weight((*e)->weightName, f);
  }
  return operand(k);
}

const ConstTensor *Importer::floatConstant(const std::string &name) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second->kind == Entry::Constant && it->second->data->isFloat
               ? it->second->data.get()
               : nullptr;
  if (!initializers.contains(name))
    return nullptr;
  Expected<EntryPtr> e = lookup(name);
  if (!e) {
    llvm::consumeError(e.takeError());
    return nullptr;
  }
  return (*e)->data->isFloat ? (*e)->data.get() : nullptr;
}

Expected<bool> Importer::foldBatchNorm(ConstTensor &w, ConstTensor &b) {
  auto it = consumers.find(curNode->output(0));
  if (it == consumers.end() || it->second.size() != 1 || it->second[0] < 0)
    return false;
  int k = it->second[0];
  const onnx::NodeProto &bn = model.graph().node(k);
  if (bn.op_type() != "BatchNormalization" ||
      !(bn.domain().empty() || bn.domain() == "ai.onnx") ||
      bn.input_size() != 5 || bn.input(0) != curNode->output(0))
    return false;
  for (const onnx::AttributeProto &a : bn.attribute())
    if (a.name() == "training_mode" && a.i() != 0)
      return false;
  for (int o = 1; o < bn.output_size(); ++o)
    if (!bn.output(o).empty() && consumed.contains(bn.output(o)))
      return false;
  float eps = 1e-5f;
  for (const onnx::AttributeProto &a : bn.attribute())
    if (a.name() == "epsilon")
      eps = a.f();
  const ConstTensor *p[4];
  int64_t outCh = w.shape[0];
  for (int i = 0; i < 4; ++i) {
    p[i] = floatConstant(bn.input(i + 1));
    if (!p[i] || p[i]->size() != outCh)
      return false;
  }
  int64_t per = w.size() / outCh;
  for (int64_t o = 0; o < outCh; ++o) {
    float s = p[0]->f[o] / std::sqrt(p[3]->f[o] + eps);
    for (int64_t q = 0; q < per; ++q)
      w.f[o * per + q] *= s;
    b.f[o] = (b.f[o] - p[2]->f[o]) * s + p[1]->f[o];
  }
  foldedNodes.insert(k);
  foldedOutput = bn.output(0);
  return true;
}

Error Importer::importConv() {
  Expected<EntryPtr> xe = input(0), we = input(1);
  if (!xe)
    return xe.takeError();
  if (!we)
    return we.takeError();
  Expected<Value> x = operand(0);
  if (!x)
    return x.takeError();
  ArrayRef<int64_t> xs = cast<RankedTensorType>(x->getType()).getShape();
  ArrayRef<int64_t> ws = (*we)->shape();
  if (ws.size() != 4 || xs.size() != 4)
    return nodeFail("only 2-D convolutions are supported: input " +
                    shapeStr(xs) + ", weight " + shapeStr(ws) +
                    " (expected NCHW and [O, C/group, kh, kw])");
  if (auto k = intsAttr("kernel_shape"))
    if (k->size() != 2 || (*k)[0] != ws[2] || (*k)[1] != ws[3])
      return nodeFail("attribute 'kernel_shape' " + shapeStr(*k) +
                      " does not match the weight " + shapeStr(ws));
  SmallVector<int64_t> strides{1, 1}, pads{0, 0, 0, 0}, dilations{1, 1};
  if (auto v = intsAttr("strides"))
    strides = *v;
  if (auto v = intsAttr("pads"))
    pads = *v;
  if (auto v = intsAttr("dilations"))
    dilations = *v;
  if (strides.size() != 2 || pads.size() != 4 || dilations.size() != 2)
    return nodeFail("attributes 'strides', 'pads', 'dilations' must have 2, "
                    "4 and 2 entries for a 2-D convolution");
  int64_t group = intAttr("group", 1);
  if (const onnx::AttributeProto *a = attr("auto_pad")) {
    StringRef mode = a->s();
    if (mode == "VALID") {
      pads.assign(4, 0);
    } else if (mode == "SAME_UPPER" || mode == "SAME_LOWER") {
      for (int i = 0; i < 2; ++i) {
        int64_t s = std::max<int64_t>(strides[i], 1);
        int64_t out = (xs[2 + i] + s - 1) / s;
        int64_t total = std::max<int64_t>(
            0, (out - 1) * s + dilations[i] * (ws[2 + i] - 1) + 1 - xs[2 + i]);
        pads[i] = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
        pads[i + 2] = total - pads[i];
      }
    } else if (mode != "NOTSET") {
      return nodeFail("attribute 'auto_pad' '" + mode + "' is not supported");
    }
  }
  for (int i = 0; i < 2; ++i)
    if (strides[i] < 1 || dilations[i] < 1)
      return nodeFail("attribute 'strides' and 'dilations' must be positive");
  if (group < 1 || xs[1] % group != 0 || ws[0] % group != 0 ||
      ws[1] * group != xs[1])
    return nodeFail("attribute 'group' " + llvm::Twine(group) +
                    " does not fit input " + shapeStr(xs) + " and weight " +
                    shapeStr(ws));
  SmallVector<int64_t> shape{xs[0], ws[0]};
  for (int i = 0; i < 2; ++i) {
    int64_t span =
        xs[2 + i] + pads[i] + pads[i + 2] - dilations[i] * (ws[2 + i] - 1) - 1;
    if (span < 0)
      return nodeFail("kernel " + shapeStr(ws) + " does not fit the padded " +
                      "input " + shapeStr(xs));
    shape.push_back(span / strides[i] + 1);
  }

  Value wv, bv;
  foldedOutput.clear();
  const ConstTensor *biasConst = nullptr;
  if (hasInput(2)) {
    Expected<EntryPtr> be = input(2);
    if (!be)
      return be.takeError();
    if ((*be)->kind == Entry::Constant && (*be)->data->isFloat)
      biasConst = (*be)->data.get();
  }
  if ((*we)->kind == Entry::Constant && (*we)->data->isFloat &&
      (!hasInput(2) || biasConst)) {
    ConstTensor w = *(*we)->data, b;
    if (biasConst) {
      b = *biasConst;
    } else {
      b.shape.push_back(ws[0]);
      b.f.assign(ws[0], 0.0f);
    }
    if (b.size() != ws[0])
      return nodeFail("bias has " + llvm::Twine(b.size()) + " values for " +
                      llvm::Twine(ws[0]) + " output channels");
    b.shape.assign({ws[0]});
    Expected<bool> folded = foldBatchNorm(w, b);
    if (!folded)
      return folded.takeError();
    if (*folded) {
      wv = weight(uniqueName((*we)->weightName + ".bn"), w);
      bv = weight(uniqueName(curName + ".bias.bn"), b);
    } else {
      wv = weight((*we)->weightName, w);
      bv = biasConst ? weight(curNode->input(2), b)
                     : weight(uniqueName(curName + ".bias"), b);
    }
  } else {
    Expected<Value> w = operand(1);
    if (!w)
      return w.takeError();
    wv = *w;
    if (hasInput(2)) {
      Expected<Value> b = operand(2);
      if (!b)
        return b.takeError();
      bv = *b;
    } else {
      ConstTensor zero;
      zero.shape.push_back(ws[0]);
      zero.f.assign(ws[0], 0.0f);
      bv = weight(uniqueName(curName + ".bias"), zero);
    }
  }
  Value y = builder.create<tessera::tsr::ConvOp>(
      curLoc, f32Tensor(shape), *x, wv, bv,
      builder.getDenseI64ArrayAttr(strides), builder.getDenseI64ArrayAttr(pads),
      builder.getDenseI64ArrayAttr(dilations),
      builder.getI64IntegerAttr(group));
  defineValue(y);
  if (!foldedOutput.empty())
    values[foldedOutput] = Entry::runtime(y);
  return Error::success();
}

/// A BatchNormalization not folded into a conv: a per-channel scale and
/// shift, `x * s + t` with s and t shaped [C, 1, ...] to broadcast over NC...
Error Importer::importBatchNorm() {
  if (intAttr("training_mode", 0) != 0)
    return nodeFail("training_mode = 1 is not supported; export the model "
                    "in eval mode (model.eval())");
  for (int k = 1; k < curNode->output_size(); ++k)
    if (!curNode->output(k).empty() && consumed.contains(curNode->output(k)))
      return nodeFail("output " + llvm::Twine(k) + " ('" + curNode->output(k) +
                      "') is used; only the normalized output (0) is "
                      "supported");
  Expected<Value> x = operand(0);
  if (!x)
    return x.takeError();
  auto type = cast<RankedTensorType>(x->getType());
  if (type.getRank() < 2)
    return nodeFail("input " + shapeStr(type.getShape()) +
                    " must have a channel axis (rank >= 2)");
  int64_t ch = type.getShape()[1];
  const ConstTensor *p[4];
  for (int i = 0; i < 4; ++i) {
    p[i] = hasInput(i + 1) ? floatConstant(curNode->input(i + 1)) : nullptr;
    if (!p[i] || p[i]->size() != ch)
      return nodeFail(
          "parameter '" +
          (hasInput(i + 1) ? curNode->input(i + 1) : std::string("?")) +
          "' must be a constant of " + llvm::Twine(ch) +
          " floats (scale, B, mean, var)");
  }
  float eps = floatAttr("epsilon", 1e-5f);
  ConstTensor scale, shift;
  scale.shape.push_back(ch);
  for (int64_t r = 2; r < type.getRank(); ++r)
    scale.shape.push_back(1);
  shift.shape = scale.shape;
  for (int64_t c = 0; c < ch; ++c) {
    float s = p[0]->f[c] / std::sqrt(p[3]->f[c] + eps);
    scale.f.push_back(s);
    shift.f.push_back(p[1]->f[c] - p[2]->f[c] * s);
  }
  Value y = builder.create<tessera::tsr::MulOp>(
      curLoc, type, *x, weight(uniqueName(curName + ".scale"), scale));
  y = builder.create<tessera::tsr::AddOp>(
      curLoc, type, y, weight(uniqueName(curName + ".shift"), shift));
  defineValue(y);
  return Error::success();
}

Error Importer::importPool() {
  StringRef op = curNode->op_type();
  Expected<Value> x = operand(0);
  if (!x)
    return x.takeError();
  ArrayRef<int64_t> xs = cast<RankedTensorType>(x->getType()).getShape();
  if (xs.size() != 4)
    return nodeFail("only 2-D pooling on NCHW is supported, input is " +
                    shapeStr(xs));
  SmallVector<int64_t> kernel{xs[2], xs[3]}, strides{1, 1}, pads{0, 0, 0, 0};
  bool countPad = false;
  if (op != "GlobalAveragePool") {
    auto k = intsAttr("kernel_shape");
    if (!k || k->size() != 2)
      return nodeFail("attribute 'kernel_shape' must have 2 entries");
    kernel = *k;
    if (auto v = intsAttr("strides"))
      strides = *v;
    if (auto v = intsAttr("pads"))
      pads = *v;
    if (strides.size() != 2 || pads.size() != 4)
      return nodeFail("attributes 'strides' and 'pads' must have 2 and 4 "
                      "entries");
    if (auto d = intsAttr("dilations"))
      for (int64_t v : *d)
        if (v != 1)
          return nodeFail("attribute 'dilations' " + shapeStr(*d) +
                          " is not supported (only 1)");
    if (intAttr("storage_order", 0) != 0)
      return nodeFail("attribute 'storage_order' 1 is not supported");
    if (const onnx::AttributeProto *a = attr("auto_pad"))
      if (a->s() != "NOTSET" && a->s() != "VALID")
        return nodeFail("attribute 'auto_pad' '" + a->s() +
                        "' is not supported; export with explicit pads");
    if (op == "MaxPool" && curNode->output_size() > 1 &&
        consumed.contains(curNode->output(1)))
      return nodeFail("output 1 (Indices) is used; only the pooled output is "
                      "supported");
    countPad = intAttr("count_include_pad", 0) != 0;
    for (int i = 0; i < 2; ++i)
      if (kernel[i] < 1 || strides[i] < 1)
        return nodeFail("kernel and strides must be positive");
    if (intAttr("ceil_mode", 0) != 0) {
      // PyTorch's rule: round the output size up, but the last window
      // must start inside the input or its leading padding. The extra
      // windows read end padding.
      for (int i = 0; i < 2; ++i) {
        int64_t span = xs[2 + i] + pads[i] + pads[i + 2] - kernel[i];
        if (span < 0)
          break;
        int64_t out = (span + strides[i] - 1) / strides[i] + 1;
        if ((out - 1) * strides[i] >= xs[2 + i] + pads[i])
          --out;
        int64_t extra = (out - 1) * strides[i] + kernel[i] -
                        (xs[2 + i] + pads[i] + pads[i + 2]);
        if (extra > 0 && op == "AveragePool" && countPad)
          return nodeFail("ceil_mode = 1 with count_include_pad = 1 is not "
                          "supported (the extra windows would count padding "
                          "differently from PyTorch)");
        if (extra > 0)
          pads[i + 2] += extra;
      }
    }
  }
  SmallVector<int64_t> shape{xs[0], xs[1]};
  for (int i = 0; i < 2; ++i) {
    int64_t span = xs[2 + i] + pads[i] + pads[i + 2] - kernel[i];
    if (span < 0)
      return nodeFail("kernel " + shapeStr(kernel) +
                      " does not fit the padded input " + shapeStr(xs));
    shape.push_back(span / strides[i] + 1);
  }
  for (int i = 0; i < 2; ++i)
    if (pads[i] >= kernel[i] || pads[i + 2] >= kernel[i])
      return nodeFail("pads " + shapeStr(pads) +
                      " must be smaller than the kernel " + shapeStr(kernel));
  auto k = builder.getDenseI64ArrayAttr(kernel);
  auto s = builder.getDenseI64ArrayAttr(strides);
  auto p = builder.getDenseI64ArrayAttr(pads);
  Value y;
  if (op == "MaxPool")
    y = builder.create<tessera::tsr::MaxPoolOp>(curLoc, f32Tensor(shape), *x, k,
                                                s, p);
  else
    y = builder.create<tessera::tsr::AvgPoolOp>(
        curLoc, f32Tensor(shape), *x, k, s, p, builder.getBoolAttr(countPad));
  defineValue(y);
  return Error::success();
}

Error Importer::importActivation() {
  StringRef op = curNode->op_type();
  Expected<Value> x = operand(0);
  if (!x)
    return x.takeError();
  Type t = x->getType();
  Value y;
  if (op == "Relu")
    y = builder.create<tessera::tsr::ReluOp>(curLoc, t, *x);
  else if (op == "Sigmoid")
    y = builder.create<tessera::tsr::SigmoidOp>(curLoc, t, *x);
  else if (op == "HardSwish")
    y = builder.create<tessera::tsr::HardSwishOp>(curLoc, t, *x);
  else
    y = builder.create<tessera::tsr::HardSigmoidOp>(
        curLoc, t, *x, builder.getF32FloatAttr(floatAttr("alpha", 0.2f)),
        builder.getF32FloatAttr(floatAttr("beta", 0.5f)));
  defineValue(y);
  return Error::success();
}

Error Importer::importClip() {
  Expected<Value> x = operand(0);
  if (!x)
    return x.takeError();
  float bound[2] = {-std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::infinity()};
  const char *names[2] = {"min", "max"};
  for (unsigned i = 0; i < 2; ++i) {
    if (hasInput(i + 1)) {
      Expected<std::shared_ptr<ConstTensor>> c =
          constantInput(i + 1, (llvm::Twine(names[i]) + " input").str());
      if (!c)
        return c.takeError();
      if ((*c)->size() != 1)
        return nodeFail(llvm::Twine(names[i]) + " input must be a scalar");
      bound[i] = (*c)->isFloat ? (*c)->f[0] : float((*c)->i[0]);
    } else if (attr(names[i])) {
      bound[i] = floatAttr(names[i], bound[i]);
    }
  }
  if (!(bound[0] <= bound[1]))
    return nodeFail("min " + std::to_string(bound[0]) + " exceeds max " +
                    std::to_string(bound[1]));
  defineValue(builder.create<tessera::tsr::ClipOp>(
      curLoc, x->getType(), *x, builder.getF32FloatAttr(bound[0]),
      builder.getF32FloatAttr(bound[1])));
  return Error::success();
}

Error Importer::importFlatten() {
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  if ((*data)->kind == Entry::Unfoldable) {
    define(0, *data);
    return Error::success();
  }
  ArrayRef<int64_t> in = (*data)->shape();
  int64_t rank = in.size(), axis = intAttr("axis", 1);
  if (axis < -rank || axis > rank)
    return nodeFail("axis " + llvm::Twine(axis) + " is out of range for rank " +
                    llvm::Twine(rank));
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> shape{numElements(in.take_front(axis)),
                             numElements(in.drop_front(axis))};
  if ((*data)->kind == Entry::Constant) {
    ConstTensor t = *(*data)->data;
    t.shape = shape;
    define(0, Entry::constant(std::move(t), curNode->output(0)));
    return Error::success();
  }
  define(0, Entry::runtime(reshape((*data)->value, shape), (*data)->integral));
  return Error::success();
}

Error Importer::importEqual() {
  Expected<EntryPtr> lhs = input(0), rhs = input(1);
  if (!lhs)
    return lhs.takeError();
  if (!rhs)
    return rhs.takeError();
  Entry &a = **lhs, &b = **rhs;
  if (a.kind == Entry::Unfoldable || b.kind == Entry::Unfoldable) {
    define(0, Entry::unfoldable(a.kind == Entry::Unfoldable ? a.reason
                                                            : b.reason));
    return Error::success();
  }
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(a.shape(), b.shape(), shape))
    return nodeFail("operand shapes " + shapeStr(a.shape()) + " and " +
                    shapeStr(b.shape()) + " do not broadcast");
  if (a.kind == Entry::Constant && b.kind == Entry::Constant) {
    // Shape computation (PyTorch's expand(-1) chains): fold.
    ConstTensor r;
    r.isFloat = false;
    r.shape = shape;
    auto at = [](const ConstTensor &t, int64_t k) {
      return t.isFloat ? double(t.f[k]) : double(t.i[k]);
    };
    for (int64_t k = 0, n = numElements(shape); k < n; ++k)
      r.i.push_back(at(*a.data, broadcastSource(shape, a.shape(), k)) ==
                    at(*b.data, broadcastSource(shape, b.shape(), k)));
    define(0, Entry::constant(std::move(r), curNode->output(0)));
    return Error::success();
  }
  Expected<Value> x = floatOperand(0), y = floatOperand(1);
  if (!x)
    return x.takeError();
  if (!y)
    return y.takeError();
  define(0, Entry::runtime(builder.create<tessera::tsr::EqualOp>(
                               curLoc, f32Tensor(shape), *x, *y),
                           /*integral=*/true));
  return Error::success();
}

Error Importer::importWhere() {
  EntryPtr e[3];
  for (unsigned k = 0; k < 3; ++k) {
    Expected<EntryPtr> v = input(k);
    if (!v)
      return v.takeError();
    e[k] = *v;
    if (e[k]->kind == Entry::Unfoldable) {
      define(0, e[k]);
      return Error::success();
    }
  }
  SmallVector<int64_t> ab, shape;
  if (!OpTrait::util::getBroadcastedShape(e[1]->shape(), e[2]->shape(), ab) ||
      !OpTrait::util::getBroadcastedShape(e[0]->shape(), ab, shape))
    return nodeFail("operand shapes " + shapeStr(e[0]->shape()) + ", " +
                    shapeStr(e[1]->shape()) + " and " +
                    shapeStr(e[2]->shape()) + " do not broadcast");
  if (llvm::all_of(
          e, [](const EntryPtr &x) { return x->kind == Entry::Constant; })) {
    const ConstTensor &c = *e[0]->data, &x = *e[1]->data, &y = *e[2]->data;
    ConstTensor r;
    r.isFloat = x.isFloat || y.isFloat;
    r.shape = shape;
    auto at = [](const ConstTensor &t, int64_t k) {
      return t.isFloat ? double(t.f[k]) : double(t.i[k]);
    };
    for (int64_t k = 0, n = numElements(shape); k < n; ++k) {
      bool pick = at(c, broadcastSource(shape, c.shape, k)) != 0;
      const ConstTensor &src = pick ? x : y;
      int64_t s = broadcastSource(shape, src.shape, k);
      if (r.isFloat)
        r.f.push_back(float(at(src, s)));
      else
        r.i.push_back(src.i[s]);
    }
    define(0, Entry::constant(std::move(r), curNode->output(0)));
    return Error::success();
  }
  Value v[3];
  for (unsigned k = 0; k < 3; ++k) {
    Expected<Value> x = floatOperand(k);
    if (!x)
      return x.takeError();
    v[k] = *x;
  }
  defineValue(builder.create<tessera::tsr::WhereOp>(curLoc, f32Tensor(shape),
                                                    v[0], v[1], v[2]));
  return Error::success();
}

Error Importer::importExpand() {
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  Expected<std::shared_ptr<ConstTensor>> s = constantInput(1, "shape input");
  if (!s)
    return s.takeError();
  if ((*s)->isFloat || (*s)->shape.size() != 1)
    return nodeFail("shape input must be a 1-D int64 tensor");
  if ((*data)->kind == Entry::Unfoldable) {
    define(0, *data);
    return Error::success();
  }
  for (int64_t d : (*s)->i)
    if (d < 0 || d > kMaxFoldedElements)
      return nodeFail("shape " + shapeStr((*s)->i) + " has an invalid entry");
  SmallVector<int64_t> shape;
  ArrayRef<int64_t> in = (*data)->shape();
  if (!OpTrait::util::getBroadcastedShape(in, (*s)->i, shape))
    return nodeFail("input " + shapeStr(in) + " does not broadcast to " +
                    shapeStr((*s)->i));
  if ((*data)->kind == Entry::Constant) {
    if (numElements(shape) > kMaxFoldedElements)
      return nodeFail("expanded constant " + shapeStr(shape) +
                      " is too large to fold");
    SmallVector<int64_t> src;
    for (int64_t k = 0, n = numElements(shape); k < n; ++k)
      src.push_back(broadcastSource(shape, in, k));
    define(0, Entry::constant((*data)->data->gather(shape, src),
                              curNode->output(0)));
    return Error::success();
  }
  if (ArrayRef<int64_t>(shape) == in) {
    define(0, *data);
    return Error::success();
  }
  define(0, Entry::runtime(builder.create<tessera::tsr::ExpandOp>(
                               curLoc, f32Tensor(shape), (*data)->value),
                           (*data)->integral));
  return Error::success();
}

/// Gather of run-time indices from a constant table: an embedding lookup.
Error Importer::importEmbedding(Value indices) {
  Expected<EntryPtr> data = input(0);
  if (!data)
    return data.takeError();
  const ConstTensor &table = *(*data)->data;
  if (table.shape.empty())
    return nodeFail("cannot gather from a scalar");
  Expected<int64_t> axis =
      normalizeAxis(intAttr("axis", 0), table.shape.size());
  if (!axis)
    return axis.takeError();
  if (*axis != 0)
    return nodeFail("run-time indices are supported on axis 0 (an embedding "
                    "table), got axis " +
                    llvm::Twine(*axis));
  SmallVector<int64_t> shape(
      cast<RankedTensorType>(indices.getType()).getShape());
  shape.append(table.shape.begin() + 1, table.shape.end());
  defineValue(builder.create<tessera::tsr::EmbeddingOp>(
      curLoc, f32Tensor(shape), weight((*data)->weightName, table), indices));
  return Error::success();
}

Error Importer::importNode() {
  StringRef op = curNode->op_type();
  bool handled = false;
  if (Error e = importTransformerNode(handled))
    return e;
  if (handled)
    return Error::success();
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div")
    return importBinary();
  if (op == "MatMul")
    return importMatMul();
  if (op == "Gemm")
    return importGemm();
  if (op == "LayerNormalization")
    return importLayerNorm();
  if (op == "Softmax")
    return importSoftmax();
  if (op == "Erf") {
    Expected<Value> x = operand(0);
    if (!x)
      return x.takeError();
    defineValue(builder.create<tessera::tsr::ErfOp>(curLoc, x->getType(), *x));
    return Error::success();
  }
  if (op == "Transpose")
    return importTranspose();
  if (op == "Reshape")
    return importReshape();
  if (op == "Identity") {
    Expected<EntryPtr> x = input(0);
    if (!x)
      return x.takeError();
    define(0, *x);
    return Error::success();
  }
  if (op == "Unsqueeze" || op == "Squeeze")
    return importUnsqueezeSqueeze(op == "Unsqueeze");
  if (op == "Shape")
    return importShape();
  if (op == "Gather")
    return importGather();
  if (op == "Slice")
    return importSlice();
  if (op == "Concat")
    return importConcat();
  if (op == "Cast")
    return importCast();
  if (op == "Constant")
    return importConstant();
  if (op == "ConstantOfShape")
    return importConstantOfShape();
  // CNN and miscellaneous ops.
  if (op == "Conv")
    return importConv();
  if (op == "BatchNormalization")
    return importBatchNorm();
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool")
    return importPool();
  if (op == "Relu" || op == "Sigmoid" || op == "HardSwish" ||
      op == "HardSigmoid")
    return importActivation();
  if (op == "Clip")
    return importClip();
  if (op == "Flatten")
    return importFlatten();
  if (op == "Equal")
    return importEqual();
  if (op == "Where")
    return importWhere();
  if (op == "Expand")
    return importExpand();
  // checkModel() rejected every other op before anything was built.
  llvm_unreachable("op type not screened by checkModel");
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

Expected<OwningOpRef<ModuleOp>> Importer::run(StringRef bytes) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return fail("not a valid ONNX model (protobuf parse failed)");
  if (Error e = checkModel())
    return std::move(e);

  ctx.getOrLoadDialect<tessera::tsr::TsrDialect>();
  ctx.getOrLoadDialect<func::FuncDialect>();
  const onnx::GraphProto &graph = model.graph();

  for (const onnx::TensorProto &t : graph.initializer()) {
    initializers[t.name()] = &t;
    usedNames.insert(t.name());
  }
  for (const auto &[k, n] : llvm::enumerate(graph.node())) {
    for (const std::string &s : n.input()) {
      consumed.insert(s);
      consumers[s].push_back(int(k));
    }
    for (const std::string &s : n.output())
      usedNames.insert(s);
  }
  for (const onnx::ValueInfoProto &v : graph.output()) {
    consumed.insert(v.name());
    consumers[v.name()].push_back(-1);
  }

  // Step 2: arguments. Initializers listed as graph inputs are weights.
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames, argIntTypes;
  for (const onnx::ValueInfoProto &v : graph.input()) {
    if (initializers.contains(v.name()))
      continue;
    usedNames.insert(v.name());
    if (!v.type().has_tensor_type())
      return fail("input '" + v.name() + "' is not a tensor");
    const onnx::TypeProto_Tensor &tt = v.type().tensor_type();
    // Integer inputs (token ids, masks) are held as f32, which represents
    // every integer up to 2^24 exactly; the argument records the ONNX type.
    std::string intType;
    switch (tt.elem_type()) {
    case onnx::TensorProto_DataType_FLOAT:
      break;
    case onnx::TensorProto_DataType_INT64:
    case onnx::TensorProto_DataType_INT32:
    case onnx::TensorProto_DataType_BOOL:
      intType =
          llvm::StringRef(
              onnx::TensorProto_DataType_Name(
                  static_cast<onnx::TensorProto_DataType>(tt.elem_type())))
              .lower();
      break;
    default:
      return fail("input '" + v.name() + "' has element type " +
                  onnx::TensorProto_DataType_Name(
                      static_cast<onnx::TensorProto_DataType>(tt.elem_type())) +
                  "; only float, int64, int32 and bool inputs are supported");
    }
    if (!tt.has_shape())
      return fail("input '" + v.name() +
                  "' has no shape; export with fixed shapes");
    SmallVector<int64_t> shape;
    int64_t elements = 1;
    for (const onnx::TensorShapeProto_Dimension &d : tt.shape().dim()) {
      if (!d.has_dim_value() || d.dim_value() <= 0)
        return fail(
            "input '" + v.name() + "' has a dynamic dimension " +
            llvm::Twine(shape.size()) +
            (d.has_dim_param() ? " ('" + d.dim_param() + "')" : std::string()) +
            "; export with fixed shapes (torch.onnx.export without "
            "dynamic_axes, with an example input of the size you run)");
      if (d.dim_value() > kMaxInputElements / elements)
        return fail("input '" + v.name() + "' is too large");
      elements *= d.dim_value();
      shape.push_back(d.dim_value());
    }
    argTypes.push_back(f32Tensor(shape));
    argNames.push_back(v.name());
    argIntTypes.push_back(intType);
  }

  Location fileLoc = FileLineColLoc::get(&ctx, fileName, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  (*module)->setAttr("tsr.source", builder.getStringAttr(fileName));
  (*module)->setAttr("tsr.opset", builder.getI64IntegerAttr(opset));
  builder.setInsertionPointToEnd(module->getBody());
  auto func = builder.create<func::FuncOp>(
      fileLoc, "main", builder.getFunctionType(argTypes, {}));
  Block *body = func.addEntryBlock();
  for (auto [k, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(k, "tsr.name", builder.getStringAttr(name));
    if (!argIntTypes[k].empty())
      func.setArgAttr(k, "tsr.dtype", builder.getStringAttr(argIntTypes[k]));
    body->getArgument(k).setLoc(
        NameLoc::get(builder.getStringAttr(name), fileLoc));
    values[name] =
        Entry::runtime(body->getArgument(k), !argIntTypes[k].empty());
  }
  builder.setInsertionPointToEnd(body);

  // Step 3: nodes, in graph order (the checker guarantees topological order).
  for (int k = 0; k < graph.node_size(); ++k) {
    curNode = &graph.node(k);
    curIndex = k;
    curName = nodeName(k);
    if (foldedNodes.contains(k))
      continue; // A BatchNormalization folded into its conv.
    curLoc = NameLoc::get(builder.getStringAttr(curName),
                          FileLineColLoc::get(&ctx, fileName, k + 1, 0));
    if (Error e = importNode())
      return std::move(e);
  }
  curNode = nullptr;
  curLoc = fileLoc;

  // Step 4: outputs.
  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const onnx::ValueInfoProto &v : graph.output()) {
    const onnx::TypeProto_Tensor &tt = v.type().tensor_type();
    if (v.type().has_tensor_type() && tt.elem_type() != 0 &&
        tt.elem_type() != onnx::TensorProto_DataType_FLOAT)
      return fail("output '" + v.name() + "' has element type " +
                  onnx::TensorProto_DataType_Name(
                      static_cast<onnx::TensorProto_DataType>(tt.elem_type())) +
                  "; only f32 outputs are supported");
    auto it = values.find(v.name());
    EntryPtr e;
    if (it != values.end()) {
      e = it->second;
    } else if (initializers.contains(v.name())) {
      // An output that is an initializer (lookup() needs no current node).
      Expected<ConstTensor> t = convertTensor(*initializers[v.name()],
                                              "initializer '" + v.name() + "'");
      if (!t)
        return t.takeError();
      e = Entry::constant(std::move(*t), v.name());
    } else {
      return fail("output '" + v.name() + "' is not computed by the graph");
    }
    Value value;
    if (e->kind == Entry::Unfoldable)
      return fail("output '" + v.name() + "' is a shape computation that " +
                  "cannot be folded: " + e->reason);
    if (e->kind == Entry::Constant) {
      if (!e->data->isFloat)
        return fail("output '" + v.name() +
                    "' is an integer tensor; only f32 outputs are supported");
      value = weight(e->weightName, *e->data);
    } else {
      value = e->value;
    }
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(value.getType()).getShape();
    if (v.type().has_tensor_type() && tt.has_shape()) {
      bool mismatch = tt.shape().dim_size() != static_cast<int>(shape.size());
      for (int d = 0; !mismatch && d < tt.shape().dim_size(); ++d)
        mismatch = tt.shape().dim(d).has_dim_value() &&
                   tt.shape().dim(d).dim_value() != shape[d];
      if (mismatch)
        return fail("output '" + v.name() +
                    "' is declared with a shape other than the computed " +
                    shapeStr(shape));
    }
    results.push_back(value);
    resultTypes.push_back(value.getType());
  }
  builder.create<func::ReturnOp>(fileLoc, results);
  func.setFunctionType(builder.getFunctionType(argTypes, resultTypes));
  for (auto [k, v] : llvm::enumerate(graph.output()))
    func.setResultAttr(k, "tsr.name", builder.getStringAttr(v.name()));

  // A verifier failure here is an importer bug or an unsupported corner;
  // report it as one line rather than a crash later.
  std::string diag;
  {
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      if (diag.empty()) {
        llvm::raw_string_ostream os(diag);
        os << d << " (at " << d.getLocation() << ")";
      }
      return success();
    });
    if (failed(verify(*module)))
      return fail("imported IR does not verify: " +
                  (diag.empty() ? std::string("unknown error") : diag));
  }
  return std::move(module);
}

} // namespace

namespace tessera::importer {

Expected<OwningOpRef<ModuleOp>> importOnnx(MLIRContext &ctx, StringRef bytes,
                                           StringRef sourceName) {
  Importer importer(ctx, sourceName);
  return importer.run(bytes);
}

Expected<OwningOpRef<ModuleOp>> importOnnxFile(MLIRContext &ctx,
                                               StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(
        buffer.getError(),
        path + ": cannot open: " + buffer.getError().message());
  return importOnnx(ctx, (*buffer)->getBuffer(), path);
}

} // namespace tessera::importer
