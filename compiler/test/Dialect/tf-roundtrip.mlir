// The transformer ops (slice, concat, pow, sqrt, neg, tanh, reductions,
// attention, gelu's tanh form) print in their custom form and parse back.
// RUN: tessera-opt %s | tessera-opt | FileCheck %s

// CHECK-LABEL: func.func @ops
func.func @ops(%x: tensor<6x2x96xf32>, %c: tensor<1x2x32xf32>) -> tensor<7x2x32xf32> {
  // CHECK: %[[Q:.*]] = tsr.slice %{{.*}} offsets [0, 0, 32] steps [1, 1, 1] : tensor<6x2x96xf32> -> tensor<6x2x32xf32>
  %q = tsr.slice %x offsets [0, 0, 32] steps [1, 1, 1] : tensor<6x2x96xf32> -> tensor<6x2x32xf32>
  // CHECK: tsr.slice %{{.*}} offsets [1, 0, 0] steps [2, 1, 3] : tensor<6x2x96xf32> -> tensor<3x2x32xf32>
  %e = tsr.slice %x offsets [1, 0, 0] steps [2, 1, 3] : tensor<6x2x96xf32> -> tensor<3x2x32xf32>
  // CHECK: %[[T:.*]] = tsr.concat %{{.*}}, %[[Q]] {axis = 0 : i64} : tensor<1x2x32xf32>, tensor<6x2x32xf32> -> tensor<7x2x32xf32>
  %t = tsr.concat %c, %q {axis = 0 : i64} : tensor<1x2x32xf32>, tensor<6x2x32xf32> -> tensor<7x2x32xf32>
  // CHECK: tsr.pow %[[T]] {exponent = 2.000000e+00 : f32} : tensor<7x2x32xf32>
  %p = tsr.pow %t {exponent = 2.0 : f32} : tensor<7x2x32xf32>
  // CHECK: tsr.sqrt %{{.*}} : tensor<7x2x32xf32>
  %s = tsr.sqrt %p : tensor<7x2x32xf32>
  // CHECK: tsr.neg %{{.*}} : tensor<7x2x32xf32>
  %n = tsr.neg %s : tensor<7x2x32xf32>
  // CHECK: tsr.tanh %{{.*}} : tensor<7x2x32xf32>
  %h = tsr.tanh %n : tensor<7x2x32xf32>
  // CHECK: tsr.reduce_mean %{{.*}} axes [2] {keepdims = true} : tensor<7x2x32xf32> -> tensor<7x2x1xf32>
  %m = tsr.reduce_mean %h axes [2] {keepdims = true} : tensor<7x2x32xf32> -> tensor<7x2x1xf32>
  // CHECK: tsr.reduce_sum %{{.*}} axes [0, 2] {keepdims = false} : tensor<7x2x32xf32> -> tensor<2xf32>
  %su = tsr.reduce_sum %h axes [0, 2] {keepdims = false} : tensor<7x2x32xf32> -> tensor<2xf32>
  // CHECK: tsr.reduce_max %{{.*}} axes [1] {keepdims = true} : tensor<7x2x32xf32> -> tensor<7x1x32xf32>
  %mx = tsr.reduce_max %h axes [1] {keepdims = true} : tensor<7x2x32xf32> -> tensor<7x1x32xf32>
  // CHECK: tsr.gelu %{{.*}} {approximate = "tanh"} : tensor<7x2x32xf32>
  %g = tsr.gelu %h {approximate = "tanh"} : tensor<7x2x32xf32>
  // CHECK: tsr.gelu %{{.*}} : tensor<7x2x32xf32>
  %g2 = tsr.gelu %g : tensor<7x2x32xf32>
  %r = tsr.sub %g2, %m : tensor<7x2x32xf32>, tensor<7x2x1xf32> -> tensor<7x2x32xf32>
  return %r : tensor<7x2x32xf32>
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<2x6x32xf32>, %k: tensor<2x5x32xf32>, %m: tensor<2x1x1x5xf32>) -> tensor<2x6x32xf32> {
  // CHECK: %[[A:.*]] = tsr.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<2x1x1x5xf32>) {head_dim = 8 : i64, heads = 4 : i64, scale = 0.353553385 : f32} : tensor<2x6x32xf32>, tensor<2x5x32xf32>, tensor<2x5x32xf32> -> tensor<2x6x32xf32>
  %a = tsr.attention %q, %k, %k mask(%m : tensor<2x1x1x5xf32>) {heads = 4 : i64, head_dim = 8 : i64, scale = 0.353553385 : f32} : tensor<2x6x32xf32>, tensor<2x5x32xf32>, tensor<2x5x32xf32> -> tensor<2x6x32xf32>
  // CHECK: tsr.attention %[[A]], %{{.*}}, %{{.*}} {head_dim = 32 : i64, heads = 1 : i64, scale = 1.000000e+00 : f32} : tensor<2x6x32xf32>, tensor<2x5x32xf32>, tensor<2x5x32xf32> -> tensor<2x6x32xf32>
  %b = tsr.attention %a, %k, %k {heads = 1 : i64, head_dim = 32 : i64, scale = 1.0 : f32} : tensor<2x6x32xf32>, tensor<2x5x32xf32>, tensor<2x5x32xf32> -> tensor<2x6x32xf32>
  return %b : tensor<2x6x32xf32>
}
