// The transformer ops' verifiers reject malformed IR, naming the rule.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics

func.func @slice_window(%x: tensor<6x4xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{window of 4 elements from 3 with step 1 does not fit axis 0 of [6x4]}}
  %0 = tsr.slice %x offsets [3, 0] steps [1, 1] : tensor<6x4xf32> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @slice_step(%x: tensor<6x4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{step 0 on axis 0 must be positive}}
  %0 = tsr.slice %x offsets [0, 0] steps [0, 1] : tensor<6x4xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @slice_rank(%x: tensor<6x4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{must all have the same rank}}
  %0 = tsr.slice %x offsets [0] steps [1, 1] : tensor<6x4xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @concat_sum(%a: tensor<2x4xf32>, %b: tensor<3x4xf32>) -> tensor<6x4xf32> {
  // expected-error @+1 {{inputs add up to 5 along axis 0, the result has 6}}
  %0 = tsr.concat %a, %b {axis = 0 : i64} : tensor<2x4xf32>, tensor<3x4xf32> -> tensor<6x4xf32>
  return %0 : tensor<6x4xf32>
}

// -----

func.func @concat_off_axis(%a: tensor<2x4xf32>, %b: tensor<3x5xf32>) -> tensor<5x4xf32> {
  // expected-error @+1 {{input [3x5] does not match the result [5x4] off axis 0}}
  %0 = tsr.concat %a, %b {axis = 0 : i64} : tensor<2x4xf32>, tensor<3x5xf32> -> tensor<5x4xf32>
  return %0 : tensor<5x4xf32>
}

// -----

func.func @concat_axis(%a: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = tsr.concat %a {axis = 2 : i64} : tensor<2x4xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @pow_inf(%a: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{exponent must be finite}}
  %0 = tsr.pow %a {exponent = 0x7F800000 : f32} : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @reduce_shape(%a: tensor<2x4xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{result shape [2] should be [2x1]}}
  %0 = tsr.reduce_mean %a axes [1] {keepdims = true} : tensor<2x4xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @reduce_axes(%a: tensor<2x4xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{axes must be sorted, distinct and in 0..1}}
  %0 = tsr.reduce_sum %a axes [1, 0] {keepdims = false} : tensor<2x4xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @reduce_none(%a: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{needs at least one axis}}
  %0 = tsr.reduce_max %a axes [] {keepdims = true} : tensor<2x4xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @gelu_mode(%a: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{approximate must be "none" or "tanh", got "fast"}}
  %0 = tsr.gelu %a {approximate = "fast"} : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @attention_heads(%q: tensor<2x6x32xf32>) -> tensor<2x6x32xf32> {
  // expected-error @+1 {{heads (4) x head_dim (6) must equal the model width 32}}
  %0 = tsr.attention %q, %q, %q {heads = 4 : i64, head_dim = 6 : i64, scale = 1.0 : f32} : tensor<2x6x32xf32>, tensor<2x6x32xf32>, tensor<2x6x32xf32> -> tensor<2x6x32xf32>
  return %0 : tensor<2x6x32xf32>
}

// -----

func.func @attention_rank(%q: tensor<12x32xf32>) -> tensor<12x32xf32> {
  // expected-error @+1 {{query, key and value must be [B, S, D]}}
  %0 = tsr.attention %q, %q, %q {heads = 4 : i64, head_dim = 8 : i64, scale = 1.0 : f32} : tensor<12x32xf32>, tensor<12x32xf32>, tensor<12x32xf32> -> tensor<12x32xf32>
  return %0 : tensor<12x32xf32>
}

// -----

func.func @attention_kv(%q: tensor<2x6x32xf32>, %k: tensor<2x5x32xf32>, %v: tensor<2x4x32xf32>) -> tensor<2x6x32xf32> {
  // expected-error @+1 {{key [2x5x32] and value [2x4x32] must be [B, Sk, D]}}
  %0 = tsr.attention %q, %k, %v {heads = 4 : i64, head_dim = 8 : i64, scale = 1.0 : f32} : tensor<2x6x32xf32>, tensor<2x5x32xf32>, tensor<2x4x32xf32> -> tensor<2x6x32xf32>
  return %0 : tensor<2x6x32xf32>
}

// -----

func.func @attention_mask(%q: tensor<2x6x32xf32>, %m: tensor<2x3x6x6xf32>) -> tensor<2x6x32xf32> {
  // expected-error @+1 {{mask [2x3x6x6] does not broadcast to the scores [2x4x6x6]}}
  %0 = tsr.attention %q, %q, %q mask(%m : tensor<2x3x6x6xf32>) {heads = 4 : i64, head_dim = 8 : i64, scale = 1.0 : f32} : tensor<2x6x32xf32>, tensor<2x6x32xf32>, tensor<2x6x32xf32> -> tensor<2x6x32xf32>
  return %0 : tensor<2x6x32xf32>
}
