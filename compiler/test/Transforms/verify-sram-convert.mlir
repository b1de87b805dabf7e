// tsr-verify-sram proves the plan recorded on an integer input for its
// FP16 conversion (16 x 64 tiles of the [16, 64] view: int32 slots `x` of
// 4096 bytes, FP16 slots `work` of 2048), naming the kernel: two live
// buffers sharing a byte, a buffer smaller than the recorded tile needs, a
// missing buffer, a plan that is not a dictionary.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-sram

// The allocator's plan passes.
func.func @ok(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {tr = 16 : i64, tc = 64 : i64},
    tsr.sram = {total = 12288, phases = ["load", "chain", "store"], buffers = [
      {name = "x", slot = 0, bytes = 4096, offset = 0, live = array<i64: 0, 2>},
      {name = "x", slot = 1, bytes = 4096, offset = 4096, live = array<i64: 0, 2>},
      {name = "work", slot = 0, bytes = 2048, offset = 8192, live = array<i64: 0, 2>},
      {name = "work", slot = 1, bytes = 2048, offset = 10240, live = array<i64: 0, 2>}]}}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}

// -----

// The second result slot moved onto the first input slot.
// expected-error @+1 {{'func.func' op convert 'mask (int32 to fp16)': buffers 'x[0]' [0, 4096) and 'work[1]' [2048, 4096) overlap while both are live (phase 'load')}}
func.func @overlap(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {tr = 16 : i64, tc = 64 : i64},
    tsr.sram = {total = 12288, phases = ["load", "chain", "store"], buffers = [
      {name = "x", slot = 0, bytes = 4096, offset = 0, live = array<i64: 0, 2>},
      {name = "x", slot = 1, bytes = 4096, offset = 4096, live = array<i64: 0, 2>},
      {name = "work", slot = 0, bytes = 2048, offset = 8192, live = array<i64: 0, 2>},
      {name = "work", slot = 1, bytes = 2048, offset = 2048, live = array<i64: 0, 2>}]}}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}

// -----

// A plan made for FP16 input tiles: the int32 slots are too small.
// expected-error @+1 {{'func.func' op convert 'mask (int32 to fp16)': buffer 'x[0]' has 2048 bytes, the recorded tile needs 4096}}
func.func @small(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {tr = 16 : i64, tc = 64 : i64},
    tsr.sram = {total = 8192, phases = ["load", "chain", "store"], buffers = [
      {name = "x", slot = 0, bytes = 2048, offset = 0, live = array<i64: 0, 2>},
      {name = "x", slot = 1, bytes = 2048, offset = 2048, live = array<i64: 0, 2>},
      {name = "work", slot = 0, bytes = 2048, offset = 4096, live = array<i64: 0, 2>},
      {name = "work", slot = 1, bytes = 2048, offset = 6144, live = array<i64: 0, 2>}]}}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}

// -----

// expected-error @+1 {{'func.func' op convert 'mask (int32 to fp16)': tsr.sram has no buffer 'work[1]' (2048 bytes for the recorded tile)}}
func.func @missing(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {tr = 16 : i64, tc = 64 : i64},
    tsr.sram = {total = 10240, phases = ["load", "chain", "store"], buffers = [
      {name = "x", slot = 0, bytes = 4096, offset = 0, live = array<i64: 0, 2>},
      {name = "x", slot = 1, bytes = 4096, offset = 4096, live = array<i64: 0, 2>},
      {name = "work", slot = 0, bytes = 2048, offset = 8192, live = array<i64: 0, 2>}]}}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}

// -----

// expected-error @+1 {{'func.func' op convert 'mask (int32 to fp16)': tsr.sram must be a dictionary}}
func.func @notdict(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {tr = 16 : i64, tc = 64 : i64}, tsr.sram = 7}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}
