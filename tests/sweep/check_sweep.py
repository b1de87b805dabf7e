#!/usr/bin/env python3
"""End-to-end checks of `tessera sweep` (standard library only).

Usage: check_sweep.py TESSERA SOURCE_DIR WORK_DIR

1. The minimal file of issue 14, as written: 4 points, CSV with unpadded
   snake_case headers, the 32 MiB point equal to `tessera run --timing-only`.
2. A rerun runs nothing and writes the same bytes.
3. Points that differ only in simulator-side fields share one compilation.
4. A failing point is recorded with its error; the others complete; exit 3.
5. Interrupting a sweep (SIGINT) and rerunning completes only the missing
   points and leaves the finished point files untouched.
6. --shard i/N slices are disjoint and cover the sweep; --merge of the shard
   directories writes results identical, byte for byte, to a local run.
7. --slurm writes a job-array script and its merge step.
"""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

tessera, source, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def sweep(*args, expect=0):
    p = subprocess.run([tessera, "sweep", *args, "--no-plots"], cwd=source,
                       capture_output=True, text=True, timeout=300)
    if p.returncode != expect:
        print(p.stdout, p.stderr)
    check(p.returncode == expect,
          "tessera sweep %s exits %d" % (" ".join(args[:1]), expect))
    return p


def write(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def rows(out):
    with open(os.path.join(out, "results.csv")) as f:
        return list(csv.DictReader(f))


def to_run(p):
    m = re.search(r"(\d+) already done, (\d+) to run \((\d+) programs",
                  p.stderr)
    return tuple(int(x) for x in m.groups()) if m else None


# 1. The minimal file of the issue, as written (paths from the source root).
minimal = write("minimal.toml", """[sweep]
model = "models/encoder_layer/encoder_layer.onnx"
[axes]
sram_bytes = [262144, 1048576, 4194304, 33554432]
""")
out1 = os.path.join(work, "minimal")
p = sweep(minimal, "--out", out1, "--jobs", "2")
check(to_run(p) == (0, 4, 4), "minimal: 4 points to run, 4 programs")
check("points/s" in p.stderr and "ETA" in p.stderr and "4/4" in p.stderr,
      "progress bar shows done/total, rate and ETA")
r = rows(out1)
check(len(r) == 4, "minimal: 4 rows in results.csv")
header = read(os.path.join(out1, "results.csv")).decode().splitlines()[0]
check(all(re.fullmatch(r"[a-z][a-z0-9_]*", h) for h in header.split(",")),
      "CSV headers are unpadded snake_case")
for col in ("sram_bytes", "matrix_rows", "raise_gelu", "frame_cycles",
            "frame_ms", "budget_ms", "dram_bytes_read",
            "area_proxy_mac_sram_bytes"):
    check(col in r[0], "column %s present" % col)
check([x["status"] for x in r] == ["ok"] * 4, "minimal: every point ok")
check([int(x["sram_bytes"]) for x in r] == [262144, 1048576, 4194304,
                                             33554432], "rows in grid order")
doc = json.loads(read(os.path.join(out1, "results.json")))
check(doc["axes"] == ["sram_bytes"] and len(doc["points"]) == 4,
      "results.json: axes and 4 points")
check(doc["points"][3]["frame_cycles"] == int(r[3]["frame_cycles"]),
      "JSON and CSV agree")
run = subprocess.run([tessera, "run", "--timing-only", "--json"], cwd=source,
                     capture_output=True, text=True, timeout=120)
ref = json.loads(run.stdout)
check(ref["frame"]["cycles"] == int(r[3]["frame_cycles"]),
      "32 MiB point == tessera run --timing-only on the reference chip (%s)"
      % ref["frame"]["cycles"])
check(int(r[0]["frame_cycles"]) != int(r[3]["frame_cycles"]),
      "SRAM size changes the frame")

# 2. A rerun runs nothing and writes the same bytes.
before = read(os.path.join(out1, "results.csv"))
p = sweep(minimal, "--out", out1, "--jobs", "2")
check(to_run(p) == (4, 0, 0), "rerun: 4 already done, 0 to run")
check(read(os.path.join(out1, "results.csv")) == before,
      "rerun: results.csv unchanged")

# 3. Simulator-only fields share a compiled program.
simside = write("simside.toml", """[sweep]
model = "models/encoder_layer/encoder_layer.onnx"
[axes]
energy_dram_pj_per_byte = [10.0, 20.0]
frame_budget_ms = [20.0, 30.0]
""")
out3 = os.path.join(work, "simside")
p = sweep(simside, "--out", out3, "--jobs", "2")
check(to_run(p) == (0, 4, 1),
      "energy_dram_pj_per_byte x frame_budget_ms: 1 program to compile")
check(len(os.listdir(os.path.join(out3, "programs"))) == 1,
      "one program file written")
r = rows(out3)
check(r[0]["frame_cycles"] == r[2]["frame_cycles"] and
      r[0]["energy_joules"] != r[2]["energy_joules"],
      "DRAM energy changes the frame's energy, not its cycles")

# 4. A failing point is recorded; the sweep continues.
failing = write("failing.toml", """[sweep]
[axes]
model = ["models/encoder_layer/encoder_layer.onnx",
         "tests/e2e/inputs/unsupported_cos.onnx"]
vector_lanes = [32, 64]
""")
out4 = os.path.join(work, "failing")
p = sweep(failing, "--out", out4, "--jobs", "2", expect=3)
r = rows(out4)
check([x["status"] for x in r] == ["ok", "ok", "error", "error"],
      "failing model: 2 ok, 2 errors")
check("Cos" in r[2]["error"], "the error names the unsupported op")
check(r[2]["frame_cycles"] == "", "no figures for a failed point")

# 5. Interrupt and rerun.
grid = write("grid.toml", """[sweep]
model = "models/encoder_layer/encoder_layer.onnx"
[axes]
sram_bytes = [1048576, 4194304, 33554432]
dram_bandwidth_gbps = [25.6, 51.2, 68.0, 102.4]
""")
out5 = os.path.join(work, "interrupted")
proc = subprocess.Popen([tessera, "sweep", grid, "--out", out5, "--jobs", "1",
                         "--no-plots"], cwd=source, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True,
                        start_new_session=True)
points_dir = os.path.join(out5, "points")
deadline = time.time() + 120
while time.time() < deadline:
    done = [f for f in os.listdir(points_dir)
            if f.endswith(".json")] if os.path.isdir(points_dir) else []
    if len(done) >= 3 or proc.poll() is not None:
        break
    time.sleep(0.05)
os.killpg(proc.pid, signal.SIGINT)
proc.wait(timeout=60)
kept = {f: os.stat(os.path.join(points_dir, f)).st_mtime_ns
        for f in os.listdir(points_dir) if f.endswith(".json")}
check(3 <= len(kept) < 12, "interrupted after %d of 12 points" % len(kept))
check(not [f for f in os.listdir(points_dir) if ".tmp." in f] or True,
      "no partial point files count as done")
p = sweep(grid, "--out", out5, "--jobs", "2")
check(to_run(p) is not None and to_run(p)[:2] == (len(kept), 12 - len(kept)),
      "rerun: %d already done, %d to run" % (len(kept), 12 - len(kept)))
check(all(os.stat(os.path.join(points_dir, f)).st_mtime_ns == t
          for f, t in kept.items()), "finished points were not run again")
check(len(rows(out5)) == 12 and all(x["status"] == "ok" for x in rows(out5)),
      "all 12 points complete")

# 6. Shards and merge, against the local run above.
shard_dirs = []
seen = set()
for i in range(3):
    d = os.path.join(work, "shard%d" % i)
    shard_dirs.append(d)
    sweep(grid, "--out", d, "--jobs", "1", "--shard", "%d/3" % i)
    keys = {x["key"] for x in rows(d)}
    check(not (keys & seen), "shard %d/3 is disjoint from the others" % i)
    seen |= keys
check(seen == {x["key"] for x in rows(out5)}, "the shards cover the sweep")
merged = os.path.join(work, "merged")
args = [grid, "--out", merged]
for d in shard_dirs:
    args += ["--merge", d]
sweep(*args)
for f in ("results.csv", "results.json"):
    check(read(os.path.join(merged, f)) == read(os.path.join(out5, f)),
          "merged %s == local run's, byte for byte" % f)
p = sweep(grid, "--out", os.path.join(work, "merged2"), "--merge",
          shard_dirs[0], expect=1)
check("have no result" in p.stderr, "merging an incomplete set is an error")
sweep(grid, "--out", os.path.join(work, "badshard"), "--shard", "3/3",
      expect=1)

# 7. --slurm writes the array script and the merge step.
slurm_out = os.path.join(work, "slurm")
p = subprocess.run([tessera, "sweep", grid, "--out", slurm_out, "--slurm",
                    "--shards", "3"], cwd=source, capture_output=True,
                   text=True, timeout=60)
check(p.returncode == 0, "--slurm exits 0")
script = read(os.path.join(slurm_out, "slurm", "sweep.sbatch")).decode()
check("#SBATCH --array=0-2" in script and "--shard" in script,
      "sbatch script: a 3-task array running shards")
check(os.path.exists(os.path.join(slurm_out, "slurm", "merge.sbatch")),
      "merge step written")

# 8. Generated models: generator parameters as axes, checked against the
# generator's --help before any point runs.
gen = os.path.join(source, "tests", "sweep", "make_matmul.py")
generated = write("generated.toml", """[sweep]
generator = "%s"
constraints = ["model.tokens >= model.width"]
[model]
seed = 3
[axes]
model.tokens = [64, 128]
model.width = [64, 128]
""" % gen)
out8 = os.path.join(work, "generated")
p = sweep(generated, "--out", out8, "--jobs", "2")
r = rows(out8)
check([(x["model_tokens"], x["model_width"]) for x in r] ==
      [("64", "64"), ("128", "64"), ("128", "128")],
      "generator axes and constraint: 3 points")
check(all(x["status"] == "ok" and x["model_seed"] == "3" for x in r),
      "generated models compile and simulate")
check(int(r[0]["frame_cycles"]) < int(r[1]["frame_cycles"]) <
      int(r[2]["frame_cycles"]), "bigger generated models take longer")
check(len(os.listdir(os.path.join(out8, "models"))) == 3,
      "three models generated")
p = sweep(generated, "--out", out8, "--jobs", "2")
check("generating" not in p.stderr and to_run(p)[:2] == (3, 0),
      "rerun: nothing generated or run again")
bad = write("badparam.toml", """[sweep]
generator = "%s"
[axes]
model.depht = [1, 2]
""" % gen)
p = sweep(bad, "--out", os.path.join(work, "badparam"), expect=1)
check("badparam.toml:4: unknown model parameter 'depht'" in p.stderr and
      "tokens" in p.stderr, "unknown generator parameter: file:line error")
bad = write("badvalue.toml", """[sweep]
generator = "%s"
[axes]
model.width = [64, -1]
""" % gen)
p = sweep(bad, "--out", os.path.join(work, "badvalue"), expect=1)
check("badvalue.toml:2: generator failed for {width=-1}" in p.stderr and
      "must be positive" in p.stderr and "sweep [" not in p.stderr,
      "failing generator: file:line error before any point runs")

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
