// A bare kernel takes its SRAM addresses from the plan recorded on its op
// (tsr.sram, tsr-allocate-sram): here a hand-written plan of a 64x128x96
// product with the recorded 32x128x96 tile puts B's slots first (0x0,
// 0x6000) and A's after the outputs (0xf000, 0x11000), and the listing
// follows it (recorded-sram-bare-missing.mlir: a plan without a buffer the
// kernel needs).
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// CHECK: ; layer 0: proj
// CHECK-NEXT: 0 L  dma.load dram=0x0 sram=0xf000 rows=32 bytes=256
// CHECK-NEXT: 1 L  dma.load dram=0x4000 sram=0x0 rows=128 bytes=192
// CHECK-NEXT: 2 C  mm.matmul.f16 m=32 k=128 n=96 a=0xf000/128 b=0x0/96 out=0xc000/96:f16
// CHECK-NEXT: 3 S  dma.store dram=0xa000 sram=0xc000 rows=32 bytes=192
// CHECK-NEXT: 4 L  dma.load dram=0x2000 sram=0x11000 rows=32 bytes=256
// CHECK-NEXT: 5 C  mm.matmul.f16 m=32 k=128 n=96 a=0x11000/128 b=0x0/96 out=0xd800/96:f16
func.func @main(%x: tensor<64x128xf32> {tsr.name = "x"}) -> (tensor<64x96xf32> {tsr.name = "y"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<128x96xf32> -> tensor<128x96xf32>
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 128 : i64, tn = 96 : i64},
    tsr.sram = {total = 77824, phases = ["load", "matmul", "store"], buffers = [
      {name = "b", slot = 0, bytes = 24576, offset = 0, live = array<i64: 0, 2>},
      {name = "b", slot = 1, bytes = 24576, offset = 24576, live = array<i64: 0, 2>},
      {name = "out", slot = 0, bytes = 6144, offset = 49152, live = array<i64: 0, 2>},
      {name = "out", slot = 1, bytes = 6144, offset = 55296, live = array<i64: 0, 2>},
      {name = "a", slot = 0, bytes = 8192, offset = 61440, live = array<i64: 0, 2>},
      {name = "a", slot = 1, bytes = 8192, offset = 69632, live = array<i64: 0, 2>}]}} : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32> loc("proj")
  return %y : tensor<64x96xf32>
}
