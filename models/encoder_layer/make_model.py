#!/usr/bin/env python3
"""Builds Tessera's bundled one-layer encoder in PyTorch and exports it to ONNX.

The layer is a pre-norm vision-transformer block as a perception network uses
it: 8 cameras x 16 patch tokens = 128 tokens of width 256, 4 heads of 64,
an MLP of 1024 with erf-form GELU. Attention is written by hand (as many
perception codebases do), so the export contains the Shape/Gather/Unsqueeze/
Concat chains that PyTorch emits for multi-head reshapes.

Outputs, next to this script:
  encoder_layer.onnx   the model (opset 17, fixed seed)
  input_x.f32          the input "x", raw little-endian float32, row-major
  expected_y.f32       PyTorch's FP32 output "y" for that input
  tensors.txt          name, shape and file of each saved tensor

Run with Debian's python3-torch:  /usr/bin/python3 models/encoder_layer/make_model.py
Regenerating is deterministic for a given torch build; the committed files are
what the build and tests use, so neither needs PyTorch.
"""
import math
import os

import torch
from torch import nn

CAMERAS, TOKENS_PER_CAMERA, WIDTH, HEADS, MLP = 8, 16, 256, 4, 1024
SEED = 20261122


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.k = nn.Linear(width, width)
        self.v = nn.Linear(width, width)
        self.proj = nn.Linear(width, width)

    def forward(self, x):
        b, t, c = x.shape
        h, d = self.heads, c // self.heads
        q = self.q(x).view(b, t, h, d).transpose(1, 2)
        k = self.k(x).view(b, t, h, d).transpose(1, 2)
        v = self.v(x).view(b, t, h, d).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d)
        probs = scores.softmax(dim=-1)
        out = (probs @ v).transpose(1, 2).reshape(b, t, c)
        return self.proj(out)


class EncoderLayer(nn.Module):
    def __init__(self, width=WIDTH, heads=HEADS, mlp=MLP):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, mlp), nn.GELU(),
                                 nn.Linear(mlp, width))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(SEED)
    model = EncoderLayer().eval()
    # Non-trivial layernorm affine parameters, so a wrong gamma/beta shows.
    with torch.no_grad():
        for ln in (model.ln1, model.ln2):
            ln.weight.uniform_(0.5, 1.5)
            ln.bias.uniform_(-0.2, 0.2)
    x = torch.randn(1, CAMERAS * TOKENS_PER_CAMERA, WIDTH)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, (x,), os.path.join(here, "encoder_layer.onnx"),
                      input_names=["x"], output_names=["y"], opset_version=17,
                      do_constant_folding=True)
    x.numpy().astype("<f4").tofile(os.path.join(here, "input_x.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(here, "expected_y.f32"))
    with open(os.path.join(here, "tensors.txt"), "w") as f:
        f.write("# name shape file (raw little-endian float32, row-major)\n")
        f.write("x 1x%dx%d input_x.f32\n" % (x.shape[1], x.shape[2]))
        f.write("y 1x%dx%d expected_y.f32\n" % (y.shape[1], y.shape[2]))
    print("wrote encoder_layer.onnx; y mean %.6f std %.6f" %
          (y.mean().item(), y.std().item()))


if __name__ == "__main__":
    main()
