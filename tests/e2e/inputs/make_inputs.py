#!/usr/bin/env python3
"""Makes the small ONNX fixtures of the end-to-end error tests (fixed seed).

unsupported_cos.onnx: a model whose one node is Cos, which Tessera does not
support: the command must name the op type, the node and the opset.
Run with Debian's python3-torch: /usr/bin/python3 tests/e2e/inputs/make_inputs.py
"""
import os

import torch

here = os.path.dirname(os.path.abspath(__file__))


class CosModel(torch.nn.Module):
    def forward(self, x):
        return torch.cos(x)


torch.manual_seed(0)
torch.onnx.export(CosModel(), (torch.randn(2, 4),),
                  os.path.join(here, "unsupported_cos.onnx"),
                  input_names=["x"], output_names=["y"], opset_version=17)
