#!/usr/bin/env bash
# Simulator speed and memory at the reference network's scale (issue 11,
# docs/sim-performance.md): a stack of pre-norm encoder layers of width 768,
# 12 heads, 1024 tokens (scripts/make_encoder_stack.py), compiled once, then
#   timing-only   tessera simulate --timing-only (weights stay on disk)
#   functional    tessera simulate --input x=... (the chip's arithmetic)
#   run           tessera run (compile + FP32 reference + functional frame)
# each under /usr/bin/time -v: simulated cycles, wall time, cycles per wall
# second, peak memory. A benchmark that prints figures, not a timed test.
#
#   bash scripts/bench_sim_scale.sh [--layers 40] [--pipeline fused]
#                                   [--only timing,functional,run]
# --pipeline is the compiler's (default: fused, the compiler's default).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$root/build}
tessera=$build/bin/tessera
layers=40
only=timing,functional,run
pipeline=fused
while [ $# -gt 0 ]; do
  case $1 in
    --layers) layers=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    *) echo "usage: $0 [--layers N] [--pipeline P] [--only timing,functional,run]" >&2; exit 1 ;;
  esac
done
[ -x "$tessera" ] || { echo "build tessera first ($tessera)" >&2; exit 1; }
out=$build/scale/l$layers
model=$out/encoder_stack.onnx
prog=$out/stack-$pipeline.tsrp
if [ ! -f "$model" ]; then
  echo "== generating $layers layers"
  /usr/bin/python3 "$root/scripts/make_encoder_stack.py" "$out" --layers "$layers"
fi
if [ ! -f "$prog" ]; then
  echo "== compiling"
  /usr/bin/time -f "compile: %e s wall, peak %M KB" "$tessera" compile "$model" --pipeline "$pipeline" -o "$prog"
fi

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -v -o "$out/$pipeline-$name.time" "$@" > "$out/$pipeline-$name.out" 2>&1 || {
    echo "$name: failed (exit $?), see $out/$pipeline-$name.out" >&2; return 0; }
  local cycles wall cpu rss
  cycles=$(sed -n 's/.*frame latency *\([0-9]*\) cycles.*/\1/p' "$out/$pipeline-$name.out" | head -1)
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/$pipeline-$name.time" |
         awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$out/$pipeline-$name.time")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/$pipeline-$name.time")
  # On a shared machine wall time includes waiting for a core; CPU time
  # (user + system) is the simulator's own cost.
  awk -v n="$name" -v c="$cycles" -v w="$wall" -v u="$cpu" -v r="$rss" 'BEGIN {
    printf "%-12s %11d cycles  %8.2f s wall  %8.2f s CPU  %6.0f M cycles/CPU s  peak %6.2f GiB\n",
           n, c, w, u, (u > 0 ? c / u / 1e6 : 0), r / 1048576 }'
}

echo "== $layers layers, width 768, 1024 tokens, $pipeline pipeline: $prog"
case ,$only, in *,timing,*)
  measure timing-only "$tessera" simulate "$prog" --timing-only --input "x=$out/input_x.f32" ;; esac
case ,$only, in *,functional,*)
  measure functional "$tessera" simulate "$prog" --input "x=$out/input_x.f32" ;; esac
case ,$only, in *,run,*)
  measure run "$tessera" run "$model" --pipeline "$pipeline" --input "x=$out/input_x.f32" ;; esac
