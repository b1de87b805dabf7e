// A tsr.group of kind "attention" is one kernel: per head, K_h and V_h are
// loaded once by strided DMA straight from the packed projection (row
// stride 3 x 32 x 2 = 192 bytes), the scores are an FP32 product with B
// transposed, the softmax reads FP32 and writes FP16 probabilities, and
// only the context goes back to DRAM, into the head's columns (row stride
// 64 bytes). No scratch tensor holds scores or probabilities. (tessera-opt
// does not print locations, so the layer is named by the op: group_1.)
// RUN: tessera-opt --tsr-fuse-attention %s | tessera-translate --tsr-to-listing | FileCheck %s

// CHECK-NOT: scratch
// CHECK: ; layer 0: group_1
// CHECK-NEXT: dma.load {{.*}} rows=16 bytes=32 dram_stride=192 sram_stride=32
// CHECK-NEXT: dma.load {{.*}} rows=16 bytes=32 dram_stride=192 sram_stride=32
// CHECK-NEXT: dma.load {{.*}} rows=16 bytes=32 dram_stride=192 sram_stride=32
// CHECK-NEXT: vec.scale.f16 rows=16 cols=16 {{.*}} imm=0.25
// CHECK-NEXT: mm.matmul.f16 m=16 k=16 n=16 {{.*}}:f32 transpose_b
// CHECK-NEXT: vec.softmax.f32 rows=16 cols=16 {{.*}}:f16
// CHECK-NEXT: mm.matmul.f16 m=16 k=16 n=16 {{.*}}:f16
// CHECK-NEXT: dma.store {{.*}} rows=16 bytes=32 dram_stride=64 sram_stride=32
// CHECK: vec.softmax.f32
// CHECK-NOT: ; layer

func.func @main(%x: tensor<16x1x96xf32> {tsr.name = "qkv"}) -> (tensor<1x16x32xf32> {tsr.name = "out"}) {
  %q0 = tsr.slice %x offsets [0, 0, 0] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
  %k0 = tsr.slice %x offsets [0, 0, 32] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
  %v0 = tsr.slice %x offsets [0, 0, 64] steps [1, 1, 1] : tensor<16x1x96xf32> -> tensor<16x1x32xf32>
  %q = tsr.transpose %q0, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
  %k = tsr.transpose %k0, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
  %v = tsr.transpose %v0, [1, 0, 2] : tensor<16x1x32xf32> -> tensor<1x16x32xf32>
  %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32> loc("attn")
  return %a : tensor<1x16x32xf32>
}
