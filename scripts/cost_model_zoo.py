#!/usr/bin/env python3
"""The cost model against the simulator on every zoo model and pipeline.

For each zoo model (models/README.md; the generated ones made as
scripts/zoo.py makes them) and each pipeline of --pipelines (default
unfused,standard,fused), `tessera run --timing-only --json --pipeline P` compiles it
for the reference chip, records the cost model's plan of every layer
(docs/cost-model.md), simulates one frame and reports both frame latencies.
A (model, pipeline) PASSES when the model's frame is within --tolerance (default 10%)
of the simulated frame; a model whose layers are not all described (no
cost_model in the report) FAILS.

  /usr/bin/python3 scripts/cost_model_zoo.py [--tessera build/bin/tessera]
      [--work build/zoo] [--models vit,bert] [--pipelines unfused,standard,fused]
      [--perception-depth 2] [--layers MODEL] [--markdown]

--layers MODEL also prints MODEL's per-layer table (each pipeline), how many layers
are within the tolerance and the worst layer: simulated attributed
cycles, the model's, and the error. Exit status 1 when a model fails.
"""
import argparse
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zoo  # noqa: E402


def measure(model, args, pipeline):
    if model.generate:
        zoo.generate(model, args.work, args.python, args.timeout)
    onnx = os.path.join(zoo.model_dir(model, args.work), model.onnx)
    out, secs = zoo.run([args.tessera, "run", onnx, "--timing-only", "--json",
                         "--pipeline", pipeline], "run", args.timeout)
    report = json.loads(out)
    row = {"model": model.name, "pipeline": pipeline, "seconds": secs,
           "sim": report["frame"]["cycles"], "layers": report["layers"]}
    cm = report.get("cost_model")
    row["model_cycles"] = cm["cycles"] if cm else None
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tessera",
                    default=os.path.join(zoo.ROOT, "build", "bin", "tessera"))
    ap.add_argument("--work", default=os.path.join(zoo.ROOT, "build", "zoo"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--models", default="")
    ap.add_argument("--pipelines", default="unfused,standard,fused")
    ap.add_argument("--perception-depth", type=int, default=2)
    ap.add_argument("--perception-arg", action="append", default=[],
                    dest="perception_args")
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--layers", default="",
                    help="print this model's per-layer comparison")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    models = zoo.zoo(args)
    wanted = [m for m in args.models.split(",") if m]
    if wanted:
        models = [m for m in models if m.name in wanted]
    failed = False
    rows = []
    pipelines = [p for p in args.pipelines.split(",") if p]
    for m, pipeline in [(m, p) for m in models for p in pipelines]:
        start = time.time()
        try:
            row = measure(m, args, pipeline)
        except zoo.Stage as s:
            print("%s (%s): FAIL at %s: %s" % (m.name, pipeline, s.args[0],
                                              s.args[1]))
            failed = True
            continue
        mc = row["model_cycles"]
        if mc is None:
            row["status"], row["error"] = "FAIL (not every layer has a plan)", None
        else:
            row["error"] = (mc - row["sim"]) / row["sim"]
            row["status"] = "PASS" if abs(row["error"]) <= args.tolerance \
                else "FAIL"
        failed |= row["status"] != "PASS"
        rows.append(row)
        print("%s (%s): %s in %.1f s" % (m.name, pipeline, row["status"],
                                         time.time() - start), file=sys.stderr)
        if args.layers == m.name:
            print("%s, %s pipeline:" % (m.name, pipeline))
            print("%-48s %12s %12s %8s" % ("layer", "simulated", "model",
                                          "error"))
            within = 0
            worst = None  # (|error|, name, simulated, model)
            for layer in row["layers"]:
                sim = layer["cycles"]
                mod = layer.get("model_cycles")
                err = (mod - sim) / sim if mod is not None and sim else None
                within += err is not None and abs(err) <= args.tolerance
                if err is not None and (worst is None or abs(err) > worst[0]):
                    worst = (abs(err), layer["name"], sim, mod)
                print("%-48s %12d %12s %8s" % (
                    layer["name"][:48], sim, "-" if mod is None else mod,
                    "-" if err is None else "%+.1f%%" % (100 * err)))
            print("%s (%s): %d of %d layers within %.0f%%" % (
                m.name, pipeline, within, len(row["layers"]), 100 * args.tolerance))
            if worst:
                print("%s (%s): worst layer %s: simulated %d, model %d "
                      "(%+.1f%%)" % (m.name, pipeline, worst[1], worst[2],
                                     worst[3],
                                     100 * (worst[3] - worst[2]) / worst[2]))
            # The network's own layers (a transformer layer's kernels:
            # report rows under ".../layers.N/" or ".../blocks.N/") summed.
            blocks = {}
            for layer in row["layers"]:
                g = re.match(r"^(.*?(?:layers|blocks)\.\d+)/", layer["name"])
                if g and layer.get("model_cycles") is not None:
                    b = blocks.setdefault(g.group(1), [0, 0, 0])
                    b[0] += layer["cycles"]
                    b[1] += layer["model_cycles"]
                    b[2] += 1
            if blocks:
                print("%-48s %12s %12s %8s" % ("network layer (kernels)",
                                              "simulated", "model", "error"))
                errs = []
                for name, (sim, mod, n) in blocks.items():
                    err = (mod - sim) / sim
                    errs.append((abs(err), name, sim, mod))
                    print("%-48s %12d %12d %+7.2f%%" % (
                        ("%s (%d)" % (name, n))[:48], sim, mod, 100 * err))
                w = max(errs, key=lambda e: e[0])  # the first of the worst
                print("%s (%s): %d of %d network layers within %.0f%%; "
                      "worst %s: simulated %d, model %d (%+.2f%%)" % (
                          m.name, pipeline,
                          sum(e[0] <= args.tolerance for e in errs),
                          len(errs), 100 * args.tolerance, w[1], w[2], w[3],
                          100 * (w[3] - w[2]) / w[2]))
    sep = " | " if args.markdown else "  "
    head = ["model", "pipeline", "simulated cycles", "model cycles", "error",
            "status"]
    lines = [sep.join(head)]
    if args.markdown:
        lines = ["| " + lines[0] + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["model"], r["pipeline"], str(r["sim"]),
                 "-" if r["model_cycles"] is None else str(r["model_cycles"]),
                 "-" if r["error"] is None else "%+.2f%%" % (100 * r["error"]),
                 r["status"]]
        line = sep.join(cells)
        lines.append("| " + line + " |" if args.markdown else line)
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
