// A tsr.group of kind "matmul" is one kernel: the resident bias, gamma and
// beta rows are loaded once; the A row tile (whole rows of K) is normalized
// in place by the vector unit before the product; the bias (row broadcast),
// GELU and residual are applied in place to the FP16 output tile; only the
// result is stored. No scratch tensor holds the normalized input or the
// product. (tessera-opt does not print locations, so the layer is named by
// the op: group_5.)
// RUN: tessera-opt --tsr-fuse-epilogue --tsr-fuse-layernorm %s | tessera-translate --tsr-to-listing | FileCheck %s

// CHECK-NOT: scratch
// CHECK: ; layer 0: group_5
// CHECK-NEXT: dma.load dram=0xd80 sram=0x0 rows=1 bytes=48
// CHECK-NEXT: dma.load dram=0xd00 sram=0x40 rows=1 bytes=64
// CHECK-NEXT: dma.load dram=0xd40 sram=0x80 rows=1 bytes=64
// CHECK-NEXT: dma.load dram=0x0 sram=0xc0 rows=16 bytes=64
// CHECK-NEXT: dma.load dram=0x700 sram=0x4c0 rows=32 bytes=48
// CHECK-NEXT: dma.load dram=0x400 sram=0xdc0 rows=16 bytes=48
// CHECK-NEXT: vec.layernorm.f16 rows=16 cols=32 a=0xc0/32 b=0x40/0 beta=0x80 out=0xc0/32:f16 imm=1e-05
// CHECK-NEXT: mm.matmul.f16 m=16 k=32 n=24 a=0xc0/32 b=0x4c0/24 out=0xac0/24:f16
// CHECK-NEXT: vec.add.f16 rows=16 cols=24 a=0xac0/24 b=0x0/24 out=0xac0/24:f16 bcast=row
// CHECK-NEXT: vec.gelu.f16 rows=16 cols=24 a=0xac0/24 out=0xac0/24:f16
// CHECK-NEXT: vec.add.f16 rows=16 cols=24 a=0xac0/24 b=0xdc0/24 out=0xac0/24:f16
// CHECK-NEXT: dma.store dram=0xdc0 sram=0xac0 rows=16 bytes=48
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
