#!/usr/bin/env python3
"""tessera-smol command-line test: pack (plain and encrypted), inspect,
verify, cat, bench; and bad input: one-line errors, exit 1 for a bad or
damaged file, exit 2 for bad usage.

usage: cli_test.py TESSERA_SMOL
"""

import os
import stat
import subprocess
import sys
import tempfile

TOOL = sys.argv[1]


def run(*args, code=0):
    p = subprocess.run([TOOL, *args], capture_output=True, text=True)
    if p.returncode != code:
        sys.exit("FAIL: tessera-smol %s: exit %d, expected %d\nstdout: %s\n"
                 "stderr: %s" % (" ".join(args), p.returncode, code,
                                 p.stdout, p.stderr))
    if code != 0:
        lines = p.stderr.strip().splitlines()
        if len(lines) != 1 or "tessera-smol" not in lines[0]:
            sys.exit("FAIL: tessera-smol %s: expected a one-line error, got "
                     "%r" % (" ".join(args), p.stderr))
    return p


def expect(text, *parts):
    for part in parts:
        if part not in text:
            sys.exit("FAIL: %r not in output:\n%s" % (part, text))


with tempfile.TemporaryDirectory() as d:
    plain = os.path.join(d, "plain.smol")
    enc = os.path.join(d, "enc.smol")
    keys = os.path.join(d, "keys")

    run("pack", plain, "--records", "40", "--seed", "7", "--width", "16",
        "--height", "8", "--quiet")
    assert stat.S_IMODE(os.stat(plain).st_mode) == 0o444
    out = run("inspect", plain).stdout
    expect(out, "version     1.0", "speed", "cam_front", "intrinsics",
           "index: 40 entries", "open: 1 read(s)", "stride 8192")
    expect(run("verify", plain).stdout, "40 rows", ": ok")
    out = run("cat", plain, "--row", "3", "--columns", "timestamp_ns,speed",
              "--values", "2").stdout
    expect(out, "timestamp_ns", "1700000000083333334", "speed")
    out = run("cat", plain, "--timestamp", "1700000000000000000").stdout
    expect(out, "row 0 timestamp 1700000000000000000 (1 read")
    out = run("bench", plain, "--samples", "50", "--where",
              "speed > 25").stdout
    expect(out, "1.00 read(s) per random row (max 1)", "where speed > 25")

    small = os.path.join(d, "small.smol")
    run("pack", small, "--records", "5", "--width", "8", "--height", "4",
        "--row-alignment", "512", "--quiet")
    expect(run("inspect", small).stdout, "alignment   rows 512")
    expect(run("bench", small, "--samples", "5", "--where",
               "speed > 1000").stdout, "on a 512-byte prefix read")
    run("pack", os.path.join(d, "z.smol"), "--row-alignment", "3", code=2)

    run("keygen", keys, "--id", "fleet")
    run("keygen", keys, code=1)  # never overwrites a key file
    run("pack", enc, "--records", "10", "--width", "8", "--height", "4",
        "--encrypt", "cam_front,objects", "--key-file", keys, "--proprio",
        "--planar", "--quiet")
    out = run("inspect", enc).stdout
    expect(out, "encrypted", "proprioception", "key 'fleet'",
           "joint_torque", "perm201")
    expect(run("verify", enc, "--key-file", keys).stdout,
           "20 encrypted tensors authenticated: ok")
    # Without the key the rest of the file reads; encrypted columns fail.
    p = run("cat", enc, "--first", code=1)
    expect(p.stdout, "speed", "cam_front_wide", "ERROR", "not given")
    run("cat", enc, "--first", "--key-file", keys)

    # Damage: one flipped bit in a row, then verify names it.
    bad = os.path.join(d, "bad.smol")
    data = bytearray(open(plain, "rb").read())
    data[len(data) - 8192 + 3000] ^= 0x10  # in the last row
    open(bad, "wb").write(data)
    p = run("verify", bad, code=1)
    expect(p.stdout, "FAIL", "checksum mismatch", "1 problem(s)")
    # A truncated file is refused at open with its name.
    cut = os.path.join(d, "cut.smol")
    open(cut, "wb").write(data[:1000])
    p = run("inspect", cut, code=1)
    expect(p.stderr, cut, "truncated")

    # Bad usage and bad input.
    run(code=2)
    run("frobnicate", code=2)
    run("pack", code=2)
    run("pack", plain, "--records", "x", code=2)
    run("pack", os.path.join(d, "x.smol"), "--encrypt", "cam_front", code=2)
    run("pack", plain, code=1)  # exists: immutable
    run("pack", os.path.join(d, "y.smol"), "--encrypt", "nope",
        "--key-file", keys, code=1)
    run("inspect", os.path.join(d, "missing.smol"), code=1)
    run("inspect", keys, code=1)
    run("cat", plain, code=2)
    run("cat", plain, "--timestamp", "5", code=1)
    run("cat", plain, "--row", "40", code=1)
    run("cat", plain, "--row", "1", "--columns", "nope", code=1)
    run("bench", plain, "--where", "speed >> 3", code=1)
    run("bench", plain, "--where", "cam_front > 3", code=1)
    run("verify", plain, "--key-file", os.path.join(d, "nokeys"), code=1)

print("ok: tessera-smol pack, keygen, inspect, verify, cat, bench and errors")
