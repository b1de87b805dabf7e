#!/usr/bin/env python3
"""`tessera run --clip`: a .smol clip through the storage model into the chip.

On NVMe the loader keeps up: every frame's latency is the chip's alone. On an
object store with one worker and a slow first byte it cannot: frames wait,
latency grows frame by frame and frames go over the budget. Accuracy is
checked on every frame against the FP32 reference executor in both. Bad
clips are one-line errors.

usage: check_replay.py <tessera> <tessera-smol> <scratch dir>
"""
import json
import os
import subprocess
import sys

tessera, smol, scratch = sys.argv[1:4]
os.makedirs(scratch, exist_ok=True)
clip = os.path.join(scratch, "clip.smol")
tiny = os.path.join(scratch, "tiny.smol")


def run(cmd, expect=0):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != expect:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}, expected {expect}\n"
                 f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)


run([smol, "pack", clip, "--records", "40", "--seed", "7", "--force"])
run([smol, "pack", tiny, "--records", "3", "--width", "2", "--height", "2",
     "--cameras", "1", "--force"])

fast = json.loads(run([tessera, "run", "--clip", clip, "--frames", "12",
                       "--json"]).stdout)
check(fast["frames"] == 12, "12 frames")
check(fast["storage"]["device"] == "nvme", "nvme by default")
check(fast["storage"]["ops_per_frame"] == 1.0, ".smol: one read per frame")
check(fast["storage"]["keeps_up"], "nvme keeps up")
check(all(w == 0 for w in fast["wait_ms"]), "no frame waits on nvme")
check(fast["latency_ms"]["p50"] == fast["chip"]["ms"] ==
      fast["latency_ms"]["p99"], "latency = chip time when storage keeps up")
check(fast["budget"]["passed"] and fast["accuracy"]["passed"], "verdicts")

slow = json.loads(run([tessera, "run", "--clip", clip, "--frames", "12",
                       "--storage", "object-store", "--storage-param",
                       "object_store.first_byte_ms=80", "--workers", "1",
                       "--json"]).stdout)
check(not slow["storage"]["keeps_up"], "a slow object store does not keep up")
check(slow["budget"]["frames_over"] > 0, "frames over budget")
waits = slow["wait_ms"]
check(waits[0] == 0 and waits[-1] > waits[1] > 0,
      f"waits grow frame by frame: {waits}")
check(slow["latency_ms"]["p99"] >= slow["latency_ms"]["p50"] >
      slow["chip"]["ms"], "p99 >= p50 > chip")
check(slow["storage"]["consumer_idle_fraction"] > 0.5, "the chip starves")
check(slow["accuracy"]["passed"], "accuracy on the slow path too")

table = run([tessera, "run", "--clip", clip, "--frames", "3"]).stdout
for text in ["Tessera clip replay", "frame latency     p50",
             "storage keeps up  yes"]:
    check(text in table, f"'{text}' in:\n{table}")

err = run([tessera, "run", "--clip", os.path.join(scratch, "nope.smol")],
          expect=1).stderr
check("nope.smol" in err and err.count("\n") == 1, f"missing clip: {err}")
err = run([tessera, "run", "--clip", tiny], expect=1).stderr
check("camera bundle has 12 values" in err, f"tiny clip: {err}")
err = run([tessera, "run", "--clip", clip, "--storage", "floppy"],
          expect=1).stderr
check("floppy" in err, f"unknown device: {err}")
print("ok: p50", fast["latency_ms"]["p50"], "ms on nvme; slow p99",
      slow["latency_ms"]["p99"], "ms")
