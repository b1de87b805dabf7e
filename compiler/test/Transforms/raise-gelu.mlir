// tsr-raise-gelu turns PyTorch's exported erf-GELU chain into tsr.gelu, in
// every operand order, and leaves look-alikes with other constants alone.
// RUN: tessera-opt %s -split-input-file --tsr-raise-gelu | FileCheck %s

// The form torch.onnx.export emits for nn.GELU(): ((x * (erf(x/sqrt2) + 1)) * 0.5).
// CHECK-LABEL: func.func @pytorch_form
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[G:.*]] = tsr.gelu %[[X]] : tensor<4x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @pytorch_form(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sqrt2 = tsr.weight "sqrt2" dense<1.41421354> : tensor<f32> -> tensor<f32>
  %one = tsr.weight "one" dense<1.0> : tensor<f32> -> tensor<f32>
  %half = tsr.weight "half" dense<0.5> : tensor<f32> -> tensor<f32>
  %0 = tsr.div %x, %sqrt2 : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %1 = tsr.erf %0 : tensor<4x8xf32>
  %2 = tsr.add %1, %one : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %3 = tsr.mul %x, %2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %4 = tsr.mul %3, %half : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// (0.5 * x) * (1 + erf(x * (1/sqrt2))), constants on the left.
// CHECK-LABEL: func.func @other_order
// CHECK-NEXT: %[[G:.*]] = tsr.gelu %arg0
// CHECK-NEXT: return %[[G]]
func.func @other_order(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %rsqrt2 = tsr.weight "rsqrt2" dense<0.707106769> : tensor<f32> -> tensor<f32>
  %one = tsr.weight "one" dense<1.0> : tensor<f32> -> tensor<f32>
  %half = tsr.weight "half" dense<0.5> : tensor<f32> -> tensor<f32>
  %0 = tsr.mul %rsqrt2, %x : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %1 = tsr.erf %0 : tensor<4x8xf32>
  %2 = tsr.add %one, %1 : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %3 = tsr.mul %half, %x : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %4 = tsr.mul %3, %2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// Not GELU: 0.4 instead of 0.5.
// CHECK-LABEL: func.func @wrong_half
// CHECK-NOT: tsr.gelu
// CHECK: tsr.erf
func.func @wrong_half(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sqrt2 = tsr.weight "sqrt2" dense<1.41421354> : tensor<f32> -> tensor<f32>
  %one = tsr.weight "one" dense<1.0> : tensor<f32> -> tensor<f32>
  %half = tsr.weight "half" dense<0.4> : tensor<f32> -> tensor<f32>
  %0 = tsr.div %x, %sqrt2 : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %1 = tsr.erf %0 : tensor<4x8xf32>
  %2 = tsr.add %1, %one : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %3 = tsr.mul %x, %2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %4 = tsr.mul %3, %half : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// Not GELU: the erf's argument is a different value than the multiplied x.
// CHECK-LABEL: func.func @different_x
// CHECK-NOT: tsr.gelu
func.func @different_x(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sqrt2 = tsr.weight "sqrt2" dense<1.41421354> : tensor<f32> -> tensor<f32>
  %one = tsr.weight "one" dense<1.0> : tensor<f32> -> tensor<f32>
  %half = tsr.weight "half" dense<0.5> : tensor<f32> -> tensor<f32>
  %0 = tsr.div %y, %sqrt2 : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %1 = tsr.erf %0 : tensor<4x8xf32>
  %2 = tsr.add %1, %one : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %3 = tsr.mul %x, %2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %4 = tsr.mul %3, %half : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}
