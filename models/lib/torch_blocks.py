"""PyTorch building blocks shared by the zoo's generators (torch is imported
here, not in zoolib, so the ONNX-only generators need no torch)."""
from torch import nn


class Block(nn.Module):
    """Pre-norm transformer layer as the zoo's transformers write it:
    nn.MultiheadAttention (packed in_proj, exported with a Slice split),
    erf-GELU MLP, residual adds."""

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
