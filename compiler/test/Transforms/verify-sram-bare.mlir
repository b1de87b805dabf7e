// tsr-verify-sram proves the plan recorded on a bare kernel (here a
// tsr.matmul with a recorded 32x128x96 tile of a 64x128x96 product: one K
// step, so A 8192 B, B 24576 B and the output 6144 B per slot, no
// accumulator): two live buffers sharing a byte, a buffer smaller than the
// recorded tile needs, a buffer past the SRAM (32 MiB on the reference
// chip), a missing buffer.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-sram

// The allocator's plan passes.
func.func @ok(%x: tensor<64x128xf32>, %w: tensor<128x96xf32>) -> tensor<64x96xf32> {
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 128 : i64, tn = 96 : i64},
    tsr.sram = {total = 77824, phases = ["load", "matmul", "store"], buffers = [
      {name = "a", slot = 0, bytes = 8192, offset = 0, live = array<i64: 0, 2>},
      {name = "b", slot = 0, bytes = 24576, offset = 8192, live = array<i64: 0, 2>},
      {name = "out", slot = 0, bytes = 6144, offset = 32768, live = array<i64: 0, 2>},
      {name = "a", slot = 1, bytes = 8192, offset = 38912, live = array<i64: 0, 2>},
      {name = "b", slot = 1, bytes = 24576, offset = 47104, live = array<i64: 0, 2>},
      {name = "out", slot = 1, bytes = 6144, offset = 71680, live = array<i64: 0, 2>}]}} : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32>
  return %y : tensor<64x96xf32>
}

// -----

// The second A slot moved onto the first: both are live in every phase.
func.func @overlap(%x: tensor<64x128xf32>, %w: tensor<128x96xf32>) -> tensor<64x96xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': buffers 'a[0]' [0, 8192) and 'a[1]' [4096, 12288) overlap while both are live (phase 'load')}}
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 128 : i64, tn = 96 : i64},
    tsr.sram = {total = 77824, phases = ["load", "matmul", "store"], buffers = [
      {name = "a", slot = 0, bytes = 8192, offset = 0, live = array<i64: 0, 2>},
      {name = "b", slot = 0, bytes = 24576, offset = 8192, live = array<i64: 0, 2>},
      {name = "out", slot = 0, bytes = 6144, offset = 32768, live = array<i64: 0, 2>},
      {name = "a", slot = 1, bytes = 8192, offset = 4096, live = array<i64: 0, 2>},
      {name = "b", slot = 1, bytes = 24576, offset = 47104, live = array<i64: 0, 2>},
      {name = "out", slot = 1, bytes = 6144, offset = 71680, live = array<i64: 0, 2>}]}} : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32>
  return %y : tensor<64x96xf32>
}

// -----

// The plan was made for 16-row tiles: A's slots are too small for 32.
func.func @small(%x: tensor<64x128xf32>, %w: tensor<128x96xf32>) -> tensor<64x96xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': buffer 'a[0]' has 4096 bytes, the recorded tile needs 8192}}
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 128 : i64, tn = 96 : i64},
    tsr.sram = {total = 77824, phases = ["load", "matmul", "store"], buffers = [
      {name = "a", slot = 0, bytes = 4096, offset = 0, live = array<i64: 0, 2>},
      {name = "b", slot = 0, bytes = 24576, offset = 8192, live = array<i64: 0, 2>},
      {name = "out", slot = 0, bytes = 6144, offset = 32768, live = array<i64: 0, 2>},
      {name = "a", slot = 1, bytes = 4096, offset = 38912, live = array<i64: 0, 2>},
      {name = "b", slot = 1, bytes = 24576, offset = 47104, live = array<i64: 0, 2>},
      {name = "out", slot = 1, bytes = 6144, offset = 71680, live = array<i64: 0, 2>}]}} : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32>
  return %y : tensor<64x96xf32>
}

// -----

func.func @missing(%x: tensor<64x128xf32>, %w: tensor<128x96xf32>) -> tensor<64x96xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': tsr.sram has no buffer 'out[1]' (6144 bytes for the recorded tile)}}
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 128 : i64, tn = 96 : i64},
    tsr.sram = {total = 77824, phases = ["load", "matmul", "store"], buffers = [
      {name = "a", slot = 0, bytes = 8192, offset = 0, live = array<i64: 0, 2>},
      {name = "b", slot = 0, bytes = 24576, offset = 8192, live = array<i64: 0, 2>},
      {name = "out", slot = 0, bytes = 6144, offset = 32768, live = array<i64: 0, 2>},
      {name = "a", slot = 1, bytes = 8192, offset = 38912, live = array<i64: 0, 2>},
      {name = "b", slot = 1, bytes = 24576, offset = 47104, live = array<i64: 0, 2>}]}} : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32>
  return %y : tensor<64x96xf32>
}

// -----

func.func @past(%x: tensor<64x128xf32>, %w: tensor<128x96xf32>) -> tensor<64x96xf32> {
  // expected-error @+1 {{'tsr.matmul' op matmul 'matmul': buffer 'out[1]' at [33550336, 33556480) ends past the 33554432 bytes of SRAM}}
  %y = tsr.matmul %x, %w {tsr.tiling = {tm = 32 : i64, tk = 128 : i64, tn = 96 : i64},
    tsr.sram = {total = 77824, phases = ["load", "matmul", "store"], buffers = [
      {name = "a", slot = 0, bytes = 8192, offset = 0, live = array<i64: 0, 2>},
      {name = "b", slot = 0, bytes = 24576, offset = 8192, live = array<i64: 0, 2>},
      {name = "out", slot = 0, bytes = 6144, offset = 32768, live = array<i64: 0, 2>},
      {name = "a", slot = 1, bytes = 8192, offset = 38912, live = array<i64: 0, 2>},
      {name = "b", slot = 1, bytes = 24576, offset = 47104, live = array<i64: 0, 2>},
      {name = "out", slot = 1, bytes = 6144, offset = 33550336, live = array<i64: 0, 2>}]}} : tensor<64x128xf32>, tensor<128x96xf32> -> tensor<64x96xf32>
  return %y : tensor<64x96xf32>
}
