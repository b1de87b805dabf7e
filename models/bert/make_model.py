#!/usr/bin/env python3
"""A BERT-style encoder: int64 token ids and an int64 attention mask
(1 = token, 0 = padding), nn.Embedding for words and positions, embedding
LayerNorm, post-norm layers on nn.MultiheadAttention with the padding mask
as key_padding_mask, erf-GELU MLPs. Exported by torch.onnx.export at
opset 17: the embedding lookups are Gathers on int64 ids, the mask becomes
Equal/Where/Expand on runtime data.

  /usr/bin/python3 models/bert/make_model.py [OUT_DIR]   (default: here)

Writes bert.onnx, input_input_ids.i64, input_attention_mask.i64,
expected_hidden.f32, tensors.txt. The sequence is 32 tokens of which the
last 8 are padding.
"""
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import zoolib  # noqa: E402

VOCAB, SEQ, WIDTH, HEADS, DEPTH, MLP, PADDED = 1000, 32, 64, 4, 2, 256, 8
SEED = 20261131


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
        self.ln1 = nn.LayerNorm(WIDTH)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, MLP), nn.GELU(),
                                 nn.Linear(MLP, WIDTH))
        self.ln2 = nn.LayerNorm(WIDTH)

    def forward(self, x, padding):
        a = self.attn(x, x, x, key_padding_mask=padding,
                      need_weights=False)[0]
        x = self.ln1(x + a)
        return self.ln2(x + self.mlp(x))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.words = nn.Embedding(VOCAB, WIDTH)
        self.positions = nn.Embedding(SEQ, WIDTH)
        self.ln = nn.LayerNorm(WIDTH)
        self.layers = nn.ModuleList([Layer() for _ in range(DEPTH)])

    def forward(self, input_ids, attention_mask):
        pos = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.ln(self.words(input_ids) + self.positions(pos))
        padding = attention_mask == 0
        for layer in self.layers:
            x = layer(x, padding)
        return x


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    model = Bert().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, nn.MultiheadAttention):
                m.in_proj_bias.uniform_(-0.1, 0.1)
                m.out_proj.bias.uniform_(-0.1, 0.1)
    ids = torch.randint(1, VOCAB, (1, SEQ), dtype=torch.int64)
    ids[0, SEQ - PADDED:] = 0
    mask = torch.ones(1, SEQ, dtype=torch.int64)
    mask[0, SEQ - PADDED:] = 0
    with torch.no_grad():
        hidden = model(ids, mask)
    torch.onnx.export(model, (ids, mask), os.path.join(out, "bert.onnx"),
                      input_names=["input_ids", "attention_mask"],
                      output_names=["hidden"], opset_version=17)
    zoolib.save_tensors(out, [("input_ids", ids.numpy()),
                              ("attention_mask", mask.numpy())],
                        [("hidden", hidden.numpy())])
    print("wrote bert.onnx (%d layers); hidden mean %.5f std %.5f" %
          (DEPTH, hidden.mean().item(), hidden.std().item()))


if __name__ == "__main__":
    main()
