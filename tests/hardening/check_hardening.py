#!/usr/bin/env python3
"""Issue 12's bad-input corpus: the tools as a hostile or careless user drives
them. Each case is one ctest (`harden.<case>`):

  bounded_reads    every input path is read with a bound: /dev/zero, a FIFO
                   that never ends, an oversized file, a directory
  program_limits   size fields of a .tsrp are checked (no 8 GB allocation,
                   no std::bad_alloc text), plus a corpus of mutated programs
  mlir_nesting     `module {` x 5000 is a clear error, not a stack overflow
  codegen_limits   huge shapes fail fast with the op's name and the figures
  output_devices   outputs never replace a device node (nodes made by mknod
                   in a temporary directory)
  write_failures   every write is checked (a size-limited tmpfs mounted by
                   the test, and a /dev/full node)
  options          options are never silently ignored; usage errors exit 2
  smol             verify says what it could not verify; stale temporaries
                   are cleaned; the fuzz driver's --write-seeds is clean
  small_cases      no-output models, FP16 overflow, duplicate node names

Device-node and file-system cases need root (mknod, mount); where the
machine cannot make them they print "SKIP: <why>" and pass.

usage: check_hardening.py CASE BIN_DIR SOURCE_DIR WORK_DIR
"""
import errno
import fcntl
import os
import random
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import threading
import time

CASE, BIN, SRC, WORK = sys.argv[1:5]
MODEL = os.path.join(SRC, "models", "encoder_layer", "encoder_layer.onnx")
X_F32 = os.path.join(SRC, "models", "encoder_layer", "input_x.f32")
failures = []


def tool(name):
    return os.path.join(BIN, name)


def limit_memory():
    # 3 GiB of address space: the tools need far less; before the bounded
    # reads they grew to several GB on /dev/zero (and then said
    # "std::bad_alloc"). Not under the sanitizer build (scripts/sanitize.sh),
    # whose shadow memory alone is larger.
    if not os.environ.get("TESSERA_SANITIZER_BUILD"):
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def run(args, code=None, timeout=120, stdout=subprocess.PIPE, contains=(),
        absent=(), memory_limit=True, **kw):
    """Runs a tool; checks its exit status and its stderr (+stdout) text."""
    start = time.time()
    try:
        p = subprocess.run(args, stdout=stdout, stderr=subprocess.PIPE,
                           timeout=timeout, text=True, errors="replace",
                           preexec_fn=limit_memory if memory_limit else None,
                           **kw)
    except subprocess.TimeoutExpired:
        failures.append("%s: no answer within %d s" % (" ".join(args), timeout))
        return None
    text = (p.stderr or "") + (p.stdout if isinstance(p.stdout, str) else "")
    where = "%s -> %d (%.1f s)" % (" ".join(args), p.returncode,
                                   time.time() - start)
    if p.returncode < 0:
        failures.append("%s: killed by signal %d\n%s" %
                        (where, -p.returncode, text[-2000:]))
    elif code is not None and p.returncode != code:
        failures.append("%s: expected exit %d\n%s" % (where, code, text[-2000:]))
    for c in contains:
        if c not in text:
            failures.append("%s: output lacks %r\n%s" % (where, c, text[-2000:]))
    for a in absent:
        if a in text:
            failures.append("%s: output has %r\n%s" % (where, a, text[-2000:]))
    if code is not None and code != 0 and text.count("\n") > 3 and \
            "FAIL " not in text:
        # Errors are one line (a report on stdout aside).
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        if len(lines) > 1:
            failures.append("%s: error is %d lines, not one:\n%s" %
                            (where, len(lines), p.stderr[-2000:]))
    print("ok " if not failures else "   ", where, "|",
          (p.stderr or "").strip().splitlines()[-1:] or "")
    return p


def check(cond, msg):
    if not cond:
        failures.append(msg)


def fresh(name):
    d = os.path.join(WORK, name)
    if os.path.isdir(d):
        subprocess.run(["chmod", "-R", "u+w", d])
        for m in mounts_under(d):
            subprocess.run(["umount", m])
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def mounts_under(d):
    with open("/proc/mounts") as f:
        return [l.split()[1] for l in f if l.split()[1].startswith(d + "/")]


def good_program(d):
    prog = os.path.join(d, "good.tsrp")
    run([tool("tessera"), "compile", MODEL, "-o", prog], code=0)
    return prog


def make_node(path, major, minor):
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        return True
    except OSError as e:
        print("SKIP: cannot create a device node with mknod (%s)" % e)
        return False


def is_char_device(path):
    return stat.S_ISCHR(os.lstat(path).st_mode)


# --- 1: bounded reads ------------------------------------------------------

def case_bounded_reads():
    d = fresh("bounded_reads")
    prog = good_program(d)
    keys = os.path.join(d, "k.keys")
    smol = os.path.join(d, "s.smol")
    run([tool("tessera-smol"), "pack", smol, "--records", "2", "--width", "8",
         "--height", "4", "--quiet"], code=0)
    endless = [
        [tool("tessera"), "simulate", "/dev/zero"],
        [tool("tessera"), "compile", "/dev/zero", "-o", os.path.join(d, "x")],
        [tool("tessera"), "run", "--config", "/dev/zero"],
        [tool("tessera"), "simulate", prog, "--input", "x=/dev/zero"],
        [tool("tessera-translate"), "--import-onnx", "/dev/zero"],
        [tool("tessera-translate"), "--tsr-to-listing", "/dev/zero"],
        [tool("tessera-opt"), "/dev/zero"],
        [tool("tessera-smol"), "verify", smol, "--key-file", "/dev/zero"],
        [tool("tessera-storage-bench"), "--device-params", "/dev/zero"],
    ]
    for args in endless:
        run(args, code=1, timeout=60, contains=["/dev/zero", "limit"],
            absent=["bad_alloc"])
    # A FIFO whose writer never stops.
    fifo = os.path.join(d, "endless.cfg")
    os.mkfifo(fifo)

    def feed():
        try:
            with open(fifo, "w") as f:
                while True:
                    f.write("# comment\n" * 4096)
        except (BrokenPipeError, OSError):
            pass
    t = threading.Thread(target=feed, daemon=True)
    t.start()
    run([tool("tessera"), "run", "--config", fifo], code=1, timeout=60,
        contains=[fifo, "chip config (a pipe or device) is longer than the "
                  "limit of 1048576 bytes"])
    # A regular file over its kind's limit is refused from its size alone.
    big = os.path.join(d, "big.cfg")
    with open(big, "wb") as f:
        f.truncate(5 << 20)
    run([tool("tessera"), "run", "--config", big], code=1,
        contains=[big + ": chip config is 5242880 bytes, more than the limit "
                  "of 1048576 bytes"])
    # A directory as an input tensor (item 10).
    run([tool("tessera"), "simulate", prog, "--input", "x=" + d], code=1,
        contains=[d + ": is a directory"], absent=["9223372036854775807"])
    run([tool("tessera"), "simulate", d], code=1,
        contains=[d + ": is a directory, expected program file"])


# --- 3 and 10: program reader limits ----------------------------------------

def program_fields(data):
    """Offsets of the header fields after the preamble."""
    name_len = struct.unpack_from("<I", data, 32)[0]
    sram = 36 + name_len
    return {"sram_bytes_used": sram, "dram_bytes": sram + 8}


def case_program_limits():
    d = fresh("program_limits")
    prog = good_program(d)
    data = open(prog, "rb").read()
    f = program_fields(data)
    dram = struct.unpack_from("<Q", data, f["dram_bytes"])[0]

    def variant(name, offset, fmt, value):
        b = bytearray(data)
        struct.pack_into(fmt, b, offset, value)
        path = os.path.join(d, name + ".tsrp")
        open(path, "wb").write(b)
        return path

    sim = [tool("tessera"), "simulate"]
    inp = ["--input", "x=" + X_F32]
    for value in (16 << 30, 1 << 63, (1 << 64) - 1):
        p = variant("dram_%d" % value, f["dram_bytes"], "<Q", value)
        run(sim + [p] + inp, code=1, timeout=60,
            contains=[p + ": dram_bytes %d is more than the limit" % value,
                      "(at byte %d)" % f["dram_bytes"]],
            absent=["bad_alloc"])
    p = variant("dram_padding", f["dram_bytes"], "<Q", dram + (1 << 20))
    run(sim + [p] + inp, code=1,
        contains=[p + ": dram_bytes %d is more than the" % (dram + (1 << 20)),
                  "bytes its tensors occupy plus 4096 bytes of padding"])
    p = variant("sram_chip", f["sram_bytes_used"], "<Q", 64 << 20)
    run(sim + [p] + inp, code=1,
        contains=[p + ": sram_bytes_used 67108864 is more than the chip's "
                  "sram_bytes 33554432"])
    p = variant("sram_limit", f["sram_bytes_used"], "<Q", 1 << 40)
    run(sim + [p] + inp, code=1,
        contains=[p + ": sram_bytes_used 1099511627776 is more than the "
                  "limit", "(at byte %d)" % f["sram_bytes_used"]])
    p = variant("reserved", 24, "<Q", 5)
    run(sim + [p] + inp, code=1,
        contains=[p + ": reserved field is 5, expected 0 in version 2 (at "
                  "byte 24)"])
    p = variant("version", 8, "<I", 9)
    run(sim + [p] + inp, code=1, contains=["(at byte 8)"])
    # A corpus of mutated programs: every one is accepted or a one-line
    # error with the file's name; none crashes, hangs or runs out of memory.
    rng = random.Random(12)
    for i in range(60):
        b = bytearray(data)
        for _ in range(rng.choice([1, 2, 4, 8])):
            at = rng.randrange(min(len(b), 4096))
            b[at] = rng.randrange(256)
        path = os.path.join(d, "mut%02d.tsrp" % i)
        open(path, "wb").write(b)
        p = run([tool("tessera-sim"), path, "--timing-only"], timeout=60,
                absent=["bad_alloc", "terminate called"])
        if p is not None and p.returncode not in (0, 1):
            failures.append("%s: exit %d" % (path, p.returncode))
        if p is not None and p.returncode == 1:
            check(path in p.stderr, "%s: error does not name the file: %s" %
                  (path, p.stderr))


# --- 4: MLIR nesting ------------------------------------------------------

def case_mlir_nesting():
    d = fresh("mlir_nesting")
    deep = os.path.join(d, "deep.mlir")
    open(deep, "w").write("module {" * 5000 + "}" * 5000 + "\n")
    for args in ([tool("tessera-opt"), deep],
                 [tool("tessera-translate"), "--tsr-to-listing", deep]):
        run(args, code=1, contains=[deep + ":1:", "nest deeper than 256 "
                                    "levels"])
    with open(deep) as f:
        run([tool("tessera-opt")], stdin=f, code=1,
            contains=["<stdin>:1:", "nest deeper than"])
    # Deep attribute nesting inside an otherwise valid op.
    attr = os.path.join(d, "attr.mlir")
    open(attr, "w").write(
        'func.func @f() attributes {a = ' + "[" * 3000 + "]" * 3000 +
        '} {\n  return\n}\n')
    run([tool("tessera-opt"), attr], code=1, contains=["nest deeper"])
    # Nesting within the limit still parses (and prints).
    ok = os.path.join(d, "ok.mlir")
    open(ok, "w").write("module {" * 100 + "}" * 100 + "\n")
    run([tool("tessera-opt"), ok], code=0)


# --- 2: codegen work limits -------------------------------------------------

def onnx_model(path, build):
    import onnx
    from onnx import helper, TensorProto
    model = build(helper, TensorProto)
    onnx.save(model, path)


def case_codegen_limits():
    d = fresh("codegen_limits")
    tall = os.path.join(d, "tall_matmul.onnx")

    def build(helper, TP):
        import numpy as np
        w = helper.make_tensor("w", TP.FLOAT, [8, 8],
                               np.ones(64, dtype=np.float32))
        g = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"], name="tall")],
            "g", [helper.make_tensor_value_info("x", TP.FLOAT,
                                                [1, 1000000000, 8])],
            [helper.make_tensor_value_info("y", TP.FLOAT, [1, 1000000000, 8])],
            [w])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("",
                                                                       17)])
    onnx_model(tall, build)
    # Before: minutes in the planner's per-tile loop.
    run([tool("tessera"), "compile", tall, "-o", os.path.join(d, "t.tsrp")],
        code=1, timeout=60,
        contains=["tall", "takes the DRAM image past the limit of "
                  "4294967296 bytes"])
    erf = os.path.join(d, "huge_erf.mlir")
    open(erf, "w").write(
        'func.func @main(%x: tensor<100000x100000xf32> {tsr.name = "x"}) -> '
        '(tensor<100000x100000xf32> {tsr.name = "y"}) {\n'
        '  %0 = tsr.erf %x : tensor<100000x100000xf32> loc("big_erf")\n'
        '  return %0 : tensor<100000x100000xf32>\n}\n')
    # Before: appended instructions until memory ran out.
    run([tool("tessera-translate"), "--tsr-to-program", erf, "-o",
         os.path.join(d, "e.tsrp")], code=1, timeout=60,
        contains=["input tensor 'x' (20000000000 bytes) takes the DRAM image "
                  "past the limit"])


# --- 6: outputs never replace a device node ------------------------------

def case_output_devices():
    d = fresh("output_devices")
    full, null = os.path.join(d, "full"), os.path.join(d, "null")
    if not (make_node(full, 1, 7) and make_node(null, 1, 3)):
        return
    smol_keys = []
    run([tool("tessera"), "compile", MODEL, "-o", full], code=1,
        contains=[full, "No space left on device"])
    run([tool("tessera"), "compile", MODEL, "-o", null], code=0)
    run([tool("tessera"), "run", MODEL, "-o", full], code=1,
        contains=[full, "No space left on device"])
    run([tool("tessera"), "run", MODEL, "-o", null, "--listing", null], code=0)
    run([tool("tessera-smol"), "pack", null, "--records", "2", "--width", "8",
         "--height", "4", "--quiet", "--force"], code=1,
        contains=[null, "not a regular file"])
    opt_in = os.path.join(d, "in.mlir")
    open(opt_in, "w").write("module {}\n")
    run([tool("tessera-opt"), opt_in, "-o", full], code=1,
        contains=[full, "No space left on device"])
    for node in (full, null):
        check(is_char_device(node), node + " is no longer a device node")
    left = [f for f in os.listdir(d) if ".tmp." in f]
    check(not left, "temporary files left behind: %s" % left)
    del smol_keys


# --- 7: write failures are errors ------------------------------------------

def mount_tmpfs(mnt):
    os.makedirs(mnt, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                        mnt], stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        print("SKIP: cannot mount a size-limited tmpfs (%s)" %
              p.stderr.strip())
        return False
    return True


def case_write_failures():
    d = fresh("write_failures")
    prog = good_program(d)
    full = os.path.join(d, "full")
    if make_node(full, 1, 7):
        run([tool("tessera"), "compile", MODEL, "-o",
             os.path.join(d, "p.tsrp"), "--listing", full], code=1,
            contains=[full + ": cannot write listing", "No space left"])
        with open(full, "w") as out:
            run([tool("tessera"), "simulate", prog, "--input", "x=" + X_F32,
                 "--json"], stdout=out, code=1,
                contains=["standard output: write error"])
            run([tool("tessera-smol"), "--help"], stdout=out, code=1,
                contains=["standard output: write error"])
    mnt = os.path.join(d, "mnt")
    if not mount_tmpfs(mnt):
        return
    try:
        # Fill the file system so that every write fails.
        fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        os.close(fd)
        listing, trace = os.path.join(mnt, "p.lst"), os.path.join(mnt, "t.json")
        run([tool("tessera"), "compile", MODEL, "-o", os.path.join(mnt, "p.tsrp")],
            code=1, contains=[os.path.join(mnt, "p.tsrp"), "No space left"])
        run([tool("tessera"), "compile", MODEL, "-o", os.path.join(d, "q.tsrp"),
             "--listing", listing], code=1, contains=[listing, "No space left"])
        run([tool("tessera"), "simulate", prog, "--input", "x=" + X_F32,
             "--trace", trace], code=1, contains=[trace, "No space left"])
        with open(os.path.join(mnt, "x.json"), "w") as out:
            run([tool("tessera"), "simulate", prog, "--input", "x=" + X_F32,
                 "--json"], stdout=out, code=1,
                contains=["standard output: write error"])
        opt_in = os.path.join(d, "in.mlir")
        open(opt_in, "w").write("module {}\n" + "// padding\n" * 10000)
        run([tool("tessera-translate"), "--import-onnx", MODEL, "-o",
             os.path.join(mnt, "m.mlir")], code=1, contains=["No space left"])
        for name in ("p.tsrp", "p.lst", "t.json", "m.mlir"):
            check(not os.path.exists(os.path.join(mnt, name)),
                  "a partial %s was left under its final name" % name)
        left = [f for f in os.listdir(mnt) if ".tmp." in f]
        check(not left, "temporary files left behind: %s" % left)
    finally:
        subprocess.run(["umount", mnt])


# --- 8 and 10: options ------------------------------------------------------

def case_options():
    d = fresh("options")
    prog = good_program(d)
    t = tool("tessera")
    clip = os.path.join(d, "never-read.smol")
    for extra, msg in (
            (["--trace", "/nonexistent/t.json"], "--trace is not supported "
             "with --clip"),
            (["--timing-only"], "--timing-only is not supported with --clip"),
            (["--expected", "y=y.f32"], "--expected is not supported"),
            (["--input", "x=x.f32"], "--input is not supported"),
            (["--storage", "nvme", "--storage-param", "hdd.avg_seek_ms=4"],
             "--storage-param hdd.avg_seek_ms=4 does not apply to --storage "
             "nvme"),
            (["--workers", "100000"], "--workers must be 1 .. 256, got 100000"),
            (["--prefetch", "0"], "--prefetch must be 1 .. 4096"),
            (["--fps", "0"], "--fps must be 0.01 .. 1000"),
            (["--frames", "2000000"], "--frames must be 0 .. 1000000")):
        run([t, "run", "--clip", clip] + extra, code=2, contains=[msg])
    run([t, "run", "--workers", "4"], code=2, contains=["--workers needs --clip"])
    run([t, "run", "--expected", "bogus=" + X_F32], code=2,
        contains=["'bogus' is not an output of the model"])
    run([t, "simulate", prog, "--input", "x=" + X_F32, "--expected",
         "x=" + X_F32], code=2, contains=["'x' is not an output"])
    run([t, "simulate", prog, "--input", "q=" + X_F32], code=2,
        contains=["'q' is not an input"])
    for tol in ("-1", "nan", "inf", "1e9"):
        run([t, "run", "--tolerance", tol], code=2,
            contains=["--tolerance must be 0 .. 1000, got "])
    run([tool("tessera-sim"), prog, "--tolerance", "-1"], code=None,
        contains=["--tolerance must be 0 .. 1000, got -1"])
    run([t, "sweep", "never-read.toml", "--jobs", "5000"], code=2,
        contains=["--jobs must be 0 .. 1024, got 5000"])
    # Chip config fields in their physical range (item 5): the issue's
    # values are a file:line: field error naming the range.
    ref_cfg = open(os.path.join(SRC, "arch", "configs",
                                "reference.cfg")).read()
    for field, value, msg in (
            ("clock_ghz", "1e20", "must be in its range 0.01 .. 100"),
            ("clock_ghz", "0x10", "expects a decimal number"),
            ("dram_latency_ns", "1e19", "must be in its range 0 .. 10000"),
            ("dram_bandwidth_gbps", "1e-20",
             "must be in its range 0.1 .. 10000")):
        cfg = os.path.join(d, field + ".cfg")
        lines = ref_cfg.split("\n")
        line_no = next(i for i, l in enumerate(lines)
                       if l.startswith(field + " ")) + 1
        lines[line_no - 1] = "%s = %s" % (field, value)
        open(cfg, "w").write("\n".join(lines))
        run([t, "simulate", prog, "--timing-only", "--config", cfg], code=1,
            contains=["%s:%d: field '%s' %s" % (cfg, line_no, field, msg)])
    run([t, "simulate", prog, "--timing-only", "--expected", "y=" + X_F32],
        code=2, contains=["drop --timing-only"])
    # --timing-only needs no input values.
    run([t, "simulate", prog, "--timing-only"], code=0,
        contains=["frame latency"])
    lone = os.path.join(d, "lone")
    os.makedirs(lone)
    shutil.copy(MODEL, lone)
    run([t, "run", os.path.join(lone, "encoder_layer.onnx"), "--timing-only"],
        code=0, contains=["frame latency"])
    # Storage parameters in their physical range (item 5).
    run([t, "run", "--clip", clip, "--storage", "hdd", "--storage-param",
         "hdd.avg_seek_ms=1e300"], code=1,
        contains=["hdd.avg_seek_ms: 1e300 is outside its range"])
    run([tool("tessera-storage-bench"), "--set", "nvme.parallel_units=0"],
        code=None, contains=["nvme.parallel_units"])


# --- 9 and 10: .smol verify, cleanup, fuzz driver ---------------------------

def case_smol():
    d = fresh("smol")
    s = tool("tessera-smol")
    keys, other = os.path.join(d, "fleet.keys"), os.path.join(d, "other.keys")
    enc = os.path.join(d, "enc.smol")
    run([s, "keygen", keys, "--id", "fleet"], code=0)
    run([s, "keygen", other, "--id", "other"], code=0)
    run([s, "pack", enc, "--records", "4", "--width", "8", "--height", "4",
         "--encrypt", "cam_front", "--key-file", keys, "--quiet"], code=0)
    p = run([s, "verify", enc, "--key-file", other], code=3,
            contains=["4 NOT authenticated (no key for key id 'fleet')",
                      "INCOMPLETE"])
    if p is not None:
        check(": ok" not in p.stdout, "verify said ok: " + p.stdout)
    run([s, "verify", enc], code=3, contains=["key id 'fleet'"])
    run([s, "verify", enc, "--key-file", keys], code=0,
        contains=["padding bytes zero, 4 encrypted tensors authenticated: ok"])
    # A killed writer leaves a hidden temporary; clean removes it, and only
    # it (a held one and unrelated files stay).
    big = os.path.join(d, "big.smol")
    w = subprocess.Popen([s, "pack", big, "--records", "100000", "--quiet"])
    deadline = time.time() + 30
    while time.time() < deadline and not any(
            f.startswith(".big.smol.tmp.") for f in os.listdir(d)):
        time.sleep(0.05)
    time.sleep(0.3)
    w.send_signal(signal.SIGKILL)
    w.wait()
    stale = [f for f in os.listdir(d) if f.startswith(".big.smol.tmp.")]
    check(len(stale) == 1, "the killed writer left %s" % stale)
    held = os.path.join(d, ".held.smol.tmp.ABCDEF")
    open(held, "w").write("x")
    hf = open(held)
    fcntl.flock(hf, fcntl.LOCK_EX)
    other_file = os.path.join(d, ".notes.txt.tmp.ABCDEF")
    open(other_file, "w").write("x")
    run([s, "clean", d, "--min-age", "0", "--dry-run"], code=0,
        contains=["1 stale temporary file(s) found"])
    check(all(os.path.exists(os.path.join(d, f)) for f in stale),
          "--dry-run removed files")
    run([s, "clean", d, "--min-age", "0"], code=0,
        contains=["1 stale temporary file(s) removed, 1 kept"])
    check(not any(os.path.exists(os.path.join(d, f)) for f in stale),
          "clean left the stale temporary")
    check(os.path.exists(held), "clean removed a file a writer holds")
    check(os.path.exists(other_file), "clean removed a file it does not own")
    hf.close()
    recent = os.path.join(d, ".recent.smol.tmp.QWERTY")
    open(recent, "w").write("x")
    run([s, "clean", d], code=0)  # default --min-age 600
    check(os.path.exists(recent), "clean removed a recent temporary")
    # smol-fuzz-driver --write-seeds creates its directory or fails cleanly.
    seeds = os.path.join(d, "new-seeds")
    run([tool("smol-fuzz-driver"), "--write-seeds", seeds], code=0,
        memory_limit=False)
    check(os.path.isdir(seeds) and os.listdir(seeds), "no seeds written")
    run([tool("smol-fuzz-driver"), "--write-seeds", "/nonexistent/a/b"],
        code=1, contains=["/nonexistent/a/b: cannot create directory"],
        memory_limit=False)


# --- 10: smaller ones -------------------------------------------------------

def case_small_cases():
    d = fresh("small_cases")
    import numpy as np

    def graph(helper, TP, nodes, inits, outputs):
        g = helper.make_graph(
            nodes, "g", [helper.make_tensor_value_info("x", TP.FLOAT, [4, 8])],
            outputs, inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("",
                                                                       17)])

    no_out = os.path.join(d, "no_outputs.onnx")
    onnx_model(no_out, lambda h, TP: graph(
        h, TP, [h.make_node("Relu" if False else "Erf", ["x"], ["y"],
                            name="e")], [], []))
    run([tool("tessera"), "compile", no_out, "-o", os.path.join(d, "n.tsrp")],
        code=1, contains=["no outputs"])
    fp16 = os.path.join(d, "fp16_overflow.onnx")
    w = np.zeros(64, dtype=np.float32)
    w[3] = 1e30
    onnx_model(fp16, lambda h, TP: graph(
        h, TP, [h.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
        [h.make_tensor("w", TP.FLOAT, [8, 8], w)],
        [h.make_tensor_value_info("y", TP.FLOAT, [4, 8])]))
    run([tool("tessera"), "compile", fp16, "-o", os.path.join(d, "f.tsrp")],
        code=1, contains=["weight 'w'", "outside FP16's range"])
    dup = os.path.join(d, "dup_names.onnx")
    onnx_model(dup, lambda h, TP: graph(
        h, TP, [h.make_node("Erf", ["x"], ["a"], name="same"),
                h.make_node("Erf", ["a"], ["y"], name="same")], [],
        [h.make_tensor_value_info("y", TP.FLOAT, [4, 8])]))
    lst = os.path.join(d, "dup.lst")
    run([tool("tessera"), "compile", dup, "-o", os.path.join(d, "d.tsrp"),
         "--listing", lst], code=0)
    text = open(lst).read() if os.path.exists(lst) else ""
    check("; layer 0: same\n" in text and "; layer 1: same #2\n" in text,
          "duplicate node names did not get distinct layers:\n" + text[:600])


CASES = {name[len("case_"):]: fn for name, fn in globals().items()
         if name.startswith("case_")}

if __name__ == "__main__":
    if CASE not in CASES:
        sys.exit("unknown case %s (known: %s)" % (CASE, ", ".join(CASES)))
    os.makedirs(WORK, exist_ok=True)
    CASES[CASE]()
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        sys.exit(1)
    print("ok: harden.%s" % CASE)
