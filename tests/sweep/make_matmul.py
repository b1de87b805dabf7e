#!/usr/bin/python3
"""A tiny parametric model generator for the sweep tests.

  /usr/bin/python3 make_matmul.py OUT_DIR [--tokens N] [--width D] [--seed S]

Writes OUT_DIR/matmul.onnx: y = x @ W + b with x [N, D], W [D, D] (seeded),
the same command-line shape as the zoo's generators
(models/perception/make_model.py), so `tessera sweep` can sweep its
parameters with `model.tokens` and `model.width` axes.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("out_dir")
ap.add_argument("--tokens", type=int, default=64)
ap.add_argument("--width", type=int, default=64)
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()
if args.tokens <= 0 or args.width <= 0:
    ap.error("--tokens and --width must be positive")
rng = np.random.default_rng(args.seed)
w = rng.standard_normal((args.width, args.width)).astype(np.float32) * 0.1
b = rng.standard_normal((args.width,)).astype(np.float32) * 0.1
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w"], ["h"], name="/mm/MatMul"),
     helper.make_node("Add", ["h", "b"], ["y"], name="/mm/Add")],
    "matmul",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                   [args.tokens, args.width])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                   [args.tokens, args.width])],
    [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
os.makedirs(args.out_dir, exist_ok=True)
onnx.save(model, os.path.join(args.out_dir, "matmul.onnx"))
print("matmul: %d x %d" % (args.tokens, args.width))
