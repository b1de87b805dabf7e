// tsr-lower-to-chip fails with the code generator's error, naming the node
// and the bytes, when a kernel cannot fit the SRAM; and on an op with no
// lowering to the chip.
// RUN: not tessera-opt %s -split-input-file --tsr-lower-to-chip=sram-bytes=16384 2>&1 | FileCheck %s

// CHECK: error: softmax 'sm': no tiling of the 4x4096 view fits 16384 bytes of SRAM; one row of 4096 elements needs 32768 bytes
func.func @main(%x: tensor<4x4096xf32> {tsr.name = "x"}) -> (tensor<4x4096xf32> {tsr.name = "y"}) {
  %s = tsr.softmax %x {axis = -1 : i64} : tensor<4x4096xf32> loc("sm")
  return %s : tensor<4x4096xf32>
}

// -----

// CHECK: error: result 0 returns 'x' unchanged (an input, a weight or another result); the chip computes every output
func.func @main(%x: tensor<4x8xf32> {tsr.name = "x"}) -> (tensor<4x8xf32> {tsr.name = "y"}) {
  return %x : tensor<4x8xf32>
}
