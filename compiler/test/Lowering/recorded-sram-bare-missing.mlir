// A bare kernel's recorded SRAM plan without a buffer the kernel needs (the
// second A slot) is an error naming the layer and the buffer; the code
// generator never places a buffer the plan leaves out.
// RUN: not tessera-translate --tsr-to-listing %s 2>&1 | FileCheck %s

// CHECK: matmul 'proj': the SRAM plan recorded in the IR (tsr.sram) has no buffer 'a[1]'
func.func @main(%x: tensor<64x128xf32> {tsr.name = "x"}) -> (tensor<64x96xf32> {tsr.name = "y"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<128x96xf32> -> tensor<128x96xf32>
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 128 : i64, tn = 96 : i64},
    tsr.sram = {total = 77824, phases = ["load", "matmul", "store"], buffers = [
      {name = "b", slot = 0, bytes = 24576, offset = 0, live = array<i64: 0, 2>},
      {name = "b", slot = 1, bytes = 24576, offset = 24576, live = array<i64: 0, 2>},
      {name = "out", slot = 0, bytes = 6144, offset = 49152, live = array<i64: 0, 2>},
      {name = "out", slot = 1, bytes = 6144, offset = 55296, live = array<i64: 0, 2>},
      {name = "a", slot = 0, bytes = 8192, offset = 61440, live = array<i64: 0, 2>}]}} : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32> loc("proj")
  return %y : tensor<64x96xf32>
}
