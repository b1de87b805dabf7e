"""Shared by the e2e check scripts: run a command, stop the test on failure."""

import subprocess
import sys


def run(cmd):
    """Runs `cmd`; exits the test with its output if it fails."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        sys.exit("FAIL: %s exited %d:\n%s%s" % (" ".join(cmd), p.returncode,
                                                p.stdout, p.stderr))
    return p


def run_out(cmd):
    """run(cmd)'s standard output."""
    return run(cmd).stdout
