#!/usr/bin/env python3
"""Real PyTorch 1.13 transformer exports through Tessera (issue 9, part 2).

Builds small seeded models, exports them with torch.onnx.export, and for each:
imports and raises them (tessera-translate + tessera-opt, counting
tsr.attention / tsr.layernorm / tsr.gelu against the model's layer count),
then compiles and simulates them (`tessera run --json`) against PyTorch's own
output within the FP16 tolerance of docs/accuracy.md (max error <= 2% of the
reference RMS, the `tessera run` default). Everything is generated into a
scratch directory; nothing binary is committed.

Models: a pre-norm ViT block on nn.MultiheadAttention (opset 17, and opset
13 where LayerNorm is decomposed), nn.TransformerEncoder (2 layers,
batch_first, GELU), hand-written batch-first attention with separate q/k/v
projections, d ** 0.5 scaling and an additive mask, and an MLP with
nn.GELU(approximate="tanh").

usage: check_exports.py <bin dir> <scratch dir>
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

bindir, scratch = sys.argv[1:3]
os.makedirs(scratch, exist_ok=True)
torch.manual_seed(0)
np.random.seed(0)


class VitBlock(nn.Module):
    """Pre-norm block: x + MHA(LN(x)); x + MLP(LN(x)), sequence first."""

    def __init__(self, d=64, heads=4):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(),
                                 nn.Linear(2 * d, d))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class HandAttention(nn.Module):
    """Separate q/k/v Linear layers, view + transpose, d ** 0.5, a mask."""

    def __init__(self, d=64, heads=4):
        super().__init__()
        self.h = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mask):
        b, s, d = x.shape
        hd = d // self.h

        def split(t):
            return t.view(b, s, self.h, hd).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        a = (q @ k.transpose(-2, -1)) / (hd ** 0.5) + mask
        o = (a.softmax(-1) @ v).transpose(1, 2).reshape(b, s, d)
        return self.o(o)


class TanhMlp(nn.Module):
    def __init__(self, d=64):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.act = nn.GELU(approximate="tanh")

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def encoder():
    layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.1,
                                       activation="gelu", batch_first=True)
    return nn.TransformerEncoder(layer, 2)


mask = torch.zeros(2, 1, 1, 16)
mask[1, :, :, 12:] = -1e4  # The second sequence is padded after 12 tokens.
# name, model, inputs, opset, expected (attention, layernorm, gelu) counts
cases = [
    ("vit_block_opset17", VitBlock(), {"x": torch.randn(17, 2, 64)}, 17,
     (1, 2, 1)),
    ("vit_block_opset13", VitBlock(), {"x": torch.randn(17, 2, 64)}, 13,
     (1, 2, 1)),
    ("encoder_2layers", encoder(), {"x": torch.randn(2, 16, 64)}, 17,
     (2, 4, 2)),
    ("hand_attention", HandAttention(),
     {"x": torch.randn(2, 16, 64), "mask": mask}, 17, (1, 0, 0)),
    ("tanh_mlp", TanhMlp(), {"x": torch.randn(2, 16, 64)}, 17, (0, 0, 1)),
]

failed = False
print(f"{'model':20} {'opset':>5} {'attention':>9} {'layernorm':>9} "
      f"{'gelu':>5} {'max err/rms':>11} {'cycles':>10}")
for name, model, inputs, opset, want in cases:
    model.eval()
    path = os.path.join(scratch, name + ".onnx")
    # Exported with autograd on: in eval mode under no_grad, nn.Transformer-
    # EncoderLayer takes its fused fast path, which has no ONNX export.
    torch.onnx.export(model, tuple(inputs.values()), path,
                      input_names=list(inputs), output_names=["y"],
                      opset_version=opset)
    with torch.no_grad():
        y = model(*inputs.values()).numpy()
    args = []
    for k, v in inputs.items():
        f = os.path.join(scratch, f"{name}_{k}.f32")
        v.numpy().astype(np.float32).tofile(f)
        args += ["--input", f"{k}={f}"]
    yf = os.path.join(scratch, f"{name}_y.f32")
    y.astype(np.float32).tofile(yf)

    mlir = subprocess.run(
        [os.path.join(bindir, "tessera-translate"), "--import-onnx", path],
        capture_output=True, text=True, check=True).stdout
    raised = subprocess.run(
        [os.path.join(bindir, "tessera-opt"), "--tsr-raise-layernorm",
         "--tsr-raise-gelu", "--tsr-raise-attention",
         "--mlir-elide-elementsattrs-if-larger=4"],
        input=mlir, capture_output=True, text=True, check=True).stdout
    got = tuple(len(re.findall(r"= tsr\.%s " % op, raised))
                for op in ("attention", "layernorm", "gelu"))
    run = subprocess.run(
        [os.path.join(bindir, "tessera"), "run", path, *args,
         "--expected", f"y={yf}", "--json"], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"FAILED: {name}: tessera run exit {run.returncode}\n"
              f"{run.stdout}\n{run.stderr}")
        failed = True
        continue
    report = json.loads(run.stdout)
    # Against PyTorch's output (the --expected file), relative to its RMS.
    err = max((c["max_abs_error"] / c["reference_rms"]
               for c in report.get("accuracy", [])
               if c["reference"].endswith(".f32") and c["reference_rms"]),
              default=float("nan"))
    print(f"{name:20} {opset:>5} {got[0]:>9} {got[1]:>9} {got[2]:>5} "
          f"{err:>11.5f} {report['frame']['cycles']:>10}")
    if got != want:
        print(f"FAILED: {name}: (attention, layernorm, gelu) = {got}, "
              f"expected {want}")
        failed = True
    if not report.get("accuracy_passed", False):
        print(f"FAILED: {name}: outputs do not match PyTorch")
        failed = True
sys.exit(1 if failed else 0)
