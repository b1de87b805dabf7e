#!/usr/bin/env bash
# Runs a command that must fail cleanly on bad input.
# Usage: expect_error.sh "<text the error must contain>" command [args...]
# Passes when the command exits with a status from 1 to 125 (not a crash or a
# signal) and its last stderr line contains the text.
set -u
want=$1; shift
err=$(mktemp)
"$@" >/dev/null 2>"$err"; status=$?
last=$(tail -n 1 "$err")
rm -f "$err"
if [ "$status" -eq 0 ]; then echo "FAIL: exited 0 on bad input: $*"; exit 1; fi
if [ "$status" -gt 125 ]; then echo "FAIL: crashed with status $status: $*"; exit 1; fi
case "$last" in
  *"$want"*) echo "ok: status $status: $last"; exit 0 ;;
  *) echo "FAIL: expected an error containing '$want', got: '$last'"; exit 1 ;;
esac
