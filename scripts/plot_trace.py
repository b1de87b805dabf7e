#!/usr/bin/env python3
"""Renders a Tessera frame trace (tessera simulate --trace t.json) as a PNG:
one lane per track (layers, queues, units, DRAM bus) with a bar per slice,
and the DRAM bandwidth and transfers-in-flight counters below. For docs and
machines without a browser; ui.perfetto.dev shows the same trace
interactively (docs/simulator.md, "The trace").

  /usr/bin/python3 scripts/plot_trace.py trace.json out.png [--title TEXT]
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"dma.load": "#4c72b0", "dma.store": "#55a868", "mm.matmul": "#c44e52",
          "read": "#4c72b0", "write": "#55a868"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("png")
    ap.add_argument("--title", default="")
    args = ap.parse_args()
    with open(args.trace) as f:
        events = json.load(f)["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events
             if e.get("name") == "thread_name"}
    order = [7, 1, 2, 3, 5, 6, 4]  # layers, queues, units, DRAM bus
    lanes = [t for t in order if t in names]
    fig, (ax, bw_ax, fl_ax) = plt.subplots(
        3, 1, figsize=(14, 7), sharex=True,
        gridspec_kw={"height_ratios": [4, 1.3, 1]})
    for row, tid in enumerate(lanes):
        y = len(lanes) - 1 - row
        for k, e in enumerate(ev for ev in events
                              if ev["ph"] == "X" and ev["tid"] == tid):
            if tid == 7:
                color = "#8172b2" if k % 2 else "#ccb974"
            else:
                color = COLORS.get(e["name"], "#dd8452")
            ax.broken_barh([(e["ts"], e["dur"])], (y - 0.4, 0.8),
                           facecolors=color, linewidth=0)
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([names[t] for t in reversed(lanes)])
    ax.set_title(args.title or "Tessera frame trace")
    for name, axis, keys in (("DRAM bandwidth (GB/s)", bw_ax, ["bandwidth"]),
                             ("DMA transfers in flight", fl_ax,
                              ["load", "store"])):
        samples = [e for e in events if e["ph"] == "C" and e["name"] == name]
        for key in keys:
            axis.step([e["ts"] for e in samples],
                      [e["args"][key] for e in samples], where="post",
                      label=key, linewidth=0.8)
        axis.set_ylabel(name.replace(" (", "\n("), fontsize=8)
        if len(keys) > 1:
            axis.legend(loc="upper right", fontsize=8)
    fl_ax.set_xlabel("time (us at the chip clock)")
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)


if __name__ == "__main__":
    main()
