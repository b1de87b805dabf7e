// Passes then code generation: the raised GELU is one vector instruction per
// tile instead of five kernels.
// RUN: tessera-opt --tsr-raise-gelu %s | tessera-translate --tsr-to-listing | FileCheck %s
// RUN: tessera-translate --tsr-to-listing %s | FileCheck %s --check-prefix=CHAIN

// CHECK: ; 3 instructions, 1 layers
// CHECK: vec.gelu.f16 rows=4 cols=8
// CHAIN: instructions, 5 layers
// CHAIN-NOT: vec.gelu
// CHAIN: vec.erf.f16

func.func @main(%x: tensor<4x8xf32> {tsr.name = "x"}) -> (tensor<4x8xf32> {tsr.name = "y"}) {
  %sqrt2 = tsr.weight "sqrt2" dense<1.41421354> : tensor<f32> -> tensor<f32>
  %one = tsr.weight "one" dense<1.0> : tensor<f32> -> tensor<f32>
  %half = tsr.weight "half" dense<0.5> : tensor<f32> -> tensor<f32>
  %0 = tsr.div %x, %sqrt2 : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %1 = tsr.erf %0 : tensor<4x8xf32>
  %2 = tsr.add %1, %one : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %3 = tsr.mul %x, %2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %4 = tsr.mul %3, %half : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}
