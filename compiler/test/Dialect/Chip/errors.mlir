// The chip dialect's verifiers: each error names the op and the field.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics

// An SRAM operand outside every buffer of its kernel.
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 32
    // expected-error @+1 {{'chip.dma_load' op operand 'dst' [0, 64) of SRAM lies in no chip.buffer of kernel 'k'}}
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
  }
}

// -----

// A DRAM operand outside every tensor.
chip.program @main chip "reference" npus 1 sram 256 dram 128 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.tensor "y" output f16 [4, 8] at 64 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 64
    // expected-error @+1 {{'chip.dma_load' op operand 'src' [32, 96) of DRAM lies in no chip.tensor}}
    %0 = chip.dma_load dram 32 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
  }
}

// -----

// A vector kind that is no opcode of the ISA.
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 128
    // expected-error @+1 {{'chip.vec' op kind 'vec.frobnicate' is not an opcode of the ISA}}
    %0 = chip.vec "vec.frobnicate" f16 -> f16 rows 4 cols 8 a 0 a_stride 8 out 64 out_stride 8 on compute
  }
}

// -----

// An opcode of another unit as a vector kind.
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 128
    // expected-error @+1 {{'chip.vec' op kind 'mm.matmul' is not a vector-unit opcode}}
    %0 = chip.vec "mm.matmul" f16 -> f16 rows 4 cols 8 a 0 a_stride 8 out 64 out_stride 8 on compute
  }
}

// -----

// The queue printed must be the opcode's.
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 128
    // expected-error @+1 {{'vec.softmax' runs on the compute queue, not 'load'}}
    %0 = chip.vec "vec.softmax" f16 -> f16 rows 4 cols 8 a 0 a_stride 8 out 64 out_stride 8 on load
  }
}

// -----

// An NPU the program does not have.
chip.program @main chip "reference" npus 2 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 64
    // expected-error @+1 {{'chip.dma_load' op npu 2 is not below the program's 2 NPUs}}
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load npu 2
  }
}

// -----

// Waiting twice for the same instruction.
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 128
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
    // expected-error @+1 {{'chip.vec' op waits twice for the same instruction}}
    %1 = chip.vec "vec.gelu" f16 -> f16 rows 4 cols 8 a 0 a_stride 8 out 64 out_stride 8 on compute after(%0, %0)
  }
}

// -----

// A missing dependency: the product reads bytes a load writes, and waits
// for nothing (the code generator's hazard rule, codegen::HazardTracker).
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 128
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
    // expected-error @+1 {{'chip.vec' op does not wait for instruction 0 (dma.load), which accesses bytes it touches: a missing dependency}}
    %1 = chip.vec "vec.gelu" f16 -> f16 rows 4 cols 8 a 0 a_stride 8 out 64 out_stride 8 on compute
  }
}

// -----

// A write after a read on another queue: the load that overwrites the
// product's input must wait for the product (here it waits for the wrong
// instruction of the compute queue: an earlier one).
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 192
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
    %1 = chip.vec "vec.fill" f16 -> f16 rows 4 cols 8 out 128 out_stride 8 on compute
    %2 = chip.vec "vec.gelu" f16 -> f16 rows 4 cols 8 a 0 a_stride 8 out 64 out_stride 8 on compute after(%0)
    // expected-error @+1 {{'chip.dma_load' op does not wait for instruction 2 (vec.gelu), which accesses bytes it touches: a missing dependency}}
    %3 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load after(%1)
  }
}

// -----

// Waiting for an instruction that comes later (no cycle, no forward wait).
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 192
    // expected-error @+1 {{operand #0 does not dominate this use}}
    %0 = chip.vec "vec.gelu" f16 -> f16 rows 4 cols 8 a 0 a_stride 8 out 64 out_stride 8 on compute after(%1)
    // expected-note @+1 {{operand defined here}}
    %1 = chip.dma_load dram 0 stride 16 -> sram 128 stride 16 rows 4 x 16 on load
  }
}

// -----

// Waiting for an instruction of another kernel that it does not pass on.
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "a" {
    chip.buffer offset 0 bytes 64
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
  }
  chip.kernel "b" {
    chip.buffer offset 0 bytes 64
    // expected-error @+1 {{use of undeclared SSA value name}}
    %1 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load after(%0)
  }
}

// -----

// The arch contract (arch::Program::verify): a zero dimension.
chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 64
    // expected-error @+1 {{'chip.dma_load' op breaks the arch contract: 0 (dma.load): dimension 0 is zero}}
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 0 x 16 on load
  }
}

// -----

// The arch contract: an operand past the SRAM the program says it uses.
chip.program @main chip "reference" npus 1 sram 32 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 16
    // expected-error @+1 {{'chip.dma_load' op breaks the arch contract: 0 (dma.load): operand dst extends past the SRAM in use (32 bytes)}}
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
  }
}

// -----

chip.program @main chip "reference" npus 1 sram 0 dram 64 {
  // expected-error @+1 {{'chip.tensor' op tensor 'x': bytes is 60, its shape and f16 need 64}}
  chip.tensor "x" input f16 [4, 8] at 0 bytes 60
}

// -----

chip.program @main chip "reference" npus 1 sram 0 dram 64 {
  // expected-error @+1 {{'chip.tensor' op weight 'w' has no data}}
  chip.tensor "w" weight f16 [4, 8] at 0 bytes 64
}

// -----

chip.program @main chip "reference" npus 1 sram 0 dram 64 {
  // expected-error @+1 {{'chip.tensor' op weight 'w': data of type 'tensor<4x8xf32>' does not hold 32 f16 elements}}
  chip.tensor "w" weight f16 [4, 8] at 0 bytes 64 data dense<1.0> : tensor<4x8xf32>
}

// -----

chip.program @main chip "reference" npus 1 sram 0 dram 128 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  // expected-error @+1 {{'chip.tensor' op tensor 'y': only weights carry data, this is scratch}}
  chip.tensor "y" scratch f16 [4, 8] at 64 bytes 64 data dense<1.0> : tensor<4x8xf16>
}

// -----

// Tensors overlapping in DRAM (the arch contract: only scratch may share).
// expected-error @+1 {{'chip.program' op breaks the arch contract: chip.program: tensors overlap in DRAM at address 32}}
chip.program @main chip "reference" npus 1 sram 0 dram 128 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.tensor "y" output f16 [4, 8] at 32 bytes 64
}

// -----

chip.program @main chip "reference" npus 1 sram 64 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    // expected-error @+1 {{'chip.buffer' op bytes must be positive}}
    chip.buffer offset 0 bytes 0
  }
}

// -----

chip.program @main chip "reference" npus 1 sram 64 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  %k:2 = chip.kernel "k" {
    chip.buffer offset 0 bytes 64
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
    // expected-error @+1 {{'chip.yield' op yields 1 tokens, the kernel has 2 results}}
    chip.yield %0 : !chip.token
  } -> !chip.token, !chip.token
}

// -----

// A weight's resource that the file does not provide.
chip.program @main chip "reference" npus 1 sram 0 dram 64 {
  // expected-error @+1 {{'chip.tensor' op weight 'w': resource 'nowhere' has no data}}
  chip.tensor "w" weight f16 [4, 8] at 0 bytes 64 data dense_resource<nowhere> : tensor<4x8xf16>
}

// -----

// A weight's resource of the wrong size.
chip.program @main chip "reference" npus 1 sram 0 dram 64 {
  // expected-error @+1 {{'chip.tensor' op weight 'w': resource holds 2 bytes, expected 64}}
  chip.tensor "w" weight f16 [4, 8] at 0 bytes 64 data dense_resource<small> : tensor<4x8xf16>
}
{-#
  dialect_resources: {
    builtin: {
      small: "0x020000000038"
    }
  }
#-}
