#!/usr/bin/env python3
"""Smoke test of tessera-storage-bench on a small log (not a benchmark).

Runs the bench with --json on N records and checks that the table has every
format, that .smol reads exactly one I/O per uniformly random sample, that the
numbers are sane, that leaving .smol out says the ratios need it, and that bad
input gives a one-line error and exit code 1.
"""
import json
import subprocess
import sys
import tempfile

EXPECTED = ["smol", "csv", "jsonl", "rowbin", "hdf5", "tfrecord", "tar",
            "mp4-gop1", "mp4-gop30", "mp4-gop250"]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    bench, records = sys.argv[1], sys.argv[2]
    expected = EXPECTED
    with tempfile.TemporaryDirectory(prefix="tessera-bench-smoke-") as d:
        out = subprocess.run(
            [bench, "--records", records, "--samples", "40", "--dir", d,
             "--json", "--quiet"], capture_output=True, text=True)
        if out.returncode != 0:
            fail("bench exited %d: %s" % (out.returncode, out.stderr))
        result = json.loads(out.stdout)
        names = [f["name"] for f in result["formats"]]
        if names != expected:
            fail("formats %s, expected %s" % (names, expected))
        if result["records"] != int(records):
            fail("records %s" % result["records"])
        by = {f["name"]: f for f in result["formats"]}
        smol = by["smol"]
        if smol["ios_per_sample"] != 1 or smol["max_ios_per_sample"] != 1:
            fail(".smol needs %s I/Os per random sample (max %s), expected 1"
                 % (smol["ios_per_sample"], smol["max_ios_per_sample"]))
        for f in result["formats"]:
            for key in ("file_bytes", "open_ios", "bytes_per_sample",
                        "ios_per_sample"):
                if not f[key] > 0:
                    fail("%s: %s = %s" % (f["name"], key, f[key]))
            for dev in ("nvme", "hdd", "object-store"):
                dv = f["devices"][dev]
                if not dv["samples_per_second"] > 0:
                    fail("%s on %s: no throughput" % (f["name"], dev))
                if not 0 <= dv["chip_idle_fraction"] <= 1:
                    fail("%s on %s: idle fraction %s" % (
                        f["name"], dev, dv["chip_idle_fraction"]))
            # The NVMe model is faster than the HDD model for every format.
            if not (f["devices"]["nvme"]["samples_per_second"] >
                    f["devices"]["hdd"]["samples_per_second"]):
                fail("%s: NVMe not faster than HDD" % f["name"])
        # The text table prints every row as well.
        table = subprocess.run([bench, "--records", records, "--samples",
                                "40", "--dir", d, "--reuse", "--quiet"],
                               capture_output=True, text=True)
        if table.returncode != 0:
            fail("table run exited %d: %s" % (table.returncode, table.stderr))
        for name in expected:
            if not any(line.startswith(name + " ") for line in
                       table.stdout.splitlines()):
                fail("table has no row for %s" % name)
        if "claim" not in table.stdout:
            fail("table has no comparison against the source's claims")
        without = subprocess.run([bench, "--records", records, "--samples",
                                  "40", "--dir", d, "--reuse", "--quiet",
                                  "--formats", "rowbin"],
                                 capture_output=True, text=True)
        if "No .smol row" not in without.stdout:
            fail("a table without .smol does not say the ratios need it")
    bad = subprocess.run([bench, "--records", "0"], capture_output=True,
                         text=True)
    if bad.returncode != 1 or "--records: expected an integer >= 1" not in \
            bad.stderr or bad.stderr.count("\n") != 1:
        fail("bad --records: exit %d, stderr %r" % (bad.returncode,
                                                     bad.stderr))
    bad = subprocess.run([bench, "--formats", "parquet"], capture_output=True,
                         text=True)
    if bad.returncode != 1 or "unknown format 'parquet'" not in bad.stderr:
        fail("bad --formats: exit %d, stderr %r" % (bad.returncode,
                                                    bad.stderr))
    print("ok: %d formats, .smol 1 I/O per sample" % len(expected))


if __name__ == "__main__":
    main()
