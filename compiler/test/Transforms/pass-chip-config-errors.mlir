// Every pass that decides for a chip reads it from its chip-config option;
// a file it cannot read is an error naming the file, and the pass fails.
// RUN: not tessera-opt %s --tsr-fuse-attention=chip-config=%t.missing.cfg 2>&1 | FileCheck %s
// RUN: not tessera-opt %s --tsr-fuse-epilogue=chip-config=%t.missing.cfg 2>&1 | FileCheck %s
// RUN: not tessera-opt %s --tsr-fuse-layernorm=chip-config=%t.missing.cfg 2>&1 | FileCheck %s
// RUN: not tessera-opt %s --tsr-select-tiling=chip-config=%t.missing.cfg 2>&1 | FileCheck %s
// RUN: not tessera-opt %s --tsr-verify-tiling=chip-config=%t.missing.cfg 2>&1 | FileCheck %s
// RUN: not tessera-opt %s --tsr-allocate-sram=chip-config=%t.missing.cfg 2>&1 | FileCheck %s
// RUN: not tessera-opt %s --tsr-verify-sram=chip-config=%t.missing.cfg 2>&1 | FileCheck %s
// RUN: not tessera-opt %s --tsr-lower-to-chip=chip-config=%t.missing.cfg 2>&1 | FileCheck %s

// CHECK: error: {{.*}}.missing.cfg: cannot open chip config: No such file or directory
func.func @f(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  return %a : tensor<4x8xf32>
}
