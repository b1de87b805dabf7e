#!/usr/bin/env python3
"""The MAC and byte arithmetic behind the reference network's defaults
(docs/reference-network.md): one frame of perception.py's network on a chip
config, per kernel, for an unfused and an attention-fused schedule.

Model (a roofline per kernel, the kernels in sequence):
  kernel time = max(matrix, vector, DRAM)
  matrix  = MACs / (rows * cols * padding efficiency) cycles, x
            matrix_fp16_rate_divisor at FP16; padding efficiency = how much
            of the array the kernel's reduction (K) and output (N) dims fill:
            K / (rows * ceil(K / rows)) * N / (cols * ceil(N / cols))
  vector  = passes * elements / vector_lanes cycles (layernorm, softmax,
            gelu passes from the config)
  DRAM    = bytes read + written / dram_bandwidth
Unfused: every kernel reads its inputs from DRAM and writes its output
back (LN1, QKV, scores, softmax, weighted sum, out-proj + residual, LN2,
MLP1, GELU, MLP2 + residual; the head split/merge transposes are strided
DMA, free). Attention-fused (the source's fusion): QKV projection, scores,
softmax and weighted sum are one kernel, K, V and the scores stay in SRAM,
so the scores' and probabilities' DRAM round trips (two per layer) and the
QKV output's are gone; its time is max(matrix, vector, DRAM) of the group.

  /usr/bin/python3 models/perception/arithmetic.py [--width 448 --heads 7
      --tokens-per-camera 96 --depth 40 --mlp-ratio 4] [--config FILE]
      [--scan]
"""
import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import perception  # noqa: E402


def chip_config(path):
    """The chip config (TOML, docs/chip-config.md) as a flat dict of field ->
    value, numbers as floats; a field in a [section] is <section>_<key>."""
    import tomllib
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    cfg = {}

    def walk(table, prefix):
        for k, v in table.items():
            if isinstance(v, dict):
                walk(v, prefix + k + "_")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                cfg[prefix + k] = float(v)
            else:
                cfg[prefix + k] = v
    walk(doc, "")
    return cfg


def kernels(cfg, chip, bpe):
    """[(name, MACs, K, N, vector lane-elements, DRAM bytes)] of one layer,
    unfused, at `bpe` bytes per element."""
    n, d, m, h = cfg.cameras * cfg.tokens, cfg.width, cfg.mlp, cfg.heads
    hd = d // h
    nd, nm, s = n * d * bpe, n * m * bpe, h * n * n * bpe
    ln, sm, ge = (chip["vector_layernorm_passes"],
                  chip["vector_softmax_passes"], chip["vector_gelu_passes"])
    return [
        ("ln1", 0, 0, 0, ln * n * d, 2 * nd),
        ("qkv", n * d * 3 * d, d, 3 * d, 0, nd + 3 * d * d * bpe + 3 * nd),
        ("scores", h * n * hd * n, hd, n, 0, 2 * nd + s),
        ("softmax", 0, 0, 0, sm * h * n * n, 2 * s),
        ("weighted sum", h * n * n * hd, n, hd, 0, s + 2 * nd),
        ("out proj + residual", n * d * d, d, d, 0, 3 * nd + d * d * bpe),
        ("ln2", 0, 0, 0, ln * n * d, 2 * nd),
        ("mlp1", n * d * m, d, m, 0, nd + d * m * bpe + nm),
        ("gelu", 0, 0, 0, ge * n * m, 2 * nm),
        ("mlp2 + residual", n * m * d, m, d, 0, nm + m * d * bpe + 2 * nd),
    ]


def times(cfg, chip, precision):
    """(unfused ms, fused ms, per-layer rows, totals) of one frame."""
    bpe = 1 if precision == "int8" else 2
    div = 1 if precision == "int8" else chip["matrix_fp16_rate_divisor"]
    rows, cols = chip["matrix_rows"], chip["matrix_cols"]
    hz = chip["clock_ghz"] * 1e9
    bw = chip["dram_bandwidth_gbps"] * 1e9
    lanes = chip["vector_lanes"]

    def eff(k, nn):
        return (k / (rows * math.ceil(k / rows))) * \
            (nn / (cols * math.ceil(nn / cols)))

    out = []
    for name, macs, k, nn, vec, dram in kernels(cfg, chip, bpe):
        mat = macs / (rows * cols * eff(k, nn)) * div / hz if macs else 0.0
        out.append((name, macs, mat, vec / lanes / hz, dram / bw, dram))
    unfused = sum(max(r[2], r[3], r[4]) for r in out)
    group = [r for r in out if r[0] in ("qkv", "scores", "softmax",
                                        "weighted sum")]
    n, d = cfg.cameras * cfg.tokens, cfg.width
    fused_bytes = (n * d + 3 * d * d + n * d) * bpe
    fused_group = max(sum(r[2] for r in group), sum(r[3] for r in group),
                      fused_bytes / bw)
    fused = fused_group + sum(max(r[2], r[3], r[4]) for r in out
                              if r not in group)
    # Patch embedding and head, once per frame (small): matrix or DRAM.
    patch_macs = n * d * 3 * cfg.patch ** 2
    patch_bytes = (cfg.cameras * 3 * cfg.rows * cfg.cols * cfg.patch ** 2 +
                   d * 3 * cfg.patch ** 2 + n * d) * bpe
    once = max(patch_macs / (rows * cols * eff(3 * cfg.patch ** 2, d)) *
               div / hz, patch_bytes / bw)
    return ((cfg.depth * unfused + once) * 1e3,
            (cfg.depth * fused + once) * 1e3, out, fused_group)


def report(cfg, chip):
    n = cfg.cameras * cfg.tokens
    print("network: %d cameras x %d tokens = %d tokens, width %d, %d heads "
          "of %d, MLP %d, depth %d" % (cfg.cameras, cfg.tokens, n, cfg.width,
                                       cfg.heads, cfg.width // cfg.heads,
                                       cfg.mlp, cfg.depth))
    patch, per_layer, head = perception.macs(cfg)
    layer_macs = sum(per_layer.values())
    total = patch + cfg.depth * layer_macs + head
    peak = chip["matrix_rows"] * chip["matrix_cols"] * chip["clock_ghz"] * 1e9
    params = cfg.depth * (4 * cfg.width ** 2 + 2 * cfg.width * cfg.mlp)
    print("MACs: %.3f G per layer, %.1f G per frame; %.1f M weights in the "
          "layers" % (layer_macs / 1e9, total / 1e9, params / 1e6))
    print("matrix unit at 100%%: INT8 %.2f ms, FP16 %.2f ms per frame" %
          (total / peak * 1e3,
           total / peak * chip["matrix_fp16_rate_divisor"] * 1e3))
    for precision in ("int8", "fp16"):
        unfused, fused, rows, group = times(cfg, chip, precision)
        print("\n%s, one layer (us): kernel, MACs (M), matrix, vector, "
              "DRAM, DRAM bytes (MB)" % precision.upper())
        for name, macs, mat, vec, dram, b in rows:
            print("  %-20s %8.1f %8.1f %8.1f %8.1f %8.2f" %
                  (name, macs / 1e6, mat * 1e6, vec * 1e6, dram * 1e6,
                   b / 1e6))
        layer_bytes = sum(r[5] for r in rows)
        print("  DRAM per layer %.1f MB; attention group fused: %.1f us" %
              (layer_bytes / 1e6, group * 1e6))
        print("%s frame: unfused %.2f ms, attention-fused %.2f ms" %
              (precision.upper(), unfused, fused))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    d = perception.Config()
    for f in ("width", "heads", "tokens_per_camera", "depth", "mlp_ratio"):
        ap.add_argument("--" + f.replace("_", "-"), type=int,
                        default=getattr(d, f))
    ap.add_argument("--config", default=os.path.join(
        HERE, "..", "..", "arch", "configs", "reference.cfg"))
    ap.add_argument("--scan", action="store_true",
                    help="INT8 unfused/fused frame for a grid of widths and "
                         "tokens (depth and MLP ratio as given)")
    args = ap.parse_args()
    chip = chip_config(args.config)
    if args.scan:
        print("width heads tokens/camera  INT8 unfused ms  fused ms")
        for width, heads in ((384, 6), (448, 7), (512, 8), (640, 10),
                             (768, 12)):
            for t in (64, 96, 128):
                cfg = perception.Config(width=width, heads=heads,
                                        tokens_per_camera=t, depth=args.depth,
                                        mlp_ratio=args.mlp_ratio)
                u, f, _, _ = times(cfg, chip, "int8")
                print("%5d %5d %13d  %15.2f  %8.2f" % (width, heads, t, u, f))
        return 0
    cfg = perception.Config(width=args.width, heads=args.heads,
                            tokens_per_camera=args.tokens_per_camera,
                            depth=args.depth, mlp_ratio=args.mlp_ratio)
    report(cfg, chip)
    return 0


if __name__ == "__main__":
    sys.exit(main())
