#!/usr/bin/env python3
"""Outputs a user can keep, on the bundled encoder layer.

Checks: `tessera run --output-dir` writes every output as NAME.f32;
`compile` + `simulate --output NAME=file` writes the same bytes; `tessera
reference --output-dir` writes the FP32 reference executor's outputs, which
match PyTorch's saved output to float rounding; the chip's output is within
the FP16 tolerance of the reference's but not identical to it (the chip
really computes in FP16); `reference` with its inputs from tensors.txt and
with --input gives the same bytes.

usage: check_outputs.py <tessera> <models dir> <scratch dir>
"""
import os
import shutil
import subprocess
import sys

import numpy as np

tessera, models, scratch = sys.argv[1:4]
model_dir = os.path.join(models, "encoder_layer")
onnx = os.path.join(model_dir, "encoder_layer.onnx")
x = os.path.join(model_dir, "input_x.f32")
shutil.rmtree(scratch, ignore_errors=True)
os.makedirs(scratch)


def run(*args, expect=0):
    p = subprocess.run([tessera, *args], capture_output=True, text=True,
                       timeout=600)
    if p.returncode != expect:
        sys.exit(f"tessera {' '.join(args)}: exit {p.returncode}, expected "
                 f"{expect}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p.stdout + p.stderr


def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)
    print("ok:", what)


def load(path):
    check(os.path.getsize(path) == 128 * 256 * 4, path + " holds 1x128x256 "
          "float32 values")
    return np.fromfile(path, "<f4")


expected = np.fromfile(os.path.join(model_dir, "expected_y.f32"), "<f4")

chip_dir = os.path.join(scratch, "chip")
out = run("run", "--output-dir", chip_dir)
check("wrote output 'y'" in out, "run --output-dir reports what it wrote")
check(sorted(os.listdir(chip_dir)) == ["y.f32"], "run --output-dir: y.f32")
chip = load(os.path.join(chip_dir, "y.f32"))

prog = os.path.join(scratch, "enc.tsrp")
run("compile", onnx, "-o", prog)
sim_y = os.path.join(scratch, "sim_y.f32")
run("simulate", prog, "--input", "x=" + x, "--output", "y=" + sim_y)
check(load(sim_y).tobytes() == chip.tobytes(),
      "simulate --output = run --output-dir, byte for byte")

ref_dir = os.path.join(scratch, "ref")
out = run("reference", onnx, "--output-dir", ref_dir)
check("PASS" in out, "reference checks against tensors.txt's expected_y")
ref = load(os.path.join(ref_dir, "y.f32"))
ref2_path = os.path.join(scratch, "ref_y.f32")
run("reference", onnx, "--input", "x=" + x, "--output", "y=" + ref2_path)
check(load(ref2_path).tobytes() == ref.tobytes(),
      "reference --input/--output = reference with tensors.txt")

scale = float(np.sqrt(np.mean(expected.astype(np.float64) ** 2)))
err_ref = float(np.max(np.abs(ref - expected)))
check(err_ref < 1e-5 * scale, "FP32 reference = PyTorch within float "
      "rounding (max abs error %.3g)" % err_ref)
err_chip = float(np.max(np.abs(chip - ref)))
check(0 < err_chip <= 0.02 * scale, "chip vs FP32 reference: max abs error "
      "%.3g, inside the FP16 tolerance %.3g and not zero" %
      (err_chip, 0.02 * scale))
