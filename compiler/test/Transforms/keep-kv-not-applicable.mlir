// tsr-keep-kv applies only when the attention's packed q/k/v tensor is a
// fused matmul group's result read by nothing else (the projection's kernel
// writes the kept columns only to SRAM): a second user of the projection
// (here the function's result) keeps every head's K and V in DRAM, with a
// remark; so do q, k and v that are three separate tensors, and an
// attention group whose kernel is not the whole-row one.
// RUN: tessera-opt %s -split-input-file --tsr-fuse-attention --tsr-fuse-epilogue --tsr-keep-kv 2>&1 | FileCheck %s

// CHECK: remark: {{.*}}K and V not kept in SRAM: the projection's result has another user
// CHECK: remark: {{.*}}K and V not kept in SRAM: q, k and v are not columns of one packed projection
// CHECK: remark: {{.*}}K and V not kept in SRAM: the attention kernel is not the whole-row one (softmax = "row"), the one that reads resident heads
// CHECK-LABEL: func.func @second_user
// CHECK-NOT: tsr.keep_kv
// CHECK: heads_on_chip = 0 : i64
func.func @second_user(%x: tensor<16x1x32xf32>, %w: tensor<32x96xf32>, %c: tensor<96xf32>) -> (tensor<1x16x32xf32>, tensor<16x1x96xf32>) {
  %m = tsr.matmul %x, %w : tensor<16x1x32xf32>, tensor<32x96xf32> -> tensor<16x1x96xf32>
  %qkv = tsr.add %c, %m : tensor<96xf32>, tensor<16x1x96xf32> -> tensor<16x1x96xf32>
  %q0 = tsr.slice %qkv offsets [0, 0, 0] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
  %k0 = tsr.slice %qkv offsets [0, 0, 32] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
  %v0 = tsr.slice %qkv offsets [0, 0, 64] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
  %q = tsr.transpose %q0, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
  %k = tsr.transpose %k0, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
  %v = tsr.transpose %v0, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
  %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32> loc("attn")
  return %a, %qkv : tensor<1x16x32xf32>, tensor<16x1x96xf32>
}

// -----

// CHECK-LABEL: func.func @separate
// CHECK: heads_on_chip = 0 : i64
func.func @separate(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32> loc("attn2")
  return %a : tensor<1x16x32xf32>
}

// -----

// An attention group that is not the whole-row kernel (softmax = "online")
// does not read resident heads: left alone, with a remark.
// CHECK-LABEL: func.func @online
// CHECK-NOT: tsr.keep_kv
// CHECK: heads_on_chip = 0 : i64, kind = "attention", softmax = "online"
func.func @online(%x: tensor<16x1x32xf32>, %w: tensor<32x96xf32>, %c: tensor<96xf32>) -> tensor<1x16x32xf32> {
  %p = tsr.group(%x, %w, %c) {epilogue = ["bias"], kind = "matmul", why = "hand-written"} : (tensor<16x1x32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<16x1x96xf32> {
  ^bb0(%a: tensor<16x1x32xf32>, %b: tensor<32x96xf32>, %cc: tensor<96xf32>):
    %m = tsr.matmul %a, %b : tensor<16x1x32xf32>, tensor<32x96xf32> -> tensor<16x1x96xf32>
    %o = tsr.add %cc, %m : tensor<96xf32>, tensor<16x1x96xf32> -> tensor<16x1x96xf32>
    tsr.yield %o : tensor<16x1x96xf32>
  }
  %g = tsr.group(%p) {heads_on_chip = 0 : i64, kind = "attention", softmax = "online", why = "hand-written"} : (tensor<16x1x96xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%y: tensor<16x1x96xf32>):
    %q0 = tsr.slice %y offsets [0, 0, 0] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %k0 = tsr.slice %y offsets [0, 0, 32] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %v0 = tsr.slice %y offsets [0, 0, 64] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %q = tsr.transpose %q0, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %k = tsr.transpose %k0, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %v = tsr.transpose %v0, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %a : tensor<1x16x32xf32>
  }
  return %g : tensor<1x16x32xf32>
}
