#!/usr/bin/env python3
"""A small ViT on nn.MultiheadAttention: Conv patch embedding, a class token,
position embedding, pre-norm layers with erf-GELU MLPs, the class token's
output through a LayerNorm and a linear classifier. Exported by
torch.onnx.export at opset 17 (so the class token is Expand + Concat, the
selection x[:, 0] a Gather, the packed in_proj a runtime Slice).

  /usr/bin/python3 models/vit/make_model.py [OUT_DIR]   (default: here)

Writes vit.onnx, input_image.f32, expected_logits.f32, tensors.txt.
Deterministic for a given torch build (fixed seed).
"""
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import zoolib  # noqa: E402
from torch_blocks import Block  # noqa: E402

IMAGE, PATCH, WIDTH, HEADS, DEPTH, MLP, CLASSES = 32, 8, 64, 4, 2, 256, 10
SEED = 20261130




class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        tokens = (IMAGE // PATCH) ** 2
        self.patch = nn.Conv2d(3, WIDTH, PATCH, stride=PATCH)
        self.cls = nn.Parameter(torch.randn(1, 1, WIDTH) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, WIDTH) * 0.5)
        self.blocks = nn.Sequential(*[Block(WIDTH, HEADS, MLP) for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, CLASSES)

    def forward(self, image):
        x = self.patch(image).flatten(2).transpose(1, 2)
        cls = self.cls.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos
        x = self.blocks(x)
        return self.head(self.norm(x)[:, 0])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    model = ViT().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, nn.MultiheadAttention):
                m.in_proj_bias.uniform_(-0.1, 0.1)
                m.out_proj.bias.uniform_(-0.1, 0.1)
    image = torch.randn(1, 3, IMAGE, IMAGE)
    with torch.no_grad():
        logits = model(image)
    # Autograd stays on for the export: under no_grad torch 1.13 takes
    # nn.MultiheadAttention's fused fast path, which has no ONNX export.
    torch.onnx.export(model, (image,), os.path.join(out, "vit.onnx"),
                      input_names=["image"], output_names=["logits"],
                      opset_version=17)
    zoolib.save_tensors(out, [("image", image.numpy())],
                        [("logits", logits.numpy())])
    print("wrote vit.onnx (%d layers); logits %s" %
          (DEPTH, logits.numpy().round(3).tolist()))


if __name__ == "__main__":
    main()
