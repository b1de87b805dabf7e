#!/usr/bin/env python3
"""SRAM size against fusion, end to end (docs/fusion.md, "SRAM size").

  check_sram_sizes.py TESSERA SOURCE_DIR WORK_DIR

The reference perception network at depth 1 (768 tokens, width 448, 7
heads; generated here) compiled with `--pipeline fused` for the reference
chip with 32 MiB, 8 MiB, 2 MiB and 128 KiB of SRAM (every other field the
reference chip's). For each size the test reads, from the IR after the
pipeline (`--print-ir-after-all`), whether the attention is fused (a
`tsr.group` of kind "attention") and how many of its heads keep K and V in
SRAM from the QKV projection (`heads_on_chip`, tsr-keep-kv's k), and the
frame latency of the fused and unfused pipelines (`tessera compare
--json`). It checks the expected direction as SRAM shrinks: k never
increases and the fused frame never gets faster; at some size the split is
partial (0 < k < 7); the softmax form is "row" (whole score rows) at 32, 8
and 2 MiB and "online" (streamed over K/V tiles) at 128 KiB, where K and V
of one head and 8 query rows of scores do not fit, and k = 0 there; at
32 MiB the fused
frame beats the unfused one, and at every size the fused frame is not
slower than the unfused one (every fusion is cost-gated). Every fused group
carries its SRAM plan (`tsr.sram`, tsr-allocate-sram) and every plan's
total fits the SRAM. Prints the table (exact simulated cycles); exits 1 on
a failure.
"""
import json
import os
import re
import sys
from e2e_common import run


def main():
    tessera, source, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    model_dir = os.path.join(work, "perception")
    model = os.path.join(model_dir, "perception.onnx")
    if not os.path.exists(model):
        run([sys.executable,
             os.path.join(source, "models", "perception", "make_model.py"),
             model_dir, "--depth", "1", "--no-expected"])
    with open(os.path.join(source, "arch", "configs", "reference.cfg")) as f:
        ref = f.read()
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    rows = []
    for label, size in (("32 MiB", 32 << 20), ("8 MiB", 8 << 20),
                        ("2 MiB", 2 << 20), ("128 KiB", 128 << 10)):
        text, n = re.subn(r"(?m)^sram_bytes\s*=.*$",
                          "sram_bytes = %d" % size, ref)
        check(n == 1, "%s: derived the config" % label)
        cfg = os.path.join(work, "sram_%d.cfg" % size)
        with open(cfg, "w") as f:
            f.write(text)
        p = run([tessera, "compile", model, "-o",
                 os.path.join(work, "fused_%d.tsrp" % size), "--config", cfg,
                 "--pipeline", "fused", "--print-ir-after-all"])
        # The tsr module as the pass pipeline left it (the dumps after it
        # are the lowering to the chip dialect).
        last = p.stderr.split("IR Dump After TsrVerifySram", 1)[-1]
        last = last.split("IR Dump After", 1)[0]
        heads = sum(int(h) for h in re.findall(r"heads_on_chip = (\d+)", last))
        attentions = len(re.findall(r'kind = "attention"', last))
        # Whole score rows ("row") or streamed over K/V tiles ("online").
        forms = sorted(set(re.findall(r'softmax = "(\w+)"', last)))
        # Every fused group carries its SRAM plan (tsr-allocate-sram), inside
        # this SRAM (docs/lowering.md, "SRAM allocation").
        # The bare kernels carry theirs too (docs/lowering.md, "Decisions
        # of the unfused kernels"): every plan must fit.
        plan = r"phases = \[[^\]]*\], total = (\d+)"
        group_lines = [l for l in last.splitlines() if "tsr.group(" in l]
        group_plans = [t for l in group_lines for t in re.findall(plan, l)]
        check(len(group_plans) == len(group_lines),
              "%s: %d groups, %d SRAM plans" % (label, len(group_lines),
                                                len(group_plans)))
        totals = [int(t) for t in re.findall(plan, last)]
        check(all(t <= size for t in totals),
              "%s: every SRAM plan fits (largest %d bytes)"
              % (label, max(totals or [0])))
        cmp_ = json.loads(run([tessera, "compare", model, "--config", cfg,
                               "--pipelines", "unfused,fused",
                               "--json"]).stdout)
        by = {r["pipeline"]: r for r in cmp_["pipelines"]}
        rows.append((label, heads, by["unfused"]["cycles"],
                     by["fused"]["cycles"], attentions))
        want = ["online"] if size < (1 << 20) else ["row"]
        check(forms == want, "%s: softmax %s (expected %s)"
              % (label, "/".join(forms) or "none", want[0]))
    print("%-8s %10s %14s %16s %16s" % ("SRAM", "attention", "heads K/V kept",
                                        "unfused cycles", "fused cycles"))
    for label, heads, unfused, fused, attentions in rows:
        print("%-8s %10s %14s %16d %16d" % (
            label, "fused" if attentions else "unfused", "%d/7" % heads,
            unfused, fused))
    check(rows[0][4] == 1, "32 MiB: the attention is fused")
    check(rows[-1][4] == 1 and rows[-1][1] == 0,
          "128 KiB: the attention is fused with the online softmax (whole "
          "score rows do not fit), no head kept")
    check(any(0 < r[1] < 7 for r in rows),
          "some size keeps K and V of some but not all heads (%s)"
          % ", ".join("%s: %d" % (r[0], r[1]) for r in rows))
    for a, b in zip(rows, rows[1:]):
        check(b[1] <= a[1], "%s -> %s: heads kept do not increase (%d -> %d)"
              % (a[0], b[0], a[1], b[1]))
        check(b[3] >= a[3], "%s -> %s: the fused frame is not faster "
              "(%d -> %d cycles)" % (a[0], b[0], a[3], b[3]))
    check(rows[2][3] > rows[0][3],
          "2 MiB is slower than 32 MiB for the fused pipeline")
    check(rows[0][3] < rows[0][2], "32 MiB: fused beats unfused")
    # The matmul fusion passes fuse only when the cost model prices the
    # fused kernel at or below the unfused kernels it replaces, so the
    # fused frame is never slower than the unfused one at any size.
    for label, heads, unfused, fused, _ in rows:
        check(fused <= unfused, "%s: fused is not slower than unfused "
              "(%d vs %d cycles, %.3fx)" % (label, fused, unfused,
                                            fused / unfused))
    print("FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
