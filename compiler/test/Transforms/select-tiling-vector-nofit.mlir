// When not even the smallest tile of a vector-family kernel fits the SRAM,
// tsr-select-tiling fails naming the op and the bytes: one whole row for a
// row-wise op (four ring slots of 4096 FP16 elements), one row of 8
// columns for an elementwise op.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-select-tiling=sram-bytes=16384

func.func @softmax(%x: tensor<4x4096xf32>) -> tensor<4x4096xf32> {
  // expected-error @+1 {{'tsr.softmax' op softmax 'softmax': no tiling of the 4x4096 view fits 16384 bytes of SRAM; one row of 4096 elements needs 32768 bytes}}
  %s = tsr.softmax %x {axis = -1 : i64} : tensor<4x4096xf32>
  return %s : tensor<4x4096xf32>
}

// -----

func.func @layernorm(%x: tensor<4x4096xf32>, %g: tensor<4096xf32>, %b: tensor<4096xf32>) -> tensor<4x4096xf32> {
  // expected-error @+1 {{'tsr.layernorm' op layernorm 'layernorm': no tiling of the 4x4096 view fits 16384 bytes of SRAM; one row of 4096 elements needs 49152 bytes}}
  %n = tsr.layernorm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : tensor<4x4096xf32>, tensor<4096xf32>, tensor<4096xf32> -> tensor<4x4096xf32>
  return %n : tensor<4x4096xf32>
}

// -----

// A bias row of 16384 elements alone is 32 KiB.
func.func @bias(%x: tensor<4x16384xf32>, %b: tensor<16384xf32>) -> tensor<4x16384xf32> {
  // expected-error @+1 {{'tsr.add' op add 'add': no tiling of the 4x16384 view fits 16384 bytes of SRAM; the smallest tile (1 x 8) needs 33024 bytes}}
  %y = tsr.add %x, %b : tensor<4x16384xf32>, tensor<16384xf32> -> tensor<4x16384xf32>
  return %y : tensor<4x16384xf32>
}
