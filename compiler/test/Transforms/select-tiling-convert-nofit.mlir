// No tiling of an integer input's FP16 conversion fits 250 bytes of SRAM:
// one 1 x 8 tile needs two int32 slots of 32 bytes and two FP16 slots of
// 16, each 64-byte aligned. tsr-select-tiling names the kernel (on the
// function: the decision belongs to the argument) and the bytes.
// RUN: not tessera-opt %s --tsr-select-tiling=sram-bytes=250 2>&1 | FileCheck %s

// CHECK: error: 'func.func' op convert 'mask (int32 to fp16)': no tiling of the 16x64 view fits 250 bytes of SRAM; the smallest tile (1 x 8) needs 256 bytes
func.func @main(%mask: tensor<4x256xf32> {tsr.dtype = "int64", tsr.name = "mask"}) -> (tensor<1024xf32> {tsr.name = "m"}) {
  %r = tsr.reshape %mask : tensor<4x256xf32> -> tensor<1024xf32> loc("flat")
  return %r : tensor<1024xf32>
}
