// BERT's ops on the chip (docs/lowering.md, "Embedding, Equal, Where,
// Expand"): integer inputs are int32 tensors; the lookup is an ids load, a
// dma.gather of the table rows and a store; the mask is converted to FP16
// once, compared with vec.eqimm, expanded by strided copies and selected by
// vec.select (the -inf scalar broadcast at compile time).
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// CHECK: input    ids : i32[1x8]
// CHECK: input    mask : i32[1x8]

// CHECK-LABEL: ; layer 0: words
// CHECK: dma.load {{.*}} rows=1 bytes=32
// CHECK-NEXT: dma.gather {{.*}} table_rows=50 {{.*}} rows=8 bytes=32 {{.*}}deps=0
// CHECK-NEXT: dma.store {{.*}} rows=8 bytes=32

// CHECK-LABEL: ; layer 1: mask (int32 to fp16)
// CHECK: vec.copy.i32 rows=1 cols=8 {{.*}}:f16
// CHECK-LABEL: ; layer 2: pad
// CHECK: vec.eqimm.f16 rows=1 cols=8 {{.*}} imm=0
// CHECK-LABEL: ; layer 3: heads
// CHECK-COUNT-2: dma.store {{.*}} rows=1 bytes=16
// CHECK-LABEL: ; layer 4: select
// CHECK: vec.select.f16 rows=1 cols=16

func.func @main(%ids: tensor<1x8xf32> {tsr.dtype = "int64", tsr.name = "ids"}, %mask: tensor<1x8xf32> {tsr.dtype = "int64", tsr.name = "mask"}, %x: tensor<1x2x8xf32> {tsr.name = "x"}) -> (tensor<1x8x16xf32> {tsr.name = "emb"}, tensor<1x2x8xf32> {tsr.name = "scores"}) {
  %table = tsr.weight "table" dense<0.5> : tensor<50x16xf32> -> tensor<50x16xf32>
  %zero = tsr.weight "zero" dense<0.0> : tensor<f32> -> tensor<f32>
  %ninf = tsr.weight "ninf" dense<0xFF800000> : tensor<f32> -> tensor<f32>
  %e = tsr.embedding %table, %ids : tensor<50x16xf32>, tensor<1x8xf32> -> tensor<1x8x16xf32> loc("words")
  %p = tsr.equal %mask, %zero : tensor<1x8xf32>, tensor<f32> -> tensor<1x8xf32> loc("pad")
  %r = tsr.reshape %p : tensor<1x8xf32> -> tensor<1x1x8xf32> loc("r")
  %h = tsr.expand %r : tensor<1x1x8xf32> -> tensor<1x2x8xf32> loc("heads")
  %s = tsr.where %h, %ninf, %x : tensor<1x2x8xf32>, tensor<f32>, tensor<1x2x8xf32> -> tensor<1x2x8xf32> loc("select")
  return %e, %s : tensor<1x8x16xf32>, tensor<1x2x8xf32>
}
