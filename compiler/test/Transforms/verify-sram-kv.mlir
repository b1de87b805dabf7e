// tsr-verify-sram on the resident K/V region of tsr-keep-kv: the plans of
// the projection and of the attention place it at the same bytes, no other
// buffer of either kernel overlaps it, no kernel runs between the two, and
// the attention reads as many heads as the projection keeps, and the record
// is well formed. (The input is
// the output of --tsr-fuse-attention --tsr-fuse-epilogue
// --tsr-fuse-layernorm --tsr-keep-kv --tsr-allocate-sram at 64 KiB on a
// 16-token, 2-head layer, with one field broken per case.)
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-sram=sram-bytes=65536

// The two plans place the resident region at different bytes.
func.func @disagree(%arg0: tensor<16x1x32xf32>, %arg1: tensor<32xf32>, %arg2: tensor<32xf32>, %arg3: tensor<32x96xf32>, %arg4: tensor<96xf32>) -> tensor<1x16x32xf32> {
// expected-error @+1 {{'tsr.group' op group (matmul) and group (attention) disagree on the resident K/V region: [63488, 65536) against [61440, 63488)}}
  %0 = tsr.group(%arg0, %arg1, %arg2, %arg3, %arg4) {epilogue = ["bias"], kind = "matmul", prologue = "layernorm", tsr.keep_kv = {bytes = 2048 : i64, head_dim = 16 : i64, heads = 2 : i64, k_column = 32 : i64, offset = 63488 : i64, rows = 16 : i64, v_column = 64 : i64}, tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 5>, name = "kv", offset = 63488 : i64, slot = 0 : i64}, {bytes = 192 : i64, live = array<i64: 0, 5>, name = "bias", offset = 0 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "gamma", offset = 192 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "beta", offset = 256 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 320 : i64, slot = 0 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 1344 : i64, slot = 0 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 4416 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 5952 : i64, slot = 1 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 6976 : i64, slot = 1 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 10048 : i64, slot = 1 : i64}], phases = ["prologue", "load", "layernorm", "matmul", "epilogue", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 1571 : i64, dram_bytes = 8512 : i64, sram_bytes = 11584 : i64, tk = 32 : i64, tm = 16 : i64, tn = 48 : i64}, why = "the layernorm of A's rows (whole rows of K = 32, 1024 B normalized in SRAM); bias applied to each output tile before its one store: 2 DRAM round trips (8192 B) removed; 16x32x96 tiles of the 16x32x96 product use 20800 B of 65536 B of SRAM; modelled 1608 cycles against 2005 for the unfused kernels (layernorm 706 + matmul group 1299); K and V of the first 2 heads kept in SRAM for the attention"} : (tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<16x1x96xf32> {
  ^bb0(%arg5: tensor<16x1x32xf32>, %arg6: tensor<32xf32>, %arg7: tensor<32xf32>, %arg8: tensor<32x96xf32>, %arg9: tensor<96xf32>):
    %2 = tsr.layernorm %arg5, %arg6, %arg7 {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<16x1x32xf32>
    %3 = tsr.matmul %2, %arg8 : tensor<16x1x32xf32>, tensor<32x96xf32> -> tensor<16x1x96xf32>
    %4 = tsr.add %arg9, %3 : tensor<96xf32>, tensor<16x1x96xf32> -> tensor<16x1x96xf32>
    tsr.yield %4 : tensor<16x1x96xf32>
  }
  %1 = tsr.group(%0) {heads_on_chip = 2 : i64, kind = "attention", softmax = "row", tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 6>, name = "kv", offset = 61440 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 0 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 512 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1024 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1536 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 2, 3>, name = "qs", offset = 3072 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 3, 4>, name = "s", offset = 2048 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 4, 5>, name = "p", offset = 3072 : i64, slot = 0 : i64}], phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 2158 : i64, dram_bytes = 2048 : i64, sram_bytes = 3584 : i64, tq = 16 : i64}, why = "K and V of a head (2 x 512 B, double-buffered) and 16 query rows of whole score rows (FP32 1024 B, FP16 probabilities 512 B) fit 0.06 MiB of SRAM (5632 B used): the 2 x 16 x 16 scores and probabilities stay on chip; K and V of the first 2 of 2 heads (2048 B) stay in SRAM from the projection at [63488, 65536) of 0.06 MiB: 2048 B neither stored nor loaded; modelled 3729 cycles (projection 1571 + attention 2158) against 3828 with every head's K and V through DRAM (projection 1608 + attention 2220)"} : (tensor<16x1x96xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%arg5: tensor<16x1x96xf32>):
    %2 = tsr.slice %arg5 offsets [0, 0, 0] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %3 = tsr.transpose %2, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %4 = tsr.slice %arg5 offsets [0, 0, 32] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %5 = tsr.transpose %4, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %6 = tsr.slice %arg5 offsets [0, 0, 64] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %7 = tsr.transpose %6, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %8 = tsr.attention %3, %5, %7 {head_dim = 16 : i64, heads = 2 : i64, scale = 2.500000e-01 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %8 : tensor<1x16x32xf32>
  }
  return %1 : tensor<1x16x32xf32>
}


// -----

// A buffer of the projection's own overlaps the resident region.
func.func @overlap(%arg0: tensor<16x1x32xf32>, %arg1: tensor<32xf32>, %arg2: tensor<32xf32>, %arg3: tensor<32x96xf32>, %arg4: tensor<96xf32>) -> tensor<1x16x32xf32> {
// expected-error @+1 {{'tsr.group' op group (matmul): buffers 'kv' [63488, 65536) and 'out[1]' [63488, 65024) overlap while both are live (phase 'load')}}
  %0 = tsr.group(%arg0, %arg1, %arg2, %arg3, %arg4) {epilogue = ["bias"], kind = "matmul", prologue = "layernorm", tsr.keep_kv = {bytes = 2048 : i64, head_dim = 16 : i64, heads = 2 : i64, k_column = 32 : i64, offset = 63488 : i64, rows = 16 : i64, v_column = 64 : i64}, tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 5>, name = "kv", offset = 63488 : i64, slot = 0 : i64}, {bytes = 192 : i64, live = array<i64: 0, 5>, name = "bias", offset = 0 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "gamma", offset = 192 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "beta", offset = 256 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 320 : i64, slot = 0 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 1344 : i64, slot = 0 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 4416 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 5952 : i64, slot = 1 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 6976 : i64, slot = 1 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 63488 : i64, slot = 1 : i64}], phases = ["prologue", "load", "layernorm", "matmul", "epilogue", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 1571 : i64, dram_bytes = 8512 : i64, sram_bytes = 11584 : i64, tk = 32 : i64, tm = 16 : i64, tn = 48 : i64}, why = "the layernorm of A's rows (whole rows of K = 32, 1024 B normalized in SRAM); bias applied to each output tile before its one store: 2 DRAM round trips (8192 B) removed; 16x32x96 tiles of the 16x32x96 product use 20800 B of 65536 B of SRAM; modelled 1608 cycles against 2005 for the unfused kernels (layernorm 706 + matmul group 1299); K and V of the first 2 heads kept in SRAM for the attention"} : (tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<16x1x96xf32> {
  ^bb0(%arg5: tensor<16x1x32xf32>, %arg6: tensor<32xf32>, %arg7: tensor<32xf32>, %arg8: tensor<32x96xf32>, %arg9: tensor<96xf32>):
    %2 = tsr.layernorm %arg5, %arg6, %arg7 {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<16x1x32xf32>
    %3 = tsr.matmul %2, %arg8 : tensor<16x1x32xf32>, tensor<32x96xf32> -> tensor<16x1x96xf32>
    %4 = tsr.add %arg9, %3 : tensor<96xf32>, tensor<16x1x96xf32> -> tensor<16x1x96xf32>
    tsr.yield %4 : tensor<16x1x96xf32>
  }
  %1 = tsr.group(%0) {heads_on_chip = 2 : i64, kind = "attention", softmax = "row", tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 6>, name = "kv", offset = 63488 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 0 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 512 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1024 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1536 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 2, 3>, name = "qs", offset = 3072 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 3, 4>, name = "s", offset = 2048 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 4, 5>, name = "p", offset = 3072 : i64, slot = 0 : i64}], phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 2158 : i64, dram_bytes = 2048 : i64, sram_bytes = 3584 : i64, tq = 16 : i64}, why = "K and V of a head (2 x 512 B, double-buffered) and 16 query rows of whole score rows (FP32 1024 B, FP16 probabilities 512 B) fit 0.06 MiB of SRAM (5632 B used): the 2 x 16 x 16 scores and probabilities stay on chip; K and V of the first 2 of 2 heads (2048 B) stay in SRAM from the projection at [63488, 65536) of 0.06 MiB: 2048 B neither stored nor loaded; modelled 3729 cycles (projection 1571 + attention 2158) against 3828 with every head's K and V through DRAM (projection 1608 + attention 2220)"} : (tensor<16x1x96xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%arg5: tensor<16x1x96xf32>):
    %2 = tsr.slice %arg5 offsets [0, 0, 0] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %3 = tsr.transpose %2, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %4 = tsr.slice %arg5 offsets [0, 0, 32] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %5 = tsr.transpose %4, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %6 = tsr.slice %arg5 offsets [0, 0, 64] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %7 = tsr.transpose %6, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %8 = tsr.attention %3, %5, %7 {head_dim = 16 : i64, heads = 2 : i64, scale = 2.500000e-01 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %8 : tensor<1x16x32xf32>
  }
  return %1 : tensor<1x16x32xf32>
}


// -----

// Another kernel between the two: the region would be live across it.
func.func @between(%arg0: tensor<16x1x32xf32>, %arg1: tensor<32xf32>, %arg2: tensor<32xf32>, %arg3: tensor<32x96xf32>, %arg4: tensor<96xf32>) -> tensor<1x16x32xf32> {
// expected-error @+1 {{'tsr.group' op group (matmul): keeps K and V in SRAM (tsr.keep_kv) but the next op is not the attention group reading its result alone (the region must not be live across another kernel)}}
  %0 = tsr.group(%arg0, %arg1, %arg2, %arg3, %arg4) {epilogue = ["bias"], kind = "matmul", prologue = "layernorm", tsr.keep_kv = {bytes = 2048 : i64, head_dim = 16 : i64, heads = 2 : i64, k_column = 32 : i64, offset = 63488 : i64, rows = 16 : i64, v_column = 64 : i64}, tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 5>, name = "kv", offset = 63488 : i64, slot = 0 : i64}, {bytes = 192 : i64, live = array<i64: 0, 5>, name = "bias", offset = 0 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "gamma", offset = 192 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "beta", offset = 256 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 320 : i64, slot = 0 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 1344 : i64, slot = 0 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 4416 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 5952 : i64, slot = 1 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 6976 : i64, slot = 1 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 10048 : i64, slot = 1 : i64}], phases = ["prologue", "load", "layernorm", "matmul", "epilogue", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 1571 : i64, dram_bytes = 8512 : i64, sram_bytes = 11584 : i64, tk = 32 : i64, tm = 16 : i64, tn = 48 : i64}, why = "the layernorm of A's rows (whole rows of K = 32, 1024 B normalized in SRAM); bias applied to each output tile before its one store: 2 DRAM round trips (8192 B) removed; 16x32x96 tiles of the 16x32x96 product use 20800 B of 65536 B of SRAM; modelled 1608 cycles against 2005 for the unfused kernels (layernorm 706 + matmul group 1299); K and V of the first 2 heads kept in SRAM for the attention"} : (tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<16x1x96xf32> {
  ^bb0(%arg5: tensor<16x1x32xf32>, %arg6: tensor<32xf32>, %arg7: tensor<32xf32>, %arg8: tensor<32x96xf32>, %arg9: tensor<96xf32>):
    %2 = tsr.layernorm %arg5, %arg6, %arg7 {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<16x1x32xf32>
    %3 = tsr.matmul %2, %arg8 : tensor<16x1x32xf32>, tensor<32x96xf32> -> tensor<16x1x96xf32>
    %4 = tsr.add %arg9, %3 : tensor<96xf32>, tensor<16x1x96xf32> -> tensor<16x1x96xf32>
    tsr.yield %4 : tensor<16x1x96xf32>
  }
  %z = tsr.add %arg4, %arg4 : tensor<96xf32>, tensor<96xf32> -> tensor<96xf32>
  %1 = tsr.group(%0) {heads_on_chip = 2 : i64, kind = "attention", softmax = "row", tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 6>, name = "kv", offset = 63488 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 0 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 512 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1024 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1536 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 2, 3>, name = "qs", offset = 3072 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 3, 4>, name = "s", offset = 2048 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 4, 5>, name = "p", offset = 3072 : i64, slot = 0 : i64}], phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 2158 : i64, dram_bytes = 2048 : i64, sram_bytes = 3584 : i64, tq = 16 : i64}, why = "K and V of a head (2 x 512 B, double-buffered) and 16 query rows of whole score rows (FP32 1024 B, FP16 probabilities 512 B) fit 0.06 MiB of SRAM (5632 B used): the 2 x 16 x 16 scores and probabilities stay on chip; K and V of the first 2 of 2 heads (2048 B) stay in SRAM from the projection at [63488, 65536) of 0.06 MiB: 2048 B neither stored nor loaded; modelled 3729 cycles (projection 1571 + attention 2158) against 3828 with every head's K and V through DRAM (projection 1608 + attention 2220)"} : (tensor<16x1x96xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%arg5: tensor<16x1x96xf32>):
    %2 = tsr.slice %arg5 offsets [0, 0, 0] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %3 = tsr.transpose %2, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %4 = tsr.slice %arg5 offsets [0, 0, 32] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %5 = tsr.transpose %4, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %6 = tsr.slice %arg5 offsets [0, 0, 64] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %7 = tsr.transpose %6, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %8 = tsr.attention %3, %5, %7 {head_dim = 16 : i64, heads = 2 : i64, scale = 2.500000e-01 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %8 : tensor<1x16x32xf32>
  }
  return %1 : tensor<1x16x32xf32>
}


// -----

// The attention reads fewer heads than the projection keeps.
func.func @heads(%arg0: tensor<16x1x32xf32>, %arg1: tensor<32xf32>, %arg2: tensor<32xf32>, %arg3: tensor<32x96xf32>, %arg4: tensor<96xf32>) -> tensor<1x16x32xf32> {
  %0 = tsr.group(%arg0, %arg1, %arg2, %arg3, %arg4) {epilogue = ["bias"], kind = "matmul", prologue = "layernorm", tsr.keep_kv = {bytes = 2048 : i64, head_dim = 16 : i64, heads = 2 : i64, k_column = 32 : i64, offset = 63488 : i64, rows = 16 : i64, v_column = 64 : i64}, tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 5>, name = "kv", offset = 63488 : i64, slot = 0 : i64}, {bytes = 192 : i64, live = array<i64: 0, 5>, name = "bias", offset = 0 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "gamma", offset = 192 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "beta", offset = 256 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 320 : i64, slot = 0 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 1344 : i64, slot = 0 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 4416 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 5952 : i64, slot = 1 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 6976 : i64, slot = 1 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 10048 : i64, slot = 1 : i64}], phases = ["prologue", "load", "layernorm", "matmul", "epilogue", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 1571 : i64, dram_bytes = 8512 : i64, sram_bytes = 11584 : i64, tk = 32 : i64, tm = 16 : i64, tn = 48 : i64}, why = "the layernorm of A's rows (whole rows of K = 32, 1024 B normalized in SRAM); bias applied to each output tile before its one store: 2 DRAM round trips (8192 B) removed; 16x32x96 tiles of the 16x32x96 product use 20800 B of 65536 B of SRAM; modelled 1608 cycles against 2005 for the unfused kernels (layernorm 706 + matmul group 1299); K and V of the first 2 heads kept in SRAM for the attention"} : (tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<16x1x96xf32> {
  ^bb0(%arg5: tensor<16x1x32xf32>, %arg6: tensor<32xf32>, %arg7: tensor<32xf32>, %arg8: tensor<32x96xf32>, %arg9: tensor<96xf32>):
    %2 = tsr.layernorm %arg5, %arg6, %arg7 {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<16x1x32xf32>
    %3 = tsr.matmul %2, %arg8 : tensor<16x1x32xf32>, tensor<32x96xf32> -> tensor<16x1x96xf32>
    %4 = tsr.add %arg9, %3 : tensor<96xf32>, tensor<16x1x96xf32> -> tensor<16x1x96xf32>
    tsr.yield %4 : tensor<16x1x96xf32>
  }
// expected-error @+1 {{'tsr.group' op group (attention): heads_on_chip = 1 but the projection keeps K and V of 2 heads (tsr.keep_kv)}}
  %1 = tsr.group(%0) {heads_on_chip = 1 : i64, kind = "attention", softmax = "row", tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 6>, name = "kv", offset = 63488 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 0 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 512 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1024 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1536 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 2, 3>, name = "qs", offset = 3072 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 3, 4>, name = "s", offset = 2048 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 4, 5>, name = "p", offset = 3072 : i64, slot = 0 : i64}], phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 2158 : i64, dram_bytes = 2048 : i64, sram_bytes = 3584 : i64, tq = 16 : i64}, why = "K and V of a head (2 x 512 B, double-buffered) and 16 query rows of whole score rows (FP32 1024 B, FP16 probabilities 512 B) fit 0.06 MiB of SRAM (5632 B used): the 2 x 16 x 16 scores and probabilities stay on chip; K and V of the first 2 of 2 heads (2048 B) stay in SRAM from the projection at [63488, 65536) of 0.06 MiB: 2048 B neither stored nor loaded; modelled 3729 cycles (projection 1571 + attention 2158) against 3828 with every head's K and V through DRAM (projection 1608 + attention 2220)"} : (tensor<16x1x96xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%arg5: tensor<16x1x96xf32>):
    %2 = tsr.slice %arg5 offsets [0, 0, 0] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %3 = tsr.transpose %2, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %4 = tsr.slice %arg5 offsets [0, 0, 32] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %5 = tsr.transpose %4, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %6 = tsr.slice %arg5 offsets [0, 0, 64] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %7 = tsr.transpose %6, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %8 = tsr.attention %3, %5, %7 {head_dim = 16 : i64, heads = 2 : i64, scale = 2.500000e-01 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %8 : tensor<1x16x32xf32>
  }
  return %1 : tensor<1x16x32xf32>
}

// -----

// A malformed record: the region's bytes are not heads x 2 blocks.
func.func @malformed(%arg0: tensor<16x1x32xf32>, %arg1: tensor<32xf32>, %arg2: tensor<32xf32>, %arg3: tensor<32x96xf32>, %arg4: tensor<96xf32>) -> tensor<1x16x32xf32> {
// expected-error @+1 {{'tsr.group' op group (matmul): tsr.keep_kv: 'bytes' = 4096, but 2 heads of K and V (16 x 16 each) take 2048}}
  %0 = tsr.group(%arg0, %arg1, %arg2, %arg3, %arg4) {epilogue = ["bias"], kind = "matmul", prologue = "layernorm", tsr.keep_kv = {bytes = 4096 : i64, head_dim = 16 : i64, heads = 2 : i64, k_column = 32 : i64, offset = 63488 : i64, rows = 16 : i64, v_column = 64 : i64}, tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 5>, name = "kv", offset = 63488 : i64, slot = 0 : i64}, {bytes = 192 : i64, live = array<i64: 0, 5>, name = "bias", offset = 0 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "gamma", offset = 192 : i64, slot = 0 : i64}, {bytes = 64 : i64, live = array<i64: 0, 5>, name = "beta", offset = 256 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 320 : i64, slot = 0 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 1344 : i64, slot = 0 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 4416 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 1, 5>, name = "a", offset = 5952 : i64, slot = 1 : i64}, {bytes = 3072 : i64, live = array<i64: 1, 5>, name = "b", offset = 6976 : i64, slot = 1 : i64}, {bytes = 1536 : i64, live = array<i64: 1, 5>, name = "out", offset = 10048 : i64, slot = 1 : i64}], phases = ["prologue", "load", "layernorm", "matmul", "epilogue", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 1571 : i64, dram_bytes = 8512 : i64, sram_bytes = 11584 : i64, tk = 32 : i64, tm = 16 : i64, tn = 48 : i64}, why = "the layernorm of A's rows (whole rows of K = 32, 1024 B normalized in SRAM); bias applied to each output tile before its one store: 2 DRAM round trips (8192 B) removed; 16x32x96 tiles of the 16x32x96 product use 20800 B of 65536 B of SRAM; modelled 1608 cycles against 2005 for the unfused kernels (layernorm 706 + matmul group 1299); K and V of the first 2 heads kept in SRAM for the attention"} : (tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<16x1x96xf32> {
  ^bb0(%arg5: tensor<16x1x32xf32>, %arg6: tensor<32xf32>, %arg7: tensor<32xf32>, %arg8: tensor<32x96xf32>, %arg9: tensor<96xf32>):
    %2 = tsr.layernorm %arg5, %arg6, %arg7 {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : tensor<16x1x32xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<16x1x32xf32>
    %3 = tsr.matmul %2, %arg8 : tensor<16x1x32xf32>, tensor<32x96xf32> -> tensor<16x1x96xf32>
    %4 = tsr.add %arg9, %3 : tensor<96xf32>, tensor<16x1x96xf32> -> tensor<16x1x96xf32>
    tsr.yield %4 : tensor<16x1x96xf32>
  }
  %1 = tsr.group(%0) {heads_on_chip = 2 : i64, kind = "attention", softmax = "row", tsr.sram = {buffers = [{bytes = 2048 : i64, live = array<i64: 0, 6>, name = "kv", offset = 63488 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 0 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "q", offset = 512 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1024 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 0, 6>, name = "o", offset = 1536 : i64, slot = 1 : i64}, {bytes = 512 : i64, live = array<i64: 2, 3>, name = "qs", offset = 3072 : i64, slot = 0 : i64}, {bytes = 1024 : i64, live = array<i64: 3, 4>, name = "s", offset = 2048 : i64, slot = 0 : i64}, {bytes = 512 : i64, live = array<i64: 4, 5>, name = "p", offset = 3072 : i64, slot = 0 : i64}], phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"], total = 65536 : i64}, tsr.tiling = {cycles = 2158 : i64, dram_bytes = 2048 : i64, sram_bytes = 3584 : i64, tq = 16 : i64}, why = "K and V of a head (2 x 512 B, double-buffered) and 16 query rows of whole score rows (FP32 1024 B, FP16 probabilities 512 B) fit 0.06 MiB of SRAM (5632 B used): the 2 x 16 x 16 scores and probabilities stay on chip; K and V of the first 2 of 2 heads (2048 B) stay in SRAM from the projection at [63488, 65536) of 0.06 MiB: 2048 B neither stored nor loaded; modelled 3729 cycles (projection 1571 + attention 2158) against 3828 with every head's K and V through DRAM (projection 1608 + attention 2220)"} : (tensor<16x1x96xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%arg5: tensor<16x1x96xf32>):
    %2 = tsr.slice %arg5 offsets [0, 0, 0] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %3 = tsr.transpose %2, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %4 = tsr.slice %arg5 offsets [0, 0, 32] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %5 = tsr.transpose %4, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %6 = tsr.slice %arg5 offsets [0, 0, 64] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
    %7 = tsr.transpose %6, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
    %8 = tsr.attention %3, %5, %7 {head_dim = 16 : i64, heads = 2 : i64, scale = 2.500000e-01 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %8 : tensor<1x16x32xf32>
  }
  return %1 : tensor<1x16x32xf32>
}


