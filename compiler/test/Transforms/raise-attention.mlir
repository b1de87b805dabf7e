// tsr-raise-attention forms one tsr.attention from the exported multi-head
// attention core, and leaves near misses as they were.
// RUN: tessera-opt %s -split-input-file --tsr-raise-attention | FileCheck %s

// nn.MultiheadAttention(8, 2) at opset 17, sequence first (S=3, B=2): the
// packed projection split by Slice, heads folded into the batch, q divided
// by sqrt(head_dim) before the scores, the merge to [S*B, D].
// CHECK-LABEL: func.func @mha_packed
// CHECK-SAME: (%[[X:.*]]: tensor<3x2x24xf32>)
// CHECK-DAG: %[[Q:.*]] = tsr.slice %[[X]] offsets [0, 0, 0]
// CHECK-DAG: %[[K:.*]] = tsr.slice %[[X]] offsets [0, 0, 8]
// CHECK-DAG: %[[V:.*]] = tsr.slice %[[X]] offsets [0, 0, 16]
// CHECK-DAG: %[[QT:.*]] = tsr.transpose %[[Q]], [1, 0, 2] : tensor<3x2x8xf32> -> tensor<2x3x8xf32>
// CHECK-DAG: %[[KT:.*]] = tsr.transpose %[[K]], [1, 0, 2]
// CHECK-DAG: %[[VT:.*]] = tsr.transpose %[[V]], [1, 0, 2]
// CHECK: %[[A:.*]] = tsr.attention %[[QT]], %[[KT]], %[[VT]] {head_dim = 4 : i64, heads = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK: %[[AT:.*]] = tsr.transpose %[[A]], [1, 0, 2] : tensor<2x3x8xf32> -> tensor<3x2x8xf32>
// CHECK: %[[R:.*]] = tsr.reshape %[[AT]] : tensor<3x2x8xf32> -> tensor<6x8xf32>
// CHECK-NOT: tsr.softmax
// CHECK: return %[[R]]
func.func @mha_packed(%x: tensor<3x2x24xf32>) -> tensor<6x8xf32> {
  %q = tsr.slice %x offsets [0, 0, 0] steps [1, 1, 1] : tensor<3x2x24xf32> -> tensor<3x2x8xf32>
  %k = tsr.slice %x offsets [0, 0, 8] steps [1, 1, 1] : tensor<3x2x24xf32> -> tensor<3x2x8xf32>
  %v = tsr.slice %x offsets [0, 0, 16] steps [1, 1, 1] : tensor<3x2x24xf32> -> tensor<3x2x8xf32>
  %q1 = tsr.reshape %q : tensor<3x2x8xf32> -> tensor<3x4x4xf32>
  %q2 = tsr.transpose %q1, [1, 0, 2] : tensor<3x4x4xf32> -> tensor<4x3x4xf32>
  %k1 = tsr.reshape %k : tensor<3x2x8xf32> -> tensor<3x4x4xf32>
  %v1 = tsr.reshape %v : tensor<3x2x8xf32> -> tensor<3x4x4xf32>
  %v2 = tsr.transpose %v1, [1, 0, 2] : tensor<3x4x4xf32> -> tensor<4x3x4xf32>
  %c = tsr.weight "c" dense<2.0> : tensor<f32> -> tensor<f32>
  %q3 = tsr.div %q2, %c : tensor<4x3x4xf32>, tensor<f32> -> tensor<4x3x4xf32>
  %k2 = tsr.transpose %k1, [1, 2, 0] : tensor<3x4x4xf32> -> tensor<4x4x3xf32>
  %s = tsr.matmul %q3, %k2 : tensor<4x3x4xf32>, tensor<4x4x3xf32> -> tensor<4x3x3xf32>
  %p = tsr.softmax %s {axis = 2 : i64} : tensor<4x3x3xf32>
  %o = tsr.matmul %p, %v2 : tensor<4x3x3xf32>, tensor<4x3x4xf32> -> tensor<4x3x4xf32>
  %o1 = tsr.transpose %o, [1, 0, 2] : tensor<4x3x4xf32> -> tensor<3x4x4xf32>
  %o2 = tsr.reshape %o1 : tensor<3x4x4xf32> -> tensor<6x8xf32>
  return %o2 : tensor<6x8xf32>
}

// -----

// Hand-written batch-first attention (B=2, S=3, D=8, 2 heads): separate
// projections, view + transpose(1, 2), K^T as one permutation, scores
// divided by d ** 0.5 (folded at import to 2.0), a padding mask added.
// CHECK-LABEL: func.func @hand_written
// CHECK-SAME: (%[[Q:.*]]: tensor<2x3x8xf32>, %[[K:.*]]: tensor<2x3x8xf32>, %[[V:.*]]: tensor<2x3x8xf32>, %[[M:.*]]: tensor<2x1x1x3xf32>)
// CHECK: %[[A:.*]] = tsr.attention %[[Q]], %[[K]], %[[V]] mask(%[[M]] : tensor<2x1x1x3xf32>) {head_dim = 4 : i64, heads = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK-NEXT: return %[[A]]
func.func @hand_written(%q: tensor<2x3x8xf32>, %k: tensor<2x3x8xf32>, %v: tensor<2x3x8xf32>, %m: tensor<2x1x1x3xf32>) -> tensor<2x3x8xf32> {
  %q1 = tsr.reshape %q : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %q2 = tsr.transpose %q1, [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
  %k1 = tsr.reshape %k : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %k2 = tsr.transpose %k1, [0, 2, 3, 1] : tensor<2x3x2x4xf32> -> tensor<2x2x4x3xf32>
  %v1 = tsr.reshape %v : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %v2 = tsr.transpose %v1, [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
  %s = tsr.matmul %q2, %k2 : tensor<2x2x3x4xf32>, tensor<2x2x4x3xf32> -> tensor<2x2x3x3xf32>
  %c = tsr.weight "sqrt_d" dense<2.0> : tensor<f32> -> tensor<f32>
  %s1 = tsr.div %s, %c : tensor<2x2x3x3xf32>, tensor<f32> -> tensor<2x2x3x3xf32>
  %s2 = tsr.add %s1, %m : tensor<2x2x3x3xf32>, tensor<2x1x1x3xf32> -> tensor<2x2x3x3xf32>
  %p = tsr.softmax %s2 {axis = 3 : i64} : tensor<2x2x3x3xf32>
  %o = tsr.matmul %p, %v2 : tensor<2x2x3x3xf32>, tensor<2x2x3x4xf32> -> tensor<2x2x3x4xf32>
  %o1 = tsr.transpose %o, [0, 2, 1, 3] : tensor<2x2x3x4xf32> -> tensor<2x3x2x4xf32>
  %o2 = tsr.reshape %o1 : tensor<2x3x2x4xf32> -> tensor<2x3x8xf32>
  return %o2 : tensor<2x3x8xf32>
}

// -----

// K^T written as transpose(1, 2) then transpose(-2, -1), scale on the scores
// as a Mul.
// CHECK-LABEL: func.func @two_transposes
// CHECK: tsr.attention %arg0, %arg1, %arg2 {head_dim = 4 : i64, heads = 2 : i64, scale = 2.500000e-01 : f32}
func.func @two_transposes(%q: tensor<2x3x8xf32>, %k: tensor<2x3x8xf32>, %v: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %q1 = tsr.reshape %q : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %q2 = tsr.transpose %q1, [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
  %k1 = tsr.reshape %k : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %k2 = tsr.transpose %k1, [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
  %k3 = tsr.transpose %k2, [0, 1, 3, 2] : tensor<2x2x3x4xf32> -> tensor<2x2x4x3xf32>
  %v1 = tsr.reshape %v : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %v2 = tsr.transpose %v1, [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
  %s = tsr.matmul %q2, %k3 : tensor<2x2x3x4xf32>, tensor<2x2x4x3xf32> -> tensor<2x2x3x3xf32>
  %c = tsr.weight "scale" dense<0.25> : tensor<f32> -> tensor<f32>
  %s1 = tsr.mul %c, %s : tensor<f32>, tensor<2x2x3x3xf32> -> tensor<2x2x3x3xf32>
  %p = tsr.softmax %s1 {axis = 3 : i64} : tensor<2x2x3x3xf32>
  %o = tsr.matmul %p, %v2 : tensor<2x2x3x3xf32>, tensor<2x2x3x4xf32> -> tensor<2x2x3x4xf32>
  %o1 = tsr.transpose %o, [0, 2, 1, 3] : tensor<2x2x3x4xf32> -> tensor<2x3x2x4xf32>
  %o2 = tsr.reshape %o1 : tensor<2x3x2x4xf32> -> tensor<2x3x8xf32>
  return %o2 : tensor<2x3x8xf32>
}

// -----

// Near miss: v's heads are interleaved (view as [B, S, hd, H]), so head h is
// not columns h*hd..(h+1)*hd of v: no attention is formed.
// CHECK-LABEL: func.func @interleaved_value
// CHECK-NOT: tsr.attention
// CHECK: tsr.softmax
func.func @interleaved_value(%q: tensor<2x3x8xf32>, %k: tensor<2x3x8xf32>, %v: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %q1 = tsr.reshape %q : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %q2 = tsr.transpose %q1, [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
  %k1 = tsr.reshape %k : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %k2 = tsr.transpose %k1, [0, 2, 3, 1] : tensor<2x3x2x4xf32> -> tensor<2x2x4x3xf32>
  %v1 = tsr.reshape %v : tensor<2x3x8xf32> -> tensor<2x3x4x2xf32>
  %v2 = tsr.transpose %v1, [0, 3, 1, 2] : tensor<2x3x4x2xf32> -> tensor<2x2x3x4xf32>
  %s = tsr.matmul %q2, %k2 : tensor<2x2x3x4xf32>, tensor<2x2x4x3xf32> -> tensor<2x2x3x3xf32>
  %p = tsr.softmax %s {axis = 3 : i64} : tensor<2x2x3x3xf32>
  %o = tsr.matmul %p, %v2 : tensor<2x2x3x3xf32>, tensor<2x2x3x4xf32> -> tensor<2x2x3x4xf32>
  %o1 = tsr.transpose %o, [0, 2, 1, 3] : tensor<2x2x3x4xf32> -> tensor<2x3x2x4xf32>
  %o2 = tsr.reshape %o1 : tensor<2x3x2x4xf32> -> tensor<2x3x8xf32>
  return %o2 : tensor<2x3x8xf32>
}

// -----

// Near miss: softmax over the queries (axis 2), not the keys.
// CHECK-LABEL: func.func @softmax_wrong_axis
// CHECK-NOT: tsr.attention
func.func @softmax_wrong_axis(%q: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %q1 = tsr.reshape %q : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %q2 = tsr.transpose %q1, [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
  %k2 = tsr.transpose %q1, [0, 2, 3, 1] : tensor<2x3x2x4xf32> -> tensor<2x2x4x3xf32>
  %s = tsr.matmul %q2, %k2 : tensor<2x2x3x4xf32>, tensor<2x2x4x3xf32> -> tensor<2x2x3x3xf32>
  %p = tsr.softmax %s {axis = 2 : i64} : tensor<2x2x3x3xf32>
  %o = tsr.matmul %p, %q2 : tensor<2x2x3x3xf32>, tensor<2x2x3x4xf32> -> tensor<2x2x3x4xf32>
  %o1 = tsr.transpose %o, [0, 2, 1, 3] : tensor<2x2x3x4xf32> -> tensor<2x3x2x4xf32>
  %o2 = tsr.reshape %o1 : tensor<2x3x2x4xf32> -> tensor<2x3x8xf32>
  return %o2 : tensor<2x3x8xf32>
}
