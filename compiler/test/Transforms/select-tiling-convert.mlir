// An integer input read as data (here by tsr.equal and a reshape) is
// converted to FP16 once by a kernel of its own (docs/lowering.md, "Integer
// inputs"); tsr-select-tiling records that kernel's tiling (tr, tc on the
// [16, 64] view: rows of 64 elements) and modelled cost on the function
// argument, where tsr-allocate-sram records its plan. The ids only an
// embedding reads stay int32: nothing recorded. The reshape reading the mask
// has no kernel (no tiling). A 2 KiB SRAM takes smaller tiles at a higher
// modelled cost (select-tiling-convert-nofit.mlir: none fits).
// RUN: tessera-opt %s --tsr-select-tiling --tsr-verify-tiling | FileCheck %s
// RUN: tessera-opt %s --tsr-select-tiling=sram-bytes=2048 --tsr-verify-tiling=sram-bytes=2048 | FileCheck %s --check-prefix=SMALL

// CHECK: func.func @main(%arg0: tensor<4x32xf32> {tsr.dtype = "int64", tsr.name = "ids"}, %arg1: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {cycles = 767 : i64, dram_bytes = 6144 : i64, sram_bytes = 7680 : i64, tc = 64 : i64, tr = 10 : i64}})
// SMALL: func.func @main(%arg0: tensor<4x32xf32> {tsr.dtype = "int64", tsr.name = "ids"}, %arg1: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask", tsr.tiling = {cycles = 1692 : i64, dram_bytes = 6144 : i64, sram_bytes = 1536 : i64, tc = 64 : i64, tr = 2 : i64}})
// CHECK: tsr.embedding {{.*}}tsr.tiling
// CHECK: tsr.equal {{.*}}tsr.tiling
// CHECK: tsr.reshape %arg1 : tensor<4x256xf32> -> tensor<1024xf32>
func.func @main(%ids: tensor<4x32xf32> {tsr.dtype = "int64", tsr.name = "ids"}, %mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask"}) -> (tensor<4x32x16xf32> {tsr.name = "emb"}, tensor<4x256xf32> {tsr.name = "m"}, tensor<1024xf32> {tsr.name = "flat"}) {
  %table = tsr.weight "table" dense<0.5> : tensor<50x16xf32> -> tensor<50x16xf32>
  %zero = tsr.weight "zero" dense<0.0> : tensor<f32> -> tensor<f32>
  %e = tsr.embedding %table, %ids : tensor<50x16xf32>, tensor<4x32xf32> -> tensor<4x32x16xf32> loc("words")
  %p = tsr.equal %mask, %zero : tensor<4x256xf32>, tensor<f32> -> tensor<4x256xf32> loc("pad")
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %e, %p, %r : tensor<4x32x16xf32>, tensor<4x256xf32>, tensor<1024xf32>
}
