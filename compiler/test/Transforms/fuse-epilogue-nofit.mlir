// Falls back when SRAM is too small: the smallest tile of the product with
// its epilogue (8x12x12 tiles, two slots each, one FP32 accumulator (only
// the compute queue touches it, docs/lowering.md "SRAM allocation"), the
// resident bias row: 2048 bytes) does not fit 1000 bytes, so the matmul,
// bias add and GELU stay separate kernels.
// RUN: tessera-opt %s --tsr-fuse-epilogue=sram-bytes=1000 2>&1 | FileCheck %s
// RUN: tessera-opt %s --tsr-fuse-epilogue=sram-bytes=4096 2>&1 | FileCheck %s --check-prefix=FITS

// CHECK: remark: matmul epilogue not fused: the smallest tile of the 64x96x128 product with its epilogue needs 2048 bytes of SRAM, the budget is 1000
// CHECK-LABEL: func.func
// CHECK-NOT: tsr.group
// CHECK: tsr.matmul
// CHECK-NEXT: tsr.add
// CHECK-NEXT: tsr.gelu
// FITS: tsr.group
// FITS-SAME: epilogue = ["bias", "gelu"]
// FITS-SAME: B of 4096 B of SRAM
func.func @bias_gelu(%x: tensor<1x64x96xf32>, %w: tensor<96x128xf32>, %c: tensor<128xf32>) -> tensor<1x64x128xf32> {
  %m = tsr.matmul %x, %w : tensor<1x64x96xf32>, tensor<96x128xf32> -> tensor<1x64x128xf32>
  %s = tsr.add %c, %m : tensor<128xf32>, tensor<1x64x128xf32> -> tensor<1x64x128xf32>
  %g = tsr.gelu %s : tensor<1x64x128xf32>
  return %g : tensor<1x64x128xf32>
}
