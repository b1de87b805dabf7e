// Falls back when SRAM is too small: the prologue needs whole rows of K
// (8 rows of 96 and 96x12 of B, two slots each, gamma and beta resident:
// 8448 bytes), more than 2000, so the layernorm stays its own kernel.
// RUN: tessera-opt %s --tsr-fuse-layernorm=sram-bytes=2000 2>&1 | FileCheck %s
// RUN: tessera-opt %s --tsr-fuse-layernorm=sram-bytes=16384 2>&1 | FileCheck %s --check-prefix=FITS

// CHECK: remark: layernorm not fused: whole rows of K = 96 for the 64x96x128 product need 8448 bytes of SRAM, the budget is 2000
// CHECK-LABEL: func.func
// CHECK-NOT: tsr.group
// CHECK: tsr.layernorm
// CHECK-NEXT: tsr.transpose
// CHECK-NEXT: tsr.matmul
// FITS: tsr.group
// FITS-SAME: prologue = "layernorm"
// FITS-SAME: tk = 96 : i64
func.func @ln_transpose_matmul(%x: tensor<1x64x96xf32>, %g: tensor<96xf32>, %b: tensor<96xf32>, %w: tensor<96x128xf32>) -> tensor<64x1x128xf32> {
  %n = tsr.layernorm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : tensor<1x64x96xf32>, tensor<96xf32>, tensor<96xf32> -> tensor<1x64x96xf32>
  %t = tsr.transpose %n, [1, 0, 2] : tensor<1x64x96xf32> -> tensor<64x1x96xf32>
  %m = tsr.matmul %t, %w : tensor<64x1x96xf32>, tensor<96x128xf32> -> tensor<64x1x128xf32>
  return %m : tensor<64x1x128xf32>
}
