// tsr-pack-qkv: sibling projections of one input with constant 2-D weights
// become one product against the packed weight, one packed bias add and a
// slice per member; other products are left alone.
// RUN: tessera-opt %s -split-input-file --tsr-pack-qkv | FileCheck %s
// The packed values: the weights' columns side by side, row by row.
// RUN: tessera-opt %s -split-input-file --tsr-pack-qkv \
// RUN:   --mlir-print-elementsattrs-with-hex-if-larger=-1 \
// RUN:   | FileCheck %s --check-prefix=VALUES

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
// CHECK: return %[[Q]], %[[K]], %[[V]]
// VALUES-LABEL: func.func @three_with_bias
// VALUES: tsr.weight "wq+wk+wv.packed" dense<{{\[}}[1.000000e+00, 2.000000e+00, 5.000000e+00, 6.000000e+00, 9.000000e+00, 1.000000e+01], [3.000000e+00, 4.000000e+00, 7.000000e+00, 8.000000e+00, 1.100000e+01, 1.200000e+01]]>
// VALUES: tsr.weight "bq+bk+bv.packed" dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01, 5.000000e-01, 6.000000e-01]>
func.func @three_with_bias(%x: tensor<1x4x2xf32>)
    -> (tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
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
  return %q, %k, %v : tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>
}

// -----

// Members of different widths, no biases (K and V of a cross-attention);
// the packed product comes right after the op that defines x.
// CHECK-LABEL: func.func @two_without_bias
// CHECK: %[[X:.*]] = tsr.gelu
// CHECK-NEXT: %[[W:.*]] = tsr.weight "wk+wv.packed" {{.*}} -> tensor<3x5xf32>
// CHECK-NEXT: %[[P:.*]] = tsr.matmul %[[X]], %[[W]] {tsr.packed = ["wk", "wv"]} : tensor<8x3xf32>, tensor<3x5xf32> -> tensor<8x5xf32>
// CHECK-NEXT: %[[K:.*]] = tsr.slice %[[P]] offsets [0, 0] steps [1, 1] : tensor<8x5xf32> -> tensor<8x2xf32>
// CHECK-NEXT: %[[V:.*]] = tsr.slice %[[P]] offsets [0, 2] steps [1, 1] : tensor<8x5xf32> -> tensor<8x3xf32>
// CHECK-NOT: tsr.add
// CHECK: return %[[K]], %[[V]]
func.func @two_without_bias(%m: tensor<8x3xf32>) -> (tensor<8x2xf32>, tensor<8x3xf32>) {
  %x = tsr.gelu %m : tensor<8x3xf32>
  %wk = tsr.weight "wk" dense<1.0> : tensor<3x2xf32> -> tensor<3x2xf32>
  %k = tsr.matmul %x, %wk : tensor<8x3xf32>, tensor<3x2xf32> -> tensor<8x2xf32>
  %wv = tsr.weight "wv" dense<2.0> : tensor<3x3xf32> -> tensor<3x3xf32>
  %v = tsr.matmul %x, %wv : tensor<8x3xf32>, tensor<3x3xf32> -> tensor<8x3xf32>
  return %k, %v : tensor<8x2xf32>, tensor<8x3xf32>
}

// -----

// Only one member has a bias: the products are packed, and that bias add
// moves onto its slice.
// CHECK-LABEL: func.func @mixed_bias
// CHECK: %[[P:.*]] = tsr.matmul %arg0, %{{.*}} {tsr.packed = ["wa", "wb"]}
// CHECK-NEXT: %[[SA:.*]] = tsr.slice %[[P]] offsets [0, 0]
// CHECK-NEXT: %[[SB:.*]] = tsr.slice %[[P]] offsets [0, 2]
// CHECK: %[[BA:.*]] = tsr.weight "ba"
// CHECK-NEXT: %[[A:.*]] = tsr.add %[[BA]], %[[SA]]
// CHECK: return %[[A]], %[[SB]]
func.func @mixed_bias(%x: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %wa = tsr.weight "wa" dense<1.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %a0 = tsr.matmul %x, %wa : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %ba = tsr.weight "ba" dense<0.5> : tensor<2xf32> -> tensor<2xf32>
  %a = tsr.add %ba, %a0 : tensor<2xf32>, tensor<4x2xf32> -> tensor<4x2xf32>
  %wb = tsr.weight "wb" dense<3.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %b = tsr.matmul %x, %wb : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  return %a, %b : tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// Does not fire: one projection per input; a product of two activations
// (the scores Q K^T); a batched (3-D) weight.
// CHECK-LABEL: func.func @not_siblings
// CHECK-NOT: tsr.packed
// CHECK-NOT: tsr.slice
// CHECK-COUNT-4: tsr.matmul
// CHECK-NOT: tsr.slice
func.func @not_siblings(%x: tensor<4x2xf32>, %y: tensor<4x2xf32>, %t: tensor<2x4xf32>)
    -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x4xf32>, tensor<3x4x2xf32>) {
  %w1 = tsr.weight "w1" dense<1.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %a = tsr.matmul %x, %w1 : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %w2 = tsr.weight "w2" dense<2.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %b = tsr.matmul %y, %w2 : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %s = tsr.matmul %y, %t : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
  %w3 = tsr.weight "w3" dense<3.0> : tensor<3x2x2xf32> -> tensor<3x2x2xf32>
  %c = tsr.matmul %y, %w3 : tensor<4x2xf32>, tensor<3x2x2xf32> -> tensor<3x4x2xf32>
  return %a, %b, %s, %c : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x4xf32>, tensor<3x4x2xf32>
}
