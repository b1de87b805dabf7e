// tsr-verify-sram on the plans of the movement and CNN kernels: a maxpool
// band of 16 planes x 8 output rows of a 16 x 32 x 32 input (3x3, stride 2,
// padding 1): staged rows 16 x 17 x 32 x 2 = 17408 bytes and output tiles
// 16 x 8 x 16 x 2 = 4096 in two slots each, the FP32 tap and accumulator
// 8192 each, one slot, live over taps..fold and taps..round. A concat's two
// copies may share bytes (each live over its own copy only), not two
// buffers live together; nor may a conv's GEMM slots (its im2col buffers
// may share bytes with them), and the conv's plan must hold the GEMM's.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-sram

// The allocator's plan passes.
func.func @pool_ok(%x: tensor<1x16x32x32xf32>) -> tensor<1x16x16x16xf32> {
  %y = tsr.maxpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>,
    tsr.tiling = {cb = 16 : i64, toh = 8 : i64},
    tsr.sram = {total = 59392, phases = ["load", "taps", "fold", "round", "store"], buffers = [
      {name = "stage", slot = 0, bytes = 17408, offset = 0, live = array<i64: 0, 4>},
      {name = "stage", slot = 1, bytes = 17408, offset = 17408, live = array<i64: 0, 4>},
      {name = "out", slot = 0, bytes = 4096, offset = 34816, live = array<i64: 0, 4>},
      {name = "out", slot = 1, bytes = 4096, offset = 38912, live = array<i64: 0, 4>},
      {name = "tap", slot = 0, bytes = 8192, offset = 43008, live = array<i64: 1, 2>},
      {name = "acc", slot = 0, bytes = 8192, offset = 51200, live = array<i64: 1, 3>}]}} : tensor<1x16x32x32xf32> -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}

// -----

// The accumulator moved onto the tap: both are live while the taps fold.
func.func @pool_overlap(%x: tensor<1x16x32x32xf32>) -> tensor<1x16x16x16xf32> {
  // expected-error @+1 {{'tsr.maxpool' op maxpool 'maxpool': buffers 'tap' [43008, 51200) and 'acc' [47104, 55296) overlap while both are live (phase 'taps')}}
  %y = tsr.maxpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>,
    tsr.tiling = {cb = 16 : i64, toh = 8 : i64},
    tsr.sram = {total = 59392, phases = ["load", "taps", "fold", "round", "store"], buffers = [
      {name = "stage", slot = 0, bytes = 17408, offset = 0, live = array<i64: 0, 4>},
      {name = "stage", slot = 1, bytes = 17408, offset = 17408, live = array<i64: 0, 4>},
      {name = "out", slot = 0, bytes = 4096, offset = 34816, live = array<i64: 0, 4>},
      {name = "out", slot = 1, bytes = 4096, offset = 38912, live = array<i64: 0, 4>},
      {name = "tap", slot = 0, bytes = 8192, offset = 43008, live = array<i64: 1, 2>},
      {name = "acc", slot = 0, bytes = 8192, offset = 47104, live = array<i64: 1, 3>}]}} : tensor<1x16x32x32xf32> -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}

// -----

// A plan made for 4-row bands: the staged rows are too small for 8.
func.func @pool_small(%x: tensor<1x16x32x32xf32>) -> tensor<1x16x16x16xf32> {
  // expected-error @+1 {{'tsr.maxpool' op maxpool 'maxpool': buffer 'stage[0]' has 9216 bytes, the recorded tile needs 17408}}
  %y = tsr.maxpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>,
    tsr.tiling = {cb = 16 : i64, toh = 8 : i64},
    tsr.sram = {total = 59392, phases = ["load", "taps", "fold", "round", "store"], buffers = [
      {name = "stage", slot = 0, bytes = 9216, offset = 0, live = array<i64: 0, 4>},
      {name = "stage", slot = 1, bytes = 17408, offset = 17408, live = array<i64: 0, 4>},
      {name = "out", slot = 0, bytes = 4096, offset = 34816, live = array<i64: 0, 4>},
      {name = "out", slot = 1, bytes = 4096, offset = 38912, live = array<i64: 0, 4>},
      {name = "tap", slot = 0, bytes = 8192, offset = 43008, live = array<i64: 1, 2>},
      {name = "acc", slot = 0, bytes = 8192, offset = 51200, live = array<i64: 1, 3>}]}} : tensor<1x16x32x32xf32> -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}

// -----

// A concat of two 16 x 32 inputs: each copy's ring at offset 0 (their
// copies run one after the other) passes.
func.func @concat_shared(%x: tensor<16x32xf32>, %y: tensor<16x32xf32>) -> tensor<16x64xf32> {
  %c = tsr.concat %x, %y {axis = 1 : i64, tsr.tiling = {tr0 = 16 : i64, tc0 = 32 : i64, tr1 = 16 : i64, tc1 = 32 : i64},
    tsr.sram = {total = 2048, phases = ["0:load", "0:store", "1:load", "1:store"], buffers = [
      {name = "in0.buf", slot = 0, bytes = 1024, offset = 0, live = array<i64: 0, 1>},
      {name = "in0.buf", slot = 1, bytes = 1024, offset = 1024, live = array<i64: 0, 1>},
      {name = "in1.buf", slot = 0, bytes = 1024, offset = 0, live = array<i64: 2, 3>},
      {name = "in1.buf", slot = 1, bytes = 1024, offset = 1024, live = array<i64: 2, 3>}]}} : tensor<16x32xf32>, tensor<16x32xf32> -> tensor<16x64xf32>
  return %c : tensor<16x64xf32>
}

// -----

// The same with the second input's copy live over the first's phases too.
func.func @concat_overlap(%x: tensor<16x32xf32>, %y: tensor<16x32xf32>) -> tensor<16x64xf32> {
  // expected-error @+1 {{'tsr.concat' op concat 'concat': buffers 'in0.buf[0]' [0, 1024) and 'in1.buf[0]' [0, 1024) overlap while both are live (phase '0:store')}}
  %c = tsr.concat %x, %y {axis = 1 : i64, tsr.tiling = {tr0 = 16 : i64, tc0 = 32 : i64, tr1 = 16 : i64, tc1 = 32 : i64},
    tsr.sram = {total = 2048, phases = ["0:load", "0:store", "1:load", "1:store"], buffers = [
      {name = "in0.buf", slot = 0, bytes = 1024, offset = 0, live = array<i64: 0, 1>},
      {name = "in0.buf", slot = 1, bytes = 1024, offset = 1024, live = array<i64: 0, 1>},
      {name = "in1.buf", slot = 0, bytes = 1024, offset = 0, live = array<i64: 1, 3>},
      {name = "in1.buf", slot = 1, bytes = 1024, offset = 1024, live = array<i64: 2, 3>}]}} : tensor<16x32xf32>, tensor<16x32xf32> -> tensor<16x64xf32>
  return %c : tensor<16x64xf32>
}

// -----

// A conv's GEMM slots live together over the GEMM's phases: the second A
// slot moved onto the first B slot.
func.func @conv_overlap(%x: tensor<1x3x32x32xf32>) -> tensor<1x16x16x16xf32> {
  %w = tsr.weight "w" dense<0.5> : tensor<16x3x3x3xf32> -> tensor<16x3x3x3xf32>
  %b = tsr.weight "b" dense<0.25> : tensor<16xf32> -> tensor<16xf32>
  // expected-error @+1 {{'tsr.conv' op conv 'conv': buffers 'gemm.b[0]' [12288, 23040) and 'gemm.a[1]' [12288, 13184) overlap while both are live (phase 'gemm:load')}}
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
      {name = "gemm.a", slot = 1, bytes = 896, offset = 12288, live = array<i64: 3, 5>}]}} : tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32> -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}

// -----

// The layer's plan must hold the GEMM's buffers too.
func.func @conv_missing(%x: tensor<1x3x32x32xf32>) -> tensor<1x16x16x16xf32> {
  %w = tsr.weight "w" dense<0.5> : tensor<16x3x3x3xf32> -> tensor<16x3x3x3xf32>
  %b = tsr.weight "b" dense<0.25> : tensor<16xf32> -> tensor<16xf32>
  // expected-error @+1 {{'tsr.conv' op conv 'conv': tsr.sram has no buffer 'gemm.out[1]' (6144 bytes for the recorded tile)}}
  %y = tsr.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, tsr.tiling = {cb = 2 : i64, toh = 16 : i64, tm = 16 : i64, tk = 28 : i64, tn = 192 : i64},
    tsr.sram = {total = 35584, phases = ["im2col:load", "im2col:gather", "im2col:store", "gemm:load", "gemm:matmul", "gemm:store"], buffers = [
      {name = "im2col.stage", slot = 0, bytes = 4096, offset = 0, live = array<i64: 0, 2>},
      {name = "im2col.stage", slot = 1, bytes = 4096, offset = 4096, live = array<i64: 0, 2>},
      {name = "im2col.tile", slot = 0, bytes = 9216, offset = 8192, live = array<i64: 0, 2>},
      {name = "im2col.tile", slot = 1, bytes = 9216, offset = 17408, live = array<i64: 0, 2>},
      {name = "im2col.ones", slot = 0, bytes = 512, offset = 26624, live = array<i64: 0, 2>},
      {name = "gemm.out", slot = 0, bytes = 6144, offset = 0, live = array<i64: 3, 5>},
      {name = "gemm.b", slot = 0, bytes = 10752, offset = 12288, live = array<i64: 3, 5>},
      {name = "gemm.b", slot = 1, bytes = 10752, offset = 23040, live = array<i64: 3, 5>},
      {name = "gemm.a", slot = 0, bytes = 896, offset = 33792, live = array<i64: 3, 5>},
      {name = "gemm.a", slot = 1, bytes = 896, offset = 34688, live = array<i64: 3, 5>}]}} : tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32> -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}
