"""The reference perception network as a PyTorch module (for checking the
direct ONNX emitter in perception.py; see check_torch.py). Same structure,
same parameter names as the emitted ONNX."""
import torch
from torch import nn


class Block(nn.Module):
    """Pre-norm transformer layer: nn.MultiheadAttention (packed in_proj),
    erf-GELU MLP."""

    def __init__(self, width, heads, mlp):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, mlp), nn.GELU(),
                                 nn.Linear(mlp, width))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


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
