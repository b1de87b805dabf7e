// tsr-allocate-sram records the SRAM plan of an integer input's FP16
// conversion on the function argument, next to its tsr.tiling (the [16, 64]
// view of a 4x256 mask in 10 x 64 tiles): two int32 input slots `x` of
// 10 x 64 x 4 = 2560 bytes and two FP16 result slots `work` of 1280, rings
// carried over the loop (phases load, chain, store), one after another;
// tsr-verify-sram accepts it.
// RUN: tessera-opt %s --tsr-select-tiling --tsr-verify-tiling --tsr-allocate-sram --tsr-verify-sram | FileCheck %s

// CHECK: %arg0: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.sram = {buffers = [
// CHECK-SAME: {bytes = 2560 : i64, live = array<i64: 0, 2>, name = "x", offset = 0 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 2560 : i64, live = array<i64: 0, 2>, name = "x", offset = 2560 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 1280 : i64, live = array<i64: 0, 2>, name = "work", offset = 5120 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 1280 : i64, live = array<i64: 0, 2>, name = "work", offset = 6400 : i64, slot = 1 : i64}],
// CHECK-SAME: phases = ["load", "chain", "store"], total = 7680 : i64},
// CHECK-SAME: tsr.tiling = {cycles = 767 : i64, dram_bytes = 6144 : i64, sram_bytes = 7680 : i64, tc = 64 : i64, tr = 10 : i64}}
func.func @main(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask"}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}
