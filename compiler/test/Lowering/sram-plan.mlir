// The fused kernels take every SRAM address from the group's recorded plan
// (tsr.sram): here a hand-written plan puts the scaled Q at 6144 (0x1800)
// instead of sharing the probabilities' bytes at 5120 (0x1400), and the
// listing follows it; the simulator's buffer table holds the same ranges.
// (sram-plan-missing.mlir: a plan without a buffer the kernel needs.)
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// CHECK: ; sram buffers (11):
// CHECK: ;   layer 0: sram 0x1800 (512 bytes)
// CHECK: ; layer 0: group_1
// CHECK: dma.load {{.*}} sram=0x0 rows=16 bytes=32
// CHECK: dma.load {{.*}} sram=0x200 rows=16 bytes=32
// CHECK: dma.load {{.*}} sram=0x400 rows=16 bytes=32
// CHECK-NEXT: vec.scale.f16 rows=16 cols=16 a=0x400/16 out=0x1800/16:f16
// CHECK-NEXT: mm.matmul.f16 m=16 k=16 n=16 a=0x1800/16 b=0x0/16 out=0x1000/16:f32
// CHECK-NEXT: vec.softmax.f32 rows=16 cols=16 a=0x1000/16 out=0x1400/16:f16
// CHECK-NEXT: mm.matmul.f16 m=16 k=16 n=16 a=0x1400/16 b=0x200/16 out=0xc00/16:f16
func.func @main(%q: tensor<1x16x32xf32> {tsr.name = "q"}, %k: tensor<1x16x32xf32> {tsr.name = "k"}, %v: tensor<1x16x32xf32> {tsr.name = "v"}) -> (tensor<1x16x32xf32> {tsr.name = "out"}) {
  %g = tsr.group(%q, %k, %v) {heads_on_chip = 0 : i64, kind = "attention", softmax = "row", why = "hand-written",
    tsr.tiling = {tq = 16 : i64},
    tsr.sram = {total = 6656, phases = ["load_kv", "load_q", "scale", "scores", "softmax", "context", "store"],
    buffers = [
      {name = "k", slot = 0, bytes = 512, offset = 0, live = array<i64: 0, 6>},
      {name = "v", slot = 0, bytes = 512, offset = 512, live = array<i64: 0, 6>},
      {name = "q", slot = 0, bytes = 512, offset = 1024, live = array<i64: 0, 6>},
      {name = "k", slot = 1, bytes = 512, offset = 1536, live = array<i64: 0, 6>},
      {name = "v", slot = 1, bytes = 512, offset = 2048, live = array<i64: 0, 6>},
      {name = "q", slot = 1, bytes = 512, offset = 2560, live = array<i64: 0, 6>},
      {name = "o", slot = 0, bytes = 512, offset = 3072, live = array<i64: 0, 6>},
      {name = "o", slot = 1, bytes = 512, offset = 3584, live = array<i64: 0, 6>},
      {name = "qs", slot = 0, bytes = 512, offset = 6144, live = array<i64: 2, 3>},
      {name = "s", slot = 0, bytes = 1024, offset = 4096, live = array<i64: 3, 4>},
      {name = "p", slot = 0, bytes = 512, offset = 5120, live = array<i64: 4, 5>}]}} : (tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%a: tensor<1x16x32xf32>, %b: tensor<1x16x32xf32>, %c: tensor<1x16x32xf32>):
    %o = tsr.attention %a, %b, %c {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
    tsr.yield %o : tensor<1x16x32xf32>
  }
  return %g : tensor<1x16x32xf32>
}
