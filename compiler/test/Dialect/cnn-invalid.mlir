// The verifiers of the CNN and miscellaneous ops name the rule they check.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics

func.func @conv_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{input must be NCHW (rank 4), got [3x8x8]}}
  %0 = tsr.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : tensor<3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_groups(%x: tensor<1x6x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{groups 4 must divide the 6 input and 4 output channels}}
  %0 = tsr.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x6x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x6x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{weight [4x3x3x3] expects 3 input channels, the input has 6}}
  %0 = tsr.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x6x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{bias must be [4], got [3]}}
  %0 = tsr.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_result(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{result shape [1x4x8x8] should be [1x4x3x3]}}
  %0 = tsr.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_attrs(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{expects 2 kernel extents, 2 strides, 2 dilations and 4 pads}}
  %0 = tsr.conv %x, %w, %b {strides = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{kernel, strides and dilations must be positive}}
  %0 = tsr.conv %x, %w, %b {strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_window(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{does not fit the padded input [1x3x2x2]}}
  %0 = tsr.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

func.func @pool_pads(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x5x5xf32> {
  // expected-error @+1 {{pads must be smaller than the kernel}}
  %0 = tsr.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 2, 2, 2, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x5x5xf32>
  return %0 : tensor<1x3x5x5xf32>
}

// -----

func.func @pool_negative_pad(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{pads must not be negative}}
  %0 = tsr.avgpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: -1, 0, 0, 0>, count_include_pad = false} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @pool_result(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{result shape [1x3x8x8] should be [1x3x4x4]}}
  %0 = tsr.avgpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = true} : tensor<1x3x8x8xf32> -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

func.func @clip_bounds(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{min 6.000000e+00 must not exceed max 0.000000e+00}}
  %0 = tsr.clip %x {min = 6.0 : f32, max = 0.0 : f32} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @embedding_shape(%t: tensor<10x8xf32>, %ids: tensor<1x5xf32>) -> tensor<1x5x10xf32> {
  // expected-error @+1 {{result shape [1x5x10] should be [1x5x8] (indices shape + table row shape)}}
  %0 = tsr.embedding %t, %ids : tensor<10x8xf32>, tensor<1x5xf32> -> tensor<1x5x10xf32>
  return %0 : tensor<1x5x10xf32>
}

// -----

func.func @equal_broadcast(%a: tensor<4x5xf32>, %b: tensor<4x6xf32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{operand shapes [4x5] and [4x6] do not broadcast}}
  %0 = tsr.equal %a, %b : tensor<4x5xf32>, tensor<4x6xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @where_broadcast(%c: tensor<3xf32>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand shapes [3], [4] and [4] do not broadcast}}
  %0 = tsr.where %c, %a, %b : tensor<3xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @where_result(%c: tensor<2x1xf32>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{result shape [4] should be [2x4]}}
  %0 = tsr.where %c, %a, %b : tensor<2x1xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @expand(%x: tensor<3x1xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{input [3x1] does not broadcast to the result [4x4]}}
  %0 = tsr.expand %x : tensor<3x1xf32> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}
