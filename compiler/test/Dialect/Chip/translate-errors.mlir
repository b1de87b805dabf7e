// tessera-translate --chip-to-program / --chip-to-listing on a module that
// holds no chip.program (a tsr module not lowered yet): a one-line error.
// RUN: not tessera-translate --chip-to-program %s -o %t 2>&1 | FileCheck %s
// RUN: not tessera-translate --chip-to-listing %s 2>&1 | FileCheck %s
// An invalid chip.program is rejected by its verifier when parsed.
// RUN: not tessera-translate --chip-to-program %S/Inputs/missing-dep.mlir -o %t 2>&1 | FileCheck %s --check-prefix=VERIFY

// CHECK: tessera-translate: error: expected exactly one chip.program (run tessera-opt --tsr-lower-to-chip on a tsr module)
// VERIFY: error: 'chip.vec' op does not wait for instruction 0 (dma.load), which accesses bytes it touches: a missing dependency

func.func @main(%x: tensor<4x8xf32> {tsr.name = "x"}) -> (tensor<4x8xf32> {tsr.name = "y"}) {
  %y = tsr.gelu %x : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
