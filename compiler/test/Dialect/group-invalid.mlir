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
  // expected-error @+1 {{'tsr.group' op heads_on_chip must be in [0, 2], got 3}}
  %g = tsr.group(%q) {kind = "attention", heads_on_chip = 3 : i64, softmax = "row", why = ""} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    %a = tsr.attention %x, %x, %x {heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32} : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
    tsr.yield %a : tensor<1x4x8xf32>
  }
  return %g : tensor<1x4x8xf32>
}

// -----

func.func @unknown_kind(%q: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'tsr.group' op unknown kind "mlp" (expected "attention" or "matmul")}}
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

// -----

// A layernorm prologue normalizes whole rows: the tiling must keep K whole.
func.func @ln_split_k(%x: tensor<16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'tsr.group' op a layernorm prologue normalizes whole rows: tk must be K = 64, got 32}}
  %o = tsr.group(%x, %g, %b, %w) {kind = "matmul", prologue = "layernorm", why = "", tsr.tiling = {tm = 16 : i64, tk = 32 : i64, tn = 32 : i64}} : (tensor<16x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32> {
  ^bb0(%a0: tensor<16x64xf32>, %a1: tensor<64xf32>, %a2: tensor<64xf32>, %a3: tensor<64x32xf32>):
    %n = tsr.layernorm %a0, %a1, %a2 {axis = 1 : i64, epsilon = 1.0e-5 : f32} : tensor<16x64xf32>, tensor<64xf32>, tensor<64xf32> -> tensor<16x64xf32>
    %m = tsr.matmul %n, %a3 : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
    tsr.yield %m : tensor<16x32xf32>
  }
  return %o : tensor<16x32xf32>
}

// -----

func.func @tile_too_big(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %c: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'tsr.group' op tiling 32x64x32 is not a tile of the 16x64x32 product}}
  %o = tsr.group(%x, %w, %c) {kind = "matmul", epilogue = ["bias"], why = "", tsr.tiling = {tm = 32 : i64, tk = 64 : i64, tn = 32 : i64}} : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32> {
  ^bb0(%a0: tensor<16x64xf32>, %a1: tensor<64x32xf32>, %a2: tensor<32xf32>):
    %m = tsr.matmul %a0, %a1 : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
    %s = tsr.add %m, %a2 : tensor<16x32xf32>, tensor<32xf32> -> tensor<16x32xf32>
    tsr.yield %s : tensor<16x32xf32>
  }
  return %o : tensor<16x32xf32>
}

// -----

// The epilogue attribute must describe the region, in the order bias, gelu,
// residual.
func.func @epilogue_mismatch(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %c: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'tsr.group' op epilogue op 0 is "gelu" but the region has tsr.add}}
  %o = tsr.group(%x, %w, %c) {kind = "matmul", epilogue = ["gelu"], why = ""} : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32> {
  ^bb0(%a0: tensor<16x64xf32>, %a1: tensor<64x32xf32>, %a2: tensor<32xf32>):
    %m = tsr.matmul %a0, %a1 : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
    %s = tsr.add %m, %a2 : tensor<16x32xf32>, tensor<32xf32> -> tensor<16x32xf32>
    tsr.yield %s : tensor<16x32xf32>
  }
  return %o : tensor<16x32xf32>
}

// -----

func.func @epilogue_order(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'tsr.group' op epilogue must be an ordered subset of ["bias", "gelu", "residual"]}}
  %o = tsr.group(%x, %w) {kind = "matmul", epilogue = ["gelu", "bias"], why = ""} : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32> {
  ^bb0(%a0: tensor<16x64xf32>, %a1: tensor<64x32xf32>):
    %m = tsr.matmul %a0, %a1 : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
    tsr.yield %m : tensor<16x32xf32>
  }
  return %o : tensor<16x32xf32>
}

// -----

func.func @attention_attrs_on_matmul(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'tsr.group' op heads_on_chip and softmax are attention attributes}}
  %o = tsr.group(%x, %w) {kind = "matmul", heads_on_chip = 1 : i64, prologue = "layernorm", why = ""} : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32> {
  ^bb0(%a0: tensor<16x64xf32>, %a1: tensor<64x32xf32>):
    %m = tsr.matmul %a0, %a1 : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
    tsr.yield %m : tensor<16x32xf32>
  }
  return %o : tensor<16x32xf32>
}

// -----

// The online softmax walks K and V in tiles of tk rows: tk must be a tile
// of the key rows.
func.func @online_tk_too_large(%q: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'tsr.group' op the online softmax walks K and V in tiles of tk rows: tiling tk must be in [1, 4], got 5}}
  %g = tsr.group(%q) {kind = "attention", heads_on_chip = 0 : i64, softmax = "online", why = "", tsr.tiling = {tq = 4 : i64, tk = 5 : i64}} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    %a = tsr.attention %x, %x, %x {heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32} : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
    tsr.yield %a : tensor<1x4x8xf32>
  }
  return %g : tensor<1x4x8xf32>
}

// -----

func.func @online_without_tk(%q: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'tsr.group' op the online softmax walks K and V in tiles of tk rows: tiling tk must be in [1, 4], got -1}}
  %g = tsr.group(%q) {kind = "attention", heads_on_chip = 0 : i64, softmax = "online", why = "", tsr.tiling = {tq = 4 : i64}} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    %a = tsr.attention %x, %x, %x {heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32} : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
    tsr.yield %a : tensor<1x4x8xf32>
  }
  return %g : tensor<1x4x8xf32>
}

// -----

func.func @row_with_tk(%q: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'tsr.group' op tiling tk is a tile of the online softmax; softmax = "row" computes whole score rows}}
  %g = tsr.group(%q) {kind = "attention", heads_on_chip = 0 : i64, softmax = "row", why = "", tsr.tiling = {tq = 4 : i64, tk = 2 : i64}} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    %a = tsr.attention %x, %x, %x {heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f32} : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
    tsr.yield %a : tensor<1x4x8xf32>
  }
  return %g : tensor<1x4x8xf32>
}

// -----

// tsr.fold_bias (tsr-fold-bias) says the matrix unit adds the bias: a group
// without a "bias" epilogue has none to fold.
func.func @fold_bias_without_bias(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %r: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'tsr.group' op tsr.fold_bias needs a "bias" epilogue}}
  %o = tsr.group(%x, %w, %r) {kind = "matmul", epilogue = ["residual"], tsr.fold_bias, why = ""} : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32> {
  ^bb0(%a0: tensor<16x64xf32>, %a1: tensor<64x32xf32>, %a2: tensor<16x32xf32>):
    %m = tsr.matmul %a0, %a1 : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
    %s = tsr.add %m, %a2 : tensor<16x32xf32>, tensor<16x32xf32> -> tensor<16x32xf32>
    tsr.yield %s : tensor<16x32xf32>
  }
  return %o : tensor<16x32xf32>
}

// -----

func.func @fold_bias_not_unit(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %c: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'tsr.group' op tsr.fold_bias is a unit attribute}}
  %o = tsr.group(%x, %w, %c) {kind = "matmul", epilogue = ["bias"], tsr.fold_bias = 1 : i64, why = ""} : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32> {
  ^bb0(%a0: tensor<16x64xf32>, %a1: tensor<64x32xf32>, %a2: tensor<32xf32>):
    %m = tsr.matmul %a0, %a1 : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
    %s = tsr.add %m, %a2 : tensor<16x32xf32>, tensor<32xf32> -> tensor<16x32xf32>
    tsr.yield %s : tensor<16x32xf32>
  }
  return %o : tensor<16x32xf32>
}
