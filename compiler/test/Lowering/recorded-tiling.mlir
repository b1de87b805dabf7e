// The code generator emits the tiling tsr-select-tiling recorded (here
// written by hand): 32x128x96 tiles make two row tiles of the 64x128x96
// product, each one whole-K product and one store, where the search alone
// would have chosen 64x96x96 (Lowering/matmul-bias.mlir). A recorded tile
// that is illegal on the chip (larger than the product) is searched again.
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// CHECK-LABEL: ; layer 0: proj
// CHECK-NEXT: 0 L  dma.load dram=0x0 sram=0x0 rows=32 bytes=256
// CHECK-NEXT: 1 L  dma.load dram=0x4000 sram={{.*}} rows=128 bytes=192
// CHECK-NEXT: 2 C  mm.matmul.f16 m=32 k=128 n=96
// CHECK-NEXT: 3 S  dma.store dram=0xa000 {{.*}} rows=32 bytes=192
// CHECK-NEXT: 4 L  dma.load dram=0x2000 {{.*}} rows=32 bytes=256
// CHECK-NEXT: 5 C  mm.matmul.f16 m=32 k=128 n=96
// CHECK-NEXT: 6 S  dma.store dram=0xb800 {{.*}} rows=32 bytes=192
// CHECK-LABEL: ; layer 1: illegal
// CHECK-NEXT: 7 L  dma.load {{.*}} rows=64 bytes=192
// CHECK-NEXT: 8 L  dma.load {{.*}} rows=96 bytes=192
// CHECK-NEXT: 9 C  mm.matmul.f16 m=64 k=96 n=96

func.func @main(%x: tensor<64x128xf32> {tsr.name = "x"}) -> (tensor<64x96xf32> {tsr.name = "y"}, tensor<64x96xf32> {tsr.name = "z"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<128x96xf32> -> tensor<128x96xf32>
  %0 = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 128 : i64, tn = 96 : i64}} : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32> loc("proj")
  %1 = tsr.matmul %x, %w {tsr.tiling = {tm = 128 : i64, tk = 128 : i64, tn = 96 : i64}} : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32> loc("illegal")
  return %0, %1 : tensor<64x96xf32>, tensor<64x96xf32>
}
