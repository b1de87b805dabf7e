#!/usr/bin/python3
"""Plots and the HTML report of a `tessera sweep` results directory.

Usage: /usr/bin/python3 scripts/sweep_plots.py DIR [--point KEY]

Reads DIR/results.json (one row per point, written by `tessera sweep`) and
writes, with matplotlib (Debian's python3-matplotlib):
  DIR/plots/latency_vs_<axis>.svg  frame latency against each swept numeric
                                   axis, every point, the best per value
                                   joined, and the frame budget line
  DIR/plots/pareto_area.svg        frame latency against the area proxy
                                   (matrix_rows * matrix_cols * sram_bytes),
                                   with the Pareto front
  DIR/plots/pareto_energy.svg      the same against energy, when the report
                                   has an energy figure
  DIR/plots/layers.svg             where the time goes for one point (the
                                   fastest, or --point KEY): the frame as a
                                   stack of its layers, grouped by op kind
  DIR/report.html                  all of them inline with a sortable table;
                                   one self-contained file (no network)
docs/sweep.md describes the figures.
"""

import argparse
import html
import json
import math
import os
import re
import sys

LATENCY = "frame_ms"
BUDGET = "budget_ms"
AREA = "area_proxy_mac_sram_bytes"


def pareto_front(points):
    """Indices of the points no other point beats in both coordinates.

    `points` is a list of (x, y) pairs, both to be minimized. A point is on
    the front when no other point has x' <= x and y' <= y with one of them
    strictly smaller. Duplicates of a front point are all on the front.
    Returned sorted by x, then y.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    front = []
    best_y = math.inf
    i = 0
    while i < len(order):
        # Points with the same x: only those with the smallest y can be on
        # the front, and only if that y beats every smaller x.
        j = i
        x = points[order[i]][0]
        while j < len(order) and points[order[j]][0] == x:
            j += 1
        group = order[i:j]
        y_min = min(points[k][1] for k in group)
        if y_min < best_y:
            front.extend(k for k in group if points[k][1] == y_min)
            best_y = y_min
        i = j
    return front


def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def setup_matplotlib():
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "tessera"
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["font.size"] = 10
    import matplotlib.pyplot as plt
    return plt


def save(fig, path):
    fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")


def log_latency(ax, ys, budget):
    """Log latency axis when the points and the budget line span >= 20x, so
    that both stay readable (a small network sits far below the budget)."""
    top = max(max(ys), budget)
    if min(ys) > 0 and top / min(ys) >= 20:
        ax.set_yscale("log")


def plot_latency_vs(plt, rows, axis, budget, path):
    xs = [r[axis] for r in rows]
    ys = [r[LATENCY] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.scatter(xs, ys, s=14, alpha=0.5, color="#4878a8", label="points")
    best = {}
    for x, y in zip(xs, ys):
        best[x] = min(best.get(x, math.inf), y)
    bx = sorted(best)
    ax.plot(bx, [best[x] for x in bx], "-o", color="#1f3f66", ms=4,
            label="best at each value")
    ax.axhline(budget, color="#c03030", ls="--", lw=1.2,
               label="budget %.2f ms" % budget)
    positive = [x for x in xs if x > 0]
    if positive and min(positive) > 0 and max(positive) / min(positive) >= 16:
        ax.set_xscale("log", base=2)
    log_latency(ax, ys, budget)
    ax.set_xlabel(axis)
    ax.set_ylabel("frame latency (ms)")
    ax.set_title("frame latency vs %s" % axis)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path)
    plt.close(fig)


def plot_pareto(plt, rows, xkey, xlabel, budget, path):
    pts = [(r[xkey], r[LATENCY]) for r in rows]
    front = pareto_front(pts)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=14, alpha=0.4,
               color="#4878a8", label="points")
    fx = [pts[i][0] for i in front]
    fy = [pts[i][1] for i in front]
    ax.step(fx, fy, where="post", color="#d07020", lw=1.5)
    ax.scatter(fx, fy, s=28, color="#d07020",
               label="Pareto front (%d points)" % len(front))
    ax.axhline(budget, color="#c03030", ls="--", lw=1.2,
               label="budget %.2f ms" % budget)
    xs = [p[0] for p in pts if p[0] > 0]
    if xs and max(xs) / min(xs) >= 16:
        ax.set_xscale("log")
    log_latency(ax, [p[1] for p in pts], budget)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("frame latency (ms)")
    ax.set_title("latency vs %s: Pareto front" % xlabel.split(" (")[0])
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path)
    plt.close(fig)
    return front


def op_kind(layer):
    """`/mlp/mlp.0/MatMul_3` -> `MatMul`: the ONNX op of a layer name."""
    last = layer.rstrip("/").split("/")[-1]
    return re.sub(r"_\d+$", "", last) or layer


def plot_layers(plt, point, label, path):
    layers = point.get("layers", [])
    clock_ms = None
    total_cycles = sum(l["cycles"] for l in layers)
    if layers and total_cycles:
        clock_ms = sum(l["ms"] for l in layers) / total_cycles
    kinds = []
    for l in layers:
        k = op_kind(l["name"])
        if k not in kinds:
            kinds.append(k)
    cmap = plt.get_cmap("tab20")
    color = {k: cmap(i % 20) for i, k in enumerate(kinds)}
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 4.2),
                                  gridspec_kw={"height_ratios": [1, 1.6]})
    left = 0.0
    for l in layers:
        ax.barh([0], [l["ms"]], left=left, color=color[op_kind(l["name"])],
                edgecolor="white", linewidth=0.3)
        left += l["ms"]
    ax.set_yticks([])
    ax.set_xlim(0, left if left > 0 else 1)
    ax.set_xlabel("frame latency (ms): each segment one layer, in program order")
    ax.set_title("where the time goes: %s" % label, fontsize=9)
    # Per op kind totals.
    totals = {k: 0.0 for k in kinds}
    for l in layers:
        totals[op_kind(l["name"])] += l["ms"]
    order = sorted(kinds, key=lambda k: -totals[k])
    ax2.barh(range(len(order)), [totals[k] for k in order],
             color=[color[k] for k in order])
    ax2.set_yticks(range(len(order)))
    ax2.set_yticklabels(order, fontsize=8)
    ax2.invert_yaxis()
    for i, k in enumerate(order):
        share = totals[k] / left if left else 0
        ax2.text(totals[k], i, " %.1f%%" % (100 * share), va="center",
                 fontsize=7)
    ax2.set_xlabel("ms per op kind")
    ax2.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
    return clock_ms


SORT_JS = """
function sortTable(th) {
  const table = th.closest('table');
  const col = Array.from(th.parentNode.children).indexOf(th);
  const asc = th.dataset.order !== 'asc';
  th.parentNode.querySelectorAll('th').forEach(h => delete h.dataset.order);
  th.dataset.order = asc ? 'asc' : 'desc';
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const key = r => r.cells[col].dataset.v ?? r.cells[col].textContent;
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    const nx = parseFloat(x), ny = parseFloat(y);
    const c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
    return asc ? c : -c;
  });
  rows.forEach(r => body.appendChild(r));
}
"""

CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
.summary { color: #444; margin-bottom: 1em; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; }
.plots figure { margin: 0; border: 1px solid #ddd; padding: 0.4em; }
.plots svg { max-width: 620px; height: auto; }
figure.wide svg { max-width: 900px; }
table { border-collapse: collapse; font-size: 12px; margin-top: 1em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #eef; cursor: pointer; position: sticky; top: 0; }
th[data-order=asc]::after { content: " \\25B2"; }
th[data-order=desc]::after { content: " \\25BC"; }
tr.fail td { background: #fde; }
tr.over td.lat { color: #b00; }
"""


def inline_svg(path):
    with open(path) as f:
        text = f.read()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def write_html(out_dir, doc, rows, plots, best_label):
    points = doc["points"]
    axes = doc.get("axes", [])
    ok = [r for r in points if r.get("status") == "ok"]
    budget = ok[0].get(BUDGET) if ok else None
    within = [r for r in ok if budget is not None and r[LATENCY] <= budget]
    columns = list(points[0].keys()) if points else []
    # Swept axes and the main figures first, then the rest.
    first = ["point", "status"] + axes + [LATENCY, "frame_cycles", BUDGET,
                                          AREA]
    columns = [c for c in first if c in columns] + \
        [c for c in columns if c not in first]
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             "<title>Tessera sweep report</title><style>%s</style>" % CSS,
             "<script>%s</script></head><body>" % SORT_JS,
             "<h1>Tessera sweep: %s</h1>" % html.escape(doc.get("sweep", "")),
             "<div class='summary'>%d points (%d ok, %d failed); swept: %s. "
             % (len(points), len(ok), len(points) - len(ok),
                html.escape(", ".join(axes)) or "nothing")]
    if ok:
        best = min(ok, key=lambda r: r[LATENCY])
        parts.append("Fastest: point %d, %.6f ms. " % (best["point"],
                                                       best[LATENCY]))
        if budget is not None:
            parts.append("%d of %d points meet the %.2f ms budget."
                         % (len(within), len(ok), budget))
    parts.append("</div><div class='plots'>")
    for title, path, wide in plots:
        parts.append("<figure%s>%s<figcaption>%s</figcaption></figure>"
                     % (" class='wide'" if wide else "", inline_svg(path),
                        html.escape(title)))
    parts.append("</div><h2>All points</h2>"
                 "<p>Click a column header to sort.</p><table><thead><tr>")
    parts.extend("<th onclick='sortTable(this)'>%s</th>" % html.escape(c)
                 for c in columns)
    parts.append("</tr></thead><tbody>")
    for r in points:
        cls = []
        if r.get("status") != "ok":
            cls.append("fail")
        elif budget is not None and r.get(LATENCY, 0) > budget:
            cls.append("over")
        parts.append("<tr class='%s'>" % " ".join(cls))
        for c in columns:
            v = r.get(c)
            text = "" if v is None else (json.dumps(v) if isinstance(v, bool)
                                         else str(v))
            attr = " class='lat'" if c == LATENCY else ""
            parts.append("<td%s>%s</td>" % (attr, html.escape(text)))
        parts.append("</tr>")
    parts.append("</tbody></table></body></html>\n")
    path = os.path.join(out_dir, "report.html")
    with open(path, "w") as f:
        f.write("".join(parts))
    return path


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--point", help="key of the point for the layer plot "
                    "(default: the fastest)")
    args = ap.parse_args(argv)
    with open(os.path.join(args.dir, "results.json")) as f:
        doc = json.load(f)
    rows = [r for r in doc["points"] if r.get("status") == "ok"
            and number(r.get(LATENCY))]
    plot_dir = os.path.join(args.dir, "plots")
    os.makedirs(plot_dir, exist_ok=True)
    plt = setup_matplotlib()
    plots = []
    if rows:
        budget = rows[0].get(BUDGET, 27.78)
        for axis in doc.get("axes", []):
            values = {r.get(axis) for r in rows}
            if len(values) > 1 and all(number(v) for v in values):
                path = os.path.join(plot_dir, "latency_vs_%s.svg" % axis)
                plot_latency_vs(plt, rows, axis, budget, path)
                plots.append(("frame latency vs %s" % axis, path, False))
        path = os.path.join(plot_dir, "pareto_area.svg")
        plot_pareto(plt, rows, AREA,
                    "area proxy (matrix_rows x matrix_cols x sram_bytes)",
                    budget, path)
        plots.append(("Pareto front: latency vs area proxy", path, False))
        # The frame's energy figure (not the per-operation energy inputs).
        energy = [c for c in rows[0] if c.startswith("energy")
                  and c.endswith("joules") and number(rows[0][c])]
        energy = ["energy_joules"] if "energy_joules" in energy else energy
        if energy:
            path = os.path.join(plot_dir, "pareto_energy.svg")
            plot_pareto(plt, rows, energy[0], "frame energy (%s)" % energy[0],
                        budget, path)
            plots.append(("Pareto front: latency vs %s" % energy[0], path,
                          False))
        if args.point:
            chosen = [r for r in rows if r["key"] == args.point]
            if not chosen:
                sys.exit("sweep_plots.py: no ok point with key %s" % args.point)
            chosen = chosen[0]
        else:
            chosen = min(rows, key=lambda r: r[LATENCY])
        with open(os.path.join(args.dir, "points", chosen["key"] + ".json")) as f:
            point = json.load(f)
        settings = ", ".join("%s=%s" % (a, chosen.get(a))
                             for a in doc.get("axes", []))
        label = "point %d (%s): %.6f ms" % (chosen["point"], settings,
                                            chosen[LATENCY])
        path = os.path.join(plot_dir, "layers.svg")
        plot_layers(plt, point, label, path)
        plots.append(("per-layer time of point %d" % chosen["point"], path,
                      True))
        best_label = label
    else:
        best_label = ""
    report = write_html(args.dir, doc, rows, plots, best_label)
    print("sweep: wrote %d plots in %s and %s" % (len(plots), plot_dir, report))


if __name__ == "__main__":
    main(sys.argv[1:])
