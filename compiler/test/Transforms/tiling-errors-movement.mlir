// tsr-verify-tiling on the movement and CNN ops: a recorded band or copy
// tile that needs more SRAM than the budget, a missing field, a GEMM tile
// above the accumulator rows, a tile larger than what it tiles: an error
// naming the op and the bytes or the bound.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-tiling=sram-bytes=16384

// The whole 3-channel band: staged rows 3 x 32 x 32 x 2 = 6144 bytes and
// tiles 3 x 9 x 16 x 16 x 2 = 13824, two of each, and the ones row: 40448.
func.func @conv_band(%x: tensor<1x3x32x32xf32>) -> tensor<1x16x16x16xf32> {
  %w = tsr.weight "w" dense<0.5> : tensor<16x3x3x3xf32> -> tensor<16x3x3x3xf32>
  %b = tsr.weight "b" dense<0.5> : tensor<16xf32> -> tensor<16xf32>
  // expected-error @+1 {{'tsr.conv' op conv 'conv': tiling cb = 3, toh = 16, GEMM 16x28x96 needs 40448 bytes of SRAM, the budget is 16384}}
  %y = tsr.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, tsr.tiling = {cb = 3 : i64, toh = 16 : i64, tm = 16 : i64, tk = 28 : i64, tn = 96 : i64}} : tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32> -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}

// -----

func.func @conv_no_band(%x: tensor<1x3x32x32xf32>) -> tensor<1x16x16x16xf32> {
  %w = tsr.weight "w" dense<0.5> : tensor<16x3x3x3xf32> -> tensor<16x3x3x3xf32>
  %b = tsr.weight "b" dense<0.5> : tensor<16xf32> -> tensor<16xf32>
  // expected-error @+1 {{'tsr.conv' op conv 'conv': tsr.tiling needs a positive integer 'toh'}}
  %y = tsr.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, tsr.tiling = {cb = 1 : i64, tm = 16 : i64, tk = 28 : i64, tn = 96 : i64}} : tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32> -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}

// -----

// A transpose tile of 64 x 32: four 4096-byte slots, 16384 bytes: fits.
func.func @transpose_fits(%x: tensor<4x64x32xf32>) -> tensor<4x32x64xf32> {
  %t = tsr.transpose %x, [0, 2, 1] {tsr.tiling = {tr = 64 : i64, tc = 32 : i64}} : tensor<4x64x32xf32> -> tensor<4x32x64xf32>
  return %t : tensor<4x32x64xf32>
}

// -----

// A concat's first copy in 16 x 512 tiles: two 16384-byte slots.
func.func @concat_too_big(%x: tensor<16x512xf32>, %y: tensor<16x32xf32>) -> tensor<16x544xf32> {
  // expected-error @+1 {{'tsr.concat' op concat 'concat': tiling 16x512, 16x32 needs 32768 bytes of SRAM, the budget is 16384}}
  %c = tsr.concat %x, %y {axis = 1 : i64, tsr.tiling = {tr0 = 16 : i64, tc0 = 512 : i64, tr1 = 16 : i64, tc1 = 32 : i64}} : tensor<16x512xf32>, tensor<16x32xf32> -> tensor<16x544xf32>
  return %c : tensor<16x544xf32>
}

// -----

// A global average's GEMM tile above the accumulator rows.
func.func @gap_tm(%x: tensor<1x512x7x7xf32>) -> tensor<1x512x1x1xf32> {
  // expected-error @+1 {{'tsr.avgpool' op avgpool 'avgpool': tiling 8192x49x1: tm 8192 exceeds matrix_accumulator_rows 4096}}
  %y = tsr.avgpool %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false, tsr.tiling = {tm = 8192 : i64, tk = 49 : i64, tn = 1 : i64}} : tensor<1x512x7x7xf32> -> tensor<1x512x1x1xf32>
  return %y : tensor<1x512x1x1xf32>
}

// -----

// A copy tile larger than its 64 x 32 view.
func.func @transpose_oversized(%x: tensor<4x64x32xf32>) -> tensor<4x32x64xf32> {
  // expected-error @+1 {{'tsr.transpose' op transpose 'transpose': tiling 128x32: a tile is larger than its copy's 64x32}}
  %t = tsr.transpose %x, [0, 2, 1] {tsr.tiling = {tr = 128 : i64, tc = 32 : i64}} : tensor<4x64x32xf32> -> tensor<4x32x64xf32>
  return %t : tensor<4x32x64xf32>
}

// -----

// A one-input concat records tr, tc (as tsr-select-tiling writes them), a
// tile of its one contiguous 1 x 512 copy.
func.func @concat_one(%x: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %c = tsr.concat %x {axis = 1 : i64, tsr.tiling = {tr = 1 : i64, tc = 512 : i64}} : tensor<16x32xf32> -> tensor<16x32xf32>
  return %c : tensor<16x32xf32>
}
