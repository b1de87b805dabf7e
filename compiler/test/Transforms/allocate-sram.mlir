// tsr-allocate-sram records each fused group's SRAM plan as tsr.sram: every
// buffer (each ring slot on its own) with its offset, bytes and live range
// over the kernel's phases (docs/lowering.md, "SRAM allocation").
// RUN: tessera-opt %s -split-input-file --tsr-fuse-attention=sram-bytes=8192 --tsr-fuse-epilogue=sram-bytes=8192 --tsr-allocate-sram=sram-bytes=8192 --tsr-verify-sram=sram-bytes=8192 | FileCheck %s

// Attention (2 heads of 16, 16 query rows): the DMA rings (K, V, Q and the
// output tile, two slots each) are live in every phase and sit at 0..4096
// in the emitter's order; the FP32 scores follow; the scaled Q (scale ..
// scores) and the probabilities (softmax .. context) never live at the same
// time, so they share bytes 5120..5632. Total 5632 bytes, not 6144.
// CHECK-LABEL: func.func @attention
// CHECK: tsr.group
// CHECK-SAME: tsr.sram = {buffers = [
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 0, 6>, name = "k", offset = 0 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 0, 6>, name = "v", offset = 512 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 1024 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 0, 6>, name = "k", offset = 1536 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 0, 6>, name = "v", offset = 2048 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 2560 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 3072 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 3584 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 2, 3>, name = "qs", offset = 5120 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 1024 : i64, live = array<i64: 3, 4>, name = "s", offset = 4096 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 512 : i64, live = array<i64: 4, 5>, name = "p", offset = 5120 : i64, slot = 0 : i64}],
// CHECK-SAME: phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"], total = 5632 : i64}
// CHECK-SAME: tsr.tiling = {cycles = {{[0-9]+}} : i64, dram_bytes = {{[0-9]+}} : i64, sram_bytes = 5632 : i64, tq = 16 : i64}
func.func @attention(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  return %a : tensor<1x16x32xf32>
}

// -----

// A matmul with bias and residual (K = 96 in two steps of 48): the resident
// bias row, then two slots each of A, B, the output and residual tiles (all
// carried across the loop: nothing shares with them), then ONE FP32
// accumulator: only the compute queue writes and reads it, within one output
// tile, so a second slot would never be used. No two buffers share bytes.
// CHECK-LABEL: func.func @matmul
// CHECK: tsr.group
// CHECK-SAME: tsr.sram = {buffers = [
// CHECK-SAME: {bytes = 256 : i64, live = array<i64: 0, 5>, name = "bias", offset = 0 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "a", offset = 256 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 1152 : i64, live = array<i64: 1, 5>, name = "b", offset = 1792 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 384 : i64, live = array<i64: 1, 5>, name = "out", offset = 2944 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 384 : i64, live = array<i64: 1, 5>, name = "res", offset = 3328 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "a", offset = 3712 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 1152 : i64, live = array<i64: 1, 5>, name = "b", offset = 5248 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 384 : i64, live = array<i64: 1, 5>, name = "out", offset = 6400 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 384 : i64, live = array<i64: 1, 5>, name = "res", offset = 6784 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 768 : i64, live = array<i64: 3, 3>, name = "acc", offset = 7168 : i64, slot = 0 : i64}],
// CHECK-SAME: phases = ["prologue", "load", "layernorm", "matmul", "epilogue", "store"], total = 7936 : i64}
// CHECK-SAME: tsr.tiling = {cycles = {{[0-9]+}} : i64, dram_bytes = {{[0-9]+}} : i64, sram_bytes = 7936 : i64, tk = 48 : i64, tm = 16 : i64, tn = 12 : i64}
func.func @matmul(%x: tensor<1x64x96xf32>, %w: tensor<96x128xf32>, %c: tensor<128xf32>, %r: tensor<1x64x128xf32>) -> tensor<1x64x128xf32> {
  %m = tsr.matmul %x, %w : tensor<1x64x96xf32>, tensor<96x128xf32> -> tensor<1x64x128xf32>
  %s = tsr.add %m, %c : tensor<1x64x128xf32>, tensor<128xf32> -> tensor<1x64x128xf32>
  %o = tsr.add %s, %r : tensor<1x64x128xf32>, tensor<1x64x128xf32> -> tensor<1x64x128xf32>
  return %o : tensor<1x64x128xf32>
}

// -----

// Does not fire: no fused group (a bare matmul is its own unfused kernel,
// which places its buffers at emission).
// CHECK-LABEL: func.func @unfused
// CHECK-NOT: tsr.sram
// CHECK: tsr.matmul
func.func @unfused(%x: tensor<64x96xf32>, %w: tensor<96x128xf32>) -> tensor<64x128xf32> {
  %m = tsr.matmul %x, %w : tensor<64x96xf32>, tensor<96x128xf32> -> tensor<64x128xf32>
  return %m : tensor<64x128xf32>
}
