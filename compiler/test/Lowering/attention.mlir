// Attention scores: K^T by the vector unit, one GEMM per head, the division
// by a constant as a scale immediate, softmax over rows.
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// The constant divisor never becomes a tensor.
// CHECK-NOT: four :
// CHECK: scratch  k_t : f16[1x4x16x32]

// One 32x16 slice per head: strided load (row stride 4*16*2 bytes), transpose,
// store.
// CHECK-LABEL: ; layer 0: k_t
// CHECK-COUNT-4: dma.load {{.*}} rows=32 bytes=32 dram_stride=128 sram_stride=32
// CHECK-NOT: ; layer
// CHECK: vec.transpose.f16 rows=32 cols=16

// CHECK-LABEL: ; layer 1: scores
// CHECK-COUNT-4: mm.matmul.f16 m=32 k=16 n=32
// The scale and the softmax over the 128 rows of 32, each in two row tiles
// the vector search chose (the second tile's load overlaps the first's
// compute).
// CHECK-LABEL: ; layer 2: scale
// CHECK: vec.scale.f16 rows=64 cols=32 {{.*}} imm=0.25
// CHECK: vec.scale.f16 rows=64 cols=32 {{.*}} imm=0.25
// CHECK-LABEL: ; layer 3: softmax
// CHECK: vec.softmax.f16 rows=64 cols=32
// CHECK: vec.softmax.f16 rows=64 cols=32

func.func @main(%q: tensor<1x4x32x16xf32> {tsr.name = "q"}, %k: tensor<1x32x4x16xf32> {tsr.name = "k"}) -> (tensor<1x4x32x32xf32> {tsr.name = "p"}) {
  %scale = tsr.weight "four" dense<4.0> : tensor<f32> -> tensor<f32>
  %kt = tsr.transpose %k, [0, 2, 3, 1] : tensor<1x32x4x16xf32> -> tensor<1x4x16x32xf32> loc("k_t")
  %s = tsr.matmul %q, %kt : tensor<1x4x32x16xf32>, tensor<1x4x16x32xf32> -> tensor<1x4x32x32xf32> loc("scores")
  %d = tsr.div %s, %scale : tensor<1x4x32x32xf32>, tensor<f32> -> tensor<1x4x32x32xf32> loc("scale")
  %p = tsr.softmax %d {axis = -1 : i64} : tensor<1x4x32x32xf32> loc("softmax")
  return %p : tensor<1x4x32x32xf32>
}
