// tsr-allocate-sram records a plan (tsr.sram) on every op outside a group
// whose kernel records its decisions, here a bare tsr.matmul, for the tiling
// tsr-select-tiling recorded: two ring slots each of the A, B and output
// tiles and of the FP32 partial sums (K takes several steps), all live over
// the whole loop, each slot at the next 64-byte-aligned offset (the code
// generator's order). tsr-verify-sram proves it; the total is the modelled
// footprint (sram_bytes).
// RUN: tessera-opt %s --tsr-select-tiling=sram-bytes=65536 --tsr-allocate-sram=sram-bytes=65536 --tsr-verify-sram=sram-bytes=65536 | FileCheck %s
// RUN: tessera-opt %s --tsr-allocate-sram | FileCheck %s --check-prefix=NOTILING

// 32x48x96 tiles (select-tiling.mlir): A 3072 B, B 9216 B, out 6144 B, acc
// 12288 B per slot.
// CHECK-LABEL: func.func @proj
// CHECK: tsr.matmul
// CHECK-SAME: tsr.sram = {buffers = [
// CHECK-SAME: {bytes = 3072 : i64, live = array<i64: 0, 2>, name = "a", offset = 0 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 9216 : i64, live = array<i64: 0, 2>, name = "b", offset = 3072 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 6144 : i64, live = array<i64: 0, 2>, name = "out", offset = 12288 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 12288 : i64, live = array<i64: 0, 2>, name = "acc", offset = 18432 : i64, slot = 0 : i64},
// CHECK-SAME: {bytes = 3072 : i64, live = array<i64: 0, 2>, name = "a", offset = 30720 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 9216 : i64, live = array<i64: 0, 2>, name = "b", offset = 33792 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 6144 : i64, live = array<i64: 0, 2>, name = "out", offset = 43008 : i64, slot = 1 : i64},
// CHECK-SAME: {bytes = 12288 : i64, live = array<i64: 0, 2>, name = "acc", offset = 49152 : i64, slot = 1 : i64}],
// CHECK-SAME: phases = ["load", "matmul", "store"], total = 61440 : i64}
// CHECK-SAME: tsr.tiling = {{{.*}}sram_bytes = 61440 : i64, tk = 48 : i64, tm = 32 : i64, tn = 96 : i64}
// Without a recorded tiling there is nothing to place.
// NOTILING-LABEL: func.func @proj
// NOTILING-NOT: tsr.sram
func.func @proj(%x: tensor<128x256xf32>, %w: tensor<256x256xf32>) -> tensor<128x256xf32> {
  %y = tsr.matmul %x, %w : tensor<128x256xf32>, tensor<256x256xf32> -> tensor<128x256xf32>
  return %y : tensor<128x256xf32>
}
