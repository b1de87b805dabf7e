// The code generator runs the tiling tsr-select-tiling recorded on a
// vector-family kernel (here written by hand): 2x8 tiles of a 4x16 erf are
// four loads of 2 rows of 16 bytes; a softmax with a recorded tiling that is
// illegal here (a partial row) is tiled by the search instead (whole rows).
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s

// CHECK-LABEL: ; layer 0: e
// CHECK-NEXT: 0 L  dma.load dram=0x0 sram=0x0 rows=2 bytes=16
// CHECK-NEXT: 1 C  vec.erf{{.*}} rows=2 cols=8
// CHECK-NEXT: 2 S  dma.store
// CHECK-NEXT: 3 L  dma.load dram=0x10 sram=0x40 rows=2 bytes=16
// CHECK-LABEL: ; layer 1: s
// CHECK-NEXT: dma.load {{.*}} bytes=32
func.func @main(%x: tensor<4x16xf32> {tsr.name = "x"}) -> (tensor<4x16xf32> {tsr.name = "y"}) {
  %e = tsr.erf %x {tsr.tiling = {tr = 2 : i64, tc = 8 : i64}} : tensor<4x16xf32> loc("e")
  %s = tsr.softmax %e {axis = -1 : i64, tsr.tiling = {tr = 2 : i64, tc = 8 : i64}} : tensor<4x16xf32> loc("s")
  return %s : tensor<4x16xf32>
}
