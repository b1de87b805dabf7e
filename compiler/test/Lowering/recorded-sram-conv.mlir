// A conv's GEMMs take their SRAM addresses from the layer's plan recorded
// on the op (tsr.sram, tsr-allocate-sram: the im2col kernel's buffers
// `im2col.*`, then one group's GEMM's `gemm.*`, each kernel live over its
// own phases, so both start at offset 0). Here a hand-written plan of the
// 16 x 28 x 256 GEMM (recorded tile 16 x 28 x 192) puts the output slots
// first (0x0, 0x1800), B's after them (0x3000, 0x5a00) and A's last
// (0x8400, 0x8780), while the im2col buffers keep the allocator's offsets;
// the listing follows it. A plan without a GEMM buffer the kernel needs is
// an error naming the op and the buffer.
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s
// RUN: sed -e '/name = "gemm.out", slot = 1/d' %s | not tessera-translate --tsr-to-listing 2>&1 | FileCheck %s --check-prefix=MISSING

// CHECK: ; layer 0: conv
// CHECK: dma.store {{.*}} sram=0x6800 rows=1 bytes=512
// CHECK: dma.load {{.*}} sram=0x8400 rows=16 bytes=56
// CHECK-NEXT: dma.load {{.*}} sram=0x3000 rows=28 bytes=384
// CHECK-NEXT: mm.matmul.f16 m=16 k=28 n=192 a=0x8400/28 b=0x3000/192 out=0x0/192:f16
// CHECK-NEXT: dma.store {{.*}} sram=0x0 rows=16 bytes=384
// CHECK-NEXT: dma.load {{.*}} sram=0x5a00 rows=28 bytes=128
// CHECK-NEXT: mm.matmul.f16 m=16 k=28 n=64 a=0x8400/28 b=0x5a00/64 out=0x1800/64:f16
// MISSING: conv 'conv': the SRAM plan recorded in the IR (tsr.sram) has no buffer 'gemm.out[1]'
func.func @main(%x: tensor<1x3x32x32xf32> {tsr.name = "x"}) -> (tensor<1x16x16x16xf32> {tsr.name = "y"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<16x3x3x3xf32> -> tensor<16x3x3x3xf32>
  %b = tsr.weight "b" dense<0.25> : tensor<16xf32> -> tensor<16xf32>
  %y = tsr.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, tsr.tiling = {cb = 2 : i64, toh = 16 : i64, tm = 16 : i64, tk = 28 : i64, tn = 192 : i64},
    tsr.sram = {total = 35584, phases = ["im2col:load", "im2col:gather", "im2col:store", "gemm:load", "gemm:matmul", "gemm:store"], buffers = [
      {name = "im2col.stage", slot = 0, bytes = 4096, offset = 0, live = array<i64: 0, 2>},
      {name = "im2col.stage", slot = 1, bytes = 4096, offset = 4096, live = array<i64: 0, 2>},
      {name = "im2col.tile", slot = 0, bytes = 9216, offset = 8192, live = array<i64: 0, 2>},
      {name = "im2col.tile", slot = 1, bytes = 9216, offset = 17408, live = array<i64: 0, 2>},
      {name = "im2col.ones", slot = 0, bytes = 512, offset = 26624, live = array<i64: 0, 2>},
      {name = "gemm.out", slot = 0, bytes = 6144, offset = 0, live = array<i64: 3, 5>},
      {name = "gemm.out", slot = 1, bytes = 6144, offset = 6144, live = array<i64: 3, 5>},
      {name = "gemm.b", slot = 0, bytes = 10752, offset = 12288, live = array<i64: 3, 5>},
      {name = "gemm.b", slot = 1, bytes = 10752, offset = 23040, live = array<i64: 3, 5>},
      {name = "gemm.a", slot = 0, bytes = 896, offset = 33792, live = array<i64: 3, 5>},
      {name = "gemm.a", slot = 1, bytes = 896, offset = 34688, live = array<i64: 3, 5>}]}} : tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32> -> tensor<1x16x16x16xf32> loc("conv")
  return %y : tensor<1x16x16x16xf32>
}
