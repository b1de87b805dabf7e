// Graphs the chip cannot run are one-line errors naming the node.
// RUN: not tessera-translate --tsr-to-listing %s -split-input-file 2>&1 | FileCheck %s

// CHECK: error: <input>: softmax 'sm': softmax over axis 0 of 4x8; the vector unit normalizes the last axis only
func.func @main(%x: tensor<4x8xf32> {tsr.name = "x"}) -> (tensor<4x8xf32> {tsr.name = "y"}) {
  %0 = tsr.softmax %x {axis = 0 : i64} : tensor<4x8xf32> loc("sm")
  return %0 : tensor<4x8xf32>
}

// -----

// CHECK: error: <input>: add 'odd': broadcasting 4x5x6 with 1x5x1 is not supported
func.func @main(%x: tensor<4x5x6xf32> {tsr.name = "x"}, %y: tensor<1x5x1xf32> {tsr.name = "y"}) -> (tensor<4x5x6xf32> {tsr.name = "z"}) {
  %0 = tsr.add %x, %y : tensor<4x5x6xf32>, tensor<1x5x1xf32> -> tensor<4x5x6xf32> loc("odd")
  return %0 : tensor<4x5x6xf32>
}

// -----

// CHECK: error: <input>: result 0 returns 'x' unchanged
func.func @main(%x: tensor<4x8xf32> {tsr.name = "x"}) -> (tensor<4x8xf32> {tsr.name = "y"}) {
  return %x : tensor<4x8xf32>
}
