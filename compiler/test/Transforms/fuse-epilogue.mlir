// tsr-fuse-epilogue: a matmul with a 2-D B and its bias add (either operand
// order), GELU and residual add (seen through reshapes/transposes that move
// only unit axes) become one tsr.group of kind "matmul" with the epilogue,
// the reason and the cost model's tile recorded. It does not fire when an
// intermediate has another user (the bias add stays in the group only up to
// the value the other user reads), when the product itself has another
// user, or when B is batched.
// RUN: tessera-opt %s -split-input-file --tsr-fuse-epilogue 2>&1 | FileCheck %s

// CHECK-LABEL: func.func @bias_gelu
// CHECK-SAME: (%[[X:.*]]: tensor<1x64x96xf32>, %[[W:.*]]: tensor<96x128xf32>, %[[C:.*]]: tensor<128xf32>)
// CHECK: %[[G:.*]] = tsr.group(%[[X]], %[[W]], %[[C]]) {epilogue = ["bias", "gelu"], kind = "matmul",
// CHECK-SAME: tsr.tiling = {cycles = {{[0-9]+}} : i64, dram_bytes = {{[0-9]+}} : i64, sram_bytes = {{[0-9]+}} : i64, tk = 96 : i64, tm = 64 : i64, tn = 96 : i64}
// CHECK-SAME: why = "bias + gelu applied to each output tile before its one store: 2 DRAM round trips (65536 B) removed; 64x96x96 tiles of the 64x96x128 product use
// CHECK-NEXT: ^bb0
// CHECK-NEXT: tsr.matmul
// CHECK-NEXT: tsr.add
// CHECK-NEXT: tsr.gelu
// CHECK-NEXT: tsr.yield
// CHECK: return %[[G]]
func.func @bias_gelu(%x: tensor<1x64x96xf32>, %w: tensor<96x128xf32>, %c: tensor<128xf32>) -> tensor<1x64x128xf32> {
  %m = tsr.matmul %x, %w : tensor<1x64x96xf32>, tensor<96x128xf32> -> tensor<1x64x128xf32>
  %s = tsr.add %c, %m : tensor<128xf32>, tensor<1x64x128xf32> -> tensor<1x64x128xf32>
  %g = tsr.gelu %s : tensor<1x64x128xf32>
  return %g : tensor<1x64x128xf32>
}

// -----

// CHECK-LABEL: func.func @bias_residual_through_moves
// CHECK-SAME: %[[R:[a-z0-9]+]]: tensor<1x64x96xf32>)
// CHECK: tsr.group(%{{.*}}, %{{.*}}, %{{.*}}, %[[R]]) {epilogue = ["bias", "residual"], kind = "matmul"
// CHECK-SAME: -> tensor<1x64x96xf32>
// CHECK-NEXT: ^bb0
// CHECK-NEXT: tsr.matmul
// CHECK-NEXT: tsr.add
// CHECK-NEXT: tsr.reshape
// CHECK-NEXT: tsr.transpose
// CHECK-NEXT: tsr.add
// CHECK-NEXT: tsr.yield
func.func @bias_residual_through_moves(%x: tensor<64x96xf32>, %w: tensor<96x96xf32>, %c: tensor<96xf32>, %r: tensor<1x64x96xf32>) -> tensor<1x64x96xf32> {
  %m = tsr.matmul %x, %w : tensor<64x96xf32>, tensor<96x96xf32> -> tensor<64x96xf32>
  %s = tsr.add %m, %c : tensor<64x96xf32>, tensor<96xf32> -> tensor<64x96xf32>
  %a = tsr.reshape %s : tensor<64x96xf32> -> tensor<64x1x96xf32>
  %t = tsr.transpose %a, [1, 0, 2] : tensor<64x1x96xf32> -> tensor<1x64x96xf32>
  %o = tsr.add %r, %t : tensor<1x64x96xf32>, tensor<1x64x96xf32> -> tensor<1x64x96xf32>
  return %o : tensor<1x64x96xf32>
}

// -----

// CHECK-LABEL: func.func @bias_has_another_user
// CHECK: %[[G:.*]] = tsr.group({{.*}}) {epilogue = ["bias"], kind = "matmul"
// CHECK: tsr.yield
// CHECK-NEXT: }
// CHECK-NEXT: %[[Y:.*]] = tsr.gelu %[[G]]
// CHECK-NEXT: return %[[G]], %[[Y]]
func.func @bias_has_another_user(%x: tensor<64x96xf32>, %w: tensor<96x128xf32>, %c: tensor<128xf32>) -> (tensor<64x128xf32>, tensor<64x128xf32>) {
  %m = tsr.matmul %x, %w : tensor<64x96xf32>, tensor<96x128xf32> -> tensor<64x128xf32>
  %s = tsr.add %m, %c : tensor<64x128xf32>, tensor<128xf32> -> tensor<64x128xf32>
  %g = tsr.gelu %s : tensor<64x128xf32>
  return %s, %g : tensor<64x128xf32>, tensor<64x128xf32>
}

// -----

// CHECK-LABEL: func.func @product_has_another_user
// CHECK-NOT: tsr.group
// CHECK: tsr.matmul
// CHECK-NEXT: tsr.add
func.func @product_has_another_user(%x: tensor<64x96xf32>, %w: tensor<96x128xf32>, %c: tensor<128xf32>) -> (tensor<64x128xf32>, tensor<64x128xf32>) {
  %m = tsr.matmul %x, %w : tensor<64x96xf32>, tensor<96x128xf32> -> tensor<64x128xf32>
  %s = tsr.add %m, %c : tensor<64x128xf32>, tensor<128xf32> -> tensor<64x128xf32>
  return %m, %s : tensor<64x128xf32>, tensor<64x128xf32>
}

// -----

// CHECK-LABEL: func.func @batched_b
// CHECK-NOT: tsr.group
// CHECK: tsr.matmul
// CHECK-NEXT: tsr.add
func.func @batched_b(%x: tensor<2x64x96xf32>, %w: tensor<2x96x128xf32>, %c: tensor<128xf32>) -> tensor<2x64x128xf32> {
  %m = tsr.matmul %x, %w : tensor<2x64x96xf32>, tensor<2x96x128xf32> -> tensor<2x64x128xf32>
  %s = tsr.add %m, %c : tensor<2x64x128xf32>, tensor<128xf32> -> tensor<2x64x128xf32>
  return %s : tensor<2x64x128xf32>
}
