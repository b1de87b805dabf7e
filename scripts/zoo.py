#!/usr/bin/env python3
"""The model zoo on the chip, in one table.

For every zoo model (models/README.md): generate it if it is not committed
(perception, resnet18), `tessera compile` it for the chip (ops after the pass
pipeline: how many tsr.attention, tsr.layernorm, tsr.gelu; instructions),
`tessera simulate` one frame (frame latency; the chip's outputs via
--output-dir), `tessera reference` (the FP32 reference executor's outputs),
and compare the chip's outputs with PyTorch's saved outputs and with the
reference: max and RMS absolute error. For the trained digits model, also
the held-out accuracy on the chip, of the FP32 reference and of PyTorch.

  /usr/bin/python3 scripts/zoo.py [--tessera build/bin/tessera]
      [--work build/zoo] [--models vit,bert,...] [--perception-depth 40]
      [--markdown] [--check MODEL]

A model PASSES when it compiles and simulates, every output's max abs error
against PyTorch and against the FP32 reference is within the tolerance
docs/accuracy.md justifies for FP16 (0.02 x the reference's RMS), the
number of tsr.attention ops equals the model's transformer layers, and, for
digits, the chip's held-out accuracy is within 0.5 percentage points of the
FP32 reference's. --check MODEL runs one model and exits 0 only if it
passes (the ctest per-model tests); otherwise the exit status is 0 when the
table was produced. Prints what failed and at which stage.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")
sys.path.insert(0, os.path.join(MODELS, "lib"))
import zoolib  # noqa: E402

TOLERANCE = 0.02   # max abs error / reference RMS, docs/accuracy.md
ACCURACY_PP = 0.5  # digits: chip vs FP32 held-out accuracy, percentage points


class Model:
    def __init__(self, name, onnx, layers, generate=None):
        self.name = name
        self.onnx = onnx          # path relative to the model's directory
        self.layers = layers      # transformer layers = expected attentions
        self.generate = generate  # argv of the generator, or None


def zoo(args):
    return [
        Model("encoder_layer", "encoder_layer.onnx", 1),
        Model("perception", "perception.onnx", args.perception_depth,
              ["perception/make_model.py", "--depth",
               str(args.perception_depth)] + args.perception_args),
        Model("vit", "vit.onnx", 2),
        Model("bert", "bert.onnx", 2),
        Model("resnet18", "resnet18.onnx", 0, ["resnet18/make_model.py"]),
        Model("digits", "digits.onnx", 2),
    ]


class Stage(Exception):
    """A stage failed: (stage, one-line message)."""


def run(cmd, stage, timeout):
    start = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Stage(stage, "timed out after %d s" % timeout)
    if p.returncode not in (0,):
        lines = (p.stderr.strip() or p.stdout.strip()).splitlines()
        raise Stage(stage, lines[-1] if lines else
                    "exit status %d" % p.returncode)
    return p.stdout, time.time() - start


def model_dir(model, work):
    if model.generate is None:
        return os.path.join(MODELS, model.name)
    return os.path.join(work, "models", model.name)


def generate(model, work, python, timeout):
    """Runs the generator unless its output for the same arguments exists."""
    out = model_dir(model, work)
    stamp = os.path.join(out, ".generated-with")
    argv = [python, os.path.join(MODELS, model.generate[0]), out] + \
        model.generate[1:]
    key = " ".join(argv[1:])
    if os.path.exists(stamp) and open(stamp).read() == key and \
            os.path.exists(os.path.join(out, model.onnx)):
        return
    os.makedirs(out, exist_ok=True)
    run(argv, "generate", timeout)
    with open(stamp, "w") as f:
        f.write(key)


def evaluate(model, args):
    row = {"model": model.name, "layers": model.layers, "status": "PASS",
           "problems": []}
    work = os.path.join(args.work, model.name + (
        "" if args.pipeline == "fused" else "." + args.pipeline) + (
        ".sram%d" % args.sram_bytes if args.sram_bytes else ""))
    os.makedirs(work, exist_ok=True)
    tessera = args.tessera
    chip = []
    if args.sram_bytes:
        with open(os.path.join(ROOT, "arch", "configs", "reference.cfg")) as f:
            text, n = re.subn(r"(?m)^sram_bytes\s*=.*$",
                              "sram_bytes = %d" % args.sram_bytes, f.read())
        if n != 1:
            raise SystemExit("reference.cfg has no sram_bytes line")
        cfg = os.path.join(work, "chip.cfg")
        with open(cfg, "w") as f:
            f.write(text)
        chip = ["--config", cfg]
    try:
        if model.generate:
            generate(model, args.work, args.python, args.timeout)
        mdir = model_dir(model, args.work)
        onnx = os.path.join(mdir, model.onnx)
        tensors = zoolib.read_tensors(mdir)
        inputs, expected = [], {}
        for name, (value, kind) in tensors.items():
            if kind == "input":
                # The chip and the reference take every input as float32
                # values (integer ids and masks included).
                path = os.path.join(work, "in_%s.f32" % re.sub(
                    r"[^A-Za-z0-9._-]", "_", name))
                value.astype("<f4").tofile(path)
                inputs += ["--input", "%s=%s" % (name, path)]
            else:
                expected[name] = value.astype(np.float32).reshape(-1)

        prog = os.path.join(work, model.name + ".tsrp")
        out, row["compile_s"] = run([tessera, "compile", onnx, "-o", prog,
                                     "--pipeline", args.pipeline] + chip,
                                    "compile", args.timeout)
        ops = re.search(r"ops after the pass pipeline: (.*)", out)
        counts = dict((k, int(v)) for k, v in re.findall(
            r"([\w.]+) (\d+)", ops.group(1))) if ops else {}
        row["attention"] = counts.get("tsr.attention", 0)
        row["layernorm"] = counts.get("tsr.layernorm", 0)
        row["gelu"] = counts.get("tsr.gelu", 0)
        m = re.search(r"(\d+) instructions", out)
        row["instructions"] = int(m.group(1)) if m else None

        chip_dir = os.path.join(work, "chip")
        sim_args = [tessera, "simulate", prog, "--json"] + inputs + chip
        if args.timing_only:
            sim_args.append("--timing-only")
        else:
            sim_args += ["--output-dir", chip_dir]
        out, row["simulate_s"] = run(sim_args, "simulate", args.timeout)
        report = json.loads(out)
        row["frame_ms"] = report["frame"]["ms"]
        row["cycles"] = report["frame"]["cycles"]
        if args.timing_only:
            row["status"] = "TIMING"
            return row

        ref_dir = os.path.join(work, "ref")
        _, row["reference_s"] = run(
            [tessera, "reference", onnx, "--output-dir", ref_dir] + inputs,
            "reference", args.timeout)
        worst = {"torch": (0.0, 0.0), "ref": (0.0, 0.0)}
        for name, want in expected.items():
            fname = re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".f32"
            chip = np.fromfile(os.path.join(chip_dir, fname), "<f4")
            ref = np.fromfile(os.path.join(ref_dir, fname), "<f4")
            for key, base in (("torch", want), ("ref", ref)):
                err = np.abs(chip.astype(np.float64) - base)
                mx = float(err.max()) if err.size else 0.0
                rms = float(np.sqrt(np.mean(err ** 2))) if err.size else 0.0
                scale = float(np.sqrt(np.mean(base.astype(np.float64) ** 2)))
                worst[key] = (max(worst[key][0], mx), max(worst[key][1], rms))
                if not np.isfinite(chip).all() or mx > TOLERANCE * scale:
                    row["problems"].append(
                        "%s vs %s: max abs error %.3g > tolerance %.3g" %
                        (name, "PyTorch" if key == "torch" else
                         "FP32 reference", mx, TOLERANCE * scale))
            if model.name == "digits":
                labels = np.fromfile(os.path.join(mdir, "heldout_labels.i64"),
                                     "<i8")
                n = labels.size
                acc = lambda v: float(  # noqa: E731
                    (v.reshape(n, -1).argmax(1) == labels).mean())
                row["acc_chip"], row["acc_ref"], row["acc_torch"] = \
                    acc(chip), acc(ref), acc(want)
                row["acc_n"] = n
                if abs(row["acc_chip"] - row["acc_ref"]) * 100 > ACCURACY_PP:
                    row["problems"].append(
                        "accuracy on the chip %.2f%% vs FP32 %.2f%%: more "
                        "than %.1f points apart" % (100 * row["acc_chip"],
                                                    100 * row["acc_ref"],
                                                    ACCURACY_PP))
        row["max_torch"], row["rms_torch"] = worst["torch"]
        row["max_ref"], row["rms_ref"] = worst["ref"]
        if row["attention"] != model.layers:
            row["problems"].append(
                "%d tsr.attention after raising, the model has %d "
                "transformer layers" % (row["attention"], model.layers))
        if row["problems"]:
            row["status"] = "FAIL"
    except Stage as s:
        row["status"] = "FAIL"
        row["problems"].append("%s: %s" % s.args)
    return row


def fmt(v, spec):
    return "-" if v is None else spec % v


def table(rows, markdown):
    head = ["model", "layers", "attention", "layernorm", "gelu",
            "instructions", "frame ms", "max err vs PyTorch",
            "RMS vs PyTorch", "max err vs FP32 ref", "RMS vs FP32 ref",
            "accuracy chip / FP32", "status"]
    body = []
    for r in rows:
        acc = "-"
        if "acc_chip" in r:
            acc = "%.2f%% / %.2f%% (%d)" % (100 * r["acc_chip"],
                                           100 * r["acc_ref"], r["acc_n"])
        body.append([r["model"], str(r["layers"]),
                     fmt(r.get("attention"), "%d"),
                     fmt(r.get("layernorm"), "%d"),
                     fmt(r.get("gelu"), "%d"),
                     fmt(r.get("instructions"), "%d"),
                     fmt(r.get("frame_ms"), "%.4f"),
                     fmt(r.get("max_torch"), "%.3g"),
                     fmt(r.get("rms_torch"), "%.3g"),
                     fmt(r.get("max_ref"), "%.3g"),
                     fmt(r.get("rms_ref"), "%.3g"), acc, r["status"]])
    lines = []
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(b) + " |" for b in body]
    else:
        widths = [max(len(x[i]) for x in [head] + body)
                  for i in range(len(head))]
        for x in [head] + body:
            lines.append("  ".join(c.ljust(w) for c, w in zip(x, widths)))
    for r in rows:
        for p in r["problems"]:
            lines.append("%s%s: %s" % ("- " if markdown else "", r["model"],
                                       p))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tessera",
                    default=os.path.join(ROOT, "build", "bin", "tessera"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "zoo"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--models", default="",
                    help="comma-separated subset (default: all)")
    ap.add_argument("--perception-depth", type=int, default=40)
    ap.add_argument("--perception-arg", action="append", default=[],
                    dest="perception_args",
                    help="extra generator argument, e.g. --width=768")
    ap.add_argument("--timing-only", action="store_true",
                    help="cycles only: no outputs, no accuracy")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--pipeline", default="fused",
                    help="tessera compile --pipeline (docs/fusion.md; "
                    "default: fused, the compiler's default)")
    ap.add_argument("--sram-bytes", type=int, default=0,
                    help="the reference chip with this SRAM capacity "
                    "(a config derived from arch/configs/reference.cfg, "
                    "passed to compile and simulate)")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--check", default="",
                    help="run this one model; exit 0 only if it passes")
    args = ap.parse_args()
    models = zoo(args)
    wanted = [args.check] if args.check else \
        [m for m in args.models.split(",") if m]
    if wanted:
        unknown = set(wanted) - {m.name for m in models}
        if unknown:
            ap.error("unknown model(s) %s; the zoo: %s" % (
                ", ".join(sorted(unknown)),
                ", ".join(m.name for m in models)))
        models = [m for m in models if m.name in wanted]
    rows = []
    for m in models:
        start = time.time()
        rows.append(evaluate(m, args))
        print("%s: %s in %.1f s" % (m.name, rows[-1]["status"],
                                    time.time() - start), file=sys.stderr)
    print(table(rows, args.markdown))
    if args.check:
        return 0 if rows[0]["status"] in ("PASS", "TIMING") else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
