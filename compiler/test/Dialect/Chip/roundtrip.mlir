// The chip dialect prints what it parses (tensors, kernels, buffers, every
// instruction op and its tokens), and tessera-translate --chip-to-listing
// emits one instruction per op, with the layers, buffers and tensors as
// declared and each token operand as a dependency on its producer's index.
// RUN: tessera-opt %s | tessera-opt | FileCheck %s
// RUN: tessera-opt %s | tessera-opt | tessera-translate --chip-to-listing | FileCheck %s --check-prefix=LIST
// RUN: tessera-translate --chip-to-program %s -o %t.a
// RUN: tessera-opt %s | tessera-translate --chip-to-program -o %t.b
// RUN: cmp %t.a %t.b

// CHECK-LABEL: chip.program @main chip "reference" npus 2 sram 448 dram 320 {
// CHECK-NEXT: chip.tensor "x" input f16 [4, 8] at 0 bytes 64
// CHECK-NEXT: chip.tensor "w" weight f16 [8, 8] at 64 bytes 128 data dense<{{.*}}> : tensor<8x8xf16>
// CHECK-NEXT: chip.tensor "ids" input i32 [2] at 192 bytes 8
// CHECK-NEXT: chip.tensor "y" output f16 [4, 8] at 256 bytes 64
// CHECK-NEXT: %[[K:.+]]:2 = chip.kernel "/MatMul" {
// CHECK-NEXT: chip.buffer offset 0 bytes 64
// CHECK-NEXT: chip.buffer offset 64 bytes 128
// CHECK-NEXT: chip.buffer offset 192 bytes 256
// CHECK-NEXT: %[[A:.+]] = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
// CHECK-NEXT: %[[B:.+]] = chip.dma_load dram 64 stride 16 -> sram 64 stride 16 rows 8 x 16 on load npu 1
// CHECK-NEXT: %[[M:.+]] = chip.matmul f16 m 4 k 8 n 8 a 0 stride 8 b 64 stride 8 out 192 stride 8 f32 acc 192 stride 8 f32 accumulate transpose_b on compute after(%[[A]], %[[B]])
// CHECK-NEXT: %[[V:.+]] = chip.vec "vec.add" f32 -> f16 rows 4 cols 8 a 192 a_stride 8 b 64 out 256 out_stride 8 imm -2.500000e-01 bcast_row on compute after(%[[M]])
// CHECK-NEXT: %[[F:.+]] = chip.vec "vec.fill" f16 -> f32 rows 1 cols 4 out 384 on compute
// CHECK-NEXT: %[[S:.+]] = chip.dma_store sram 256 stride 16 -> dram 256 stride 16 rows 4 x 16 on store after(%[[V]])
// CHECK-NEXT: chip.yield %[[S]], %[[F]] : !chip.token, !chip.token
// CHECK-NEXT: } -> !chip.token, !chip.token
// CHECK-NEXT: chip.kernel "/Gather" {
// CHECK-NEXT: chip.buffer offset 0 bytes 8
// CHECK-NEXT: chip.buffer offset 64 bytes 32
// CHECK-NEXT: %[[I:.+]] = chip.dma_load dram 192 stride 8 -> sram 0 stride 8 rows 1 x 8 on load after(%[[K]]#1)
// CHECK-NEXT: chip.dma_gather table 64 rows 8 stride 16 index 0 -> sram 64 stride 16 rows 2 x 16 on load after(%[[I]], %[[K]]#0, %[[K]]#1)
// CHECK-NEXT: }

// LIST: ; npus: 2
// LIST: ;   weight   w : f16[8x8] @ dram 0x40 (128 bytes)
// LIST: ;   input    ids : i32[2] @ dram 0xc0 (8 bytes)
// LIST: ; sram buffers (5):
// LIST: ;   layer 0: sram 0xc0 (256 bytes)
// LIST: ;   layer 1: sram 0x40 (32 bytes)
// LIST: ; layer 0: /MatMul
// LIST-NEXT: 0 n0 L  dma.load dram=0x0 sram=0x0 rows=4
// LIST-NEXT: 1 n1 L  dma.load dram=0x40 sram=0x40 rows=8
// LIST-NEXT: 2 n0 C  mm.matmul.f16 m=4 k=8 n=8 a=0x0/8 b=0x40/8 out=0xc0/8:f32 acc=0xc0/8:f32 transpose_b deps=0,1
// LIST-NEXT: 3 n0 C  vec.add.f32 rows=4 cols=8 a=0xc0/8 b=0x40/0 out=0x100/8:f16 bcast=row deps=2
// LIST-NEXT: 4 n0 C  vec.fill.f16 rows=1 cols=4 a=0x0/0 out=0x180/0:f32 imm=0
// LIST-NEXT: 5 n0 S  dma.store dram=0x100 sram=0x100 rows=4 bytes=16 dram_stride=16 sram_stride=16 deps=3
// LIST: ; layer 1: /Gather
// LIST-NEXT: 6 n0 L  dma.load dram=0xc0 sram=0x0 rows=1 bytes=8 dram_stride=8 sram_stride=8 deps=4
// LIST-NEXT: 7 n0 L  dma.gather table=0x40 table_rows=8 idx=0x0 sram=0x40 rows=2 bytes=16 dram_stride=16 sram_stride=16 deps=6,5,4

chip.program @main chip "reference" npus 2 sram 448 dram 320 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.tensor "w" weight f16 [8, 8] at 64 bytes 128 data dense<0.5> : tensor<8x8xf16>
  chip.tensor "ids" input i32 [2] at 192 bytes 8
  chip.tensor "y" output f16 [4, 8] at 256 bytes 64
  %k:2 = chip.kernel "/MatMul" {
    chip.buffer offset 0 bytes 64
    chip.buffer offset 64 bytes 128
    chip.buffer offset 192 bytes 256
    %a = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
    %b = chip.dma_load dram 64 stride 16 -> sram 64 stride 16 rows 8 x 16 on load npu 1
    %m = chip.matmul f16 m 4 k 8 n 8 a 0 stride 8 b 64 stride 8 out 192 stride 8 f32 acc 192 stride 8 f32 accumulate transpose_b on compute after(%a, %b)
    %v = chip.vec "vec.add" f32 -> f16 rows 4 cols 8 a 192 a_stride 8 b 64 out 256 out_stride 8 imm -0.25 bcast_row on compute after(%m)
    %f = chip.vec "vec.fill" f16 -> f32 rows 1 cols 4 out 384 on compute
    %s = chip.dma_store sram 256 stride 16 -> dram 256 stride 16 rows 4 x 16 on store after(%v)
    chip.yield %s, %f : !chip.token, !chip.token
  } -> !chip.token, !chip.token
  chip.kernel "/Gather" {
    chip.buffer offset 0 bytes 8
    chip.buffer offset 64 bytes 32
    %i = chip.dma_load dram 192 stride 8 -> sram 0 stride 8 rows 1 x 8 on load after(%k#1)
    %g = chip.dma_gather table 64 rows 8 stride 16 index 0 -> sram 64 stride 16 rows 2 x 16 on load after(%i, %k#0, %k#1)
  }
}
