// The verifiers reject malformed graphs, naming the op and the rule.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics

func.func @bad_broadcast(%a: tensor<4x5xf32>, %b: tensor<4x6xf32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{operand shapes [4x5] and [4x6] do not broadcast}}
  %0 = tsr.add %a, %b : tensor<4x5xf32>, tensor<4x6xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @bad_broadcast_result(%a: tensor<4x1xf32>, %b: tensor<6xf32>) -> tensor<4x1xf32> {
  // expected-error @+1 {{result shape [4x1] should be [4x6]}}
  %0 = tsr.mul %a, %b : tensor<4x1xf32>, tensor<6xf32> -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

func.func @contraction(%a: tensor<4x5xf32>, %b: tensor<6x7xf32>) -> tensor<4x7xf32> {
  // expected-error @+1 {{contraction mismatch}}
  %0 = tsr.matmul %a, %b : tensor<4x5xf32>, tensor<6x7xf32> -> tensor<4x7xf32>
  return %0 : tensor<4x7xf32>
}

// -----

func.func @matmul_rank(%a: tensor<5xf32>, %b: tensor<5x7xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{operands must have rank >= 2}}
  %0 = tsr.matmul %a, %b : tensor<5xf32>, tensor<5x7xf32> -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @layernorm_scale(%x: tensor<2x8xf32>, %g: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{scale/bias shape [4]}}
  %0 = tsr.layernorm %x, %g, %g {axis = 1 : i64, epsilon = 1.0e-5 : f32} : tensor<2x8xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layernorm_eps(%x: tensor<2x8xf32>, %g: tensor<8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{epsilon must be positive}}
  %0 = tsr.layernorm %x, %g, %g {axis = 1 : i64, epsilon = 0.0 : f32} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @softmax_axis(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = tsr.softmax %x {axis = 2 : i64} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @perm(%x: tensor<2x8xf32>) -> tensor<8x2xf32> {
  // expected-error @+1 {{perm is not a permutation}}
  %0 = tsr.transpose %x, [0, 0] : tensor<2x8xf32> -> tensor<8x2xf32>
  return %0 : tensor<8x2xf32>
}

// -----

func.func @transpose_result(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{result shape}}
  %0 = tsr.transpose %x, [1, 0] : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @reshape(%x: tensor<2x8xf32>) -> tensor<3x5xf32> {
  // expected-error @+1 {{cannot reshape}}
  %0 = tsr.reshape %x : tensor<2x8xf32> -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

func.func @weight_type() -> tensor<4xf32> {
  // expected-error @+1 {{value type}}
  %0 = tsr.weight "w" dense<1.0> : tensor<3xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @weight_name() -> tensor<4xf32> {
  // expected-error @+1 {{needs a non-empty name}}
  %0 = tsr.weight "" dense<1.0> : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
