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

def Tsr_ErfOp : Tsr_Op<"erf", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise error function";
  let arguments = (ins Tsr_Tensor:$input);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tsr_GeluOp : Tsr_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "GELU, erf form: 0.5 * x * (1 + erf(x / sqrt(2)))";
  let description = [{
    Not an ONNX opset-17 op: `tsr-raise-gelu` forms it from the
    Div/Erf/Add/Mul chain PyTorch exports, so the chip runs one vector
    instruction instead of five.
  }];
  let arguments = (ins Tsr_Tensor:$input);
  let results = (outs Tsr_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
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

#endif // TESSERA_DIALECT_TSR_TSROPS_TD
