// tsr-verify-tiling's checks of a fused matmul group's NPU split on the
// two-NPU chip (select-tiling-group-npus.mlir runs it).
func.func @too_many(%x: tensor<64x64xf32>, %w: tensor<64x64xf32>, %c: tensor<64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'tsr.group' op tsr.tiling 'npus' must be an integer in [1, 2] (the chip's npus)}}
  %o = tsr.group(%x, %w, %c) {kind = "matmul", epilogue = ["bias"], tsr.tiling = {tm = 32 : i64, tk = 64 : i64, tn = 64 : i64, npus = 3 : i64}, why = ""} : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a0: tensor<64x64xf32>, %a1: tensor<64x64xf32>, %a2: tensor<64xf32>):
    %m = tsr.matmul %a0, %a1 : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
    %s = tsr.add %m, %a2 : tensor<64x64xf32>, tensor<64xf32> -> tensor<64x64xf32>
    tsr.yield %s : tensor<64x64xf32>
  }
  return %o : tensor<64x64xf32>
}

// -----

func.func @split_with_resident_kv(%x: tensor<64x64xf32>, %w: tensor<64x64xf32>, %c: tensor<64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'tsr.group' op tsr.tiling 'npus' = 2 with tsr.keep_kv: the resident K/V region is one NPU's SRAM, the group runs on one NPU}}
  %o = tsr.group(%x, %w, %c) {kind = "matmul", epilogue = ["bias"], tsr.keep_kv = {bytes = 2048 : i64, head_dim = 8 : i64, heads = 1 : i64, k_column = 16 : i64, offset = 1048576 : i64, rows = 64 : i64, v_column = 32 : i64}, tsr.tiling = {tm = 32 : i64, tk = 64 : i64, tn = 64 : i64, npus = 2 : i64, split = "rows"}, why = ""} : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a0: tensor<64x64xf32>, %a1: tensor<64x64xf32>, %a2: tensor<64xf32>):
    %m = tsr.matmul %a0, %a1 : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
    %s = tsr.add %m, %a2 : tensor<64x64xf32>, tensor<64xf32> -> tensor<64x64xf32>
    tsr.yield %s : tensor<64x64xf32>
  }
  return %o : tensor<64x64xf32>
}

// -----

func.func @split_by_columns(%x: tensor<64x64xf32>, %w: tensor<64x64xf32>, %c: tensor<64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'tsr.group' op tsr.tiling 'split' of a fused matmul group must be "rows" (its row tiles are divided)}}
  %o = tsr.group(%x, %w, %c) {kind = "matmul", epilogue = ["bias"], tsr.tiling = {tm = 32 : i64, tk = 64 : i64, tn = 64 : i64, npus = 2 : i64, split = "cols"}, why = ""} : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a0: tensor<64x64xf32>, %a1: tensor<64x64xf32>, %a2: tensor<64xf32>):
    %m = tsr.matmul %a0, %a1 : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
    %s = tsr.add %m, %a2 : tensor<64x64xf32>, tensor<64xf32> -> tensor<64x64xf32>
    tsr.yield %s : tensor<64x64xf32>
  }
  return %o : tensor<64x64xf32>
}
