// The CNN and miscellaneous tsr ops print in their custom form and parse back.
// RUN: tessera-opt %s | tessera-opt | FileCheck %s

// CHECK-LABEL: func.func @cnn
func.func @cnn(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>,
               %dw: tensor<4x1x3x3xf32>) -> tensor<1x4x1x1xf32> {
  // CHECK: tsr.conv %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x4x4xf32>
  %0 = tsr.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64}
      : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x4x4xf32>
  // CHECK: tsr.conv {{.*}}groups = 4 : i64{{.*}} -> tensor<1x4x4x4xf32>
  %1 = tsr.conv %0, %dw, %b {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>, groups = 4 : i64}
      : tensor<1x4x4x4xf32>, tensor<4x1x3x3xf32>, tensor<4xf32> -> tensor<1x4x4x4xf32>
  // CHECK: tsr.relu %{{.*}} : tensor<1x4x4x4xf32>
  %2 = tsr.relu %1 : tensor<1x4x4x4xf32>
  // CHECK: tsr.sigmoid
  %3 = tsr.sigmoid %2 : tensor<1x4x4x4xf32>
  // CHECK: tsr.hardswish
  %4 = tsr.hardswish %3 : tensor<1x4x4x4xf32>
  // CHECK: tsr.hardsigmoid %{{.*}} {alpha = 0.166666672 : f32, beta = 5.000000e-01 : f32} : tensor<1x4x4x4xf32>
  %5 = tsr.hardsigmoid %4 {alpha = 0.166666672 : f32, beta = 0.5 : f32} : tensor<1x4x4x4xf32>
  // CHECK: tsr.clip %{{.*}} {max = 6.000000e+00 : f32, min = 0.000000e+00 : f32} : tensor<1x4x4x4xf32>
  %6 = tsr.clip %5 {min = 0.0 : f32, max = 6.0 : f32} : tensor<1x4x4x4xf32>
  // CHECK: tsr.maxpool %{{.*}} {kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x4x4x4xf32> -> tensor<1x4x2x2xf32>
  %7 = tsr.maxpool %6 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x4x4x4xf32> -> tensor<1x4x2x2xf32>
  // CHECK: tsr.avgpool %{{.*}} {count_include_pad = false, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x4x2x2xf32> -> tensor<1x4x1x1xf32>
  %8 = tsr.avgpool %7 {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false} : tensor<1x4x2x2xf32> -> tensor<1x4x1x1xf32>
  return %8 : tensor<1x4x1x1xf32>
}

// CHECK-LABEL: func.func @bert
func.func @bert(%ids: tensor<1x5xf32>, %mask: tensor<1x5xf32>, %t: tensor<10x8xf32>,
                %s: tensor<1x2x5x5xf32>, %z: tensor<f32>) -> (tensor<1x5x8xf32>, tensor<1x2x5x5xf32>) {
  // CHECK: tsr.embedding %{{.*}}, %{{.*}} : tensor<10x8xf32>, tensor<1x5xf32> -> tensor<1x5x8xf32>
  %0 = tsr.embedding %t, %ids : tensor<10x8xf32>, tensor<1x5xf32> -> tensor<1x5x8xf32>
  // CHECK: tsr.equal %{{.*}}, %{{.*}} : tensor<1x5xf32>, tensor<f32> -> tensor<1x5xf32>
  %1 = tsr.equal %mask, %z : tensor<1x5xf32>, tensor<f32> -> tensor<1x5xf32>
  // CHECK: tsr.expand %{{.*}} : tensor<1x5xf32> -> tensor<1x1x5x5xf32>
  %2 = tsr.expand %1 : tensor<1x5xf32> -> tensor<1x1x5x5xf32>
  // CHECK: tsr.where %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x1x5x5xf32>, tensor<f32>, tensor<1x2x5x5xf32> -> tensor<1x2x5x5xf32>
  %3 = tsr.where %2, %z, %s : tensor<1x1x5x5xf32>, tensor<f32>, tensor<1x2x5x5xf32> -> tensor<1x2x5x5xf32>
  return %0, %3 : tensor<1x5x8xf32>, tensor<1x2x5x5xf32>
}
