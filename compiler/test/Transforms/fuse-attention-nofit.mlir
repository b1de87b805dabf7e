// Falls back when SRAM is too small. K and V of one head (2 x 16 x 16 FP16,
// two slots each) and 8 rows of whole scores need 3840 bytes (the scaled Q
// sharing the probabilities' bytes: docs/lowering.md, "SRAM allocation"):
// at 3800 bytes the online softmax takes over (K/V tiles of tk rows: the
// lit test fuse-attention-online.mlir); at 2600 bytes not even its
// smallest tiles (8 query rows, 8 key rows: 2688 bytes) fit, so the
// attention stays unfused (tsr-expand-attention then lowers it as separate
// kernels).
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=2600 2>&1 | FileCheck %s
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=16384 2>&1 | FileCheck %s --check-prefix=FITS

// CHECK: remark: attention not fused: K and V of one head and 8 query rows of scores need 3840 bytes of SRAM, the online softmax's smallest tiles (8 query rows, 8 key rows) need 2688, the budget is 2600
// CHECK-NOT: tsr.group
// CHECK: tsr.attention
// FITS: tsr.group
// FITS-SAME: softmax = "row"
// FITS-SAME: fit 0.02 MiB of SRAM
func.func @main(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  return %a : tensor<1x16x32xf32>
}
