// A projection and its bias on the reference chip: the exact program, with
// every dependency token (RAW on SRAM and DRAM, WAR on reused SRAM).
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// CHECK: ; chip: reference
// CHECK: ; 8 instructions, 2 layers, 5 tensors
// CHECK:      input    x : f16[64x128] @ dram 0x0 (16384 bytes)
// CHECK-NEXT: weight   w : f16[128x96] @ dram 0x4000 (24576 bytes)
// CHECK-NEXT: scratch  proj : f16[64x96] @ dram 0xa000 (12288 bytes)
// CHECK-NEXT: weight   b : f16[96] @ dram 0xd000 (192 bytes)
// CHECK-NEXT: output   y : f16[64x96] @ dram 0xd0c0 (12288 bytes)

// The whole GEMM is one tile: A and B loaded, one product, one store.
// CHECK-LABEL: ; layer 0: proj
// CHECK-NEXT: 0 L  dma.load dram=0x0 sram=0x0 rows=64 bytes=256 dram_stride=256 sram_stride=256{{$}}
// CHECK-NEXT: 1 L  dma.load dram=0x4000 sram=0x4000 rows=128 bytes=192
// CHECK-NEXT: 2 C  mm.matmul.f16 m=64 k=128 n=96 a=0x0/128 b=0x4000/96 out=0xa000/96:f16 deps=1{{$}}
// CHECK-NEXT: 3 S  dma.store dram=0xa000 sram=0xa000 rows=64 bytes=192 {{.*}} deps=2{{$}}

// The bias row is loaded once into the bytes the product read (WAR on 2);
// the activation waits for the store that wrote it (RAW on 3).
// CHECK-LABEL: ; layer 1: bias
// CHECK-NEXT: 4 L  dma.load dram=0xd000 sram=0x0 rows=1 bytes=192 {{.*}} deps=2{{$}}
// CHECK-NEXT: 5 L  dma.load dram=0xa000 sram=0xc0 rows=64 bytes=192 {{.*}} deps=2,3{{$}}
// CHECK-NEXT: 6 C  vec.add.f16 rows=64 cols=96 a=0xc0/96 b=0x0/96 out=0x60c0/96:f16 bcast=row deps=5{{$}}
// CHECK-NEXT: 7 S  dma.store dram=0xd0c0 sram=0x60c0 rows=64 bytes=192 {{.*}} deps=6{{$}}

func.func @main(%x: tensor<64x128xf32> {tsr.name = "x"}) -> (tensor<64x96xf32> {tsr.name = "y"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<128x96xf32> -> tensor<128x96xf32>
  %b = tsr.weight "b" dense<1.0> : tensor<96xf32> -> tensor<96xf32>
  %0 = tsr.matmul %x, %w : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32> loc("proj")
  %1 = tsr.add %b, %0 : tensor<96xf32>, tensor<64x96xf32> -> tensor<64x96xf32> loc("bias")
  return %1 : tensor<64x96xf32>
}
