// A projection and its bias on the reference chip: the exact program, with
// every dependency token (RAW on SRAM and DRAM, WAR on reused SRAM).
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// CHECK: ; chip: reference
// CHECK: ; 14 instructions, 2 layers, 5 tensors
// CHECK:      input    x : f16[64x128] @ dram 0x0 (16384 bytes)
// CHECK-NEXT: weight   w : f16[128x96] @ dram 0x4000 (24576 bytes)
// CHECK-NEXT: scratch  proj : f16[64x96] @ dram 0xa000 (12288 bytes)
// CHECK-NEXT: weight   b : f16[96] @ dram 0xd000 (192 bytes)
// CHECK-NEXT: output   y : f16[64x96] @ dram 0xd0c0 (12288 bytes)

// The search's tiling (cost::searchGemm; no tsr.tiling in this module, so
// the code generator runs it): 64x96x96 tiles, K = 128 in two steps so the
// first product starts after a 96-column slice of A. The first step writes
// the FP32 accumulator, the second adds it and writes the FP16 output tile,
// which one store drains.
// CHECK-LABEL: ; layer 0: proj
// CHECK-NEXT: 0 L  dma.load dram=0x0 sram=0x0 rows=64 bytes=192 dram_stride=256 sram_stride=192{{$}}
// CHECK-NEXT: 1 L  dma.load dram=0x4000 sram=0x3000 rows=96 bytes=192
// CHECK-NEXT: 2 C  mm.matmul.f16 m=64 k=96 n=96 a=0x0/96 b=0x3000/96 out=0xa800/96:f32 deps=1{{$}}
// CHECK-NEXT: 3 L  dma.load dram=0xc0 sram=0x10800 rows=64 bytes=64 dram_stride=256 sram_stride=64{{$}}
// CHECK-NEXT: 4 L  dma.load dram=0x8800 sram=0x13800 rows=32 bytes=192
// CHECK-NEXT: 5 C  mm.matmul.f16 m=64 k=32 n=96 a=0x10800/32 b=0x13800/96 out=0x7800/96:f16 acc=0xa800/96:f32 deps=4{{$}}
// CHECK-NEXT: 6 S  dma.store dram=0xa000 sram=0x7800 rows=64 bytes=192 {{.*}} deps=5{{$}}

// The bias row is loaded once into the bytes the first product read (WAR
// on 2); the activation, in two row tiles of 32 (the vector search: the
// second tile's load overlaps the first's add and store), waits for the
// store that wrote it (RAW on 6).
// CHECK-LABEL: ; layer 1: bias
// CHECK-NEXT: 7 L  dma.load dram=0xd000 sram=0x0 rows=1 bytes=192 {{.*}} deps=2{{$}}
// CHECK-NEXT: 8 L  dma.load dram=0xa000 sram=0xc0 rows=32 bytes=192 {{.*}} deps=2,6{{$}}
// CHECK-NEXT: 9 C  vec.add.f16 rows=32 cols=96 a=0xc0/96 b=0x0/96 out=0x30c0/96:f16 bcast=row deps=8{{$}}
// CHECK-NEXT: 10 S dma.store dram=0xd0c0 sram=0x30c0 rows=32 bytes=192 {{.*}} deps=9{{$}}
// CHECK-NEXT: 11 L dma.load dram=0xb800 sram=0x18c0 rows=32 bytes=192 {{.*}} deps=2,6{{$}}
// CHECK-NEXT: 12 C vec.add.f16 rows=32 cols=96 a=0x18c0/96 b=0x0/96 out=0x48c0/96:f16 bcast=row deps=11{{$}}
// CHECK-NEXT: 13 S dma.store dram=0xe8c0 sram=0x48c0 rows=32 bytes=192 {{.*}} deps=12{{$}}

func.func @main(%x: tensor<64x128xf32> {tsr.name = "x"}) -> (tensor<64x96xf32> {tsr.name = "y"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<128x96xf32> -> tensor<128x96xf32>
  %b = tsr.weight "b" dense<1.0> : tensor<96xf32> -> tensor<96xf32>
  %0 = tsr.matmul %x, %w : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32> loc("proj")
  %1 = tsr.add %b, %0 : tensor<96xf32>, tensor<64x96xf32> -> tensor<64x96xf32> loc("bias")
  return %1 : tensor<64x96xf32>
}
