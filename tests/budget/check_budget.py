#!/usr/bin/env python3
"""Checks of `tessera budget` itself (standard library only).

Usage: check_budget.py TESSERA SOURCE_DIR WORK_DIR

1. A slower chip (the reference config with half the DRAM bandwidth,
   derived here from arch/configs/reference.cfg) injected with --config
   fails the encoder_layer entry with the readable message: model, config,
   budget, baseline and measured latency, and the layer that moved most.
2. An entry whose budget is required and missed fails; the same entry not
   required passes and shows the miss.
3. --update rewrites a changed baseline, prints the diff, and a second
   --update prints no change.
4. An unknown entry is an error.
5. A generated network (the baseline's "generated" list) is generated,
   measured and recorded with its generator arguments.
"""

import json
import os
import re
import shutil
import subprocess
import sys

tessera, source, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []
baseline = os.path.join(source, "tests", "budget", "baseline.json")
entry = "encoder_layer@reference"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def budget(*args):
    p = subprocess.run([tessera, "budget", *args], capture_output=True,
                       text=True, timeout=300)
    print(p.stdout + p.stderr)
    return p


# 1. A slower chip.
with open(os.path.join(source, "arch", "configs", "reference.cfg")) as f:
    ref = f.read()
slower = re.sub(r"(?m)^(dram_bandwidth_gbps\s*=\s*).*$", r"\g<1>34.0", ref)
check(slower != ref, "derived a config with half the DRAM bandwidth")
slower_cfg = os.path.join(work, "slower_dram.cfg")
with open(slower_cfg, "w") as f:
    f.write(slower)
p = budget("--entry", entry, "--config", slower_cfg)
check(p.returncode == 4, "slower chip: exit status 4")
line = next((l for l in p.stdout.splitlines() if l.startswith("budget FAIL")),
            "")
with open(baseline) as f:
    committed = next(x for x in json.load(f)["entries"] if x["name"] == entry)
for part in ("budget FAIL: %s: frame regressed" % entry, "encoder_layer on",
             "slower_dram.cfg",
             "vs baseline %.6f ms (%d cycles)" % (committed["frame_ms"],
                                                 committed["frame_cycles"]),
             "budget 27.78 ms", "layer that moved most: /"):
    check(part in line, "failure names %r" % part)
m = re.search(r": ([\d.]+) ms \((\d+) cycles\) vs baseline ([\d.]+) ms "
              r"\((\d+) cycles\)", line)
check(m is not None and int(m.group(2)) > int(m.group(4)),
      "measured cycles exceed the baseline's")

# 2. Required budgets.
with open(baseline) as f:
    doc = json.load(f)
e = next(x for x in doc["entries"] if x["name"] == entry)
e["budget_ms"] = e["frame_ms"] / 2
e["required"] = True
tight = os.path.join(work, "tight.json")
with open(tight, "w") as f:
    json.dump(doc, f)
p = budget("--baseline", tight, "--entry", entry)
check(p.returncode == 4 and "required budget missed" in p.stdout,
      "a missed required budget fails")
e["required"] = False
with open(tight, "w") as f:
    json.dump(doc, f)
p = budget("--baseline", tight, "--entry", entry)
check(p.returncode == 0 and "(not required) MISSED" in p.stdout,
      "a missed budget that is not required is shown, not failed")

# 3. --update and its diff.
with open(baseline) as f:
    doc = json.load(f)
e = next(x for x in doc["entries"] if x["name"] == entry)
true_cycles = e["frame_cycles"]
e["frame_cycles"] = true_cycles - 1000
# The fused MLP1 kernel (layernorm + matmul + bias + GELU) of the default
# (fused) pipeline, named after its last op.
moved = "/mlp/mlp.1/Mul_1"
e["layers"][moved] -= 1000
stale = os.path.join(work, "stale.json")
with open(stale, "w") as f:
    json.dump(doc, f)
p = budget("--baseline", stale, "--entry", entry)
check(p.returncode == 4 and moved in p.stdout,
      "a stale baseline fails, naming the layer that moved")
p = budget("--baseline", stale, "--update")
check(p.returncode == 0, "--update exits 0")
check(all(l.startswith("  ! ") and "does not compile" in l
          for l in p.stdout.splitlines() if l.startswith("  !")),
      "models that do not compile yet are reported, not recorded")
check("~ %s: %d -> %d cycles" % (entry, true_cycles - 1000, true_cycles)
      in p.stdout, "--update prints the change")
with open(stale) as f:
    updated = json.load(f)
check(next(x for x in updated["entries"] if x["name"] == entry)
      ["frame_cycles"] == true_cycles, "--update wrote the measured cycles")
p = budget("--baseline", stale, "--update")
check("no change" in p.stdout, "a second --update prints no change")

# 5. A generated network (a generator with fixed arguments).
with open(baseline) as f:
    doc = json.load(f)
doc["generated"] = [{"name": "tiny_matmul",
                     "generator": "tests/sweep/make_matmul.py",
                     "args": ["--tokens", "64", "--width", "96"]}]
gen_baseline = os.path.join(work, "generated.json")
with open(gen_baseline, "w") as f:
    json.dump(doc, f)
models = os.path.join(work, "models")
p = budget("--baseline", gen_baseline, "--update", "--work", models)
check(p.returncode == 0 and "+ tiny_matmul@reference" in p.stdout,
      "--update adds the generated network")
with open(gen_baseline) as f:
    e = next(x for x in json.load(f)["entries"]
             if x["name"] == "tiny_matmul@reference")
check(e["generator_args"] == ["--tokens", "64", "--width", "96"] and
      e["frame_cycles"] > 0, "its entry records the generator arguments")
p = budget("--baseline", gen_baseline, "--entry", "tiny_matmul@reference",
           "--work", models)
check(p.returncode == 0 and "budget ok: tiny_matmul@reference" in p.stdout,
      "the generated entry checks clean")

# 4. Unknown entry.
p = budget("--entry", "nonexistent@reference")
check(p.returncode == 1 and "no entry 'nonexistent@reference'" in p.stderr,
      "unknown entry is an error")

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
