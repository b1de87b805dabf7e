#!/usr/bin/env python3
"""The report's fusion section, exactly (docs/fusion.md, "In the report").

  check_fusion_report.py TESSERA MODELS_DIR

The bundled encoder layer (128 tokens, width 256, 4 heads, MLP 1024, batch
1; a pre-norm block with separate q, k, v projections, packed by
tsr-pack-qkv) through `tessera run
--timing-only` on the default (fused) pipeline. Every fused kernel's record
is computed here by hand from those shapes: each intermediate the unfused
pipeline would write to DRAM (one store) and read back (one load per
consuming kernel), FP16 (2 bytes per element). The test checks, per report
row, `applied`, the heads and the counts and bytes in the JSON; the frame
totals; that the totals equal what `tessera compare` measures on the two
programs (unfused minus fused DRAM round-trip tensors and their bytes); the
text table; and that `--pipeline unfused` has no fused layer. Exits 1 on a
failure.
"""
import json
import os
import sys
from e2e_common import run_out as run

S, D, H, F = 128, 256, 4, 1024  # tokens, width, heads, MLP hidden
E = 2                           # bytes per FP16 element
SD = S * D * E                  # one [S, D] tensor
SS = H * S * S * E              # scores or probabilities [H, S, S]
SF = S * F * E                  # one [S, F] tensor


def rec(applied, trips, loads, store, load, heads=(0, 0)):
    return {"applied": applied, "heads_fused": heads[0], "heads": heads[1],
            "round_trips_removed": trips, "loads_removed": loads,
            "store_bytes_removed": store, "load_bytes_removed": load,
            "dram_bytes_removed": store + load}


EXPECTED = {
    # tsr-pack-qkv packs the separate q, k and v projections into one
    # product [S, 3D]: unfused, ln1 out (one tensor, stored once, read by
    # the three products) and the three products q, k, v (each read by its
    # bias add): 4 round trips, 3 + 3 loads.
    "/attn/q/Add": rec(["packed(3)", "layernorm", "bias"], 4, 6, 4 * SD,
                       6 * SD),
    # tsr-expand-attention's intermediates: q heads, scaled q, k heads
    # transposed, v heads, context ([S, D] each), scores and probabilities
    # ([H, S, S] each); each read by one kernel. Then q, k and v: three
    # tensors unfused (each stored and read by its head split), one packed
    # tensor of the same bytes here, still stored once and read once in
    # place: 2 round trips and 2 loads removed, no bytes. K and V of every
    # head stay in SRAM from the packed projection (tsr-keep-kv): H of H.
    "/attn/Softmax": rec(["attention"], 7 + 2, 7 + 2, 5 * SD + 2 * SS,
                         5 * SD + 2 * SS, (H, H)),
    # Out-projection product and the biased product.
    "/Add": rec(["bias", "residual"], 2, 2, 2 * SD, 2 * SD),
    # ln2 out, the MLP1 product and the biased product.
    "/mlp/mlp.1/Mul_1": rec(["layernorm", "bias", "gelu"], 3, 3,
                            SD + 2 * SF, SD + 2 * SF),
    # MLP2 product and the biased product.
    "/Add_1": rec(["bias", "residual"], 2, 2, 2 * SD, 2 * SD),
}

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    tessera, models = sys.argv[1:3]
    model = os.path.join(models, "encoder_layer", "encoder_layer.onnx")
    report = json.loads(run([tessera, "run", model, "--timing-only",
                             "--json"]))
    check(report.get("pipeline") == "fused", "the default pipeline is fused")
    layers = {l["name"]: l for l in report["layers"]}
    for name, want in EXPECTED.items():
        got = layers.get(name, {}).get("fusion")
        check(got == want, "%s: %s" % (name, json.dumps(got)))
    fused = [l["name"] for l in report["layers"] if l["fusion"]["applied"]]
    check(sorted(fused) == sorted(EXPECTED),
          "exactly these layers are fused: %s" % fused)

    total = report.get("fusion", {})
    keys = ["round_trips_removed", "loads_removed", "store_bytes_removed",
            "load_bytes_removed", "dram_bytes_removed"]
    want = {k: sum(r[k] for r in EXPECTED.values()) for k in keys}
    want.update({"fused_layers": len(EXPECTED), "attention_layers": 1,
                 "heads_fused": H, "heads": H})
    check(total == {k: want[k] for k in total} and set(total) == set(want),
          "frame totals %s" % json.dumps(total))
    print("frame: %d round trips (%d loads), %d bytes removed (%d stored, "
          "%d loaded)" % (total["round_trips_removed"],
                          total["loads_removed"],
                          total["dram_bytes_removed"],
                          total["store_bytes_removed"],
                          total["load_bytes_removed"]))

    # Measured on the programs themselves: the DRAM round-trip (scratch)
    # tensors of the unfused program that the fused one does not have.
    cmp_ = json.loads(run([tessera, "compare", model, "--pipelines",
                           "unfused,fused", "--json"]))
    by = {p["pipeline"]: p for p in cmp_["pipelines"]}
    trips = by["unfused"]["dram_round_trips"] - by["fused"]["dram_round_trips"]
    stored = by["unfused"]["round_trip_bytes"] - by["fused"]["round_trip_bytes"]
    check(total["round_trips_removed"] == trips,
          "round trips removed = unfused - fused scratch tensors (%d)" % trips)
    check(total["store_bytes_removed"] == stored,
          "store bytes removed = unfused - fused scratch bytes (%d)" % stored)

    text = run([tessera, "run", model, "--timing-only"])
    check("  pipeline          fused (docs/fusion.md)" in text,
          "the text report names the pipeline")
    section = text.split("  fusion (against the unfused pipeline", 1)
    check(len(section) == 2, "the text report has the fusion section")
    if len(section) == 2:
        lines = section[1].splitlines()
        row = next((l for l in lines if l.lstrip().startswith("/attn/Softmax")),
                   "")
        check(row.split()[1:] == ["attention", "4/4", "9", "9",
                                  str(5 * SD + 2 * SS), str(5 * SD + 2 * SS),
                                  str(2 * (5 * SD + 2 * SS))],
              "text row: %s" % row.strip())
        frame = next((l for l in lines if l.lstrip().startswith("frame ")), "")
        check(frame.split()[-5:] == [str(total[k]) for k in keys],
              "text frame row: %s" % frame.strip())

    unfused = json.loads(run([tessera, "run", model, "--timing-only",
                              "--json", "--pipeline", "unfused"]))
    check(unfused.get("pipeline") == "unfused" and
          unfused["fusion"]["fused_layers"] == 0 and
          unfused["fusion"]["round_trips_removed"] == 0 and
          all(l["fusion"]["applied"] == [] for l in unfused["layers"]),
          "--pipeline unfused: no layer fused, nothing removed")
    print("FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
