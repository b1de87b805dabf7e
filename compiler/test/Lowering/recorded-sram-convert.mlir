// An integer input's FP16 conversion takes its tiling and SRAM addresses
// from the decisions recorded on the function argument (tsr.tiling and
// tsr.sram, tsr-select-tiling and tsr-allocate-sram): here a hand-written
// 8 x 64 tiling of the [16, 64] view of a 4x256 mask, with the FP16 result
// slots placed first (0x0, 0x400) and the int32 input slots after them
// (0x800, 0x1000); the listing follows it. A plan that lacks a buffer the
// kernel needs is an error naming the kernel and the buffer.
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s
// RUN: sed -e 's/{name = "work", slot = 1, bytes = 1024, offset = 1024, live = array<i64: 0, 2>},//' %s | not tessera-translate --tsr-to-listing 2>&1 | FileCheck %s --check-prefix=MISSING

// CHECK: ; layer 0: mask (int32 to fp16)
// CHECK-NEXT: 0 L  dma.load dram=0x0 sram=0x800 rows=8 bytes=256
// CHECK-NEXT: 1 C  vec.copy.i32 rows=8 cols=64 a=0x800/64 out=0x0/64:f16
// CHECK-NEXT: 2 S  dma.store dram=0x1000 sram=0x0 rows=8 bytes=128
// CHECK-NEXT: 3 L  dma.load dram=0x800 sram=0x1000 rows=8 bytes=256
// CHECK-NEXT: 4 C  vec.copy.i32 rows=8 cols=64 a=0x1000/64 out=0x400/64:f16
// CHECK-NEXT: 5 S  dma.store dram=0x1400 sram=0x400 rows=8 bytes=128
// MISSING: convert 'mask (int32 to fp16)': the SRAM plan recorded in the IR (tsr.sram) has no buffer 'work[1]'
func.func @main(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {tr = 8 : i64, tc = 64 : i64},
    tsr.sram = {total = 6144, phases = ["load", "chain", "store"], buffers = [
      {name = "work", slot = 0, bytes = 1024, offset = 0, live = array<i64: 0, 2>},
      {name = "work", slot = 1, bytes = 1024, offset = 1024, live = array<i64: 0, 2>},
      {name = "x", slot = 0, bytes = 2048, offset = 2048, live = array<i64: 0, 2>},
      {name = "x", slot = 1, bytes = 2048, offset = 4096, live = array<i64: 0, 2>}]}}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}
