// The code generator emits the band tsr-select-tiling recorded on a pool
// (here written by hand): one plane by two output rows per step, four
// steps, each staging the 4 input rows of its band (64 bytes) and storing
// 2 x 4 outputs; without a record the search's band takes both planes and
// all four output rows in one step.
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// CHECK-LABEL: ; layer 0: banded
// CHECK-NEXT: 0 L  dma.load dram=0x0 sram=0x0 rows=1 bytes=64
// CHECK: 10 S  dma.store dram=0x100 sram=0x80 rows=1 bytes=16
// CHECK-NEXT: 11 L  dma.load dram=0x80 sram=0x40 rows=1 bytes=64
// CHECK: 22 L  dma.load dram=0x40 sram=0x0 rows=1 bytes=64
// CHECK: 33 L  dma.load dram=0xc0 sram=0x40 rows=1 bytes=64
// CHECK: 43 S  dma.store
// CHECK-LABEL: ; layer 1: searched
// CHECK-NEXT: 44 L  dma.load dram=0x0 sram=0x0 rows=2 bytes=128
// CHECK: 58 S  dma.store dram=0x140 sram=0x200 rows=2 bytes=32

func.func @main(%x: tensor<1x2x8x8xf32> {tsr.name = "x"}) -> (tensor<1x2x4x4xf32> {tsr.name = "y"}, tensor<1x2x4x4xf32> {tsr.name = "z"}) {
  %0 = tsr.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, tsr.tiling = {cb = 1 : i64, toh = 2 : i64}} : tensor<1x2x8x8xf32> -> tensor<1x2x4x4xf32> loc("banded")
  %1 = tsr.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<1x2x8x8xf32> -> tensor<1x2x4x4xf32> loc("searched")
  return %0, %1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}
