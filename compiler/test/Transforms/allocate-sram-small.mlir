// Falls back when SRAM is too small: the groups were fused and tiled for
// 8192 bytes; tsr-allocate-sram runs for a smaller SRAM. A recorded tile
// whose plan does not fit is chosen again by the cost model (a remark says
// so, tsr.tiling is rewritten) and the plan is for the new tile; when not
// even the smallest tile fits, an error names the group and the bytes.
// RUN: tessera-opt %s -split-input-file --tsr-fuse-attention=sram-bytes=8192 --tsr-fuse-epilogue=sram-bytes=8192 --tsr-allocate-sram=sram-bytes=4000 --tsr-verify-sram=sram-bytes=4000 2>&1 | FileCheck %s
// RUN: not tessera-opt %s -split-input-file --tsr-fuse-attention=sram-bytes=8192 --tsr-fuse-epilogue=sram-bytes=8192 --tsr-allocate-sram=sram-bytes=1000 2>&1 | FileCheck %s --check-prefix=NOFIT

// The remarks (stderr) come before the modules.
// CHECK: remark: group (attention): the recorded tile tq = 16 needs 5632 bytes of SRAM, the budget is 4000; tile chosen again: tq = 8
// CHECK: remark: group (matmul): the recorded tiling 16x48x12 needs 7936 bytes of SRAM, the budget is 4000; tile chosen again: [[TM:[0-9]+]]x[[TK:[0-9]+]]x[[TN:[0-9]+]]

// Attention: 16 query rows need 5632 bytes; 8 rows need 3840 (K, V, Q and
// output rings 3072, scores 512, probabilities 256 shared with the scaled Q).
// CHECK-LABEL: func.func @attention
// CHECK: tsr.group
// CHECK-SAME: total = 3840 : i64}, tsr.tiling = {cycles = {{[0-9]+}} : i64, dram_bytes = {{[0-9]+}} : i64, sram_bytes = 3840 : i64, tq = 8 : i64}
// NOFIT: error: 'tsr.group' op group (attention): no query tile fits 1000 bytes of SRAM; 8 rows need 3840 bytes
func.func @attention(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  return %a : tensor<1x16x32xf32>
}

// -----

// Matmul with bias and residual: the 16x48x12 tile (7936 bytes) is replaced
// by one that fits 4000 bytes.
// CHECK-LABEL: func.func @matmul
// CHECK: tsr.group
// CHECK-SAME: tsr.tiling = {cycles = {{[0-9]+}} : i64, dram_bytes = {{[0-9]+}} : i64, sram_bytes = {{[0-9]+}} : i64, tk = [[TK]] : i64, tm = [[TM]] : i64, tn = [[TN]] : i64}
// NOFIT: error: 'tsr.group' op group (matmul): no tiling of the 64x96x128 product fits 1000 bytes of SRAM; the smallest needs 2432 bytes
func.func @matmul(%x: tensor<1x64x96xf32>, %w: tensor<96x128xf32>, %c: tensor<128xf32>, %r: tensor<1x64x128xf32>) -> tensor<1x64x128xf32> {
  %m = tsr.matmul %x, %w : tensor<1x64x96xf32>, tensor<96x128xf32> -> tensor<1x64x128xf32>
  %s = tsr.add %m, %c : tensor<1x64x128xf32>, tensor<128xf32> -> tensor<1x64x128xf32>
  %o = tsr.add %s, %r : tensor<1x64x128xf32>, tensor<1x64x128xf32> -> tensor<1x64x128xf32>
  return %o : tensor<1x64x128xf32>
}
