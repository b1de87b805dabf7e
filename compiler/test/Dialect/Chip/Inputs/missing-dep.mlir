chip.program @main chip "reference" npus 1 sram 256 dram 64 {
  chip.tensor "x" input f16 [4, 8] at 0 bytes 64
  chip.kernel "k" {
    chip.buffer offset 0 bytes 128
    %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16 on load
    %1 = chip.vec "vec.gelu" f16 -> f16 rows 4 cols 8 a 0 a_stride 8 out 64 out_stride 8 on compute
  }
}
