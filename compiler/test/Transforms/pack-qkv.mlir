// tsr-pack-qkv: sibling projections of one input with constant 2-D weights
// whose results an attention reads as q, k or v become one product against
// the packed weight, one packed bias add and a slice per member; other
// products are left alone.
// RUN: tessera-opt %s -split-input-file --tsr-pack-qkv | FileCheck %s
// The packed values: the weights' columns side by side, row by row.
// RUN: tessera-opt %s -split-input-file --tsr-pack-qkv | FileCheck %s --check-prefix=VALUES

// Hand-written attention's q, k and v Linears (each followed by its bias).
// CHECK-LABEL: func.func @three_with_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x2xf32>)
// CHECK-NEXT: %[[W:.*]] = tsr.weight "wq+wk+wv.packed" {{.*}} -> tensor<2x6xf32>
// CHECK-NEXT: %[[P:.*]] = tsr.matmul %[[X]], %[[W]] {tsr.packed = ["wq", "wk", "wv"]} : tensor<1x4x2xf32>, tensor<2x6xf32> -> tensor<1x4x6xf32>
// CHECK-NEXT: %[[B:.*]] = tsr.weight "bq+bk+bv.packed" {{.*}} -> tensor<6xf32>
// CHECK-NEXT: %[[A:.*]] = tsr.add %[[B]], %[[P]] : tensor<6xf32>, tensor<1x4x6xf32> -> tensor<1x4x6xf32>
// CHECK-NEXT: %[[Q:.*]] = tsr.slice %[[A]] offsets [0, 0, 0] steps [1, 1, 1] : tensor<1x4x6xf32> -> tensor<1x4x2xf32>
// CHECK-NEXT: %[[K:.*]] = tsr.slice %[[A]] offsets [0, 0, 2] steps [1, 1, 1]
// CHECK-NEXT: %[[V:.*]] = tsr.slice %[[A]] offsets [0, 0, 4] steps [1, 1, 1]
// CHECK-NOT: tsr.matmul
// CHECK-NOT: tsr.add
// CHECK: tsr.attention %[[Q]], %[[K]], %[[V]]
// VALUES-LABEL: func.func @three_with_bias
// VALUES: tsr.weight "wq+wk+wv.packed" dense<{{\[}}[1.000000e+00, 2.000000e+00, 5.000000e+00, 6.000000e+00, 9.000000e+00, 1.000000e+01], [3.000000e+00, 4.000000e+00, 7.000000e+00, 8.000000e+00, 1.100000e+01, 1.200000e+01]]>
// VALUES: tsr.weight "bq+bk+bv.packed" dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01, 5.000000e-01, 6.000000e-01]>
func.func @three_with_bias(%x: tensor<1x4x2xf32>) -> tensor<1x4x2xf32> {
  %wq = tsr.weight "wq" dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> -> tensor<2x2xf32>
  %q0 = tsr.matmul %x, %wq : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %bq = tsr.weight "bq" dense<[0.1, 0.2]> : tensor<2xf32> -> tensor<2xf32>
  %q = tsr.add %bq, %q0 : tensor<2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  %wk = tsr.weight "wk" dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32> -> tensor<2x2xf32>
  %k0 = tsr.matmul %x, %wk : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %bk = tsr.weight "bk" dense<[0.3, 0.4]> : tensor<2xf32> -> tensor<2xf32>
  %k = tsr.add %k0, %bk : tensor<1x4x2xf32>, tensor<2xf32> -> tensor<1x4x2xf32>
  %wv = tsr.weight "wv" dense<[[9.0, 10.0], [11.0, 12.0]]> : tensor<2x2xf32> -> tensor<2x2xf32>
  %v0 = tsr.matmul %x, %wv : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %bv = tsr.weight "bv" dense<[0.5, 0.6]> : tensor<2xf32> -> tensor<2xf32>
  %v = tsr.add %bv, %v0 : tensor<2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  %o = tsr.attention %q, %k, %v {heads = 1 : i64, head_dim = 2 : i64, scale = 1.0 : f32} : tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  return %o : tensor<1x4x2xf32>
}

// -----

// K and V of a cross-attention from a memory, members of different widths
// without biases, the sequence-first form (read through a [1, 0, 2]
// transpose); the packed product comes right after the op that defines
// the memory. Q is another input's projection: not a sibling.
// CHECK-LABEL: func.func @cross_kv
// CHECK: %[[M:.*]] = tsr.gelu
// CHECK-NEXT: %[[W:.*]] = tsr.weight "wk+wv.packed" {{.*}} -> tensor<2x4xf32>
// CHECK-NEXT: %[[P:.*]] = tsr.matmul %[[M]], %[[W]] {tsr.packed = ["wk", "wv"]} : tensor<6x1x2xf32>, tensor<2x4xf32> -> tensor<6x1x4xf32>
// CHECK-NEXT: %[[K:.*]] = tsr.slice %[[P]] offsets [0, 0, 0] steps [1, 1, 1] : tensor<6x1x4xf32> -> tensor<6x1x2xf32>
// CHECK-NEXT: %[[V:.*]] = tsr.slice %[[P]] offsets [0, 0, 2] steps [1, 1, 1] : tensor<6x1x4xf32> -> tensor<6x1x2xf32>
// CHECK: tsr.matmul %arg1, %{{.*}} :
// CHECK-NOT: tsr.packed
// CHECK: tsr.transpose %[[K]], [1, 0, 2]
// CHECK: tsr.transpose %[[V]], [1, 0, 2]
func.func @cross_kv(%mem: tensor<6x1x2xf32>, %x: tensor<1x3x2xf32>) -> tensor<1x3x2xf32> {
  %m = tsr.gelu %mem : tensor<6x1x2xf32>
  %wk = tsr.weight "wk" dense<1.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %k0 = tsr.matmul %m, %wk : tensor<6x1x2xf32>, tensor<2x2xf32> -> tensor<6x1x2xf32>
  %wq = tsr.weight "wq" dense<3.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %q = tsr.matmul %x, %wq : tensor<1x3x2xf32>, tensor<2x2xf32> -> tensor<1x3x2xf32>
  %wv = tsr.weight "wv" dense<2.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %v0 = tsr.matmul %m, %wv : tensor<6x1x2xf32>, tensor<2x2xf32> -> tensor<6x1x2xf32>
  %k = tsr.transpose %k0, [1, 0, 2] : tensor<6x1x2xf32> -> tensor<1x6x2xf32>
  %v = tsr.transpose %v0, [1, 0, 2] : tensor<6x1x2xf32> -> tensor<1x6x2xf32>
  %o = tsr.attention %q, %k, %v {heads = 1 : i64, head_dim = 2 : i64, scale = 1.0 : f32} : tensor<1x3x2xf32>, tensor<1x6x2xf32>, tensor<1x6x2xf32> -> tensor<1x3x2xf32>
  return %o : tensor<1x3x2xf32>
}

// -----

// Only one member has a bias: the products are packed, and that bias add
// moves onto its slice.
// CHECK-LABEL: func.func @mixed_bias
// CHECK: %[[P:.*]] = tsr.matmul %arg0, %{{.*}} {tsr.packed = ["wa", "wb", "wc"]}
// CHECK-NEXT: %[[SA:.*]] = tsr.slice %[[P]] offsets [0, 0, 0]
// CHECK-NEXT: %[[SB:.*]] = tsr.slice %[[P]] offsets [0, 0, 2]
// CHECK-NEXT: %[[SC:.*]] = tsr.slice %[[P]] offsets [0, 0, 4]
// CHECK: %[[BA:.*]] = tsr.weight "ba"
// CHECK-NEXT: %[[A:.*]] = tsr.add %[[BA]], %[[SA]]
// CHECK: tsr.attention %[[A]], %[[SB]], %[[SC]]
func.func @mixed_bias(%x: tensor<1x4x2xf32>) -> tensor<1x4x2xf32> {
  %wa = tsr.weight "wa" dense<1.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %a0 = tsr.matmul %x, %wa : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %ba = tsr.weight "ba" dense<0.5> : tensor<2xf32> -> tensor<2xf32>
  %a = tsr.add %ba, %a0 : tensor<2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  %wb = tsr.weight "wb" dense<3.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %b = tsr.matmul %x, %wb : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %wc = tsr.weight "wc" dense<4.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %c = tsr.matmul %x, %wc : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %o = tsr.attention %a, %b, %c {heads = 1 : i64, head_dim = 2 : i64, scale = 1.0 : f32} : tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  return %o : tensor<1x4x2xf32>
}

// -----

// Members sharing one bias weight (an exporter deduplicates equal
// initializers): packed once per member, the shared weight erased once.
// CHECK-LABEL: func.func @shared_bias
// CHECK: tsr.weight "b0+b0+b0.packed" {{.*}} -> tensor<6xf32>
// CHECK-NOT: tsr.weight "b0" 
// CHECK: tsr.attention
func.func @shared_bias(%x: tensor<1x4x2xf32>) -> tensor<1x4x2xf32> {
  %b0 = tsr.weight "b0" dense<0.0> : tensor<2xf32> -> tensor<2xf32>
  %wq = tsr.weight "wq" dense<1.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %q0 = tsr.matmul %x, %wq : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %q = tsr.add %b0, %q0 : tensor<2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  %wk = tsr.weight "wk" dense<2.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %k0 = tsr.matmul %x, %wk : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %k = tsr.add %b0, %k0 : tensor<2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  %wv = tsr.weight "wv" dense<3.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %v0 = tsr.matmul %x, %wv : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %v = tsr.add %b0, %v0 : tensor<2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  %o = tsr.attention %q, %k, %v {heads = 1 : i64, head_dim = 2 : i64, scale = 1.0 : f32} : tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  return %o : tensor<1x4x2xf32>
}

// -----

// Chained: a packed member's result is itself the input of the next
// attention's projections (both packings happen; the second reads the
// first's slice).
// CHECK-LABEL: func.func @chained
// CHECK: %[[P1:.*]] = tsr.matmul %arg0, %{{.*}} {tsr.packed = ["w1", "w2", "w3"]}
// CHECK-NEXT: %[[S1:.*]] = tsr.slice %[[P1]] offsets [0, 0, 0]
// CHECK: %[[P2:.*]] = tsr.matmul %[[S1]], %{{.*}} {tsr.packed = ["w4", "w5", "w6"]}
func.func @chained(%x: tensor<1x4x2xf32>) -> (tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %w1 = tsr.weight "w1" dense<1.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %a = tsr.matmul %x, %w1 : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %w2 = tsr.weight "w2" dense<2.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %b = tsr.matmul %x, %w2 : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %w3 = tsr.weight "w3" dense<3.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %c = tsr.matmul %x, %w3 : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %o1 = tsr.attention %a, %b, %c {heads = 1 : i64, head_dim = 2 : i64, scale = 1.0 : f32} : tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  %w4 = tsr.weight "w4" dense<4.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %d = tsr.matmul %a, %w4 : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %w5 = tsr.weight "w5" dense<5.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %e = tsr.matmul %a, %w5 : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %w6 = tsr.weight "w6" dense<6.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %f = tsr.matmul %a, %w6 : tensor<1x4x2xf32>, tensor<2x2xf32> -> tensor<1x4x2xf32>
  %o2 = tsr.attention %d, %e, %f {heads = 1 : i64, head_dim = 2 : i64, scale = 1.0 : f32} : tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32> -> tensor<1x4x2xf32>
  return %o1, %o2 : tensor<1x4x2xf32>, tensor<1x4x2xf32>
}

// -----

// Does not fire: sibling projections no attention reads (an MLP's gate and
// up products: their slices would be copy kernels); one projection per
// input; a batched (3-D) weight.
// CHECK-LABEL: func.func @not_qkv
// CHECK-NOT: tsr.packed
// CHECK-NOT: tsr.slice
// CHECK: return
func.func @not_qkv(%x: tensor<4x2xf32>, %y: tensor<4x2xf32>)
    -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<3x4x2xf32>) {
  %w1 = tsr.weight "w1" dense<1.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %a = tsr.matmul %x, %w1 : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %w2 = tsr.weight "w2" dense<2.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %b = tsr.matmul %x, %w2 : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %w3 = tsr.weight "w3" dense<3.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %c = tsr.matmul %y, %w3 : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %w4 = tsr.weight "w4" dense<3.0> : tensor<3x2x2xf32> -> tensor<3x2x2xf32>
  %d = tsr.matmul %y, %w4 : tensor<4x2xf32>, tensor<3x2x2xf32> -> tensor<3x4x2xf32>
  return %a, %b, %c, %d : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<3x4x2xf32>
}
