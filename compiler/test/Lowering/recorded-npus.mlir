// On a chip of two NPUs the code generator divides a product as its
// recorded `npus` says (tsr-select-tiling's decision, written by hand here):
// the first product's two 512-row tiles run one on each NPU, the second,
// recorded with npus = 1, runs wholly on NPU 0.
// RUN: tessera-translate --tsr-to-listing --chip-config=%models/../arch/configs/two-npus.cfg %s | FileCheck %s

// CHECK-LABEL: ; layer 0: split
// CHECK: n0 C  mm.matmul.f16 m=512 k=96 n=576
// CHECK: n1 C  mm.matmul.f16 m=512 k=96 n=576
// CHECK-LABEL: ; layer 1: whole
// CHECK-NOT: n1
// CHECK: n0 C  mm.matmul.f16 m=512 k=96 n=576
// CHECK-NOT: n1

func.func @main(%x: tensor<1024x768xf32> {tsr.name = "x"}) -> (tensor<1024x768xf32> {tsr.name = "y"}, tensor<1024x768xf32> {tsr.name = "z"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<768x768xf32> -> tensor<768x768xf32>
  %0 = tsr.matmul %x, %w {tsr.tiling = {tm = 512 : i64, tk = 96 : i64, tn = 576 : i64, npus = 2 : i64, split = "rows"}} : tensor<1024x768xf32>, tensor<768x768xf32> -> tensor<1024x768xf32> loc("split")
  %1 = tsr.matmul %x, %w {tsr.tiling = {tm = 512 : i64, tk = 96 : i64, tn = 576 : i64, npus = 1 : i64}} : tensor<1024x768xf32>, tensor<768x768xf32> -> tensor<1024x768xf32> loc("whole")
  return %0, %1 : tensor<1024x768xf32>, tensor<1024x768xf32>
}
