#!/usr/bin/env python3
"""Writes a stack of pre-norm encoder layers at the reference network's scale
as ONNX, with the onnx package directly (no PyTorch), for the simulator's
speed and memory benchmark (scripts/bench_sim_scale.sh).

  /usr/bin/python3 scripts/make_encoder_stack.py OUT_DIR [--layers 40]
      [--width 768] [--heads 12] [--tokens 1024] [--mlp 3072]

Each layer has the node structure of models/encoder_layer (the PyTorch
export of make_model.py): LayerNormalization, Q/K/V MatMul + Add, head
Reshape/Transpose, QK^T, Div by sqrt(head), Softmax, attention x V, output
projection, residual Add, LayerNormalization, MLP with erf-form GELU,
residual Add. Weights are seeded uniform in +-1/sqrt(fan_in). Writes
OUT_DIR/encoder_stack.onnx and OUT_DIR/input_x.f32 (raw float32).
"""
import argparse
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(layers, width, heads, tokens, mlp, seed=20261129):
    rng = np.random.default_rng(seed)
    head = width // heads
    nodes, inits = [], []

    def weight(name, shape, fan_in):
        bound = 1.0 / math.sqrt(fan_in)
        inits.append(numpy_helper.from_array(
            rng.uniform(-bound, bound, size=shape).astype(np.float32), name))
        return name

    def const(name, values, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.array(values, dtype=dtype),
                                             name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    split = const("split_heads", [1, tokens, heads, head], np.int64)
    merge = const("merge_heads", [1, tokens, width], np.int64)
    scale = const("sqrt_head", math.sqrt(head))
    sqrt2 = const("sqrt2", math.sqrt(2.0))
    one = const("one", 1.0)
    half = const("half", 0.5)
    x = "x"
    for l in range(layers):
        p = "l%d/" % l
        ln1 = node("LayerNormalization",
                   [x, const(p + "ln1.w", np.ones(width)),
                    const(p + "ln1.b", np.zeros(width))],
                   p + "ln1", axis=-1, epsilon=1e-5)

        def proj(name, inp, n_in, n_out):
            mm = node("MatMul", [inp, weight(p + name + ".w", (n_in, n_out),
                                             n_in)], p + name + "/MatMul")
            return node("Add", [weight(p + name + ".b", (n_out,), n_in), mm],
                        p + name + "/Add")

        q = node("Transpose", [node("Reshape", [proj("q", ln1, width, width),
                                                split], p + "q/Reshape")],
                 p + "q/Transpose", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [proj("k", ln1, width, width),
                                                split], p + "k/Reshape")],
                 p + "k/Transpose", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [proj("v", ln1, width, width),
                                                split], p + "v/Reshape")],
                 p + "v/Transpose", perm=[0, 2, 1, 3])
        s = node("Div", [node("MatMul", [q, k], p + "scores"), scale],
                 p + "scaled")
        a = node("MatMul", [node("Softmax", [s], p + "softmax", axis=-1), v],
                 p + "attend")
        a = node("Reshape", [node("Transpose", [a], p + "merge/Transpose",
                                  perm=[0, 2, 1, 3]), merge],
                 p + "merge/Reshape")
        r1 = node("Add", [x, proj("proj", a, width, width)], p + "residual1")
        ln2 = node("LayerNormalization",
                   [r1, const(p + "ln2.w", np.ones(width)),
                    const(p + "ln2.b", np.zeros(width))],
                   p + "ln2", axis=-1, epsilon=1e-5)
        h = proj("mlp0", ln2, width, mlp)
        erf = node("Erf", [node("Div", [h, sqrt2], p + "gelu/Div")],
                   p + "gelu/Erf")
        g = node("Mul", [node("Mul", [h, node("Add", [erf, one],
                                              p + "gelu/Add")],
                              p + "gelu/Mul"), half], p + "gelu/Mul_1")
        x = node("Add", [r1, proj("mlp2", g, mlp, width)], p + "residual2")
    nodes[-1].output[0] = "y"
    graph = helper.make_graph(
        nodes, "encoder_stack",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                       [1, tokens, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                       [1, tokens, width])],
        inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model, rng.standard_normal((1, tokens, width)).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--layers", type=int, default=40)
    ap.add_argument("--width", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--mlp", type=int, default=3072)
    args = ap.parse_args()
    if args.width % args.heads:
        ap.error("--width must be a multiple of --heads")
    os.makedirs(args.out_dir, exist_ok=True)
    model, x = build(args.layers, args.width, args.heads, args.tokens,
                     args.mlp)
    onnx.save(model, os.path.join(args.out_dir, "encoder_stack.onnx"))
    x.tofile(os.path.join(args.out_dir, "input_x.f32"))
    print("%d layers, width %d, %d heads, %d tokens, MLP %d" %
          (args.layers, args.width, args.heads, args.tokens, args.mlp))


if __name__ == "__main__":
    main()
