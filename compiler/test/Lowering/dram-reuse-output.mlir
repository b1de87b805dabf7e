// DRAM reuse (docs/lowering.md): the attention expansion's last reshape makes
// an intermediate the graph output. That intermediate sits in the DRAM of dead
// scratch tensors, and an output never shares DRAM, so it is copied into its
// own tensor instead of renamed in place (this used to fail the program
// verifier with "tensors overlap in DRAM").
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// CHECK: 13 tensors
// CHECK: ; layer 10: attn/merge
// CHECK: ; layer 11: attn
// CHECK-NEXT: dma.load
// CHECK-NEXT: dma.store

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
