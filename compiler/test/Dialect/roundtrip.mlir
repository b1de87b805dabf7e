// Every tsr op prints in its custom form and parses back to the same IR.
// RUN: tessera-opt %s | tessera-opt | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: {tsr.name = "x"}
// CHECK-SAME: {tsr.name = "y"}
func.func @main(%x: tensor<2x4x8xf32> {tsr.name = "x"}) -> (tensor<2x8x8xf32> {tsr.name = "y"}) {
  // CHECK: %[[W:.*]] = tsr.weight "w" dense<5.000000e-01> : tensor<8x8xf32> -> tensor<8x8xf32>
  %w = tsr.weight "w" dense<0.5> : tensor<8x8xf32> -> tensor<8x8xf32>
  // CHECK: %[[B:.*]] = tsr.weight "b" dense<1.000000e+00> : tensor<8xf32> -> tensor<8xf32>
  %b = tsr.weight "b" dense<1.0> : tensor<8xf32> -> tensor<8xf32>
  // CHECK: %[[S:.*]] = tsr.weight "s" dense<2.000000e+00> : tensor<f32> -> tensor<f32>
  %s = tsr.weight "s" dense<2.0> : tensor<f32> -> tensor<f32>
  // CHECK: tsr.matmul %{{.*}}, %[[W]] : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %0 = tsr.matmul %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  // CHECK: tsr.add %[[B]], %{{.*}} : tensor<8xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  %1 = tsr.add %b, %0 : tensor<8xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  // CHECK: tsr.sub
  %2 = tsr.sub %1, %0 : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  // CHECK: tsr.mul {{.*}}, %[[S]] : tensor<2x4x8xf32>, tensor<f32> -> tensor<2x4x8xf32>
  %3 = tsr.mul %2, %s : tensor<2x4x8xf32>, tensor<f32> -> tensor<2x4x8xf32>
  // CHECK: tsr.div
  %4 = tsr.div %3, %s : tensor<2x4x8xf32>, tensor<f32> -> tensor<2x4x8xf32>
  // CHECK: tsr.layernorm {{.*}} {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<2x4x8xf32>
  %5 = tsr.layernorm %4, %b, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<2x4x8xf32>
  // CHECK: tsr.softmax {{.*}} {axis = -1 : i64} : tensor<2x4x8xf32>
  %6 = tsr.softmax %5 {axis = -1 : i64} : tensor<2x4x8xf32>
  // CHECK: tsr.erf {{.*}} : tensor<2x4x8xf32>
  %7 = tsr.erf %6 : tensor<2x4x8xf32>
  // CHECK: tsr.gelu {{.*}} : tensor<2x4x8xf32>
  %8 = tsr.gelu %7 : tensor<2x4x8xf32>
  // CHECK: tsr.transpose {{.*}}, [0, 2, 1] : tensor<2x4x8xf32> -> tensor<2x8x4xf32>
  %9 = tsr.transpose %8, [0, 2, 1] : tensor<2x4x8xf32> -> tensor<2x8x4xf32>
  // CHECK: tsr.reshape {{.*}} : tensor<2x8x4xf32> -> tensor<2x8x2x2xf32>
  %10 = tsr.reshape %9 : tensor<2x8x4xf32> -> tensor<2x8x2x2xf32>
  %11 = tsr.reshape %10 : tensor<2x8x2x2xf32> -> tensor<2x8x4xf32>
  %12 = tsr.matmul %11, %8 : tensor<2x8x4xf32>, tensor<2x4x8xf32> -> tensor<2x8x8xf32>
  return %12 : tensor<2x8x8xf32>
}
