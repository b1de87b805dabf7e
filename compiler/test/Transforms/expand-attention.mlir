// tsr-expand-attention turns tsr.attention back into kernels the chip has;
// a sequence-first source and consumer are split and merged directly.
// RUN: tessera-opt %s -split-input-file --tsr-expand-attention | FileCheck %s

// CHECK-LABEL: func.func @batch_first
// CHECK-SAME: (%[[Q:.*]]: tensor<2x3x8xf32>, %[[K:.*]]: tensor<2x5x8xf32>, %[[V:.*]]: tensor<2x5x8xf32>, %[[M:.*]]: tensor<2x1x1x5xf32>)
// CHECK-DAG: %[[QR:.*]] = tsr.reshape %[[Q]] : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
// CHECK-DAG: %[[QH:.*]] = tsr.transpose %[[QR]], [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
// CHECK-DAG: %[[C:.*]] = tsr.weight "{{.*}}.scale" dense<5.000000e-01> : tensor<f32>
// CHECK-DAG: %[[QS:.*]] = tsr.mul %[[QH]], %[[C]]
// CHECK-DAG: %[[KR:.*]] = tsr.reshape %[[K]] : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
// CHECK-DAG: %[[KT:.*]] = tsr.transpose %[[KR]], [0, 2, 3, 1] : tensor<2x5x2x4xf32> -> tensor<2x2x4x5xf32>
// CHECK-DAG: %[[VR:.*]] = tsr.reshape %[[V]] : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
// CHECK-DAG: %[[VH:.*]] = tsr.transpose %[[VR]], [0, 2, 1, 3]
// CHECK: %[[S:.*]] = tsr.matmul %[[QS]], %[[KT]] : tensor<2x2x3x4xf32>, tensor<2x2x4x5xf32> -> tensor<2x2x3x5xf32>
// CHECK: %[[SM:.*]] = tsr.add %[[S]], %[[M]] : tensor<2x2x3x5xf32>, tensor<2x1x1x5xf32> -> tensor<2x2x3x5xf32>
// CHECK: %[[P:.*]] = tsr.softmax %[[SM]] {axis = 3 : i64}
// CHECK: %[[O:.*]] = tsr.matmul %[[P]], %[[VH]] : tensor<2x2x3x5xf32>, tensor<2x2x5x4xf32> -> tensor<2x2x3x4xf32>
// CHECK: %[[OT:.*]] = tsr.transpose %[[O]], [0, 2, 1, 3] : tensor<2x2x3x4xf32> -> tensor<2x3x2x4xf32>
// CHECK: %[[R:.*]] = tsr.reshape %[[OT]] : tensor<2x3x2x4xf32> -> tensor<2x3x8xf32>
// CHECK: return %[[R]]
func.func @batch_first(%q: tensor<2x3x8xf32>, %k: tensor<2x5x8xf32>, %v: tensor<2x5x8xf32>, %m: tensor<2x1x1x5xf32>) -> tensor<2x3x8xf32> {
  %a = tsr.attention %q, %k, %v mask(%m : tensor<2x1x1x5xf32>) {heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32} : tensor<2x3x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32> -> tensor<2x3x8xf32> loc("attn")
  return %a : tensor<2x3x8xf32>
}

// -----

// Sequence-first in and out (as raised from nn.MultiheadAttention): no
// [1, 0, 2] transpose is left; scale 1 adds no multiply.
// CHECK-LABEL: func.func @seq_first
// CHECK-SAME: (%[[X:.*]]: tensor<3x2x8xf32>)
// CHECK-NOT: [1, 0, 2]
// CHECK-NOT: tsr.mul
// CHECK: %[[XR:.*]] = tsr.reshape %[[X]] : tensor<3x2x8xf32> -> tensor<3x2x2x4xf32>
// CHECK: tsr.transpose %[[XR]], [1, 2, 0, 3] : tensor<3x2x2x4xf32> -> tensor<2x2x3x4xf32>
// CHECK: tsr.transpose %{{.*}}, [1, 2, 3, 0] : tensor<3x2x2x4xf32> -> tensor<2x2x4x3xf32>
// CHECK: tsr.matmul
// CHECK: tsr.softmax
// CHECK: %[[O:.*]] = tsr.matmul
// CHECK: %[[OT:.*]] = tsr.transpose %[[O]], [2, 0, 1, 3] : tensor<2x2x3x4xf32> -> tensor<3x2x2x4xf32>
// CHECK: %[[R:.*]] = tsr.reshape %[[OT]] : tensor<3x2x2x4xf32> -> tensor<3x2x8xf32>
// CHECK: return %[[R]]
func.func @seq_first(%x: tensor<3x2x8xf32>) -> tensor<3x2x8xf32> {
  %t = tsr.transpose %x, [1, 0, 2] : tensor<3x2x8xf32> -> tensor<2x3x8xf32>
  %a = tsr.attention %t, %t, %t {heads = 2 : i64, head_dim = 4 : i64, scale = 1.0 : f32} : tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32> -> tensor<2x3x8xf32>
  %b = tsr.transpose %a, [1, 0, 2] : tensor<2x3x8xf32> -> tensor<3x2x8xf32>
  return %b : tensor<3x2x8xf32>
}
