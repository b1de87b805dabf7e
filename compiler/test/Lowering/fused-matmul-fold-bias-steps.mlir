// A folded bias (tsr-fold-bias) with K in two steps (K = 160, tk = 96):
// the first step multiplies 96 columns at the start of A slot 0 into the
// FP32 accumulator; the last step's 64 columns are loaded right-aligned in
// A slot 1 (sram 0x2180 + 32 columns = 0x21c0, row stride 97), next to the
// ones column vec.fill wrote at column 96 (0x2180 + 96 x 2 = 0x2240), and
// its 64 B rows right-aligned in B slot 1 (0x33c0) with the bias row after
// them (0x33c0 + 64 x 24 x 2 = 0x3fc0); the product multiplies k = 64 + 1
// from 0x21c0 and 0x33c0 and adds the accumulator. Two A slots are used,
// so both get their column of ones; each A load waits for its slot's fill.
// RUN: tessera-opt --tsr-fuse-epilogue --tsr-fold-bias %s | tessera-translate --tsr-to-listing | FileCheck %s

// CHECK: ; layer 0: group_3
// CHECK-NEXT: vec.fill.f16 rows=16 cols=1 a=0x0/0 out=0xc0/97:f16 imm=1
// CHECK-NEXT: vec.fill.f16 rows=16 cols=1 a=0x0/0 out=0x2240/97:f16 imm=1
// CHECK-NEXT: dma.load dram=0x0 sram=0x0 rows=16 bytes=192 dram_stride=320 sram_stride=194 deps=0
// CHECK-NEXT: dma.load dram=0x1400 sram=0xc40 rows=96 bytes=48
// CHECK-NEXT: mm.matmul.f16 m=16 k=96 n=24 a=0x0/97 b=0xc40/24 out=0x4300/24:f32 deps=3
// CHECK-NEXT: dma.load dram=0xc0 sram=0x21c0 rows=16 bytes=128 dram_stride=320 sram_stride=194 deps=1
// CHECK-NEXT: dma.load dram=0x2600 sram=0x33c0 rows=64 bytes=48
// CHECK-NEXT: dma.load dram=0x3200 sram=0x3fc0 rows=1 bytes=48
// CHECK-NEXT: mm.matmul.f16 m=16 k=65 n=24 a=0x21c0/97 b=0x33c0/24 out=0x1e80/24:f16 acc=0x4300/24:f32 deps=7
// CHECK-NEXT: vec.gelu.f16 rows=16 cols=24 a=0x1e80/24 out=0x1e80/24:f16
// CHECK-NEXT: dma.store dram=0x3240 sram=0x1e80 rows=16 bytes=48
// CHECK-NOT: vec.add

func.func @main(%x: tensor<16x160xf32> {tsr.name = "x"}) -> (tensor<16x24xf32> {tsr.name = "out"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<160x24xf32> -> tensor<160x24xf32>
  %c = tsr.weight "c" dense<0.25> : tensor<24xf32> -> tensor<24xf32>
  %m = tsr.matmul %x, %w : tensor<16x160xf32>, tensor<160x24xf32> -> tensor<16x24xf32>
  %s = tsr.add %m, %c : tensor<16x24xf32>, tensor<24xf32> -> tensor<16x24xf32>
  %y = tsr.gelu %s : tensor<16x24xf32>
  return %y : tensor<16x24xf32>
}
