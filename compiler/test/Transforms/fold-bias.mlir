// tsr-fold-bias: a matmul group's bias added by the matrix unit (a column
// of ones after A's columns in its slots, the bias as one more row of B's;
// the last K step multiplies k_last + 1) instead of a vec.add on each
// output tile, where the cost model prices it strictly faster; the folded
// kernel's tile is searched again under the same budget.
// * fires: K = 160 in 96-row steps leaves 64 + 1 rows in the last fold
//   (no extra fold): recorded as tsr.fold_bias with the new tiling and both
//   figures; its SRAM plan has no resident bias row and A and B slots of
//   tk + 1 columns and rows (64 x 97 x 2 = 12416 B, 97 x 96 x 2 = 18624 B);
// * declines: K = 192 is two whole folds, one more row costs a fold on
//   every output tile: a remark gives both figures, nothing is recorded;
// * does not fire without a bias epilogue;
// * at 2 KiB of SRAM the folded kernel still fits (it has no resident bias
//   row) with smaller tiles, and is still faster.
// RUN: tessera-opt %s -split-input-file --tsr-fuse-epilogue --tsr-fold-bias 2>&1 | FileCheck %s
// RUN: tessera-opt %s -split-input-file --tsr-fuse-epilogue --tsr-fold-bias --tsr-allocate-sram --tsr-verify-sram 2>&1 | FileCheck %s --check-prefix=PLAN
// RUN: tessera-opt %s -split-input-file --tsr-fuse-epilogue=sram-bytes=2048 --tsr-fold-bias=sram-bytes=2048 2>&1 | FileCheck %s --check-prefix=SMALL

// The remark (stderr) comes before the modules.
// CHECK: remark: bias not folded into the product: modelled 4166 cycles (64x96x96) against 3832 with the bias a vec.add (64x96x96)

// CHECK-LABEL: func.func @fires
// CHECK: tsr.group({{.*}}) {epilogue = ["bias", "gelu", "residual"], kind = "matmul", tsr.fold_bias, tsr.tiling = {cycles = 3530 : i64, dram_bytes = 75968 : i64, sram_bytes = 135808 : i64, tk = 96 : i64, tm = 64 : i64, tn = 96 : i64}
// CHECK-SAME: why = "{{.*}}; modelled 3642 cycles against 6928 for the unfused kernels (matmul 3012 + bias 1207 + gelu 1197 + residual 1512); bias added by the matrix unit instead of a vec.add per output tile: the last K step multiplies 64 + 1 rows (a column of ones in A, the bias as a row of B); 64x96x96 tiles, modelled 3530 cycles against 3642"
// PLAN-LABEL: func.func @fires
// PLAN: tsr.fold_bias
// PLAN-NOT: name = "bias"
// PLAN-SAME: tsr.sram = {buffers = [{bytes = 12416 : i64, live = array<i64: 1, 5>, name = "a", offset = 0 : i64, slot = 0 : i64}, {bytes = 18624 : i64, live = array<i64: 1, 5>, name = "b", offset = 12416 : i64, slot = 0 : i64}
// PLAN-NOT: name = "bias"
// PLAN-SAME: tsr.tiling
// SMALL-LABEL: func.func @fires
// SMALL: tsr.fold_bias, tsr.tiling = {cycles = 295183 : i64, dram_bytes = 423424 : i64, sram_bytes = 1920 : i64, tk = 12 : i64, tm = 8 : i64, tn = 12 : i64}
// SMALL-SAME: the last K step multiplies 4 + 1 rows (a column of ones in A, the bias as a row of B); 8x12x12 tiles, modelled 295183 cycles against 296341"
func.func @fires(%x: tensor<64x160xf32>, %w: tensor<160x96xf32>, %c: tensor<96xf32>, %r: tensor<64x96xf32>) -> tensor<64x96xf32> {
  %m = tsr.matmul %x, %w : tensor<64x160xf32>, tensor<160x96xf32> -> tensor<64x96xf32>
  %s = tsr.add %m, %c : tensor<64x96xf32>, tensor<96xf32> -> tensor<64x96xf32>
  %g = tsr.gelu %s : tensor<64x96xf32>
  %o = tsr.add %g, %r : tensor<64x96xf32>, tensor<64x96xf32> -> tensor<64x96xf32>
  return %o : tensor<64x96xf32>
}

// -----

// CHECK-LABEL: func.func @full_folds
// CHECK-NOT: tsr.fold_bias
// CHECK: tsr.group({{.*}}) {epilogue = ["bias", "gelu"], kind = "matmul", tsr.tiling = {cycles = 3832 : i64
// CHECK-NOT: tsr.fold_bias
// CHECK: return
func.func @full_folds(%x: tensor<64x192xf32>, %w: tensor<192x96xf32>, %c: tensor<96xf32>) -> tensor<64x96xf32> {
  %m = tsr.matmul %x, %w : tensor<64x192xf32>, tensor<192x96xf32> -> tensor<64x96xf32>
  %s = tsr.add %m, %c : tensor<64x96xf32>, tensor<96xf32> -> tensor<64x96xf32>
  %g = tsr.gelu %s : tensor<64x96xf32>
  return %g : tensor<64x96xf32>
}

// -----

// CHECK-LABEL: func.func @no_bias
// CHECK-NOT: tsr.fold_bias
// CHECK: tsr.group({{.*}}) {epilogue = ["gelu"], kind = "matmul", tsr.tiling
// CHECK-NOT: tsr.fold_bias
// CHECK: return
func.func @no_bias(%x: tensor<64x160xf32>, %w: tensor<160x96xf32>) -> tensor<64x96xf32> {
  %m = tsr.matmul %x, %w : tensor<64x160xf32>, tensor<160x96xf32> -> tensor<64x96xf32>
  %g = tsr.gelu %m : tensor<64x96xf32>
  return %g : tensor<64x96xf32>
}
