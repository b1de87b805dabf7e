#!/usr/bin/env bash
# The 40-layer reference perception network (docs/reference-network.md):
# generated, compiled and simulated on the reference chip by this one
# command, with the wall time and peak memory (/usr/bin/time) of each step.
#
#   bash scripts/bench_perception.sh [--functional] [generator args, e.g. --depth 12]
#
# Default: the simulation is timing-only (cycles, no arithmetic) and PyTorch's
# output is not computed. --functional also runs PyTorch, the chip's
# arithmetic and the FP32 reference executor and prints the errors
# (scripts/zoo.py --models perception). Files go to build/perception/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$root/build}
tessera=$build/bin/tessera
[ -x "$tessera" ] || bash "$root/scripts/build.sh"
functional=0
if [ "${1:-}" = "--functional" ]; then functional=1; shift; fi
out=$build/perception
mkdir -p "$out"
measure() { # step name, command...
  local name=$1; shift
  /usr/bin/time -f "$name: %e s wall, peak memory %M KB" -o "$out/$name.time" "$@"
  cat "$out/$name.time"
}
echo "== generate"
measure generate /usr/bin/python3 "$root/models/perception/make_model.py" "$out" \
  --no-expected "$@"
echo "== compile"
measure compile "$tessera" compile "$out/perception.onnx" -o "$out/perception.tsrp"
echo "== simulate (timing only)"
measure simulate "$tessera" simulate "$out/perception.tsrp" --timing-only \
  --input "images=$out/input_images.f32" | grep -E "instructions|frame latency|budget|DRAM  |matrix unit|vector unit"
if [ $functional = 1 ]; then
  echo "== functional: chip, FP32 reference and PyTorch"
  depth=40
  args=()
  while [ $# -gt 0 ]; do
    case $1 in
      --depth) depth=$2; shift 2 ;;
      *) args+=("--perception-arg=$1"); shift ;;
    esac
  done
  measure zoo /usr/bin/python3 "$root/scripts/zoo.py" --tessera "$tessera" \
    --work "$build/zoo" --models perception --perception-depth "$depth" "${args[@]}"
fi
echo "== summary"
cat "$out"/generate.time "$out"/compile.time "$out"/simulate.time
