// tsr-keep-kv (the source's split): K and V of the first k heads stay in
// SRAM from the packed QKV projection's kernel into the attention's; k is
// the cost model's choice from the SRAM (k = heads .. 0: the resident region
// reserved at the top of the SRAM, both kernels' tiles searched again under
// the rest, both priced back to back; the lowest latency wins, ties to the
// larger k). The perception layer (768 tokens, width 448, 7 heads of 64;
// one head's K and V 2 x 98304 B): at 32 MiB every head's K and V stay; at
// 2 MiB one head's (more would shrink the attention's query tiles); at
// 1 MiB a resident head fits but is slower (k = 0, both figures in the
// remark); at 512 KiB no split fits both kernels' tiles (k = 0).
// RUN: tessera-opt %s --tsr-fuse-attention --tsr-fuse-epilogue --tsr-fuse-layernorm --tsr-keep-kv --tsr-allocate-sram --tsr-verify-sram 2>&1 | FileCheck %s --check-prefix=ALL
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=2097152 --tsr-fuse-epilogue=sram-bytes=2097152 --tsr-fuse-layernorm=sram-bytes=2097152 --tsr-keep-kv=sram-bytes=2097152 --tsr-allocate-sram=sram-bytes=2097152 --tsr-verify-sram=sram-bytes=2097152 2>&1 | FileCheck %s --check-prefix=SOME
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=1048576 --tsr-fuse-epilogue=sram-bytes=1048576 --tsr-fuse-layernorm=sram-bytes=1048576 --tsr-keep-kv=sram-bytes=1048576 --tsr-allocate-sram=sram-bytes=1048576 --tsr-verify-sram=sram-bytes=1048576 2>&1 | FileCheck %s --check-prefix=SLOWER
// RUN: tessera-opt %s --tsr-fuse-attention=sram-bytes=524288 --tsr-fuse-epilogue=sram-bytes=524288 --tsr-fuse-layernorm=sram-bytes=524288 --tsr-keep-kv=sram-bytes=524288 --tsr-allocate-sram=sram-bytes=524288 --tsr-verify-sram=sram-bytes=524288 2>&1 | FileCheck %s --check-prefix=NOFIT
// On a chip of two NPUs the split is refused with a remark (the projection's
// row tiles may be divided among the NPUs; the region is one NPU's SRAM).
// RUN: tessera-opt %s --tsr-fuse-attention=chip-config=%models/../arch/configs/two-npus.cfg --tsr-fuse-epilogue=chip-config=%models/../arch/configs/two-npus.cfg --tsr-fuse-layernorm=chip-config=%models/../arch/configs/two-npus.cfg --tsr-keep-kv=chip-config=%models/../arch/configs/two-npus.cfg 2>&1 | FileCheck %s --check-prefix=NPUS
// NPUS: remark: {{.*}}K and V not kept in SRAM: the chip has 2 NPUs
// NPUS-NOT: tsr.keep_kv
// NPUS: heads_on_chip = 0 : i64, kind = "attention"
// NPUS-NOT: tsr.keep_kv

// ALL-LABEL: func.func @layer
// ALL: %[[P:.*]] = tsr.group({{.*}}) {epilogue = ["bias"], kind = "matmul", prologue = "layernorm"
// ALL-SAME: tsr.keep_kv = {bytes = 1376256 : i64, head_dim = 64 : i64, heads = 7 : i64, k_column = 448 : i64, offset = 32178176 : i64, rows = 768 : i64, v_column = 896 : i64}
// ALL-SAME: tsr.sram = {buffers = [{bytes = 1376256 : i64, live = array<i64: 0, 5>, name = "kv", offset = 32178176 : i64, slot = 0 : i64}
// ALL-SAME: why = "{{.*}}; K and V of the first 7 heads kept in SRAM for the attention"
// ALL: tsr.yield
// ALL-NEXT: }
// ALL-NEXT: %[[A:.*]] = tsr.group(%[[P]]) {heads_on_chip = 7 : i64, kind = "attention"
// ALL-SAME: tsr.sram = {buffers = [{bytes = 1376256 : i64, live = array<i64: 0, 6>, name = "kv", offset = 32178176 : i64, slot = 0 : i64}, {bytes = 98304 : i64, live = array<i64: 0, 6>, name = "q"
// ALL-NOT: name = "k"
// ALL-SAME: tsr.tiling = {cycles = 572208 : i64, dram_bytes = 1376256 : i64, sram_bytes = 3932160 : i64, tq = 768 : i64}
// ALL-SAME: why = "{{.*}}; K and V of the first 7 of 7 heads (1376256 B) stay in SRAM from the projection at [32178176, 33554432) of 32.00 MiB: 1376256 B neither stored nor loaded; modelled 854022 cycles (projection 281814 + attention 572208) against 865483 with every head's K and V through DRAM (projection 287491 + attention 577992)"
// ALL: return %[[A]]

// SOME-LABEL: func.func @layer
// SOME: tsr.keep_kv = {bytes = 196608 : i64, head_dim = 64 : i64, heads = 1 : i64, k_column = 448 : i64, offset = 1900544 : i64
// SOME: tsr.group(%{{.*}}) {heads_on_chip = 1 : i64, kind = "attention"
// SOME-SAME: name = "k", offset
// SOME-SAME: why = "{{.*}}; K and V of the first 1 of 7 heads (196608 B) stay in SRAM from the projection at [1900544, 2097152) of 2.00 MiB: 196608 B neither stored nor loaded; modelled 901467 cycles (projection 287539 + attention 613928) against 907082 with every head's K and V through DRAM (projection 287491 + attention 619591)"

// SLOWER: remark: {{.*}}K and V not kept in SRAM: K and V of every head through DRAM: no resident split is faster; modelled 982708 cycles (projection 295296 + attention 687412) against 1125595 with the fastest resident split (1 heads: projection 307661 + attention 817934)
// SLOWER-LABEL: func.func @layer
// SLOWER-NOT: tsr.keep_kv
// SLOWER: tsr.group(%{{.*}}) {heads_on_chip = 0 : i64, kind = "attention"
// SLOWER-NOT: name = "kv"
// SLOWER-SAME: why = "{{.*}}; K and V of every head through DRAM: no resident split is faster

// NOFIT: remark: {{.*}}K and V not kept in SRAM: K and V of every head through DRAM: no resident split fits (one head's K and V take 196608 B of the 524288 B of SRAM; the rest holds no tiles of both kernels); modelled 2108381 cycles (projection 311667 + attention 1796714)
// NOFIT-LABEL: func.func @layer
// NOFIT-NOT: tsr.keep_kv
// NOFIT: heads_on_chip = 0 : i64
func.func @layer(%x: tensor<768x1x448xf32>, %g: tensor<448xf32>, %b: tensor<448xf32>, %w: tensor<448x1344xf32>, %c: tensor<1344xf32>) -> tensor<1x768x448xf32> {
  %n = tsr.layernorm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : tensor<768x1x448xf32>, tensor<448xf32>, tensor<448xf32> -> tensor<768x1x448xf32>
  %m = tsr.matmul %n, %w : tensor<768x1x448xf32>, tensor<448x1344xf32> -> tensor<768x1x1344xf32>
  %qkv = tsr.add %c, %m : tensor<1344xf32>, tensor<768x1x1344xf32> -> tensor<768x1x1344xf32>
  %q0 = tsr.slice %qkv offsets [0, 0, 0] steps [1, 1, 1] : tensor<768x1x1344xf32> -> tensor<768x1x448xf32>
  %k0 = tsr.slice %qkv offsets [0, 0, 448] steps [1, 1, 1] : tensor<768x1x1344xf32> -> tensor<768x1x448xf32>
  %v0 = tsr.slice %qkv offsets [0, 0, 896] steps [1, 1, 1] : tensor<768x1x1344xf32> -> tensor<768x1x448xf32>
  %q = tsr.transpose %q0, [1, 0, 2] : tensor<768x1x448xf32> -> tensor<1x768x448xf32>
  %k = tsr.transpose %k0, [1, 0, 2] : tensor<768x1x448xf32> -> tensor<1x768x448xf32>
  %v = tsr.transpose %v0, [1, 0, 2] : tensor<768x1x448xf32> -> tensor<1x768x448xf32>
  %a = tsr.attention %q, %k, %v {heads = 7 : i64, head_dim = 64 : i64, scale = 0.125 : f32} : tensor<1x768x448xf32>, tensor<1x768x448xf32>, tensor<1x768x448xf32> -> tensor<1x768x448xf32> loc("attn")
  return %a : tensor<1x768x448xf32>
}
