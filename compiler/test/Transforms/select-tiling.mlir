// tsr-select-tiling records the cost model's tiling and modelled cost on
// every tsr.matmul (docs/cost-model.md); a smaller SRAM budget makes it
// choose smaller tiles at a higher modelled cost, and the verifier accepts
// what the selector chose.
// RUN: tessera-opt %s --tsr-select-tiling --tsr-verify-tiling | FileCheck %s
// RUN: tessera-opt %s --tsr-select-tiling=sram-bytes=65536 --tsr-verify-tiling=sram-bytes=65536 | FileCheck %s --check-prefix=SMALL

// Reference chip: the whole K and M, 96 columns of B per tile (one fold
// wide): 278528 bytes of SRAM.
// CHECK-LABEL: func.func @proj
// CHECK: tsr.matmul %{{.*}}, %{{.*}} {tsr.tiling = {cycles = 11062 : i64, dram_bytes = 262144 : i64, sram_bytes = 278528 : i64, tk = 256 : i64, tm = 128 : i64, tn = 96 : i64}}
// 64 KiB: 32 x 48 x 96 tiles fit in 61440 bytes; A is reloaded per column
// tile, 3x the DRAM bytes.
// SMALL-LABEL: func.func @proj
// SMALL: tsr.matmul %{{.*}}, %{{.*}} {tsr.tiling = {cycles = 39596 : i64, dram_bytes = 786432 : i64, sram_bytes = 61440 : i64, tk = 48 : i64, tm = 32 : i64, tn = 96 : i64}}
func.func @proj(%x: tensor<128x256xf32>, %w: tensor<256x256xf32>) -> tensor<128x256xf32> {
  %y = tsr.matmul %x, %w : tensor<128x256xf32>, tensor<256x256xf32> -> tensor<128x256xf32>
  return %y : tensor<128x256xf32>
}

// A batch with its own B per batch entry stays a batch of 4 products.
// CHECK-LABEL: func.func @batched
// CHECK: tsr.matmul %{{.*}}, %{{.*}} {tsr.tiling = {{{.*}}tk = 64 : i64, tm = 128 : i64, tn = 128 : i64}}
// SMALL-LABEL: func.func @batched
// SMALL: tsr.matmul %{{.*}}, %{{.*}} {tsr.tiling = {{{.*}}sram_bytes = 65536 : i64, tk = 64 : i64, tm = 64 : i64, tn = 96 : i64}}
func.func @batched(%q: tensor<1x4x128x64xf32>, %k: tensor<1x4x64x128xf32>) -> tensor<1x4x128x128xf32> {
  %s = tsr.matmul %q, %k : tensor<1x4x128x64xf32>, tensor<1x4x64x128xf32> -> tensor<1x4x128x128xf32>
  return %s : tensor<1x4x128x128xf32>
}

// Not a matrix product: nothing recorded.
// CHECK-LABEL: func.func @other
// CHECK-NOT: tsr.tiling
func.func @other(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %y = tsr.erf %x : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
