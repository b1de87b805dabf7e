// tsr-select-tiling records the cost model's decision on the movement and
// CNN ops (docs/lowering.md, "The movement and CNN kernels' decisions"):
// a conv's im2col band (cb, toh) and its GEMM tile, a pool's band, a global
// average's GEMM tile, the copies' (tr, tc) (a concat: one per input), the
// gather's ids per tile, the where's tile; tsr-verify-tiling accepts them,
// tsr-allocate-sram records each kernel's plan and tsr-verify-sram proves
// it. With 1 KiB of SRAM the conv's smallest band does not fit.
// RUN: tessera-opt %s --tsr-select-tiling --tsr-verify-tiling --tsr-allocate-sram --tsr-verify-sram | FileCheck %s
// RUN: not tessera-opt %s --tsr-select-tiling=sram-bytes=1024 2>&1 | FileCheck %s --check-prefix=NOFIT

// NOFIT: error: loc("conv"): 'tsr.conv' op conv 'conv': no tiling of the im2col kernel fits 1024 bytes of SRAM; the smallest needs 1536 bytes

// The conv: 2 of the 3 channels by all 16 output rows per band: staged rows
// 2 x 32 x 32 x 2 = 4096 bytes, tiles 2 x 9 x 16 x 16 x 2 = 9216, the ones
// row 256 x 2 = 512; the 16 x 28 x 256 GEMM in 16 x 28 x 192 tiles (A
// 16 x 28 x 2 = 896 bytes, B 28 x 192 x 2 = 10752, the output 6144 per
// slot, one K step: no accumulator). The layer's plan holds both kernels
// (im2col.*, then gemm.*, each live over its own kernel's phases, each from
// offset 0); its total is the recorded sram_bytes.
// CHECK-LABEL: func.func @conv
// CHECK: tsr.conv {{.*}}tsr.sram = {buffers = [{bytes = 4096 : i64, live = array<i64: 0, 2>, name = "im2col.stage", offset = 0 : i64, slot = 0 : i64}, {bytes = 4096 : i64, live = array<i64: 0, 2>, name = "im2col.stage", offset = 4096 : i64, slot = 1 : i64}, {bytes = 9216 : i64, live = array<i64: 0, 2>, name = "im2col.tile", offset = 8192 : i64, slot = 0 : i64}, {bytes = 9216 : i64, live = array<i64: 0, 2>, name = "im2col.tile", offset = 17408 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "im2col.ones", offset = 26624 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 896 : i64, live = array<i64: 3, 5>, name = "gemm.a", offset = 0 : i64, slot = 0 : i64}, {bytes = 10752 : i64, live = array<i64: 3, 5>, name = "gemm.b", offset = 896 : i64, slot = 0 : i64}, {bytes = 6144 : i64, live = array<i64: 3, 5>, name = "gemm.out", offset = 11648 : i64, slot = 0 : i64}, {bytes = 896 : i64, live = array<i64: 3, 5>, name = "gemm.a", offset = 17792 : i64, slot = 1 : i64}, {bytes = 10752 : i64, live = array<i64: 3, 5>, name = "gemm.b", offset = 18688 : i64, slot = 1 : i64}, {bytes = 6144 : i64, live = array<i64: 3, 5>, name = "gemm.out", offset = 29440 : i64, slot = 1 : i64}],
// CHECK-SAME: phases = ["im2col:load", "im2col:gather", "im2col:store", "gemm:load", "gemm:matmul", "gemm:store"], total = 35584 : i64}, tsr.tiling = {cb = 2 : i64, cycles = 3568 : i64, dram_bytes = 43904 : i64, sram_bytes = 35584 : i64, tk = 28 : i64, tm = 16 : i64, tn = 192 : i64, toh = 16 : i64}}

// CHECK-LABEL: func.func @pool
// CHECK: tsr.maxpool {{.*}}name = "tap", offset = 43008 : i64{{.*}}name = "acc", offset = 51200 : i64{{.*}}total = 59392 : i64}, tsr.tiling = {cb = 16 : i64, cycles = 5367 : i64, dram_bytes = 41984 : i64, sram_bytes = 59392 : i64, toh = 8 : i64}}
// CHECK-LABEL: func.func @gap
// CHECK: tsr.avgpool {{.*}}tsr.tiling = {cycles = 1335 : i64, dram_bytes = 6498 : i64, sram_bytes = 13056 : i64, tk = 49 : i64, tm = 64 : i64, tn = 1 : i64}}
// CHECK-LABEL: func.func @transpose
// CHECK: tsr.transpose %{{.*}}, [0, 2, 1] {{.*}}name = "out", offset = 12288 : i64, slot = 1 : i64}], phases = ["load", "transpose", "store"], total = 16384 : i64}, tsr.tiling = {cycles = 1786 : i64, dram_bytes = 32768 : i64, sram_bytes = 16384 : i64, tc = 32 : i64, tr = 64 : i64}}
// CHECK: tsr.transpose %{{.*}}, [1, 0, 2] {{.*}}phases = ["load", "store"], total = 8192 : i64}, tsr.tiling = {cycles = 2226 : i64, dram_bytes = 32768 : i64, sram_bytes = 8192 : i64, tc = 32 : i64, tr = 64 : i64}}
// A transpose that only moves an axis of extent 1 has no kernel.
// CHECK: tsr.transpose %{{.*}}, [1, 0, 2] : tensor<1x8x4xf32>
// CHECK-LABEL: func.func @slice_concat
// CHECK: tsr.slice {{.*}}tsr.tiling = {cycles = 648 : i64, dram_bytes = 2048 : i64, sram_bytes = 1024 : i64, tc = 32 : i64, tr = 8 : i64}}
// The concat's two copies share their bytes (each live over its own copy).
// CHECK: tsr.concat {{.*}}name = "in1.buf", offset = 0 : i64, slot = 0 : i64}{{.*}}total = 1024 : i64}, tsr.tiling = {cycles = 1296 : i64, dram_bytes = 4096 : i64, sram_bytes = 1024 : i64, tc0 = 32 : i64, tc1 = 32 : i64, tr0 = 8 : i64, tr1 = 8 : i64}}
// CHECK-LABEL: func.func @mask
// CHECK: tsr.embedding {{.*}}total = 4224 : i64}, tsr.tiling = {cycles = 1028 : i64, dram_bytes = 4160 : i64, sram_bytes = 4224 : i64, tr = 16 : i64}}
// CHECK: tsr.expand {{.*}}tsr.tiling = {cycles = 2416 : i64, dram_bytes = 256 : i64, sram_bytes = 128 : i64, tc = 16 : i64, tr = 1 : i64}}
// CHECK: tsr.where {{.*}}tsr.tiling = {cycles = 633 : i64, dram_bytes = 512 : i64, sram_bytes = 1024 : i64, tc = 64 : i64, tr = 1 : i64}}

func.func @conv(%x: tensor<1x3x32x32xf32>) -> tensor<1x16x16x16xf32> {
  %w = tsr.weight "w" dense<0.5> : tensor<16x3x3x3xf32> -> tensor<16x3x3x3xf32>
  %b = tsr.weight "b" dense<0.5> : tensor<16xf32> -> tensor<16xf32>
  %y = tsr.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32> -> tensor<1x16x16x16xf32> loc("conv")
  return %y : tensor<1x16x16x16xf32>
}
func.func @pool(%x: tensor<1x16x32x32xf32>) -> tensor<1x16x16x16xf32> {
  %y = tsr.maxpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x16x32x32xf32> -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}
func.func @gap(%x: tensor<1x64x7x7xf32>) -> tensor<1x64x1x1xf32> {
  %y = tsr.avgpool %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false} : tensor<1x64x7x7xf32> -> tensor<1x64x1x1xf32>
  return %y : tensor<1x64x1x1xf32>
}
func.func @transpose(%x: tensor<4x64x32xf32>, %z: tensor<1x8x4xf32>) -> (tensor<4x32x64xf32>, tensor<64x4x32xf32>, tensor<8x1x4xf32>) {
  %t = tsr.transpose %x, [0, 2, 1] : tensor<4x64x32xf32> -> tensor<4x32x64xf32>
  %h = tsr.transpose %x, [1, 0, 2] : tensor<4x64x32xf32> -> tensor<64x4x32xf32>
  %r = tsr.transpose %z, [1, 0, 2] : tensor<1x8x4xf32> -> tensor<8x1x4xf32>
  return %t, %h, %r : tensor<4x32x64xf32>, tensor<64x4x32xf32>, tensor<8x1x4xf32>
}
func.func @slice_concat(%x: tensor<16x96xf32>, %y: tensor<16x32xf32>) -> tensor<16x64xf32> {
  %s = tsr.slice %x offsets [0, 32] steps [1, 1] : tensor<16x96xf32> -> tensor<16x32xf32>
  %c = tsr.concat %s, %y {axis = 1 : i64} : tensor<16x32xf32>, tensor<16x32xf32> -> tensor<16x64xf32>
  return %c : tensor<16x64xf32>
}
func.func @mask(%t: tensor<100x64xf32>, %ids: tensor<1x16xf32>, %c: tensor<4x16xf32>, %a: tensor<4x16xf32>, %m: tensor<1x16xf32>) -> (tensor<1x16x64xf32>, tensor<4x16xf32>) {
  %e = tsr.embedding %t, %ids : tensor<100x64xf32>, tensor<1x16xf32> -> tensor<1x16x64xf32>
  %x = tsr.expand %m : tensor<1x16xf32> -> tensor<4x16xf32>
  %w = tsr.where %c, %a, %x : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  return %e, %w : tensor<1x16x64xf32>, tensor<4x16xf32>
}
