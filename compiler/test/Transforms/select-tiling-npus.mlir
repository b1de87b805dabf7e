// tsr-select-tiling on a chip of two NPUs (arch/configs/two-npus.cfg)
// records how each product's output tiles are divided among them
// (docs/lowering.md, "Two NPUs"): a compute-bound 1024x768x768 product is
// split by rows, one 512-row tile per NPU, with the modelled
// cycles of both parts together; a 64x64x64 product the DRAM bus bounds
// stays on one NPU (npus = 1, no split axis). On the one-NPU reference chip
// nothing about NPUs is recorded.
// RUN: tessera-opt %s --tsr-select-tiling=chip-config=%models/../arch/configs/two-npus.cfg | FileCheck %s --check-prefix=TWO
// RUN: tessera-opt %s --tsr-select-tiling | FileCheck %s --check-prefix=ONE
// RUN: tessera-opt %s --tsr-select-tiling=chip-config=%models/../arch/configs/two-npus.cfg --tsr-verify-tiling=chip-config=%models/../arch/configs/two-npus.cfg | FileCheck %s --check-prefix=TWO

// TWO: tsr.matmul %arg0, %arg1 {tsr.tiling = {cycles = 168295 : i64, dram_bytes = 5505024 : i64, npus = 2 : i64, split = "rows", sram_bytes = 2998272 : i64, tk = 384 : i64, tm = 512 : i64, tn = 288 : i64}}
// TWO: tsr.matmul %arg2, %arg3 {tsr.tiling = {cycles = 1865 : i64, dram_bytes = 24576 : i64, npus = 1 : i64, sram_bytes = 49152 : i64, tk = 64 : i64, tm = 64 : i64, tn = 64 : i64}}
// ONE: tsr.matmul %arg0, %arg1 {tsr.tiling = {cycles = 312443 : i64, dram_bytes = 5505024 : i64, sram_bytes = 2998272 : i64, tk = 384 : i64, tm = 512 : i64, tn = 288 : i64}}
// ONE-NOT: npus

func.func @main(%x: tensor<1024x768xf32>, %w: tensor<768x768xf32>, %s: tensor<64x64xf32>, %t: tensor<64x64xf32>) -> (tensor<1024x768xf32>, tensor<64x64xf32>) {
  %y = tsr.matmul %x, %w : tensor<1024x768xf32>, tensor<768x768xf32> -> tensor<1024x768xf32>
  %z = tsr.matmul %s, %t : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  return %y, %z : tensor<1024x768xf32>, tensor<64x64xf32>
}
