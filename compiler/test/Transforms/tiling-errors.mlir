// Illegal tiling configurations of a bare tsr.matmul (codegen::checkTiling,
// the dispatch every unfused kernel goes through): the verifier names the op
// and the bytes;
// the selector says when no tiling fits at all.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-tiling=sram-bytes=65536

// Two slots each of the 128x256 A, the 256x256 B and the 128x256 output:
// 2 x (65536 + 131072 + 65536) = 524288 bytes.
func.func @too_big(%x: tensor<128x256xf32>, %w: tensor<256x256xf32>) -> tensor<128x256xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': tiling 128x256x256 needs 524288 bytes of SRAM, the budget is 65536}}
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 128 : i64, tk = 256 : i64, tn = 256 : i64}} : tensor<128x256xf32>, tensor<256x256xf32> -> tensor<128x256xf32>
  return %y : tensor<128x256xf32>
}

// -----

func.func @zero_tile(%x: tensor<128x256xf32>, %w: tensor<256x256xf32>) -> tensor<128x256xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': tsr.tiling needs a positive integer 'tk'}}
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 0 : i64, tn = 96 : i64}} : tensor<128x256xf32>, tensor<256x256xf32> -> tensor<128x256xf32>
  return %y : tensor<128x256xf32>
}

// -----

// A legal one passes.
func.func @fits(%x: tensor<128x256xf32>, %w: tensor<256x256xf32>) -> tensor<128x256xf32> {
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 48 : i64, tn = 96 : i64}} : tensor<128x256xf32>, tensor<256x256xf32> -> tensor<128x256xf32>
  return %y : tensor<128x256xf32>
}

// -----

// The reference chip has one NPU: a recorded split onto two is illegal.
func.func @npus(%x: tensor<128x256xf32>, %w: tensor<256x256xf32>) -> tensor<128x256xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': tsr.tiling 'npus' must be an integer in [1, 1] (the chip's npus)}}
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 48 : i64, tn = 96 : i64, npus = 2 : i64}} : tensor<128x256xf32>, tensor<256x256xf32> -> tensor<128x256xf32>
  return %y : tensor<128x256xf32>
}

// -----

// A weight-stationary product streams at most matrix_accumulator_rows
// (4096 on the reference chip) rows of A.
func.func @accumulator_rows(%x: tensor<8192x8xf32>, %w: tensor<8x8xf32>) -> tensor<8192x8xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': tiling 8192x8x8: tm 8192 exceeds matrix_accumulator_rows 4096}}
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 8192 : i64, tk = 8 : i64, tn = 8 : i64}} : tensor<8192x8xf32>, tensor<8x8xf32> -> tensor<8192x8xf32>
  return %y : tensor<8192x8xf32>
}

// -----

// A tile larger than its product (K = 256 here).
func.func @larger(%x: tensor<128x256xf32>, %w: tensor<256x256xf32>) -> tensor<128x256xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': tiling 32x512x96 is larger than the 128x256x256 product}}
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 512 : i64, tn = 96 : i64}} : tensor<128x256xf32>, tensor<256x256xf32> -> tensor<128x256xf32>
  return %y : tensor<128x256xf32>
}
