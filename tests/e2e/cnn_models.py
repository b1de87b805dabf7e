#!/usr/bin/python3
"""Real PyTorch CNN exports through the compiler and the chip.

    cnn_models.py TESSERA SCRATCH MODEL [tessera run options...]

MODEL is one of small_cnn (Conv+BN+ReLU+MaxPool+Flatten+Linear), resnet18 and
mobilenet_v3_small (torchvision, eval mode, random weights from a fixed seed:
nothing is downloaded), or bert_tiny: nn.Embedding on int64 token ids, a
padding mask (Equal/Expand/Where) and hand-written two-head attention; the
chip has no lowering for the embedding and mask ops yet, so bert_tiny runs
`tessera reference` (import + FP32 reference executor) against PyTorch. The script builds the model with torch 1.13, exports
it with torch.onnx.export at opset 17 (fixed shapes), saves a seeded input and
PyTorch's output next to it (tensors.txt), then runs `tessera run MODEL.onnx
--json`, which compiles, simulates one frame on the chip and compares the
chip's output with PyTorch's and with the FP32 reference executor within the
FP16 tolerance of docs/accuracy.md. It prints the figures and exits non-zero
when anything fails.
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn


class SmallCnn(nn.Module):
    """Conv + BatchNorm + ReLU + MaxPool, twice, then Flatten + Linear."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32),
            nn.ReLU(), nn.MaxPool2d(2))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.features(x)))


def randomize_bn(model):
    """Non-trivial running statistics, so the folded BN matters."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
            m.running_var.copy_(0.5 + torch.rand(n, generator=g))
            m.weight.data.copy_(0.5 + torch.rand(n, generator=g))
            m.bias.data.copy_(0.1 * torch.randn(n, generator=g))


class TinyBert(nn.Module):
    """Word and position embeddings, a padding mask, one attention block."""

    def __init__(self, vocab=100, seq=16, width=32, heads=2):
        super().__init__()
        self.heads, self.width = heads, width
        self.words = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(seq, width)
        self.ln = nn.LayerNorm(width)
        self.q, self.k, self.v, self.o = (nn.Linear(width, width)
                                          for _ in range(4))

    def forward(self, ids, mask):
        b, t = ids.shape
        d = self.width // self.heads
        x = self.ln(self.words(ids) + self.positions(torch.arange(t)))

        def split(y):
            return y.view(b, t, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / 4.0
        m = mask[:, None, None, :].expand(b, self.heads, t, t)
        scores = scores.masked_fill(m == 0, -1e4)
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t,
                                                               self.width)
        return self.o(ctx) + x


def bert_main(tessera, scratch):
    torch.manual_seed(0)
    model = TinyBert().eval()
    ids = torch.randint(1, 100, (1, 16), generator=torch.Generator()
                        .manual_seed(2))
    mask = torch.ones(1, 16, dtype=torch.int64)
    mask[0, 12:] = 0
    ids[0, 12:] = 0
    with torch.no_grad():
        y = model(ids, mask)
    path = os.path.join(scratch, "bert_tiny.onnx")
    torch.onnx.export(model, (ids, mask), path, opset_version=17,
                      input_names=["ids", "mask"], output_names=["y"])
    # Integer inputs are fed as floats (docs/onnx-import.md).
    ids.numpy().astype("<f4").tofile(os.path.join(scratch, "ids.f32"))
    mask.numpy().astype("<f4").tofile(os.path.join(scratch, "mask.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(scratch, "expected_y.f32"))
    with open(os.path.join(scratch, "tensors.txt"), "w") as f:
        f.write("# name shape file (raw little-endian float32, row-major)\n")
        f.write("ids 1x16 ids.f32\nmask 1x16 mask.f32\n")
        f.write(f"y {'x'.join(map(str, y.shape))} expected_y.f32\n")
    run = subprocess.run([tessera, "reference", path], capture_output=True,
                         text=True)
    print(run.stdout.strip())
    if run.returncode != 0:
        sys.exit(f"bert_tiny: tessera reference failed ({run.returncode}): "
                 f"{run.stderr.strip()}")
    if "PASS" not in run.stdout:
        sys.exit("bert_tiny: no comparison with PyTorch's output")


def build(name):
    torch.manual_seed(0)
    if name == "small_cnn":
        return SmallCnn(), (1, 3, 32, 32)
    import torchvision
    if name == "resnet18":
        return torchvision.models.resnet18(weights=None), (1, 3, 224, 224)
    if name == "mobilenet_v3_small":
        return torchvision.models.mobilenet_v3_small(weights=None), \
            (1, 3, 224, 224)
    sys.exit(f"unknown model '{name}'")


def main():
    tessera, scratch, name = sys.argv[1:4]
    extra = sys.argv[4:]
    os.makedirs(scratch, exist_ok=True)
    if name == "bert_tiny":
        return bert_main(tessera, scratch)
    model, shape = build(name)
    randomize_bn(model)
    model.eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        y = model(x)
    onnx_path = os.path.join(scratch, name + ".onnx")
    torch.onnx.export(model, x, onnx_path, opset_version=17,
                      input_names=["x"], output_names=["y"],
                      do_constant_folding=True)
    x.numpy().astype("<f4").tofile(os.path.join(scratch, "input_x.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(scratch, "expected_y.f32"))
    with open(os.path.join(scratch, "tensors.txt"), "w") as f:
        f.write("# name shape file (raw little-endian float32, row-major)\n")
        f.write(f"x {'x'.join(map(str, x.shape))} input_x.f32\n")
        f.write(f"y {'x'.join(map(str, y.shape))} expected_y.f32\n")

    run = subprocess.run([tessera, "run", onnx_path, "--json"] + extra,
                         capture_output=True, text=True)
    if run.returncode not in (0, 2):
        sys.exit(f"{name}: tessera run failed ({run.returncode}): "
                 f"{run.stderr.strip()}")
    report = json.loads(run.stdout)
    frame = report["frame"]
    print(f"{name}: {frame['instructions']} instructions, "
          f"{frame['cycles']} cycles = {frame['ms']:.3f} ms per frame")
    for a in report["accuracy"]:
        ref = a["reference"].split("/")[-1]
        print(f"  vs {ref}: max abs error {a['max_abs_error']:.3g}, "
              f"RMS error {a['rms_error']:.3g}, reference RMS "
              f"{a['reference_rms']:.3g} (max/RMS "
              f"{a['max_abs_error'] / a['reference_rms']:.2%}, bound "
              f"{a['tolerance']:.3g}): "
              f"{'ok' if a['passed'] else 'FAIL'}")
    if len(report["accuracy"]) != 2:
        sys.exit(f"{name}: expected checks against PyTorch and the FP32 "
                 f"reference executor, got {len(report['accuracy'])}")
    if not report["accuracy_passed"] or run.returncode != 0:
        sys.exit(f"{name}: outputs outside the FP16 tolerance")


if __name__ == "__main__":
    main()
