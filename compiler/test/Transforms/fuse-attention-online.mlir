// The online (streaming) softmax form of tsr-fuse-attention
// (docs/fusion.md, "The online kernel"). At 3800 bytes whole score rows do
// not fit (3840 bytes for 8 query rows), so the group streams K and V in
// tiles of tk rows: softmax = "online", tq and tk recorded, the bytes in
// `why`; tsr-allocate-sram gives it its plan (K/V and Q rings, the FP32
// accumulator, m in two slots, l; scores, probabilities, row sums and
// alpha by liveness) and tsr-verify-sram accepts it; the kernel computes
// exp with vec.exp. At the default 32 MiB whole rows fit: softmax = "row",
// no tk.
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=3800 --tsr-allocate-sram=sram-bytes=3800 --tsr-verify-sram=sram-bytes=3800 2>&1 | FileCheck %s
// RUN: tessera-opt %s --tsr-fuse-attention 2>&1 | FileCheck %s --check-prefix=ROW
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=3800 | tessera-translate --tsr-to-listing | FileCheck %s --check-prefix=LIST

// CHECK: tsr.group(%{{.*}}) {heads_on_chip = 0 : i64, kind = "attention", softmax = "online",
// CHECK-SAME: name = "acc"
// CHECK-SAME: name = "m", offset = {{[0-9]+}} : i64, slot = 1
// CHECK-SAME: name = "alpha"
// CHECK-SAME: phases = ["load", "scores", "exp", "rescale", "context", "normalize", "store"], total = 2688
// CHECK-SAME: tsr.tiling = {cycles = {{[0-9]+}} : i64, dram_bytes = {{[0-9]+}} : i64, sram_bytes = 2688 : i64, tk = 8 : i64, tq = 8 : i64}
// CHECK-SAME: why = "whole score rows do not fit (K and V of a head and 8 query rows of scores need 3840 B): online softmax over K and V tiles of 8 rows (2 x 2 x 256 B, double-buffered) with 8 query rows (FP32 scores 256 B, FP16 probabilities 128 B, FP32 context 512 B) fits 0.00 MiB of SRAM (2688 B used): the 2 x 16 x 16 scores and probabilities stay on chip"

// ROW: tsr.group
// ROW-SAME: softmax = "row"
// ROW-SAME: tsr.tiling = {cycles = {{[0-9]+}} : i64, dram_bytes = {{[0-9]+}} : i64, sram_bytes = {{[0-9]+}} : i64, tq = 16 : i64}

// One query tile's two K/V steps: the first starts m, l and O from its
// own tile, the second rescales them by exp(m_old - m_new) and ends with
// O / l and the one store.
// LIST: vec.scale.f16 rows=8 cols=16
// LIST-NEXT: mm.matmul.f16 m=8 k=16 n=8 {{.*}}:f32 transpose_b
// LIST-NEXT: vec.reduce_max.f32 rows=8 cols=8
// LIST-NEXT: vec.sub.f32 rows=8 cols=8 {{.*}}:f32 bcast=col
// LIST-NEXT: vec.exp.f32 rows=8 cols=8 {{.*}}:f16
// LIST-NEXT: vec.reduce_sum.f16 rows=8 cols=8
// LIST-NEXT: mm.matmul.f16 m=8 k=8 n=16 {{.*}}:f32
// LIST: mm.matmul.f16 m=8 k=16 n=8 {{.*}}:f32 transpose_b
// LIST-NEXT: vec.reduce_max.f32 rows=8 cols=8
// LIST-NEXT: vec.max.f32 rows=8 cols=1
// LIST-NEXT: vec.sub.f32 rows=8 cols=8 {{.*}} bcast=col
// LIST-NEXT: vec.exp.f32 rows=8 cols=8 {{.*}}:f16
// LIST-NEXT: vec.reduce_sum.f16 rows=8 cols=8
// LIST-NEXT: vec.sub.f32 rows=8 cols=1
// LIST-NEXT: vec.exp.f32 rows=8 cols=1 {{.*}}:f32
// LIST-NEXT: vec.mul.f32 rows=8 cols=1
// LIST-NEXT: vec.add.f32 rows=8 cols=1
// LIST-NEXT: vec.mul.f32 rows=8 cols=16 {{.*}} bcast=col
// LIST-NEXT: mm.matmul.f16 m=8 k=8 n=16 {{.*}}:f32 acc={{.*}}:f32
// LIST-NEXT: vec.div.f32 rows=8 cols=16 {{.*}}:f16 bcast=col
// LIST-NEXT: dma.store
// LIST-NOT: vec.softmax
func.func @main(%q: tensor<1x16x32xf32>, %k: tensor<1x16x32xf32>, %v: tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  return %a : tensor<1x16x32xf32>
}
