#!/usr/bin/env python3
"""torchvision's resnet18 in eval mode with a seeded random initialization
(nothing can be downloaded: no pretrained weights), exported by
torch.onnx.export at opset 17. BatchNorm running statistics and affine
parameters are randomized too, so folding them is visible in the output.

  /usr/bin/python3 models/resnet18/make_model.py OUT_DIR [--image-size 224]

Writes OUT_DIR/resnet18.onnx (~47 MB: generated at test time into the build
directory, never committed), input_image.f32, expected_logits.f32,
tensors.txt.
"""
import argparse
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import zoolib  # noqa: E402

SEED = 20261132


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--image-size", type=int, default=224)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    model = torchvision.models.resnet18(weights=None)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    model.eval()
    image = torch.randn(1, 3, args.image_size, args.image_size)
    with torch.no_grad():
        logits = model(image)
    torch.onnx.export(model, (image,),
                      os.path.join(args.out_dir, "resnet18.onnx"),
                      input_names=["image"], output_names=["logits"],
                      opset_version=17)
    zoolib.save_tensors(args.out_dir, [("image", image.numpy())],
                        [("logits", logits.numpy())])
    print("wrote resnet18.onnx (%dx%d input); logits mean %.4f std %.4f" %
          (args.image_size, args.image_size, logits.mean().item(),
           logits.std().item()))


if __name__ == "__main__":
    main()
