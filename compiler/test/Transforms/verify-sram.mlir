// tsr-verify-sram proves a recorded SRAM plan (tsr.sram): no two buffers
// live in a common phase share a byte, every buffer fits the SRAM, and each
// is as large as the recorded tile needs. Hand-written plans of a 2-head
// attention (16 query rows, head dim 16: K, V, Q and output tiles of 512 B
// in two slots, scaled Q 512 B live over scale..scores, FP32 scores 1024 B
// over scores..softmax, probabilities 512 B over softmax..context).
// RUN: tessera-opt %s -split-input-file -verify-diagnostics --tsr-verify-sram=sram-bytes=8192
// RUN: not tessera-opt %s -split-input-file --tsr-verify-sram=sram-bytes=4096 2>&1 | FileCheck %s --check-prefix=SMALL

// The allocator's plan: the scaled Q shares the probabilities' bytes (their
// live ranges do not meet). It passes.
// SMALL: error: 'tsr.group' op group (attention): buffer 'qs' at [5120, 5632) ends past the 4096 bytes of SRAM
func.func @shared(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  %g = tsr.group(%q, %k, %v) {heads_on_chip = 0 : i64, kind = "attention", softmax = "row", why = "hand-written",
    tsr.tiling = {tq = 16 : i64},
    tsr.sram = {total = 5632, phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"],
    buffers = [
      {name = "k", slot = 0, bytes = 512, offset = 0, live = array<i64: 0, 6>},
      {name = "v", slot = 0, bytes = 512, offset = 512, live = array<i64: 0, 6>},
      {name = "q", slot = 0, bytes = 512, offset = 1024, live = array<i64: 0, 6>},
      {name = "k", slot = 1, bytes = 512, offset = 1536, live = array<i64: 0, 6>},
      {name = "v", slot = 1, bytes = 512, offset = 2048, live = array<i64: 0, 6>},
      {name = "q", slot = 1, bytes = 512, offset = 2560, live = array<i64: 0, 6>},
      {name = "o", slot = 0, bytes = 512, offset = 3072, live = array<i64: 0, 6>},
      {name = "o", slot = 1, bytes = 512, offset = 3584, live = array<i64: 0, 6>},
      {name = "qs", slot = 0, bytes = 512, offset = 5120, live = array<i64: 2, 3>},
      {name = "s", slot = 0, bytes = 1024, offset = 4096, live = array<i64: 3, 4>},
      {name = "p", slot = 0, bytes = 512, offset = 5120, live = array<i64: 4, 5>}]}} : (tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%a: tensor<1x16x32xf32>, %b: tensor<1x16x32xf32>, %c: tensor<1x16x32xf32>):
    %o = tsr.attention %a, %b, %c {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %o : tensor<1x16x32xf32>
  }
  return %g : tensor<1x16x32xf32>
}

// -----

// The scaled Q moved onto the scores: both are live in phase "scores".
func.func @overlap(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  // expected-error @+1 {{'tsr.group' op group (attention): buffers 'qs' [4096, 4608) and 's' [4096, 5120) overlap while both are live (phase 'scores')}}
  %g = tsr.group(%q, %k, %v) {heads_on_chip = 0 : i64, kind = "attention", softmax = "row", why = "hand-written",
    tsr.tiling = {tq = 16 : i64},
    tsr.sram = {total = 5632, phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"],
    buffers = [
      {name = "k", slot = 0, bytes = 512, offset = 0, live = array<i64: 0, 6>},
      {name = "v", slot = 0, bytes = 512, offset = 512, live = array<i64: 0, 6>},
      {name = "q", slot = 0, bytes = 512, offset = 1024, live = array<i64: 0, 6>},
      {name = "k", slot = 1, bytes = 512, offset = 1536, live = array<i64: 0, 6>},
      {name = "v", slot = 1, bytes = 512, offset = 2048, live = array<i64: 0, 6>},
      {name = "q", slot = 1, bytes = 512, offset = 2560, live = array<i64: 0, 6>},
      {name = "o", slot = 0, bytes = 512, offset = 3072, live = array<i64: 0, 6>},
      {name = "o", slot = 1, bytes = 512, offset = 3584, live = array<i64: 0, 6>},
      {name = "qs", slot = 0, bytes = 512, offset = 4096, live = array<i64: 2, 3>},
      {name = "s", slot = 0, bytes = 1024, offset = 4096, live = array<i64: 3, 4>},
      {name = "p", slot = 0, bytes = 512, offset = 5120, live = array<i64: 4, 5>}]}} : (tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%a: tensor<1x16x32xf32>, %b: tensor<1x16x32xf32>, %c: tensor<1x16x32xf32>):
    %o = tsr.attention %a, %b, %c {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %o : tensor<1x16x32xf32>
  }
  return %g : tensor<1x16x32xf32>
}

// -----

// A plan for a smaller tile: the scores buffer has room for 8 rows only.
func.func @stale(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  // expected-error @+1 {{'tsr.group' op group (attention): buffer 's' has 512 bytes, the recorded tile needs 1024}}
  %g = tsr.group(%q, %k, %v) {heads_on_chip = 0 : i64, kind = "attention", softmax = "row", why = "hand-written",
    tsr.tiling = {tq = 16 : i64},
    tsr.sram = {total = 5632, phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"],
    buffers = [
      {name = "k", slot = 0, bytes = 512, offset = 0, live = array<i64: 0, 6>},
      {name = "v", slot = 0, bytes = 512, offset = 512, live = array<i64: 0, 6>},
      {name = "q", slot = 0, bytes = 512, offset = 1024, live = array<i64: 0, 6>},
      {name = "k", slot = 1, bytes = 512, offset = 1536, live = array<i64: 0, 6>},
      {name = "v", slot = 1, bytes = 512, offset = 2048, live = array<i64: 0, 6>},
      {name = "q", slot = 1, bytes = 512, offset = 2560, live = array<i64: 0, 6>},
      {name = "o", slot = 0, bytes = 512, offset = 3072, live = array<i64: 0, 6>},
      {name = "o", slot = 1, bytes = 512, offset = 3584, live = array<i64: 0, 6>},
      {name = "qs", slot = 0, bytes = 512, offset = 5120, live = array<i64: 2, 3>},
      {name = "s", slot = 0, bytes = 512, offset = 4096, live = array<i64: 3, 4>},
      {name = "p", slot = 0, bytes = 512, offset = 5120, live = array<i64: 4, 5>}]}} : (tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%a: tensor<1x16x32xf32>, %b: tensor<1x16x32xf32>, %c: tensor<1x16x32xf32>):
    %o = tsr.attention %a, %b, %c {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %o : tensor<1x16x32xf32>
  }
  return %g : tensor<1x16x32xf32>
}
