// tsr-select-tiling on a chip of two NPUs also decides how each fused
// matmul group's row tiles are divided among them (cost::
// chooseMatMulGroupSplit, docs/lowering.md "Two NPUs") and adds it to the
// tsr.tiling its fusion pass recorded: the perception network's MLP2 with
// bias and residual (768x1792x448), compute bound, is re-tiled to one
// 384-row tile per NPU, npus = 2, split = "rows", with the parts' modelled
// cycles (296960 against 344052 on one NPU, the one-NPU figures below); a
// 64x64x64 group stays on NPU 0 (npus = 1, nothing else changes). On the
// one-NPU reference chip nothing about NPUs is recorded. tsr-verify-tiling
// rejects an `npus` above the chip's, a split other than "rows", and a split of a group that keeps K
// and V in SRAM (the region is one NPU's).
// RUN: tessera-opt %s -split-input-file --tsr-fuse-epilogue=chip-config=%models/../arch/configs/two-npus.cfg --tsr-select-tiling=chip-config=%models/../arch/configs/two-npus.cfg --tsr-verify-tiling=chip-config=%models/../arch/configs/two-npus.cfg | FileCheck %s --check-prefix=TWO
// RUN: tessera-opt %s -split-input-file --tsr-fuse-epilogue --tsr-select-tiling | FileCheck %s --check-prefix=ONE
// RUN: tessera-opt %S/Inputs/group-npus-invalid.mlir -split-input-file --tsr-verify-tiling=chip-config=%models/../arch/configs/two-npus.cfg -verify-diagnostics

// TWO-LABEL: func.func @mlp2
// TWO: tsr.group({{.*}}) {epilogue = ["bias", "residual"], kind = "matmul", tsr.tiling = {cycles = 296960 : i64, dram_bytes = 10094336 : i64, npus = 2 : i64, split = "rows", sram_bytes = 1844096 : i64, tk = 192 : i64, tm = 384 : i64, tn = 288 : i64}
// ONE-LABEL: func.func @mlp2
// ONE: tsr.group({{.*}}) {epilogue = ["bias", "residual"], kind = "matmul", tsr.tiling = {cycles = 344052 : i64, dram_bytes = 8487808 : i64, sram_bytes = 3466112 : i64, tk = 192 : i64, tm = 768 : i64, tn = 288 : i64}
func.func @mlp2(%x: tensor<768x1792xf32>, %w: tensor<1792x448xf32>, %c: tensor<448xf32>, %r: tensor<768x448xf32>) -> tensor<768x448xf32> {
  %m = tsr.matmul %x, %w : tensor<768x1792xf32>, tensor<1792x448xf32> -> tensor<768x448xf32>
  %s = tsr.add %m, %c : tensor<768x448xf32>, tensor<448xf32> -> tensor<768x448xf32>
  %o = tsr.add %s, %r : tensor<768x448xf32>, tensor<768x448xf32> -> tensor<768x448xf32>
  return %o : tensor<768x448xf32>
}

// -----

// TWO-LABEL: func.func @small
// TWO: tsr.group({{.*}}) {epilogue = ["bias"], kind = "matmul", tsr.tiling = {cycles = 1949 : i64, dram_bytes = 24704 : i64, npus = 1 : i64, sram_bytes = 49280 : i64, tk = 64 : i64, tm = 64 : i64, tn = 64 : i64}
// ONE-LABEL: func.func @small
// ONE-NOT: npus
func.func @small(%x: tensor<64x64xf32>, %w: tensor<64x64xf32>, %c: tensor<64xf32>) -> tensor<64x64xf32> {
  %m = tsr.matmul %x, %w : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  %s = tsr.add %m, %c : tensor<64x64xf32>, tensor<64xf32> -> tensor<64x64xf32>
  return %s : tensor<64x64xf32>
}
