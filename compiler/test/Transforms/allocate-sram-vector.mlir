// tsr-allocate-sram records the plan of each vector-family kernel for its
// recorded tiling (docs/lowering.md, "Decisions of the unfused kernels"):
// resident rows first (layernorm's gamma and beta, a bias row), then two
// ring slots of each tile operand, every buffer live over the whole loop,
// each at the next 64-byte-aligned offset. tsr-verify-sram proves them.
// RUN: tessera-opt %s --tsr-allocate-sram --tsr-verify-sram | FileCheck %s

// CHECK-LABEL: func.func @vector
func.func @vector(%x: tensor<16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<16xf32> {
  // 4x64 tiles: gamma, beta 128 B; x, out 512 B per slot.
  // CHECK: tsr.layernorm {{.*}}tsr.sram = {buffers = [{bytes = 128 : i64, live = array<i64: 0, 2>, name = "gamma", offset = 0 : i64, slot = 0 : i64}, {bytes = 128 : i64, live = array<i64: 0, 2>, name = "beta", offset = 128 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "x", offset = 256 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "x", offset = 768 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "out", offset = 1280 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "out", offset = 1792 : i64, slot = 1 : i64}], phases = ["load", "compute", "store"], total = 2304 : i64}
  %n = tsr.layernorm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32, tsr.tiling = {tr = 4 : i64, tc = 64 : i64}} : tensor<16x64xf32>, tensor<64xf32>, tensor<64xf32> -> tensor<16x64xf32>
  // A bias row (128 B, resident), then 8x32 tiles of x and out (512 B).
  // CHECK: tsr.add {{.*}}tsr.sram = {buffers = [{bytes = 128 : i64, live = array<i64: 0, 2>, name = "y", offset = 0 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "x", offset = 128 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "x", offset = 640 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "out", offset = 1152 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "out", offset = 1664 : i64, slot = 1 : i64}], phases = ["load", "compute", "store"], total = 2176 : i64}
  %a = tsr.add %n, %g {tsr.tiling = {tr = 8 : i64, tc = 32 : i64}} : tensor<16x64xf32>, tensor<64xf32> -> tensor<16x64xf32>
  // An activation: FP16 input tiles, FP32 work tiles the store reads.
  // CHECK: tsr.relu {{.*}}tsr.sram = {buffers = [{bytes = 512 : i64, live = array<i64: 0, 2>, name = "x", offset = 0 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 2>, name = "x", offset = 512 : i64, slot = 1 : i64}, {bytes = 1024 : i64, live = array<i64: 0, 2>, name = "work", offset = 1024 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 0, 2>, name = "work", offset = 2048 : i64, slot = 1 : i64}], phases = ["load", "chain", "store"], total = 3072 : i64}
  %r = tsr.relu %a {tsr.tiling = {tr = 4 : i64, tc = 64 : i64}} : tensor<16x64xf32>
  // A reduction: 8 whole rows in, 8 sums out per slot.
  // CHECK: tsr.reduce_sum {{.*}}tsr.sram = {buffers = [{bytes = 1024 : i64, live = array<i64: 0, 2>, name = "x", offset = 0 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 0, 2>, name = "x", offset = 1024 : i64, slot = 1 : i64}, {bytes = 16 : i64, live = array<i64: 0, 2>, name = "out", offset = 2048 : i64, slot = 0 : i64}, {bytes = 16 : i64, live = array<i64: 0, 2>, name = "out", offset = 2112 : i64, slot = 1 : i64}], phases = ["load", "reduce", "store"], total = 2176 : i64}
  %s = tsr.reduce_sum %r axes [1] {keepdims = false, tsr.tiling = {tr = 8 : i64, tc = 64 : i64}} : tensor<16x64xf32> -> tensor<16xf32>
  return %s : tensor<16xf32>
}
