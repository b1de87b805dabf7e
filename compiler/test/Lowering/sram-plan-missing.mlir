// A recorded SRAM plan without a buffer the kernel needs (the
// probabilities) is an error naming the layer and the buffer; the code
// generator never places a buffer the plan leaves out.
// RUN: not tessera-translate --tsr-to-listing %s 2>&1 | FileCheck %s

// CHECK: group_1{{.*}}: the SRAM plan recorded in the IR (tsr.sram) has no buffer 'p'
func.func @main(%q: tensor<1x16x32xf32> {tsr.name = "q"}, %k: tensor<1x16x32xf32> {tsr.name = "k"}, %v: tensor<1x16x32xf32> {tsr.name = "v"}) -> (tensor<1x16x32xf32> {tsr.name = "out"}) {
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
      {name = "s", slot = 0, bytes = 1024, offset = 4096, live = array<i64: 3, 4>}]}} : (tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%a: tensor<1x16x32xf32>, %b: tensor<1x16x32xf32>, %c: tensor<1x16x32xf32>):
    %o = tsr.attention %a, %b, %c {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %o : tensor<1x16x32xf32>
  }
  return %g : tensor<1x16x32xf32>
}
