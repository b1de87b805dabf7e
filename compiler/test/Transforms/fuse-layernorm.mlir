// tsr-fuse-layernorm: a last-axis layernorm whose users are all matrix
// products' A (through transposes of unit axes) becomes the prologue of
// each product's group, a bare matmul's or an epilogue group's (run after
// tsr-fuse-epilogue, as the fused pipeline does). It does not fire when the
// normalized tensor has another user or feeds a product's B.
// RUN: tessera-opt %s -split-input-file --tsr-fuse-epilogue --tsr-fuse-layernorm 2>&1 | FileCheck %s

// CHECK: remark: layernorm not fused: its result also feeds 'tsr.reduce_mean', not a projection's A
// CHECK: remark: layernorm not fused: its result also feeds 'tsr.matmul', not a projection's A

// CHECK-LABEL: func.func @ln_transpose_matmul
// CHECK-SAME: (%[[X:.*]]: tensor<1x64x96xf32>, %[[GA:.*]]: tensor<96xf32>, %[[BE:.*]]: tensor<96xf32>, %[[W:.*]]: tensor<96x128xf32>)
// CHECK: %[[G:.*]] = tsr.group(%[[X]], %[[GA]], %[[BE]], %[[W]]) {kind = "matmul", prologue = "layernorm",
// CHECK-SAME: tk = 96 : i64
// CHECK-SAME: why = "the layernorm of A's rows (whole rows of K = 96, 12288 B normalized in SRAM): 1 DRAM round trip (24576 B) removed;
// CHECK-NEXT: ^bb0
// CHECK-NEXT: tsr.layernorm
// CHECK-NEXT: tsr.transpose
// CHECK-NEXT: tsr.matmul
// CHECK-NEXT: tsr.yield
// CHECK: return %[[G]]
func.func @ln_transpose_matmul(%x: tensor<1x64x96xf32>, %g: tensor<96xf32>, %b: tensor<96xf32>, %w: tensor<96x128xf32>) -> tensor<64x1x128xf32> {
  %n = tsr.layernorm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : tensor<1x64x96xf32>, tensor<96xf32>, tensor<96xf32> -> tensor<1x64x96xf32>
  %t = tsr.transpose %n, [1, 0, 2] : tensor<1x64x96xf32> -> tensor<64x1x96xf32>
  %m = tsr.matmul %t, %w : tensor<64x1x96xf32>, tensor<96x128xf32> -> tensor<64x1x128xf32>
  return %m : tensor<64x1x128xf32>
}

// -----

// CHECK-LABEL: func.func @ln_into_epilogue_group
// CHECK-NOT: tsr.layernorm
// CHECK: tsr.group({{.*}}) {epilogue = ["bias", "gelu"], kind = "matmul", prologue = "layernorm",
// CHECK-SAME: 3 DRAM round trips (90112 B) removed
// CHECK-NEXT: ^bb0
// CHECK-NEXT: tsr.layernorm
// CHECK-NEXT: tsr.matmul
// CHECK-NEXT: tsr.add
// CHECK-NEXT: tsr.gelu
// CHECK-NEXT: tsr.yield
func.func @ln_into_epilogue_group(%x: tensor<64x96xf32>, %g: tensor<96xf32>, %b: tensor<96xf32>, %w: tensor<96x128xf32>, %c: tensor<128xf32>) -> tensor<64x128xf32> {
  %n = tsr.layernorm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : tensor<64x96xf32>, tensor<96xf32>, tensor<96xf32> -> tensor<64x96xf32>
  %m = tsr.matmul %n, %w : tensor<64x96xf32>, tensor<96x128xf32> -> tensor<64x128xf32>
  %s = tsr.add %m, %c : tensor<64x128xf32>, tensor<128xf32> -> tensor<64x128xf32>
  %y = tsr.gelu %s : tensor<64x128xf32>
  return %y : tensor<64x128xf32>
}

// -----

// CHECK-LABEL: func.func @ln_other_user
// CHECK-NOT: tsr.group
// CHECK: tsr.layernorm
func.func @ln_other_user(%x: tensor<64x96xf32>, %g: tensor<96xf32>, %b: tensor<96xf32>, %w: tensor<96x128xf32>) -> (tensor<64x128xf32>, tensor<96xf32>) {
  %n = tsr.layernorm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : tensor<64x96xf32>, tensor<96xf32>, tensor<96xf32> -> tensor<64x96xf32>
  %m = tsr.matmul %n, %w : tensor<64x96xf32>, tensor<96x128xf32> -> tensor<64x128xf32>
  %r = tsr.reduce_mean %n axes [0] {keepdims = false} : tensor<64x96xf32> -> tensor<96xf32>
  return %m, %r : tensor<64x128xf32>, tensor<96xf32>
}

// -----

// CHECK-LABEL: func.func @ln_is_b
// CHECK-NOT: tsr.group
// CHECK: tsr.layernorm
func.func @ln_is_b(%x: tensor<96x128xf32>, %g: tensor<128xf32>, %b: tensor<128xf32>, %a: tensor<64x96xf32>) -> tensor<64x128xf32> {
  %n = tsr.layernorm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : tensor<96x128xf32>, tensor<128xf32>, tensor<128xf32> -> tensor<96x128xf32>
  %m = tsr.matmul %a, %n : tensor<64x96xf32>, tensor<96x128xf32> -> tensor<64x128xf32>
  return %m : tensor<64x128xf32>
}
