// tsr-verify-tiling rejects a tiling recorded on an integer input for its
// FP16 conversion (the [16, 64] view of a 4x256 mask) that the chip cannot
// run, naming the kernel: a missing field, a tile larger than the view, one
// whose buffers exceed the SRAM budget (16 x 64 tiles need 2 x 4096 bytes of
// int32 and 2 x 2048 of FP16). A tiling on an argument no kernel reads as
// data is not a decision of any kernel: ignored.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-tiling=sram-bytes=8192

// expected-error @+1 {{'func.func' op convert 'mask (int32 to fp16)': tsr.tiling needs a positive integer 'tc'}}
func.func @missing(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {tr = 4 : i64}}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}

// -----

// expected-error @+1 {{'func.func' op convert 'mask (int32 to fp16)': tiling 32x64 is larger than the 16x64 view}}
func.func @larger(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {tr = 32 : i64, tc = 64 : i64}}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}

// -----

// expected-error @+1 {{'func.func' op convert 'mask (int32 to fp16)': tiling 16x64 needs 12288 bytes of SRAM, the budget is 8192}}
func.func @big(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {tr = 16 : i64, tc = 64 : i64}}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}

// -----

// The ids only an embedding reads: no conversion, nothing checked.
func.func @ids(%ids: tensor<4x32xf32> {tsr.dtype = "int64", tsr.name = "ids", tsr.tiling = {tr = 4096 : i64}}) -> (tensor<4x32x16xf32> {tsr.name = "emb"}) {
  %table = tsr.weight "table" dense<0.5> : tensor<50x16xf32> -> tensor<50x16xf32>
  %e = tsr.embedding %table, %ids : tensor<50x16xf32>, tensor<4x32xf32> -> tensor<4x32x16xf32> loc("words")
  return %e : tensor<4x32x16xf32>
}
