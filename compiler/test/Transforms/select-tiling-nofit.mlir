// When no tiling of a product fits the SRAM, tsr-select-tiling fails with
// the op, the budget and the smallest footprint any tiling needs.
// RUN: tessera-opt %s -verify-diagnostics --tsr-select-tiling=sram-bytes=1024

func.func @proj(%x: tensor<128x256xf32>, %w: tensor<256x256xf32>) -> tensor<128x256xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': no tiling of the 128x256x256 product fits 1024 bytes of SRAM; the smallest needs 2176 bytes}}
  %y = tsr.matmul %x, %w : tensor<128x256xf32>, tensor<256x256xf32> -> tensor<128x256xf32>
  return %y : tensor<128x256xf32>
}
