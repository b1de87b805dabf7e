// A matmul group whose bias the matrix unit adds (tsr-fold-bias): the A
// slots have row stride tk + 1 and their last column is filled with ones
// once (vec.fill, before the A load that waits for it; one slot here: the kernel has one A tile); the bias row goes
// after the B tile's rows in the B slot (one dma.load of the tile's bias
// columns); the product multiplies k = 32 + 1 and no vec.add of the bias
// follows: GELU and the residual add run on its output. The layernorm
// normalizes A in place with the same stride. (Same input as
// fused-matmul.mlir.)
// RUN: tessera-opt --tsr-fuse-epilogue --tsr-fuse-layernorm --tsr-fold-bias %s | tessera-translate --tsr-to-listing | FileCheck %s

// CHECK: ; layer 0: group_5
// CHECK-NEXT: vec.fill.f16 rows=16 cols=1 a=0x0/0 out=0xc0/33:f16 imm=1
// CHECK-NEXT: dma.load dram=0xd00 sram=0x0 rows=1 bytes=64
// CHECK-NEXT: dma.load dram=0xd40 sram=0x40 rows=1 bytes=64
// CHECK-NEXT: dma.load dram=0x0 sram=0x80 rows=16 bytes=64 dram_stride=64 sram_stride=66 deps=0
// CHECK-NEXT: dma.load dram=0x700 sram=0x4c0 rows=32 bytes=48
// CHECK-NEXT: dma.load dram=0xd80 sram=0xac0 rows=1 bytes=48
// CHECK-NEXT: dma.load dram=0x400 sram=0xe00 rows=16 bytes=48
// CHECK-NEXT: vec.layernorm.f16 rows=16 cols=32 a=0x80/33 b=0x0/0 beta=0x40 out=0x80/33:f16 imm=1e-05 deps=3
// CHECK-NEXT: mm.matmul.f16 m=16 k=33 n=24 a=0x80/33 b=0x4c0/24 out=0xb00/24:f16 deps=5
// CHECK-NEXT: vec.gelu.f16 rows=16 cols=24 a=0xb00/24 out=0xb00/24:f16
// CHECK-NEXT: vec.add.f16 rows=16 cols=24 a=0xb00/24 b=0xe00/24 out=0xb00/24:f16 deps=6
// CHECK-NEXT: dma.store dram=0xdc0 sram=0xb00 rows=16 bytes=48
// CHECK-NOT: ; layer

func.func @main(%x: tensor<1x16x32xf32> {tsr.name = "x"}, %r: tensor<1x16x24xf32> {tsr.name = "r"}) -> (tensor<1x16x24xf32> {tsr.name = "out"}) {
  %g = tsr.weight "gamma" dense<1.0> : tensor<32xf32> -> tensor<32xf32>
  %b = tsr.weight "beta" dense<0.0> : tensor<32xf32> -> tensor<32xf32>
  %w = tsr.weight "w" dense<0.5> : tensor<32x24xf32> -> tensor<32x24xf32>
  %c = tsr.weight "c" dense<0.25> : tensor<24xf32> -> tensor<24xf32>
  %n = tsr.layernorm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : tensor<1x16x32xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<1x16x32xf32>
  %m = tsr.matmul %n, %w : tensor<1x16x32xf32>, tensor<32x24xf32> -> tensor<1x16x24xf32>
  %s = tsr.add %m, %c : tensor<1x16x24xf32>, tensor<24xf32> -> tensor<1x16x24xf32>
  %y = tsr.gelu %s : tensor<1x16x24xf32>
  %o = tsr.add %r, %y : tensor<1x16x24xf32>, tensor<1x16x24xf32> -> tensor<1x16x24xf32>
  return %o : tensor<1x16x24xf32>
}
