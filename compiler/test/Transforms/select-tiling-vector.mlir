// tsr-select-tiling records a tiling (tr, tc) and its modelled cost on every
// kernel of the vector family outside a group (docs/lowering.md, "Decisions
// of the unfused kernels"): the cost model's search for the kind, the
// lowest modelled latency among the tiles whose buffers fit. Row-wise ops
// (layernorm, softmax) and reductions take whole rows (tc = 768). A 16 KiB
// SRAM makes the search take smaller tiles at a higher modelled cost, the
// DRAM bytes unchanged (every element is read and written once); a bias
// row is loaded once (768 x 2 bytes more than the activation alone), a full
// second operand per tile. tsr-verify-tiling accepts what the selector
// chose.
// RUN: tessera-opt %s --tsr-select-tiling --tsr-verify-tiling | FileCheck %s
// RUN: tessera-opt %s --tsr-select-tiling=sram-bytes=16384 --tsr-verify-tiling=sram-bytes=16384 | FileCheck %s --check-prefix=SMALL

// CHECK-LABEL: func.func @vector
// SMALL-LABEL: func.func @vector
// CHECK: tsr.layernorm {{.*}}tsr.tiling = {cycles = 23524 : i64, dram_bytes = 789504 : i64, sram_bytes = 525312 : i64, tc = 768 : i64, tr = 85 : i64}
// SMALL: tsr.layernorm {{.*}}tsr.tiling = {cycles = 37054 : i64, dram_bytes = 789504 : i64, sram_bytes = 15360 : i64, tc = 768 : i64, tr = 2 : i64}
// CHECK: tsr.gelu {{.*}}tsr.tiling = {cycles = 23953 : i64, dram_bytes = 786432 : i64, sram_bytes = 442368 : i64, tc = 768 : i64, tr = 72 : i64}
// SMALL: tsr.gelu {{.*}}tsr.tiling = {cycles = 33470 : i64, dram_bytes = 786432 : i64, sram_bytes = 16384 : i64, tc = 32 : i64, tr = 64 : i64}
// CHECK: tsr.add {{.*}}tsr.tiling = {cycles = 34998 : i64, dram_bytes = 1179648 : i64, sram_bytes = 783360 : i64, tc = 768 : i64, tr = 85 : i64}
// SMALL: tsr.add {{.*}}tsr.tiling = {cycles = 46140 : i64, dram_bytes = 1179648 : i64, sram_bytes = 15360 : i64, tc = 32 : i64, tr = 40 : i64}
// CHECK: tsr.add {{.*}}tsr.tiling = {cycles = 23478 : i64, dram_bytes = 787968 : i64, sram_bytes = 523776 : i64, tc = 768 : i64, tr = 85 : i64}
// SMALL: tsr.add {{.*}}tsr.tiling = {cycles = 33936 : i64, dram_bytes = 787968 : i64, sram_bytes = 13824 : i64, tc = 768 : i64, tr = 2 : i64}
// CHECK: tsr.softmax {{.*}}tsr.tiling = {cycles = 23432 : i64, dram_bytes = 786432 : i64, sram_bytes = 522240 : i64, tc = 768 : i64, tr = 85 : i64}
// SMALL: tsr.softmax {{.*}}tsr.tiling = {cycles = 36962 : i64, dram_bytes = 786432 : i64, sram_bytes = 12288 : i64, tc = 768 : i64, tr = 2 : i64}
// CHECK: tsr.relu {{.*}}tsr.tiling = {cycles = 23436 : i64, dram_bytes = 786432 : i64, sram_bytes = 786432 : i64, tc = 64 : i64, tr = 1024 : i64}
// SMALL: tsr.relu {{.*}}tsr.tiling = {cycles = 36949 : i64, dram_bytes = 786432 : i64, sram_bytes = 16128 : i64, tc = 64 : i64, tr = 21 : i64}
// CHECK: tsr.reduce_sum {{.*}}tsr.tiling = {cycles = 12637 : i64, dram_bytes = 393728 : i64, sram_bytes = 246144 : i64, tc = 768 : i64, tr = 80 : i64}
// SMALL: tsr.reduce_sum {{.*}}tsr.tiling = {cycles = 16032 : i64, dram_bytes = 393728 : i64, sram_bytes = 15488 : i64, tc = 768 : i64, tr = 5 : i64}
func.func @vector(%x: tensor<256x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %y: tensor<256x768xf32>) -> tensor<256xf32> {
  %n = tsr.layernorm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : tensor<256x768xf32>, tensor<768xf32>, tensor<768xf32> -> tensor<256x768xf32>
  %e = tsr.gelu %n : tensor<256x768xf32>
  %r = tsr.add %e, %y : tensor<256x768xf32>, tensor<256x768xf32> -> tensor<256x768xf32>
  %a = tsr.add %r, %g : tensor<256x768xf32>, tensor<768xf32> -> tensor<256x768xf32>
  %s = tsr.softmax %a {axis = -1 : i64} : tensor<256x768xf32>
  %u = tsr.relu %s : tensor<256x768xf32>
  %m = tsr.reduce_sum %u axes [1] {keepdims = false} : tensor<256x768xf32> -> tensor<256xf32>
  return %m : tensor<256xf32>
}
