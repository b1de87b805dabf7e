//===- Passes.td - tsr passes ------------------------------*- tablegen -*-===//
//
// Part of Tessera. The raising passes turn what ONNX exporters emit into the
// named ops later passes work on (tsr.gelu, tsr.layernorm, tsr.attention);
// tsr-expand-attention turns tsr.attention back into the kernels the chip
// has today. docs/compiler.md shows where each runs in the pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_DIALECT_TSR_PASSES_TD
#define TESSERA_DIALECT_TSR_PASSES_TD

include "mlir/Pass/PassBase.td"

def TsrRaiseGelu : Pass<"tsr-raise-gelu"> {
  let summary = "Replace the exported erf- and tanh-GELU chains with tsr.gelu";
  let description = [{
    Matches `x * 0.5 * (1 + erf(x / sqrt 2))` (nn.GELU()) and
    `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))`
    (nn.GELU(approximate="tanh"), x^3 as x*x*x or a tsr.pow) in every
    operand order of the commutative ops, and replaces each with one
    tsr.gelu (approximate = "tanh" for the second).
  }];
}

def TsrRaiseLayerNorm : Pass<"tsr-raise-layernorm"> {
  let summary = "Form tsr.layernorm from the decomposed ONNX chain";
  let description = [{
    Opsets below 17 have no LayerNormalization; PyTorch exports
    `ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div` (then `Mul`
    by the weight, `Add` of the bias). The chain over the trailing axes
    becomes one tsr.layernorm; missing affine parameters become weights of
    ones and zeros.
  }];
}

def TsrRaiseAttention : Pass<"tsr-raise-attention"> {
  let summary = "Form tsr.attention from exported multi-head attention";
  let description = [{
    Matches softmax(scale * Q K^T (+ mask)) V with the head split and head
    merge around it (reshape/transpose chains of nn.MultiheadAttention's
    sequence-first export and of hand-written batch-first attention), the
    scale applied to Q, K or the scores (Mul or Div by a constant), and
    replaces it with one tsr.attention on [B, S, D] q, k, v.
  }];
}

def TsrPackQkv : Pass<"tsr-pack-qkv"> {
  let summary = "Pack sibling projections of one input (Q, K, V) into one "
                "matmul";
  let description = [{
    Two or more `tsr.matmul` whose A is the same value and whose B is a 2-D
    `tsr.weight` (attention's q, k and v projections written as separate
    `nn.Linear`s) become one product against the packed weight
    [K, N_1 + N_2 + ...] (columns side by side, in program order), one add
    of the packed bias when every member is followed by its own bias add,
    and one `tsr.slice` along the last axis per member: the form
    nn.MultiheadAttention exports. The packed product carries `tsr.packed`
    (the packed weights' names). The same dot products of the same
    operands: outputs are unchanged.
  }];
}

def TsrExpandAttention : Pass<"tsr-expand-attention"> {
  let summary = "Expand tsr.attention into matmul, softmax and data movement";
  let description = [{
    The chip has no attention kernel yet: each tsr.attention becomes the
    head split (reshape + transpose), a scale of Q, Q K^T, the mask add,
    softmax, the product with V and the head merge.
  }];
}

def TsrFuseAttention : Pass<"tsr-fuse-attention", "mlir::ModuleOp"> {
  let summary = "Fuse each tsr.attention into one chip kernel (tsr.group)";
  let description = [{
    Wraps every unmasked `tsr.attention` in a `tsr.group` of kind
    `"attention"`: per batch and head the kernel keeps K_h and V_h in SRAM
    and, per tile of query rows, computes the scores, the softmax and the
    product with V on chip, so neither the scores nor the probabilities go
    to DRAM. The head split and merge become strided DMA: q, k and v that
    are slices along the last axis of one packed QKV projection (seen
    through transposes that move only axes of extent 1) are read in place,
    and those slices and transposes move into the group.
    The group records `softmax = "row"` when one head's K, V and a tile of
    whole score rows fit the SRAM, and its reason in `why`; when not even
    that fits, the attention is left unfused (the remark says why).
    A masked attention is not fused.
  }];
  let options = [
    Option<"chipConfig", "chip-config", "std::string", /*default=*/"",
           "chip config file (default: the reference chip)">,
    Option<"sramBytes", "sram-bytes", "uint64_t", /*default=*/"0",
           "SRAM capacity in bytes, overriding the chip config's">,
  ];
}

def TsrFuseEpilogue : Pass<"tsr-fuse-epilogue", "mlir::ModuleOp"> {
  let summary = "Fuse bias, GELU and residual adds into the matmul's kernel";
  let description = [{
    A `tsr.matmul` with a 2-D B followed by a bias add (a tensor of N
    elements broadcast over the last axis, either operand order), optionally
    `tsr.gelu`, optionally a residual add (a same-shaped tensor), seen
    through reshapes and transposes that move only axes of extent 1, each
    value with one user, becomes a `tsr.group` of kind `"matmul"` with
    `epilogue = [...]`: the vector unit applies the ops to each output tile
    in SRAM before its one store, so the intermediates never go to DRAM.
    The tile is chosen by the cost model (cost::searchMatMulGroup) and
    recorded as `tsr.tiling`. Cost-gated: of the chain's prefixes fused
    (the rest left as kernels) the fastest modelled one is built, and only
    when it is not slower than the unfused kernels
    (codegen::unfusedMatMulKernels); `why` records both figures, a decline
    a remark and `tsr.not_fused` on the matmul. When nothing fits the SRAM
    the ops stay unfused (the remark says why).
  }];
  let options = [
    Option<"chipConfig", "chip-config", "std::string", /*default=*/"",
           "chip config file (default: the reference chip)">,
    Option<"sramBytes", "sram-bytes", "uint64_t", /*default=*/"0",
           "SRAM capacity in bytes, overriding the chip config's">,
  ];
}

def TsrFuseLayerNorm : Pass<"tsr-fuse-layernorm", "mlir::ModuleOp"> {
  let summary = "Fuse a last-axis layernorm into the projections it feeds";
  let description = [{
    A `tsr.layernorm` over the last axis whose every user is a matrix
    product's A (a `tsr.matmul` with a 2-D B, or the A operand of a
    `tsr.group` of kind `"matmul"`), seen through reshapes and transposes
    that move only axes of extent 1, becomes the prologue of each product's
    group (`prologue = "layernorm"`): the kernel normalizes each A row tile
    (whole rows: tk = K) in SRAM before the matrix unit reads it, and the
    normalized tensor never goes to DRAM. Cost-gated: only when the fused
    groups are modelled no slower than the layernorm kernel plus the
    products as they are (`why` records both figures, a decline a remark
    and `tsr.not_fused` on the layernorm). When the whole-K tiles do not
    fit the SRAM, or the layernorm has another user, it stays unfused (the
    remark says why).
  }];
  let options = [
    Option<"chipConfig", "chip-config", "std::string", /*default=*/"",
           "chip config file (default: the reference chip)">,
    Option<"sramBytes", "sram-bytes", "uint64_t", /*default=*/"0",
           "SRAM capacity in bytes, overriding the chip config's">,
  ];
}

def TsrKeepKv : Pass<"tsr-keep-kv", "mlir::ModuleOp"> {
  let summary = "Keep K and V of the first heads in SRAM from the QKV "
                "projection into the attention (the source's split)";
  let description = [{
    For each attention group whose packed q/k/v operand is a fused matmul
    group's result with no other user (batch 1): for k = heads .. 0, the
    resident region (k heads x K and V, rows x head_dim FP16 each) is
    reserved at the top of the SRAM, both kernels' tiles are searched again
    under the rest, and both are priced back to back; the lowest modelled
    latency wins, ties to the larger k. The projection group records the
    region (`tsr.keep_kv`) and writes those columns there instead of DRAM;
    the attention group's `heads_on_chip` becomes k and it reads those
    heads' K and V from the region. The attention group moves right after
    its projection. Both `why`s record k and the figures; k = 0 is a remark.
  }];
  let options = [
    Option<"chipConfig", "chip-config", "std::string", /*default=*/"",
           "chip config file (default: the reference chip)">,
    Option<"sramBytes", "sram-bytes", "uint64_t", /*default=*/"0",
           "SRAM capacity in bytes, overriding the chip config's">,
  ];
}

def TsrFoldBias : Pass<"tsr-fold-bias", "mlir::ModuleOp"> {
  let summary = "Add a matmul group's bias in the matrix unit (a column of "
                "ones in A, the bias as a row of B) instead of a vec.add";
  let description = [{
    For each `tsr.group` of kind `"matmul"` with a `"bias"` epilogue, the
    cost model prices the kernel as recorded (the bias a vec.add on each
    output tile) and with the bias folded into the product: each A slot
    carries a column of ones after its columns (filled once), each B slot
    one more row into which the bias segment of the tile's columns is
    loaded, and the last K step's product multiplies one more row, which
    the weight-stationary array does in the same folds when that step
    leaves a spare array row (k_last mod matrix_rows != 0). The folded
    kernel's tile is searched again under the same budget (the SRAM below a
    resident K/V region). When it is modelled strictly faster the group
    records the unit attribute `tsr.fold_bias` and the new `tsr.tiling`,
    and its `why` gives both figures; otherwise a remark says why not.
  }];
  let options = [
    Option<"chipConfig", "chip-config", "std::string", /*default=*/"",
           "chip config file (default: the reference chip)">,
    Option<"sramBytes", "sram-bytes", "uint64_t", /*default=*/"0",
           "SRAM capacity in bytes, overriding the chip config's">,
  ];
}

def TsrAllocateSram : Pass<"tsr-allocate-sram", "mlir::ModuleOp"> {
  let summary = "Place the SRAM buffers of each fused group and bare kernel "
                "by liveness (tsr.sram)";
  let description = [{
    For every `tsr.group` of kind `"attention"` or `"matmul"`, lists the
    kernel's SRAM buffers for the group's `tsr.tiling` (each ring slot of
    a double-buffered operand its own buffer), each with its bytes and its
    live range over the kernel's phases, and places them: buffers whose
    live ranges do not intersect may share bytes (first fit, the carried
    buffers first, then by decreasing size). Records the plan as
    `tsr.sram` (the total, the phases, and per buffer its name, slot,
    offset, bytes and live range); the code generator takes every address from it. When the
    recorded tile does not fit the SRAM, the tile is chosen again by the
    cost model (a remark says so); when nothing fits, an error names the
    group and the bytes.

    For every op outside a group whose kernel records its decisions in the
    IR (docs/lowering.md, "Decisions of the unfused kernels": the bare
    `tsr.matmul`; the vector family: elementwise ops, layernorm, softmax,
    binary ops with broadcasting, reductions, activations), the kernel's
    buffers for its recorded `tsr.tiling` (the per-kind builders of
    cost/SramPlan.h: double-buffered rings and resident rows, all live
    over the whole loop), placed and recorded as `tsr.sram` the same way;
    an error names the op when the recorded tiling does not fit. The FP16
    conversion of an integer input read as data (`tsr.dtype`) is such a
    kernel too: its plan is recorded on the function argument, next to the
    `tsr.tiling` tsr-select-tiling recorded there.
  }];
  let options = [
    Option<"chipConfig", "chip-config", "std::string", /*default=*/"",
           "chip config file (default: the reference chip)">,
    Option<"sramBytes", "sram-bytes", "uint64_t", /*default=*/"0",
           "SRAM capacity in bytes, overriding the chip config's">,
  ];
}

def TsrVerifySram : Pass<"tsr-verify-sram", "mlir::ModuleOp"> {
  let summary = "Prove no two live SRAM buffers of a kernel overlap";
  let description = [{
    Checks every recorded `tsr.sram` (of a group, of a bare kernel or, on a
    function argument, of an integer input's FP16 conversion): well
    formed, each buffer the kernel needs for the op's `tsr.tiling` present
    and large enough, no two buffers live in a common phase sharing a byte,
    everything inside the SRAM. The error names the group or op and both
    buffers.
  }];
  let options = [
    Option<"chipConfig", "chip-config", "std::string", /*default=*/"",
           "chip config file (default: the reference chip)">,
    Option<"sramBytes", "sram-bytes", "uint64_t", /*default=*/"0",
           "SRAM capacity in bytes, overriding the chip config's">,
  ];
}

#endif // TESSERA_DIALECT_TSR_PASSES_TD
