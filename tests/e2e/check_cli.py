#!/usr/bin/env python3
"""The tessera command as a user drives it, on the bundled encoder layer.

Checks: `tessera run` exits 0 with the budget verdict and both accuracy checks
(PyTorch's saved output and the FP32 reference executor) passing, in the
table and in --json; `compile` + `simulate` through files give the same cycles
as `run`; the listing names every layer; --trace writes a Chrome/Perfetto
trace; --timing-only gives the same cycles; --no-raise-gelu still matches but
runs more vector kernels.

usage: check_cli.py <tessera> <models dir> <scratch dir>
"""
import json
import os
import subprocess
import sys

tessera, models, scratch = sys.argv[1:4]
model_dir = os.path.join(models, "encoder_layer")
os.makedirs(scratch, exist_ok=True)


def run(*args, expect=0):
    p = subprocess.run([tessera, *args], capture_output=True, text=True,
                       timeout=600)
    if p.returncode != expect:
        sys.exit(f"tessera {' '.join(args)}: exit {p.returncode}, expected "
                 f"{expect}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p.stdout


def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)


table = run("run")
for text in ["frame latency", "budget            27.78 ms (36 fps): PASS",
             "vs expected_y.f32", "vs FP32 reference executor",
             "/attn/Softmax"]:
    check(text in table, f"'{text}' in the report:\n{table}")
check("FAIL" not in table, "no FAIL in the report")

report = json.loads(run("run", "--json"))
cycles = report["frame"]["cycles"]
check(cycles > 0, "frame cycles")
check(report["budget"]["passed"], "budget passed")
check(report["accuracy_passed"], "accuracy passed")
refs = sorted(a["reference"].split("/")[-1] for a in report["accuracy"])
check(refs == ["FP32 reference executor", "expected_y.f32"], f"references {refs}")
check(abs(report["frame"]["ms"] - cycles / 2e6) < 1e-9, "ms at 2 GHz")
check(sum(l["cycles"] for l in report["layers"]) == cycles,
      "layer times add up to the frame")
# The cost model's estimate next to the simulated cycles (docs/cost-model.md):
# one per layer, the frame within the 5% its accuracy test holds it to, and a
# roofline bound the simulated frame cannot beat.
cm = report["cost_model"]
check(all("model_cycles" in l for l in report["layers"]), "model_cycles per layer")
check(abs(cm["cycles"] - cycles) <= 0.05 * cycles, f"cost model {cm['cycles']} vs {cycles}")
check(0 < cm["roofline"]["bound_cycles"] <= cycles, "roofline bound below the frame")
check("cost model" in table and "roofline" in table, "cost model lines in the table")

prog = os.path.join(scratch, "encoder.tsrp")
listing = os.path.join(scratch, "encoder.lst")
out = run("compile", os.path.join(model_dir, "encoder_layer.onnx"), "-o", prog,
          "--listing", listing)
check("wrote " in out and os.path.getsize(prog) > 0, "program written")
with open(listing) as f:
    lst = f.read()
for layer in report["layers"]:
    check(f"; layer" in lst and layer["name"] in lst,
          f"layer {layer['name']} in the listing")

sim = json.loads(run("simulate", prog,
                     "--input", "x=" + os.path.join(model_dir, "input_x.f32"),
                     "--expected", "y=" + os.path.join(model_dir, "expected_y.f32"),
                     "--json"))
check(sim["frame"]["cycles"] == cycles, "simulate from the file = run")
check(sim["accuracy_passed"], "simulate: accuracy")

trace = os.path.join(scratch, "frame.json")
run("run", "--trace", trace)
with open(trace) as f:
    events = json.load(f)
events = events["traceEvents"] if isinstance(events, dict) else events
check(len(events) > 100, "trace has events")
# SRAM occupancy from the compiled program's buffer table: never above
# the SRAM, back to 0 when the last layer ends, and its
# peak is the report's.
occ = [e["args"]["allocated"] for e in events
       if e.get("ph") == "C" and e.get("name") == "SRAM allocated (bytes)"]
check(occ and occ[-1] == 0, "SRAM allocated: 0 after the last layer")
check(max(occ) == report["sram"]["peak_allocated_bytes"] > 0,
      "SRAM allocated: peak = the report's")
check(max(occ) <= 32 << 20, "SRAM allocated within the chip")

timing = json.loads(run("run", "--timing-only", "--json"))
check(timing["frame"]["cycles"] == cycles, "timing-only: same cycles")
# From the file, timing only: the weights stay on disk and no input is needed.
timed_file = json.loads(run("simulate", prog, "--timing-only", "--json"))
check(timed_file["frame"]["cycles"] == cycles,
      "simulate --timing-only from the file: same cycles, no input needed")

chain = json.loads(run("run", "--no-raise-gelu", "--json"))
check(chain["accuracy_passed"], "--no-raise-gelu: accuracy")
check(chain["frame"]["instructions"] > report["frame"]["instructions"],
      "--no-raise-gelu runs more instructions")
print(f"ok: {cycles} cycles, {report['frame']['instructions']} instructions")
