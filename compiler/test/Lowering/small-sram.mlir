// With 16 KiB of SRAM the GEMM is tiled in M, K and N: partial sums stay FP32
// in SRAM (acc), only the last K step writes FP16, each output tile is stored
// once, and nothing lies beyond 16384 bytes of SRAM.
// RUN: sed 's/^sram_bytes = .*/sram_bytes = 16384/' %S/../../../arch/configs/reference.cfg > %t.cfg
// RUN: tessera-translate --tsr-to-listing --chip-config %t.cfg %s | FileCheck %s

// CHECK: sram used: {{([0-9]|[0-9][0-9]|[0-9][0-9][0-9]|[0-9][0-9][0-9][0-9]|1[0-5][0-9][0-9][0-9]|16[0-2][0-9][0-9]|163[0-7][0-9]|1638[0-4])}} bytes
// CHECK-LABEL: ; layer 0: proj
// CHECK: mm.matmul.f16 {{.*}} out={{.*}}:f32 deps
// CHECK: mm.matmul.f16 {{.*}} out={{.*}}:f32 acc={{.*}}:f32
// CHECK: mm.matmul.f16 {{.*}} out={{.*}}:f16 acc={{.*}}:f32
// CHECK-NEXT: dma.store
// CHECK-NOT: sram=0x{{([4-9a-f][0-9a-f][0-9a-f][0-9a-f]|[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f])}}

func.func @main(%x: tensor<64x512xf32> {tsr.name = "x"}) -> (tensor<64x192xf32> {tsr.name = "y"}) {
  %w = tsr.weight "w" dense<0.5> : tensor<512x192xf32> -> tensor<512x192xf32>
  %0 = tsr.matmul %x, %w : tensor<64x512xf32>, tensor<512x192xf32> -> tensor<64x192xf32> loc("proj")
  return %0 : tensor<64x192xf32>
}
