// tsr.group's verifier: the region's arguments and yield match the group,
// the kind and softmax are known, heads_on_chip is a head count.
// RUN: tessera-opt %s -split-input-file -verify-diagnostics

func.func @bad_softmax(%q: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'tsr.group' op softmax must be "row" or "online", got "tiled"}}
  %g = tsr.group(%q) {kind = "attention", heads_on_chip = 2 : i64, softmax = "tiled", why = ""} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    %a = tsr.attention %x, %x, %x {heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32} : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
    tsr.yield %a : tensor<1x4x8xf32>
  }
  return %g : tensor<1x4x8xf32>
}

// -----

func.func @too_many_heads(%q: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'tsr.group' op heads_on_chip must be in [1, 2], got 3}}
  %g = tsr.group(%q) {kind = "attention", heads_on_chip = 3 : i64, softmax = "row", why = ""} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    %a = tsr.attention %x, %x, %x {heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32} : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
    tsr.yield %a : tensor<1x4x8xf32>
  }
  return %g : tensor<1x4x8xf32>
}

// -----

func.func @unknown_kind(%q: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'tsr.group' op unknown kind "mlp" (expected "attention")}}
  %g = tsr.group(%q) {kind = "mlp", heads_on_chip = 1 : i64, softmax = "row", why = ""} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    tsr.yield %x : tensor<1x4x8xf32>
  }
  return %g : tensor<1x4x8xf32>
}

// -----

func.func @arg_mismatch(%q: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'tsr.group' op region has 2 arguments for 1 operands}}
  %g = tsr.group(%q) {kind = "attention", heads_on_chip = 1 : i64, softmax = "row", why = ""} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>, %y: tensor<1x4x8xf32>):
    tsr.yield %x : tensor<1x4x8xf32>
  }
  return %g : tensor<1x4x8xf32>
}
