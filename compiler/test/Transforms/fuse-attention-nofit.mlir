// Falls back when SRAM is too small: K and V of one head (2 x 16 x 16 FP16,
// two slots each) and 8 rows of scores (3840 bytes, the scaled Q sharing the
// probabilities' bytes: docs/lowering.md, "SRAM allocation") do not fit 3800
// bytes, so the attention stays unfused (tsr-expand-attention then lowers it
// as separate kernels).
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=3800 2>&1 | FileCheck %s
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=16384 2>&1 | FileCheck %s --check-prefix=FITS

// CHECK: remark: attention not fused: K and V of one head and 8 query rows of scores need 3840 bytes of SRAM, the budget is 3800
// CHECK-NOT: tsr.group
// CHECK: tsr.attention
// FITS: tsr.group
// FITS-SAME: fit 0.02 MiB of SRAM
func.func @main(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  return %a : tensor<1x16x32xf32>
}
