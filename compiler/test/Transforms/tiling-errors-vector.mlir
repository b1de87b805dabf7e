// Illegal tilings of vector-family kernels: tsr-verify-tiling names the op
// and what is wrong, with the bytes when the buffers do not fit.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-tiling=sram-bytes=65536

// Two slots each of x, y and the output: 6 x 64 x 256 x 2 = 196608 bytes.
func.func @too_big(%x: tensor<256x256xf32>, %y: tensor<256x256xf32>) -> tensor<256x256xf32> {
  // expected-error @+1 {{'tsr.add' op add 'add': tiling 64x256 needs 196608 bytes of SRAM, the budget is 65536}}
  %z = tsr.add %x, %y {tsr.tiling = {tr = 64 : i64, tc = 256 : i64}} : tensor<256x256xf32>, tensor<256x256xf32> -> tensor<256x256xf32>
  return %z : tensor<256x256xf32>
}

// -----

func.func @partial_row(%x: tensor<16x256xf32>) -> tensor<16x256xf32> {
  // expected-error @+1 {{'tsr.softmax' op softmax 'softmax': tiling 4x128: a row-wise kernel needs whole rows (tc = 256)}}
  %s = tsr.softmax %x {axis = -1 : i64, tsr.tiling = {tr = 4 : i64, tc = 128 : i64}} : tensor<16x256xf32>
  return %s : tensor<16x256xf32>
}

// -----

func.func @larger_than_view(%x: tensor<16x256xf32>) -> tensor<16x256xf32> {
  // expected-error @+1 {{'tsr.erf' op erf 'erf': tiling 32x256 is larger than the 16x256 view}}
  %e = tsr.erf %x {tsr.tiling = {tr = 32 : i64, tc = 256 : i64}} : tensor<16x256xf32>
  return %e : tensor<16x256xf32>
}

// -----

func.func @missing(%x: tensor<16x256xf32>) -> tensor<16x256xf32> {
  // expected-error @+1 {{'tsr.relu' op relu 'relu': tsr.tiling needs a positive integer 'tc'}}
  %e = tsr.relu %x {tsr.tiling = {tr = 4 : i64}} : tensor<16x256xf32>
  return %e : tensor<16x256xf32>
}

// -----

// A legal one passes.
func.func @fits(%x: tensor<256x256xf32>, %y: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %z = tsr.add %x, %y {tsr.tiling = {tr = 16 : i64, tc = 256 : i64}} : tensor<256x256xf32>, tensor<256x256xf32> -> tensor<256x256xf32>
  return %z : tensor<256x256xf32>
}
