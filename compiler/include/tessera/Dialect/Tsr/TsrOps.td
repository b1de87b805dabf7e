//===- TsrOps.td - the tsr graph dialect -------------------*- tablegen -*-===//
//
// tsr ("tessera graph") is the graph-level dialect the ONNX importer produces:
// one op per network operation on ranked tensors with static shapes, weights as
// named constants. Shape arithmetic (Shape/Gather/Slice/Concat chains) never
// reaches it: the importer resolves it to static shapes.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_DIALECT_TSR_TSROPS_TD
#define TESSERA_DIALECT_TSR_TSROPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tsr_Dialect : Dialect {
  let name = "tsr";
  let cppNamespace = "::tessera::tsr";
  let summary = "Tessera's graph-level dialect: network ops on static tensors";
  let description = [{
    The graph a network is imported into before it is lowered to the chip.
    Values are ranked tensors with static shapes and f32 elements; every op
    carries the ONNX node name as its location, so reports can name layers
    the way the model author does.
  }];
}

class Tsr_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tsr_Dialect, mnemonic, traits>;

def Tsr_Tensor : RankedTensorOf<[F32]>;

def Tsr_WeightOp : Tsr_Op<"weight", [Pure]> {
  let summary = "a named constant tensor (an ONNX initializer)";
  let description = [{
    ```mlir
    %w = tsr.weight "attn.q.weight" dense<...> : tensor<256x256xf32> -> tensor<256x256xf32>
    ```
    The name is the initializer's name in the ONNX graph; the chip program
    stores the tensor under it.
  }];
  let arguments = (ins StrAttr:$name, ElementsAttr:$value);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$name $value attr-dict `->` type($result)";
  let hasVerifier = 1;
}

class Tsr_BinaryOp<string mnemonic, string what>
    : Tsr_Op<mnemonic, [Pure]> {
  let summary = "elementwise " # what # " with numpy broadcasting";
  let arguments = (ins Tsr_Tensor:$lhs, Tsr_Tensor:$rhs);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def Tsr_AddOp : Tsr_BinaryOp<"add", "addition">;
def Tsr_SubOp : Tsr_BinaryOp<"sub", "subtraction">;
def Tsr_MulOp : Tsr_BinaryOp<"mul", "multiplication">;
def Tsr_DivOp : Tsr_BinaryOp<"div", "division">;

def Tsr_MatMulOp : Tsr_Op<"matmul", [Pure]> {
  let summary = "matrix product with batch broadcasting (ONNX MatMul)";
  let description = [{
    `lhs` is `[..., M, K]`, `rhs` is `[..., K, N]` (rank >= 2 each); the
    leading (batch) dimensions broadcast like numpy. The result is
    `[batch..., M, N]`.
  }];
  let arguments = (ins Tsr_Tensor:$lhs, Tsr_Tensor:$rhs);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def Tsr_LayerNormOp : Tsr_Op<"layernorm", [Pure]> {
  let summary = "layer normalization over the trailing axes from `axis`";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * scale + bias`, mean and variance over
    the axes `axis..rank-1`; `scale` and `bias` have the shape of those axes.
  }];
  let arguments = (ins Tsr_Tensor:$input, Tsr_Tensor:$scale, Tsr_Tensor:$bias,
                   I64Attr:$axis, F32Attr:$epsilon);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias attr-dict `:` type($input) `,` type($scale)
    `,` type($bias) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tsr_SoftmaxOp : Tsr_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let arguments = (ins Tsr_Tensor:$input, I64Attr:$axis);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Transformer ops (issue 9, part 2): data movement on runtime tensors,
// reductions, elementwise math and multi-head attention.
//===----------------------------------------------------------------------===//

def Tsr_SliceOp : Tsr_Op<"slice", [Pure]> {
  let summary = "strided window of a tensor (ONNX Slice/Split/Gather on data)";
  let description = [{
    Result element `i` (a multi-index) is input element
    `offsets + i * steps`, per axis; the result type gives the window's
    extent. `offsets` and `steps` have one entry per axis, steps are >= 1.
    The importer maps ONNX `Slice` (positive steps), every output of `Split`
    and `Gather` with a constant index into a runtime tensor (followed by a
    `tsr.reshape` that drops the gathered axis) to it; the chip copies the
    window with strided DMA.

    ```mlir
    // The q third of a packed [6, 2, 96] in-projection.
    %q = tsr.slice %qkv offsets [0, 0, 0] steps [1, 1, 1]
        : tensor<6x2x96xf32> -> tensor<6x2x32xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input, DenseI64ArrayAttr:$offsets,
                   DenseI64ArrayAttr:$steps);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = [{
    $input `offsets` $offsets `steps` $steps attr-dict `:` type($input) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Tsr_ConcatOp : Tsr_Op<"concat", [Pure]> {
  let summary = "concatenation of runtime tensors along one axis";
  let description = [{
    All inputs have the result's rank and agree off `axis`; the result's
    extent along `axis` is the sum of theirs. The chip writes each input
    into its window of the result with strided DMA.

    ```mlir
    // Class token in front of the patch tokens.
    %t = tsr.concat %cls, %patches {axis = 1 : i64}
        : tensor<1x1x64xf32>, tensor<1x16x64xf32> -> tensor<1x17x64xf32>
    ```
  }];
  let arguments = (ins Variadic<Tsr_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat =
      "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def Tsr_PowOp : Tsr_Op<"pow", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise power by a constant exponent";
  let description = [{
    `x ** exponent`. ONNX `Pow` becomes it when the exponent is a one-element
    constant (PyTorch exports `d ** 0.5`, `x.pow(2)` and `x ** 3` this way);
    a tensor exponent computed at run time is an import error. The vector
    unit evaluates it in FP32.

    ```mlir
    %sq = tsr.pow %d {exponent = 2.0 : f32} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input, F32Attr:$exponent);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

class Tsr_UnaryOp<string mnemonic, string what, string example>
    : Tsr_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise " # what;
  let description = [{
    One vector-unit instruction per tile on the chip.

    ```mlir
  }] # example # [{

    ```
  }];
  let arguments = (ins Tsr_Tensor:$input);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tsr_SqrtOp : Tsr_UnaryOp<"sqrt", "square root (ONNX Sqrt)",
    "%s = tsr.sqrt %v : tensor<4x1xf32>">;
def Tsr_NegOp : Tsr_UnaryOp<"neg", "negation (ONNX Neg); a scale by -1 on the chip",
    "%n = tsr.neg %x : tensor<4x8xf32>">;
def Tsr_TanhOp : Tsr_UnaryOp<"tanh", "hyperbolic tangent (ONNX Tanh)",
    "%t = tsr.tanh %x : tensor<4x8xf32>">;

class Tsr_ReduceOp<string mnemonic, string what>
    : Tsr_Op<mnemonic, [Pure]> {
  let summary = what # " over the given axes (ONNX Reduce*)";
  let description = [{
    Reduces `input` over `axes` (sorted, distinct, non-negative; an empty
    list is not allowed: ONNX's "reduce everything" default is spelled out
    by the importer). With `keepdims` the reduced axes stay as extent 1,
    otherwise they are dropped. The importer reads the axes from the
    attribute (opset < 18) or the input (opset 18 form).

    ```mlir
    %m = tsr.}] # mnemonic # [{ %x axes [2] {keepdims = true}
        : tensor<2x5x8xf32> -> tensor<2x5x1xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input, DenseI64ArrayAttr:$axes,
                   BoolAttr:$keepdims);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat =
      "$input `axes` $axes attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Tsr_ReduceMeanOp : Tsr_ReduceOp<"reduce_mean", "arithmetic mean">;
def Tsr_ReduceSumOp : Tsr_ReduceOp<"reduce_sum", "sum">;
def Tsr_ReduceMaxOp : Tsr_ReduceOp<"reduce_max", "maximum">;

def Tsr_AttentionOp : Tsr_Op<"attention", [Pure]> {
  let summary = "multi-head scaled dot-product attention on [B, S, D] tensors";
  let description = [{
    `query` is `[B, Sq, D]`, `key` and `value` are `[B, Sk, D]` (batch first,
    heads not split yet), `D = heads * head_dim`. For every batch `b` and
    head `h` (columns `h*head_dim .. (h+1)*head_dim` of D):

        scores = scale * Q_h K_h^T (+ mask)      [Sq, Sk]
        out_h  = softmax(scores, last axis) V_h  [Sq, head_dim]

    and the heads are concatenated back into `[B, Sq, D]`. `mask`, when
    present, is added to the scaled scores; its shape broadcasts (numpy) to
    `[B, heads, Sq, Sk]` (a padding mask is `[B, 1, 1, Sk]`, a causal one
    `[Sq, Sk]`).

    Formed by `tsr-raise-attention` from the exported head split, scores,
    softmax, weighted sum and head merge; the projections stay outside, so
    a fusion pass sees the in-projection matmuls feeding q/k/v and the out
    projection consuming the result (docs/dialects/tsr.md says why).
    `tsr-expand-attention` turns it back into matmul/softmax ops for the
    chip until a fused kernel exists.

    ```mlir
    %o = tsr.attention %q, %k, %v mask(%m : tensor<2x1x1x6xf32>)
        {heads = 4 : i64, head_dim = 8 : i64, scale = 0.353553385 : f32}
        : tensor<2x6x32xf32>, tensor<2x6x32xf32>, tensor<2x6x32xf32>
        -> tensor<2x6x32xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$query, Tsr_Tensor:$key, Tsr_Tensor:$value,
                   Optional<Tsr_Tensor>:$mask, I64Attr:$heads,
                   I64Attr:$head_dim, F32Attr:$scale);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` `(` $mask^ `:` type($mask) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Tsr_ErfOp : Tsr_Op<"erf", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise error function";
  let arguments = (ins Tsr_Tensor:$input);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tsr_GeluOp : Tsr_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "GELU, erf form 0.5 * x * (1 + erf(x / sqrt(2))) or tanh form";
  let description = [{
    Not an ONNX opset-17 op: `tsr-raise-gelu` forms it from the
    Div/Erf/Add/Mul chain PyTorch exports for `nn.GELU()`, and from the
    Mul/Add/Tanh chain of `nn.GELU(approximate="tanh")`, where it sets
    `approximate = "tanh"`:
    `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))`.
    The chip runs one vector instruction instead of five (nine).

    ```mlir
    %g = tsr.gelu %x : tensor<4x8xf32>
    %t = tsr.gelu %x {approximate = "tanh"} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input,
                   DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Tsr_TransposeOp : Tsr_Op<"transpose", [Pure]> {
  let summary = "permutation of the axes: result dim i is input dim perm[i]";
  let arguments = (ins Tsr_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat =
      "$input `,` $perm attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Tsr_ReshapeOp : Tsr_Op<"reshape", [Pure]> {
  let summary = "same elements, row-major, new static shape";
  let arguments = (ins Tsr_Tensor:$input);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// CNN and miscellaneous ops (issue 9, part 1)
//===----------------------------------------------------------------------===//

def Tsr_ConvOp : Tsr_Op<"conv", [Pure]> {
  let summary = "2-D convolution, NCHW, with groups (ONNX Conv)";
  let description = [{
    `input` is `[N, C, H, W]`, `weight` is `[O, C / groups, kh, kw]`, `bias`
    is `[O]`; the result is `[N, O, OH, OW]` with
    `OH = (H + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0] + 1`
    (likewise `OW` with `pads[1]`, `pads[3]`). `pads` is ONNX's
    `[top, left, bottom, right]`; padding reads zeros. A depthwise
    convolution has `groups = C` and `O` a multiple of `C`.

    ```mlir
    %y = tsr.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>,
                              dilations = array<i64: 1, 1>, groups = 1 : i64}
        : tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32> -> tensor<1x16x16x16xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input, Tsr_Tensor:$weight, Tsr_Tensor:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` type($input) `,` type($weight)
    `,` type($bias) `->` type($result)
  }];
  let hasVerifier = 1;
}

class Tsr_PoolOp<string mnemonic, string what> : Tsr_Op<mnemonic, [Pure]> {
  let summary = "2-D " # what # " pooling, NCHW";
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Tsr_MaxPoolOp : Tsr_PoolOp<"maxpool", "max"> {
  let description = [{
    Windows of `kernel` (`[kh, kw]`) every `strides`, over the input padded
    by `pads` (`[top, left, bottom, right]`; padding never wins the max).
    The result is `[N, C, OH, OW]`, `OH = (H + pads[0] + pads[2] - kh) /
    strides[0] + 1`. ONNX's `ceil_mode` is turned into extra end padding by
    the importer.

    ```mlir
    %y = tsr.maxpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>,
                         pads = array<i64: 1, 1, 1, 1>}
        : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads);
}

def Tsr_AvgPoolOp : Tsr_PoolOp<"avgpool", "average"> {
  let description = [{
    As `tsr.maxpool`, the mean of each window. With `count_include_pad`
    the divisor is `kh * kw`; without it, the number of window elements
    inside the (unpadded) input. ONNX GlobalAveragePool is an `avgpool`
    whose kernel is the whole image.

    ```mlir
    %y = tsr.avgpool %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>,
                         pads = array<i64: 0, 0, 0, 0>, count_include_pad = false}
        : tensor<1x512x7x7xf32> -> tensor<1x512x1x1xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   BoolAttr:$count_include_pad);
}

class Tsr_ActivationOp<string mnemonic, string what>
    : Tsr_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise " # what;
  let arguments = (ins Tsr_Tensor:$input);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tsr_ReluOp : Tsr_ActivationOp<"relu", "max(x, 0)"> {
  let description = [{
    ```mlir
    %y = tsr.relu %x : tensor<1x64x56x56xf32>
    ```
  }];
}
def Tsr_SigmoidOp : Tsr_ActivationOp<"sigmoid", "1 / (1 + exp(-x))"> {
  let description = [{
    ```mlir
    %y = tsr.sigmoid %x : tensor<1x16x1x1xf32>
    ```
  }];
}
def Tsr_HardSwishOp : Tsr_ActivationOp<"hardswish", "x * min(max(x / 6 + 1/2, 0), 1)"> {
  let description = [{
    ONNX HardSwish (alpha 1/6, beta 0.5; PyTorch's `nn.Hardswish`).

    ```mlir
    %y = tsr.hardswish %x : tensor<1x16x56x56xf32>
    ```
  }];
}

def Tsr_HardSigmoidOp : Tsr_Op<"hardsigmoid", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise min(max(alpha * x + beta, 0), 1)";
  let description = [{
    ONNX HardSigmoid; PyTorch's `nn.Hardsigmoid` exports alpha = 1/6,
    beta = 0.5.

    ```mlir
    %y = tsr.hardsigmoid %x {alpha = 0.166666672 : f32, beta = 5.000000e-01 : f32} : tensor<1x16x1x1xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input, F32Attr:$alpha, F32Attr:$beta);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tsr_ClipOp : Tsr_Op<"clip", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise min(max(x, min), max)";
  let description = [{
    ONNX Clip with constant bounds; a missing bound is infinite.
    `nn.ReLU6` exports `min = 0, max = 6`.

    ```mlir
    %y = tsr.clip %x {max = 6.000000e+00 : f32, min = 0.000000e+00 : f32} : tensor<1x32x56x56xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input, F32Attr:$min, F32Attr:$max);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Tsr_EmbeddingOp : Tsr_Op<"embedding", [Pure]> {
  let summary = "rows of a table selected by run-time indices (ONNX Gather, axis 0)";
  let description = [{
    `table` is `[V, D...]`, `indices` any shape holding integers (token ids,
    as f32; negative ids count from the end like ONNX Gather); the result is
    `indices.shape + [D...]`. An index outside `[-V, V)` is a run-time
    error of the reference executor.

    ```mlir
    %e = tsr.embedding %table, %ids : tensor<1000x64xf32>, tensor<1x16xf32> -> tensor<1x16x64xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$table, Tsr_Tensor:$indices);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat =
      "$table `,` $indices attr-dict `:` type($table) `,` type($indices) `->` type($result)";
  let hasVerifier = 1;
}

def Tsr_EqualOp : Tsr_Op<"equal", [Pure]> {
  let summary = "elementwise lhs == rhs as 1.0 / 0.0, numpy broadcasting";
  let description = [{
    ONNX Equal; the boolean result is a 0/1 float tensor.

    ```mlir
    %m = tsr.equal %mask, %zero : tensor<1x16xf32>, tensor<f32> -> tensor<1x16xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$lhs, Tsr_Tensor:$rhs);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def Tsr_WhereOp : Tsr_Op<"where", [Pure]> {
  let summary = "elementwise cond != 0 ? lhs : rhs, numpy broadcasting";
  let description = [{
    ONNX Where with the condition as a 0/1 float tensor. The result shape
    is the broadcast of all three operands.

    ```mlir
    %s = tsr.where %m, %neg, %scores : tensor<1x1x1x16xf32>, tensor<f32>, tensor<1x4x16x16xf32> -> tensor<1x4x16x16xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$cond, Tsr_Tensor:$lhs, Tsr_Tensor:$rhs);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = [{
    $cond `,` $lhs `,` $rhs attr-dict `:` type($cond) `,` type($lhs) `,`
    type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tsr_ExpandOp : Tsr_Op<"expand", [Pure]> {
  let summary = "numpy broadcast of the input to the result's static shape";
  let description = [{
    ONNX Expand with a shape that folds at import time.

    ```mlir
    %y = tsr.expand %x : tensor<1x1x16xf32> -> tensor<1x16x16xf32>
    ```
  }];
  let arguments = (ins Tsr_Tensor:$input);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused groups (issue 10): the fusion passes' decisions, kept in the IR
//===----------------------------------------------------------------------===//

def Tsr_GroupOp : Tsr_Op<"group", [IsolatedFromAbove, SingleBlock]> {
  let summary = "ops fused into one chip kernel, with the fusion decision";
  let description = [{
    A fusion pass (`tsr-fuse-*`) moves the ops it fuses into the region of a
    `tsr.group`: the group runs as one kernel on the chip, and the values
    that flow between the ops inside never go to DRAM. The region's block
    arguments are the group's operands, `tsr.yield` returns its results.

    * `kind` names the kernel that lowers the group (docs/fusion.md):
      `"attention"`: the region holds one `tsr.attention` whose q, k and v
      are block arguments, or slices of them along the last axis (a packed
      QKV projection read in place) seen through free transposes.
      `"matmul"`: the region holds one `tsr.matmul` whose B is a 2-D block
      argument (a weight), optionally a last-axis `tsr.layernorm` of a
      block argument feeding its A (`prologue = "layernorm"`, seen through
      reshapes and transposes that move only axes of extent 1), and the
      `epilogue` ops on its result in order: `"bias"` (a `tsr.add` of a
      block argument of N elements), `"gelu"` (`tsr.gelu`), `"residual"`
      (a `tsr.add` of a same-shaped block argument), through free
      reshapes and transposes; its one result is the last of them.
    * `heads_on_chip`: how many heads, the first ones, have their K and V
      kept in SRAM from the packed QKV projection's kernel (`tsr-keep-kv`;
      0 to heads; the others load K and V from DRAM). Every head's scores
      and probabilities stay on chip. Attention only.
    * `softmax`: `"row"` (a head's whole score rows fit SRAM) or `"online"`
      (streaming over K/V tiles: K_h and V_h are walked in tiles of `tk`
      rows, so a head's scores exist one [tq, tk] tile at a time, and per
      query row the kernel keeps the running maximum m, the running sum l
      of exp(s - m) and an FP32 context accumulator O, rescaled by
      exp(m_old - m_new) whenever a later tile holds a larger score; at the
      end O / l is softmax(Qs K^T) V; docs/fusion.md, "The online
      kernel"); attention only.
    * `epilogue`, `prologue`: the ops fused around the matrix product
      (matmul only).
    * `why`: the pass's reason, with the bytes it weighed.

    A `tsr.tiling` dictionary (tm, tk, tn for "matmul"; tq for
    "attention" and, with `softmax = "online"`, tk, the K/V rows per step)
    records the tile the cost model chose; the verifier rejects a
    non-positive tile, one larger than the product, for a layernorm
    prologue a tk that is not the whole K (a row is normalized at once),
    for the online softmax a tk outside [1, Sk] or a tq above Sq, and a tk
    with `softmax = "row"` (it computes whole score rows). `tsr.sram`
    (tsr-allocate-sram) records the kernel's SRAM plan for that tile.

    ```mlir
    %o = tsr.group(%qkv) {kind = "attention", heads_on_chip = 2 : i64,
                          softmax = "row", why = "..."}
        : (tensor<1x16x96xf32>) -> tensor<1x16x32xf32> {
    ^bb0(%x: tensor<1x16x96xf32>):
      %q = tsr.slice %x ...
      %a = tsr.attention %q, %k, %v ...
      tsr.yield %a : tensor<1x16x32xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Tsr_Tensor>:$inputs, StrAttr:$kind,
                   OptionalAttr<I64Attr>:$heads_on_chip,
                   OptionalAttr<StrAttr>:$softmax,
                   OptionalAttr<StrArrayAttr>:$epilogue,
                   OptionalAttr<StrAttr>:$prologue, StrAttr:$why);
  let results = (outs Variadic<Tsr_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $inputs `)` attr-dict `:` functional-type($inputs, $results) $body
  }];
  let hasVerifier = 1;
}

def Tsr_YieldOp : Tsr_Op<"yield", [Pure, Terminator, HasParent<"GroupOp">]> {
  let summary = "the results of a tsr.group";
  let arguments = (ins Variadic<Tsr_Tensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // TESSERA_DIALECT_TSR_TSROPS_TD
