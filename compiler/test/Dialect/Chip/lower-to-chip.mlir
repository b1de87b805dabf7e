// tsr-lower-to-chip on a decided module: an attention group and a matmul
// group (bias epilogue) fused, tiled and placed for 8 KiB of SRAM. The
// attention kernel loads K, V and Q of each head by strided DMA straight
// from the [1, 16, 32] inputs (row stride 64 bytes), computes the FP32
// scores into SRAM, their softmax into FP16 probabilities and the context,
// and stores only the context: no DRAM tensor holds scores or
// probabilities, and no dma_store reads the scores' buffer. The matmul
// group loads the bias row once, then per row tile A and the weights, adds
// the bias on the vector unit and stores the output tile. Dependencies are
// tokens: the group's first A load waits for the attention's stores
// through the attention kernel's results.
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=8192 --tsr-fuse-epilogue=sram-bytes=8192 --tsr-allocate-sram=sram-bytes=8192 --tsr-verify-sram=sram-bytes=8192 --tsr-lower-to-chip=sram-bytes=8192 --mlir-elide-resource-strings-if-larger=16 | FileCheck %s
// The emitted program is the one the IR declares, through a text round trip.
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=8192 --tsr-fuse-epilogue=sram-bytes=8192 --tsr-allocate-sram=sram-bytes=8192 --tsr-verify-sram=sram-bytes=8192 --tsr-lower-to-chip=sram-bytes=8192 | tessera-translate --chip-to-listing | FileCheck %s --check-prefix=LIST

// CHECK-LABEL: chip.program @main chip "reference" npus 1 sram {{[0-9]+}} dram {{[0-9]+}} {
// CHECK-NEXT: chip.tensor "q" input f16 [1, 16, 32] at 0 bytes 1024
// CHECK-NEXT: chip.tensor "k" input f16 [1, 16, 32] at 1024 bytes 1024
// CHECK-NEXT: chip.tensor "v" input f16 [1, 16, 32] at 2048 bytes 1024
// CHECK-NEXT: chip.tensor "attn" scratch f16 [1, 16, 32] at 3072 bytes 1024
// CHECK-NEXT: chip.tensor "w" weight f16 [32, 32] at 4096 bytes 2048 data dense_resource<w> : tensor<32x32xf16>
// CHECK-NEXT: chip.tensor "c" weight f16 [32] at 6144 bytes 64 data dense_resource<c> : tensor<32xf16>
// CHECK-NEXT: chip.tensor "y" output f16 [1, 16, 32] at 6208 bytes 1024
// CHECK-NEXT: %[[ATT:.+]]:5 = chip.kernel "attn" {
// CHECK-COUNT-11: chip.buffer offset
// Head 0: K, V, Q of the head (32 bytes of each 64-byte row).
// CHECK-NEXT: %[[K0:.+]] = chip.dma_load dram 1024 stride 64 -> sram 0 stride 32 rows 16 x 32 on load
// CHECK-NEXT: %[[V0:.+]] = chip.dma_load dram 2048 stride 64 -> sram 512 stride 32 rows 16 x 32 on load
// CHECK-NEXT: %[[Q0:.+]] = chip.dma_load dram 0 stride 64 -> sram 1024 stride 32 rows 16 x 32 on load
// CHECK-NEXT: chip.vec "vec.scale" f16 -> f16 rows 16 cols 16 a 1024 a_stride 16 out [[QS:[0-9]+]] out_stride 16 imm 2.500000e-01 on compute after(%[[Q0]])
// CHECK-NEXT: chip.matmul f16 m 16 k 16 n 16 a [[QS]] stride 16 b 0 stride 16 out [[S:[0-9]+]] stride 16 f32 acc 0 stride 0 f32 transpose_b on compute after(%[[K0]])
// CHECK-NEXT: chip.vec "vec.softmax" f32 -> f16 rows 16 cols 16 a [[S]] a_stride 16 out [[P:[0-9]+]] out_stride 16 on compute
// CHECK-NEXT: %[[C0:.+]] = chip.matmul f16 m 16 k 16 n 16 a [[P]] stride 16 b 512 stride 16 out [[O:[0-9]+]] stride 16 f16 acc 0 stride 0 f32 on compute after(%[[V0]])
// CHECK-NEXT: chip.dma_store sram [[O]] stride 32 -> dram 3072 stride 64 rows 16 x 32 on store after(%[[C0]])
// CHECK-NOT: dma_store sram [[S]]
// CHECK-NOT: dma_store sram [[P]]
// CHECK: chip.dma_store sram {{[0-9]+}} stride 32 -> dram 3104 stride 64 rows 16 x 32 on store
// CHECK-NEXT: chip.yield
// CHECK-NEXT: } -> !chip.token, !chip.token, !chip.token, !chip.token, !chip.token
// The matmul group: bias row once, then A and B per tile, bias add, store.
// CHECK-NEXT: chip.kernel "bias" {
// CHECK-COUNT-7: chip.buffer offset
// CHECK-NEXT: %[[BIAS:.+]] = chip.dma_load dram 6144 stride 64 -> sram 0 stride 64 rows 1 x 64 on load after(%[[ATT]]#0)
// CHECK-NEXT: chip.dma_load dram 3072 stride 64 -> sram 64 stride 64 rows 8 x 64 on load after(%[[ATT]]#1, %[[ATT]]#2)
// CHECK-NEXT: chip.dma_load dram 4096 stride 64 -> sram 576 stride 64 rows 32 x 64 on load
// CHECK-NEXT: chip.matmul f16 m 8 k 32 n 32 a 64 stride 32 b 576 stride 32 out [[T:[0-9]+]] stride 32 f16
// CHECK-NEXT: %[[ADD:.+]] = chip.vec "vec.add" f16 -> f16 rows 8 cols 32 a [[T]] a_stride 32 b_stride 32 out [[T]] out_stride 32 bcast_row on compute after(%[[BIAS]])
// CHECK-NEXT: chip.dma_store sram [[T]] stride 64 -> dram 6208 stride 64 rows 8 x 64 on store after(%[[ADD]])
// CHECK: chip.dma_store sram {{[0-9]+}} stride 64 -> dram 6720 stride 64 rows 8 x 64 on store
// CHECK-NEXT: }
// CHECK-NEXT: }
// The weights' bytes are not printed (--mlir-elide-resource-strings-if-larger).
// CHECK-NOT: 0x0200

// LIST: ; 26 instructions, 2 layers, 7 tensors
// LIST-NOT: scratch {{.*}}scores
// LIST: ; layer 0: attn
// LIST-NEXT: 0 L  dma.load dram=0x400 sram=0x0 rows=16 bytes=32 dram_stride=64 sram_stride=32
// LIST: ; layer 1: bias
// LIST-NEXT: 16 L  dma.load dram=0x1800 sram=0x0 rows=1 bytes=64 dram_stride=64 sram_stride=64 deps=4

func.func @main(%q: tensor<1x16x32xf32> {tsr.name = "q"}, %k: tensor<1x16x32xf32> {tsr.name = "k"}, %v: tensor<1x16x32xf32> {tsr.name = "v"}) -> (tensor<1x16x32xf32> {tsr.name = "y"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<32x32xf32> -> tensor<32x32xf32>
  %c = tsr.weight "c" dense<0.25> : tensor<32xf32> -> tensor<32xf32>
  %a = tsr.attention %q, %k, %v {heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32> loc("attn")
  %m = tsr.matmul %a, %w : tensor<1x16x32xf32>, tensor<32x32xf32> -> tensor<1x16x32xf32> loc("proj")
  %s = tsr.add %m, %c : tensor<1x16x32xf32>, tensor<32xf32> -> tensor<1x16x32xf32> loc("bias")
  return %s : tensor<1x16x32xf32>
}
