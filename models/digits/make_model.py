#!/usr/bin/env python3
"""A small transformer TRAINED on scikit-learn's bundled digits dataset
(sklearn.datasets.load_digits: 1797 8x8 images, shipped in python3-sklearn,
nothing downloaded). Each image is 8 tokens (its rows, 8 pixels each, scaled
to [0, 1]); a linear embedding plus position embedding, 2 pre-norm layers on
nn.MultiheadAttention (4 heads) with erf-GELU MLPs, LayerNorm, mean over
tokens, a linear classifier.

The held-out split (20%, stratified, fixed random_state) is saved as ONE
batch: the ONNX takes all 360 held-out images at once, so one simulated frame
classifies the whole split and the chip's accuracy can be compared with the
FP32 one (scripts/zoo.py prints both).

  /usr/bin/python3 models/digits/make_model.py [OUT_DIR]   (default: here)

Writes digits.onnx, input_pixels.f32 [360x8x8], expected_logits.f32
[360x10] (PyTorch FP32), heldout_labels.i64 [360], tensors.txt (which also
records the FP32 held-out accuracy). Training is seeded and single-threaded.
"""
import os
import sys

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import zoolib  # noqa: E402
from torch_blocks import Block  # noqa: E402

WIDTH, HEADS, DEPTH, MLP, EPOCHS = 32, 4, 2, 64, 80
SEED = 20261133




class DigitsTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, WIDTH)
        self.pos = nn.Parameter(torch.randn(1, 8, WIDTH) * 0.1)
        self.blocks = nn.Sequential(*[Block(WIDTH, HEADS, MLP) for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, 10)

    def forward(self, pixels):                 # [batch, 8 rows, 8 pixels]
        x = self.embed(pixels) + self.pos
        x = self.blocks(x)
        return self.head(self.norm(x).mean(1))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.2, random_state=0,
        stratify=digits.target)
    model = DigitsTransformer()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 64):
            idx = order[i:i + 64]
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    test = torch.from_numpy(x_test)
    with torch.no_grad():
        logits = model(test)
    accuracy = float((logits.argmax(1).numpy() == y_test).mean())
    # Autograd on for the export: under no_grad torch 1.13 takes
    # nn.MultiheadAttention's fused fast path, which has no ONNX export.
    torch.onnx.export(model, (test,), os.path.join(out, "digits.onnx"),
                      input_names=["pixels"], output_names=["logits"],
                      opset_version=17)
    zoolib.save_tensors(
        out, [("pixels", x_test)], [("logits", logits.numpy())],
        extra=["held-out split: %d of %d images (train_test_split "
               "test_size=0.2, random_state=0, stratified)" %
               (len(y_test), len(digits.target)),
               "FP32 held-out accuracy (PyTorch): %.4f" % accuracy])
    y_test.astype("<i8").tofile(os.path.join(out, "heldout_labels.i64"))
    print("trained %d epochs on %d images; held-out accuracy %.2f%% "
          "(%d images)" % (EPOCHS, len(y_train), 100 * accuracy, len(y_test)))


if __name__ == "__main__":
    main()
