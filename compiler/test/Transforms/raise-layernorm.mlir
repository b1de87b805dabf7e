// tsr-raise-layernorm turns the decomposed LayerNorm of opsets < 17 into
// tsr.layernorm, and leaves near misses alone.
// RUN: tessera-opt %s -split-input-file --tsr-raise-layernorm | FileCheck %s

// The chain torch.onnx.export emits for nn.LayerNorm(8) at opset 13.
// CHECK-LABEL: func.func @pytorch_opset13
// CHECK-SAME: (%[[X:.*]]: tensor<2x5x8xf32>)
// CHECK-DAG: %[[W:.*]] = tsr.weight "ln.weight"
// CHECK-DAG: %[[B:.*]] = tsr.weight "ln.bias"
// CHECK: %[[LN:.*]] = tsr.layernorm %[[X]], %[[W]], %[[B]] {axis = 2 : i64, epsilon = 9.99999974E-6 : f32}
// CHECK-NOT: tsr.reduce_mean
// CHECK-NOT: tsr.sqrt
// CHECK: return %[[LN]]
func.func @pytorch_opset13(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
  %w = tsr.weight "ln.weight" dense<1.5> : tensor<8xf32> -> tensor<8xf32>
  %b = tsr.weight "ln.bias" dense<0.25> : tensor<8xf32> -> tensor<8xf32>
  %two = tsr.weight "two" dense<2.0> : tensor<f32> -> tensor<f32>
  %eps = tsr.weight "eps" dense<1.0e-5> : tensor<f32> -> tensor<f32>
  %m = tsr.reduce_mean %x axes [2] {keepdims = true} : tensor<2x5x8xf32> -> tensor<2x5x1xf32>
  %d = tsr.sub %x, %m : tensor<2x5x8xf32>, tensor<2x5x1xf32> -> tensor<2x5x8xf32>
  %p = tsr.pow %d {exponent = 2.0 : f32} : tensor<2x5x8xf32>
  %v = tsr.reduce_mean %p axes [2] {keepdims = true} : tensor<2x5x8xf32> -> tensor<2x5x1xf32>
  %e = tsr.add %v, %eps : tensor<2x5x1xf32>, tensor<f32> -> tensor<2x5x1xf32>
  %s = tsr.sqrt %e : tensor<2x5x1xf32>
  %n = tsr.div %d, %s : tensor<2x5x8xf32>, tensor<2x5x1xf32> -> tensor<2x5x8xf32>
  %y = tsr.mul %n, %w : tensor<2x5x8xf32>, tensor<8xf32> -> tensor<2x5x8xf32>
  %z = tsr.add %y, %b : tensor<2x5x8xf32>, tensor<8xf32> -> tensor<2x5x8xf32>
  return %z : tensor<2x5x8xf32>
}

// -----

// Without the affine tail (elementwise_affine=False), d * d for the square,
// eps on the left: the scale and bias are ones and zeros.
// CHECK-LABEL: func.func @no_affine
// CHECK-DAG: %[[ONE:.*]] = tsr.weight "norm.ln_scale" dense<1.000000e+00> : tensor<8xf32>
// CHECK-DAG: %[[ZERO:.*]] = tsr.weight "norm.ln_bias" dense<0.000000e+00> : tensor<8xf32>
// CHECK: tsr.layernorm %arg0, %[[ONE]], %[[ZERO]] {axis = 2 : i64, epsilon = 9.99999974E-6 : f32}
func.func @no_affine(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
  %eps = tsr.weight "eps" dense<1.0e-5> : tensor<f32> -> tensor<f32>
  %m = tsr.reduce_mean %x axes [2] {keepdims = true} : tensor<2x5x8xf32> -> tensor<2x5x1xf32>
  %d = tsr.sub %x, %m : tensor<2x5x8xf32>, tensor<2x5x1xf32> -> tensor<2x5x8xf32>
  %p = tsr.mul %d, %d : tensor<2x5x8xf32>, tensor<2x5x8xf32> -> tensor<2x5x8xf32>
  %v = tsr.reduce_mean %p axes [2] {keepdims = true} : tensor<2x5x8xf32> -> tensor<2x5x1xf32>
  %e = tsr.add %eps, %v : tensor<f32>, tensor<2x5x1xf32> -> tensor<2x5x1xf32>
  %s = tsr.sqrt %e : tensor<2x5x1xf32>
  %n = tsr.div %d, %s : tensor<2x5x8xf32>, tensor<2x5x1xf32> -> tensor<2x5x8xf32> loc("norm")
  return %n : tensor<2x5x8xf32>
}

// -----

// Near miss: the mean is over a leading axis (not a LayerNorm).
// CHECK-LABEL: func.func @inner_axis
// CHECK-NOT: tsr.layernorm
// CHECK: tsr.div
func.func @inner_axis(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
  %eps = tsr.weight "eps" dense<1.0e-5> : tensor<f32> -> tensor<f32>
  %m = tsr.reduce_mean %x axes [1] {keepdims = true} : tensor<2x5x8xf32> -> tensor<2x1x8xf32>
  %d = tsr.sub %x, %m : tensor<2x5x8xf32>, tensor<2x1x8xf32> -> tensor<2x5x8xf32>
  %p = tsr.pow %d {exponent = 2.0 : f32} : tensor<2x5x8xf32>
  %v = tsr.reduce_mean %p axes [1] {keepdims = true} : tensor<2x5x8xf32> -> tensor<2x1x8xf32>
  %e = tsr.add %v, %eps : tensor<2x1x8xf32>, tensor<f32> -> tensor<2x1x8xf32>
  %s = tsr.sqrt %e : tensor<2x1x8xf32>
  %n = tsr.div %d, %s : tensor<2x5x8xf32>, tensor<2x1x8xf32> -> tensor<2x5x8xf32>
  return %n : tensor<2x5x8xf32>
}

// -----

// Near miss: the variance is of a cube.
// CHECK-LABEL: func.func @cube
// CHECK-NOT: tsr.layernorm
// CHECK: tsr.pow
func.func @cube(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
  %eps = tsr.weight "eps" dense<1.0e-5> : tensor<f32> -> tensor<f32>
  %m = tsr.reduce_mean %x axes [2] {keepdims = true} : tensor<2x5x8xf32> -> tensor<2x5x1xf32>
  %d = tsr.sub %x, %m : tensor<2x5x8xf32>, tensor<2x5x1xf32> -> tensor<2x5x8xf32>
  %p = tsr.pow %d {exponent = 3.0 : f32} : tensor<2x5x8xf32>
  %v = tsr.reduce_mean %p axes [2] {keepdims = true} : tensor<2x5x8xf32> -> tensor<2x5x1xf32>
  %e = tsr.add %v, %eps : tensor<2x5x1xf32>, tensor<f32> -> tensor<2x5x1xf32>
  %s = tsr.sqrt %e : tensor<2x5x1xf32>
  %n = tsr.div %d, %s : tensor<2x5x8xf32>, tensor<2x5x1xf32> -> tensor<2x5x8xf32>
  return %n : tensor<2x5x8xf32>
}
