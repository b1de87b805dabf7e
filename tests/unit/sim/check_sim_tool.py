#!/usr/bin/env python3
"""Checks tessera-sim's JSON report and trace on the fixture program.

usage: check_sim_tool.py <tessera-sim> <fixture dir>
The report must parse as JSON and agree with itself (layer times sum to the
frame, the budget verdict follows the figures); timing-only must give the
same cycles; the trace must parse and hold one slice per instruction on the
queue tracks plus the unit tracks and the DRAM byte counter.
"""
import json
import subprocess
import sys

tool, fixture = sys.argv[1], sys.argv[2]
prog = f"{fixture}/tiny.tsrp"
trace = f"{fixture}/trace.json"


def run(*args):
    out = subprocess.run([tool, prog, *args], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def check(cond, msg):
    if not cond:
        print("FAIL:", msg)
        sys.exit(1)


full = run("--input", f"x={fixture}/x.f32", "--expected",
           f"y={fixture}/y.f32", "--json", "--trace", trace)
timed = run("--timing-only", "--json")

cycles = full["frame"]["cycles"]
check(cycles > 0, "frame cycles")
check(cycles == timed["frame"]["cycles"], "timing-only changes the cycles")
check(sum(l["cycles"] for l in full["layers"]) == cycles,
      "layer cycles do not sum to the frame")
check([l["name"] for l in full["layers"]] == ["fc", "gelu"], "layer names")
check(abs(full["frame"]["ms"] - cycles / 2e6) < 1e-12, "ms at 2 GHz")
b = full["budget"]
check(b["passed"] == (full["frame"]["ms"] <= b["budget_ms"]), "verdict")
check(abs(b["headroom_ms"] - (b["budget_ms"] - full["frame"]["ms"])) < 1e-9,
      "headroom")
check(full["dram"]["bytes_read"] == 8 * 64 * 2 + 64 * 32 * 2, "bytes read")
check(full["dram"]["bytes_written"] == 8 * 32 * 2, "bytes written")
check(full["matrix_unit"]["macs"] == 8 * 64 * 32, "macs")
check(full["accuracy_passed"] and full["accuracy"][0]["tensor"] == "y",
      "accuracy against the Eigen reference")

with open(trace) as f:
    events = json.load(f)["traceEvents"]
slices = [e for e in events if e["ph"] == "X"]
queue_slices = [e for e in slices if e["tid"] in (1, 2, 3)]
check(len(queue_slices) == 5, "one queue slice per instruction")
check(sorted(e["args"]["instr"] for e in queue_slices) == list(range(5)),
      "every instruction traced")
names = {e["args"]["name"] for e in events if e["name"] == "thread_name"}
for track in ("load queue", "compute queue", "store queue", "DRAM data bus",
              "matrix unit", "vector unit", "layers"):
    check(track in names, f"track {track}")
check(any(e["ph"] == "C" and e["name"] == "DRAM bytes" for e in events),
      "DRAM byte counter")
# Layer slices: the attributed windows, back to back, one per layer.
layer_slices = sorted((e for e in slices if e["tid"] == 7),
                      key=lambda e: e["ts"])
check([e["name"] for e in layer_slices] ==
      [l["name"] for l in full["layers"] if l["cycles"] > 0], "layer slices")
check(sum(e["args"]["cycles"] for e in layer_slices) == cycles,
      "layer slices cover the frame")
# Counters: bandwidth never above the bus's peak, back to 0 at the end;
# transfers in flight never above dma_outstanding_transfers.
bw = [e for e in events if e["ph"] == "C" and e["name"].startswith("DRAM bandwidth")]
check(bw and all(0 <= e["args"]["bandwidth"] <= 68.0 + 1e-6 for e in bw),
      "DRAM bandwidth counter within the peak")
check(bw[-1]["args"]["bandwidth"] == 0, "bandwidth returns to 0")
fl = [e for e in events if e["ph"] == "C" and e["name"] == "DMA transfers in flight"]
limit = full["dma"]["outstanding_transfers"]
check(fl and all(0 <= e["args"]["load"] <= limit and
                 0 <= e["args"]["store"] <= limit for e in fl),
      "transfers in flight within the descriptor ring")
check(fl[-1]["args"] == {"load": 0, "store": 0}, "nothing in flight at the end")
end_us = max(e["ts"] + e["dur"] for e in slices)
check(abs(end_us - cycles / 2000.0) < 1e-3, "trace ends with the frame")
print(f"ok: {cycles} cycles, {len(events)} trace events")
