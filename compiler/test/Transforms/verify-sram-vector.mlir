// tsr-verify-sram proves a vector-family kernel's recorded plan: the
// liveness checker catches two live slots sharing bytes, and a plan made
// for a smaller tile than the recorded one.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-sram

// 4x64 softmax tiles: x and out 512 B per slot. The second output slot
// was put onto the first input slot.
func.func @overlap(%x: tensor<16x64xf32>) -> tensor<16x64xf32> {
  // expected-error @+1 {{'tsr.softmax' op softmax 'softmax': buffers 'x[0]' [0, 512) and 'out[1]' [256, 768) overlap while both are live (phase 'load')}}
  %s = tsr.softmax %x {axis = -1 : i64, tsr.tiling = {tr = 4 : i64, tc = 64 : i64},
    tsr.sram = {total = 2048, phases = ["load", "compute", "store"], buffers = [
      {name = "x", slot = 0, bytes = 512, offset = 0, live = array<i64: 0, 2>},
      {name = "x", slot = 1, bytes = 512, offset = 512, live = array<i64: 0, 2>},
      {name = "out", slot = 0, bytes = 512, offset = 1024, live = array<i64: 0, 2>},
      {name = "out", slot = 1, bytes = 512, offset = 256, live = array<i64: 0, 2>}]}} : tensor<16x64xf32>
  return %s : tensor<16x64xf32>
}

// -----

// The plan of 2-row tiles under a recorded 4-row tiling.
func.func @small(%x: tensor<16x64xf32>) -> tensor<16x64xf32> {
  // expected-error @+1 {{'tsr.softmax' op softmax 'softmax': buffer 'x[0]' has 256 bytes, the recorded tile needs 512}}
  %s = tsr.softmax %x {axis = -1 : i64, tsr.tiling = {tr = 4 : i64, tc = 64 : i64},
    tsr.sram = {total = 1024, phases = ["load", "compute", "store"], buffers = [
      {name = "x", slot = 0, bytes = 256, offset = 0, live = array<i64: 0, 2>},
      {name = "x", slot = 1, bytes = 256, offset = 256, live = array<i64: 0, 2>},
      {name = "out", slot = 0, bytes = 256, offset = 512, live = array<i64: 0, 2>},
      {name = "out", slot = 1, bytes = 256, offset = 768, live = array<i64: 0, 2>}]}} : tensor<16x64xf32>
  return %s : tensor<16x64xf32>
}
