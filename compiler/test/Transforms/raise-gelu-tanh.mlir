// tsr-raise-gelu also turns the tanh-GELU chain into
// tsr.gelu {approximate = "tanh"}; look-alikes stay.
// RUN: tessera-opt %s -split-input-file --tsr-raise-gelu | FileCheck %s

// What torch.onnx.export emits for nn.GELU(approximate="tanh") (opset 13 and 17).
// CHECK-LABEL: func.func @pytorch_tanh
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[G:.*]] = tsr.gelu %[[X]] {approximate = "tanh"} : tensor<4x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @pytorch_tanh(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c0 = tsr.weight "c0" dense<0.044714998453855515> : tensor<f32> -> tensor<f32>
  %c1 = tsr.weight "c1" dense<0.7978845834732056> : tensor<f32> -> tensor<f32>
  %one = tsr.weight "one" dense<1.0> : tensor<f32> -> tensor<f32>
  %half = tsr.weight "half" dense<0.5> : tensor<f32> -> tensor<f32>
  %0 = tsr.mul %x, %x : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %1 = tsr.mul %x, %0 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %2 = tsr.mul %c0, %1 : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %3 = tsr.add %x, %2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %4 = tsr.mul %c1, %3 : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %5 = tsr.tanh %4 : tensor<4x8xf32>
  %6 = tsr.add %one, %5 : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %7 = tsr.mul %x, %6 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %8 = tsr.mul %half, %7 : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %8 : tensor<4x8xf32>
}

// -----

// x^3 as a tsr.pow and (x * 0.5) * (1 + tanh(...)).
// CHECK-LABEL: func.func @pow_form
// CHECK-NEXT: tsr.gelu %arg0 {approximate = "tanh"}
func.func @pow_form(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c0 = tsr.weight "c0" dense<0.044715> : tensor<f32> -> tensor<f32>
  %c1 = tsr.weight "c1" dense<0.797884583> : tensor<f32> -> tensor<f32>
  %one = tsr.weight "one" dense<1.0> : tensor<f32> -> tensor<f32>
  %half = tsr.weight "half" dense<0.5> : tensor<f32> -> tensor<f32>
  %1 = tsr.pow %x {exponent = 3.0 : f32} : tensor<4x8xf32>
  %2 = tsr.mul %1, %c0 : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %3 = tsr.add %2, %x : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %4 = tsr.mul %3, %c1 : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %5 = tsr.tanh %4 : tensor<4x8xf32>
  %6 = tsr.add %5, %one : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %7 = tsr.mul %x, %half : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %8 = tsr.mul %7, %6 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %8 : tensor<4x8xf32>
}

// -----

// Near miss: 0.05 instead of 0.044715 in the cubic term.
// CHECK-LABEL: func.func @wrong_cubic
// CHECK-NOT: tsr.gelu
// CHECK: tsr.tanh
func.func @wrong_cubic(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c0 = tsr.weight "c0" dense<0.05> : tensor<f32> -> tensor<f32>
  %c1 = tsr.weight "c1" dense<0.7978845834732056> : tensor<f32> -> tensor<f32>
  %one = tsr.weight "one" dense<1.0> : tensor<f32> -> tensor<f32>
  %half = tsr.weight "half" dense<0.5> : tensor<f32> -> tensor<f32>
  %0 = tsr.mul %x, %x : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %1 = tsr.mul %x, %0 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %2 = tsr.mul %c0, %1 : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %3 = tsr.add %x, %2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %4 = tsr.mul %c1, %3 : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %5 = tsr.tanh %4 : tensor<4x8xf32>
  %6 = tsr.add %one, %5 : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %7 = tsr.mul %x, %6 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %8 = tsr.mul %half, %7 : tensor<f32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %8 : tensor<4x8xf32>
}
