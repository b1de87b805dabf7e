#!/usr/bin/env python3
"""Generates the reference perception network (perception.py) as ONNX, with
a seeded input frame and, unless --no-expected, PyTorch's output for it.

  /usr/bin/python3 models/perception/make_model.py OUT_DIR [--depth 40]
      [--width 448] [--heads 7] [--tokens-per-camera 96] [--mlp-ratio 4]
      [--no-expected]

Writes OUT_DIR/perception.onnx, input_images.f32, expected_features.f32 and
tensors.txt, and prints the configuration, parameter count, MACs and the
time it took. The full-size network (the defaults) is ~385 MB of weights:
generated into the build directory, never committed. docs/reference-network.md
explains the defaults.
"""
import argparse
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import perception  # noqa: E402
import zoolib  # noqa: E402


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    defaults = perception.Config()
    for field in ("width", "heads", "tokens_per_camera", "depth", "mlp_ratio",
                  "cameras", "patch", "outputs", "seed"):
        ap.add_argument("--" + field.replace("_", "-"), type=int,
                        default=getattr(defaults, field))
    ap.add_argument("--no-expected", action="store_true",
                    help="skip PyTorch's output (no torch needed)")
    args = ap.parse_args(argv)
    try:
        cfg = perception.Config(**{f: getattr(args, f) for f in (
            "width", "heads", "tokens_per_camera", "depth", "mlp_ratio",
            "cameras", "patch", "outputs", "seed")})
    except ValueError as err:
        ap.error(str(err))
    return cfg, args


def torch_output(cfg, images):
    import numpy as np
    import torch
    import torch_model
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    model = torch_model.PerceptionNet(cfg).eval()
    torch_model.load_weights(model, dict(perception.weights(cfg)))
    with torch.no_grad():
        return model(torch.from_numpy(images)).numpy().astype(np.float32)


def main(argv):
    cfg, args = parse(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    start = time.time()
    path = os.path.join(args.out_dir, "perception.onnx")
    perception.write(cfg, path)
    generated = time.time() - start
    images = perception.input_images(cfg)
    outputs = []
    if not args.no_expected:
        outputs.append(("features", torch_output(cfg, images)))
    zoolib.save_tensors(args.out_dir, [("images", images)], outputs,
                        extra=["perception network: %s" % cfg])
    patch, per_layer, head = perception.macs(cfg)
    total = patch + cfg.depth * sum(per_layer.values()) + head
    params = sum(a.size for _, a in perception.weights(cfg)) if \
        cfg.depth <= 4 else None
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("perception: width %d, heads %d, %d cameras x %d tokens (%dx%d "
          "patches of %d px), depth %d, MLP %d" %
          (cfg.width, cfg.heads, cfg.cameras, cfg.tokens, cfg.rows, cfg.cols,
           cfg.patch, cfg.depth, cfg.mlp))
    print("  %s: %.1f MB, %.2f GMAC per frame; generated in %.2f s, "
          "peak memory %.0f MB" % (path, os.path.getsize(path) / 1e6,
                                   total / 1e9, generated, peak_mb))
    if params is not None:
        print("  %d parameters" % params)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
