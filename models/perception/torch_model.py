"""The reference perception network as a PyTorch module (for checking the
direct ONNX emitter in perception.py; see check_torch.py). Same structure,
same parameter names as the emitted ONNX."""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from torch_blocks import Block  # noqa: E402




class PerceptionNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d = cfg.width
        self.patch = nn.Conv2d(3, d, cfg.patch, stride=cfg.patch)
        self.pos_embed = nn.Parameter(torch.zeros(1, cfg.tokens, d))
        self.cam_embed = nn.Parameter(torch.zeros(cfg.cameras, 1, d))
        self.layers = nn.ModuleList(
            [Block(d, cfg.heads, cfg.mlp) for _ in range(cfg.depth)])
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.outputs)

    def forward(self, images):
        cfg = self.cfg
        x = self.patch(images)                      # [cams, D, rows, cols]
        x = x.flatten(2).transpose(1, 2)            # [cams, T, D]
        x = x + self.pos_embed + self.cam_embed     # per-camera embeddings
        x = x.reshape(1, cfg.cameras * cfg.tokens, cfg.width)  # all cameras
        for layer in self.layers:
            x = layer(x)
        x = self.norm(x).mean(1)                    # pooled over all tokens
        return self.head(x)


def load_weights(model, weights):
    """Copies the generator's numpy weights (name -> array in PyTorch's
    layout) into the module."""
    state = {k: torch.from_numpy(v.copy()) for k, v in weights.items()}
    missing, unexpected = model.load_state_dict(state, strict=True), None
    return model
