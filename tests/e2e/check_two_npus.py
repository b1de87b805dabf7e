#!/usr/bin/env python3
"""Two NPUs sharing one DRAM, end to end (docs/lowering.md, "Two NPUs").

  check_two_npus.py TESSERA SOURCE_DIR WORK_DIR

For each case, a model is compiled and simulated by `tessera run` (which
also runs the FP32 reference executor) on a chip with `npus = 1` and the
same chip with `npus = 2`, and the test checks that:

  * the two-NPU program really uses both NPUs (listing lines `n1`, the
    report's npus[] with two entries, shared-DRAM contention > 0, the
    trace's NPU 1 process),
  * its frame is faster than the one-NPU frame,
  * its outputs match the FP32 reference within the FP16 tolerance and are
    bit for bit the one-NPU outputs,
  * timing-only gives the same cycles, and a second run the same cycles
    and outputs.

Cases: the reference perception network (depth 2, generated here) on the
reference chip, with the default and the fused pipeline, and the bundled
encoder layer on a chip whose matrix unit
is slow enough (matrix_fp16_rate_divisor = 16) that its products are
compute-bound (on the reference chip the cost model keeps that small,
DRAM-bound layer on one NPU). Prints the figures; exits 1 on a failure.
"""
import json
import os
import sys

import numpy as np
from e2e_common import run_out as run


def config(src, path, fields):
    """Writes the config `src` with `fields` ((name, value) pairs) set."""
    with open(src) as f:
        lines = f.read().splitlines()
    for name, value in fields:
        at = [i for i, l in enumerate(lines) if l.split("=")[0].strip() == name]
        if at:
            lines[at[0]] = "%s = %s" % (name, value)
        else:
            lines.append("%s = %s" % (name, value))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def main():
    tessera, source, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    reference = os.path.join(source, "arch", "configs", "reference.cfg")
    python = sys.executable
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    perception = os.path.join(work, "perception")
    if not os.path.exists(os.path.join(perception, "perception.onnx")):
        run([python, os.path.join(source, "models", "perception",
                                  "make_model.py"), perception,
             "--depth", "2"])
    encoder = os.path.join(source, "models", "encoder_layer")
    perception_io = [
        "--input", "images=" + os.path.join(perception, "input_images.f32"),
        "--expected",
        "features=" + os.path.join(perception, "expected_features.f32")]
    cases = [
        ("perception depth 2, reference chip",
         os.path.join(perception, "perception.onnx"), perception_io, []),
        ("perception depth 2, reference chip, fused pipeline",
         os.path.join(perception, "perception.onnx"),
         perception_io + ["--pipeline", "fused"], []),
        ("encoder layer, matrix_fp16_rate_divisor = 16",
         os.path.join(encoder, "encoder_layer.onnx"),
         ["--input", "x=" + os.path.join(encoder, "input_x.f32"),
          "--expected", "y=" + os.path.join(encoder, "expected_y.f32")],
         [("matrix_fp16_rate_divisor", "16")]),
    ]
    for n, (name, onnx, io, extra) in enumerate(cases):
        print("== " + name)
        d = os.path.join(work, "case%d" % n)
        os.makedirs(d, exist_ok=True)
        one = config(reference, os.path.join(d, "one.cfg"), extra)
        two = config(reference, os.path.join(d, "two.cfg"),
                     extra + [("npus", "2")])
        reports, outputs = {}, {}
        for tag, cfg in (("one", one), ("two", two), ("again", two)):
            out = os.path.join(d, "out_" + tag)
            cmd = [tessera, "run", onnx, "--config", cfg, "--json",
                   "--output-dir", out] + io
            if tag == "two":
                cmd += ["--listing", os.path.join(d, "two.lst"),
                        "--trace", os.path.join(d, "two.trace.json")]
            reports[tag] = json.loads(run(cmd))
            outputs[tag] = {f: open(os.path.join(out, f), "rb").read()
                            for f in sorted(os.listdir(out))}
        inputs = [a for k, a in zip(["x"] + io, io) if k == "--input"]
        pipeline = io[io.index("--pipeline"):][:2] if "--pipeline" in io \
            else []
        timing = json.loads(run([tessera, "run", onnx, "--config", two,
                                 "--json", "--timing-only"] + pipeline +
                                sum([["--input", a] for a in inputs], [])))
        r1, r2 = reports["one"], reports["two"]
        c1, c2 = r1["frame"]["cycles"], r2["frame"]["cycles"]
        print("   one NPU %d cycles, two NPUs %d cycles (%.1f%% faster)" %
              (c1, c2, 100.0 * (c1 - c2) / c1))
        with open(os.path.join(d, "two.lst")) as f:
            n1 = sum(1 for line in f if " n1 " in line)
        check(n1 > 0, "%d instructions on NPU 1 in the listing" % n1)
        check("npus" not in r1 and len(r2.get("npus", [])) == 2,
              "the report shows both NPUs (and one NPU's shows none)")
        wait = r2["dram"].get("wait_other_npu_cycles", 0)
        check(wait > 0, "shared-DRAM contention in the report: %d cycles "
              "waited for the other NPU" % wait)
        with open(os.path.join(d, "two.trace.json")) as f:
            trace = f.read()
        events = json.loads(trace)["traceEvents"]
        npu1 = [e for e in events if e.get("pid") == 2]
        check(any(e.get("ph") == "M" and e["args"].get("name", "").startswith(
            "NPU 1 (") for e in npu1) and any(e.get("ph") == "X"
                                              for e in npu1),
              "the trace has NPU 1's process with its instructions (%d "
              "events)" % len(npu1))
        check(c2 < c1, "two NPUs faster than one")
        for tag in ("one", "two"):
            acc = reports[tag]["accuracy"]
            check(reports[tag]["accuracy_passed"] and any(
                "FP32 reference" in a["reference"] for a in acc),
                "%s: outputs within the tolerance of the FP32 reference "
                "and the saved outputs (%s)" % (tag, ", ".join(
                    "max %.3g vs tolerance %.3g" % (a["max_abs_error"],
                                                   a["tolerance"])
                    for a in acc)))
        # The parts of a split product are smaller tiles, which the
        # functional model's FP32 GEMM (OpenBLAS) may sum in another order:
        # each element within 2 FP16 units in the last place of one NPU's
        # (units at the element's magnitude, at least the output's RMS).
        same = outputs["two"].keys() == outputs["one"].keys() and outputs["two"]
        worst = 0.0
        for f in outputs["one"]:
            a = np.frombuffer(outputs["one"][f], "<f4")
            b = np.frombuffer(outputs["two"].get(f, b""), "<f4")
            if a.shape != b.shape:
                same = False
                continue
            # FP16 units at each element's magnitude, or at the output's
            # RMS for elements smaller than it (near zero the rounding of
            # the intermediates, not the element's own, sets the error).
            rms = float(np.sqrt(np.mean(a.astype(np.float64) ** 2)))
            mag = np.maximum(np.maximum(np.abs(a), np.abs(b)), rms)
            ulp = np.spacing(mag.astype(np.float16)).astype(np.float64)
            ulps = np.abs(a.astype(np.float64) - b) / ulp
            worst = max(worst, float(ulps.max()) if ulps.size else 0.0)
        check(same and worst <= 2,
              "two NPUs' outputs equal the one NPU's within 2 FP16 ulps "
              "(worst %.0f ulps%s)" % (worst, ", bit for bit" if
                                        outputs["two"] == outputs["one"]
                                        else ""))
        check(timing["frame"]["cycles"] == c2,
              "timing-only cycles equal functional (%d)" %
              timing["frame"]["cycles"])
        # The values do not depend on the timing: the same program with the
        # cross-NPU token at 0 and at 5000 cycles computes the same bytes
        # (a missing dependency would race).
        prog = os.path.join(d, "two.tsrp")
        run([tessera, "compile", onnx, "--config", two, "-o", prog] +
            pipeline)
        same_bytes = True
        for sync in (0, 5000):
            cfg = config(two, os.path.join(d, "sync%d.cfg" % sync),
                         [("npu_sync_cycles", str(sync))])
            out = os.path.join(d, "out_sync%d" % sync)
            run([tessera, "simulate", prog, "--config", cfg,
                 "--output-dir", out] +
                sum([["--input", a] for a in inputs], []))
            same_bytes &= {f: open(os.path.join(out, f), "rb").read()
                           for f in sorted(os.listdir(out))} == outputs["two"]
        check(same_bytes, "the same outputs with npu_sync_cycles = 0 and "
              "5000 (no race between the NPUs)")
        check(reports["again"]["frame"]["cycles"] == c2 and
              outputs["again"] == outputs["two"],
              "a second run: the same cycles and outputs")
    if failures:
        print("FAIL: %d checks failed" % len(failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
