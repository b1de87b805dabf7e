#!/usr/bin/env bash
# The libFuzzer campaigns of docs/sanitizers.md: each target seeded with the
# repo's own files and run for a fixed number of executions, one at a time,
# at low priority (nice -n 10), with its final statistics and wall time.
#
#   bash scripts/fuzz_campaign.sh [TARGET...]    # default: all five
#   TESSERA_FUZZ_RUNS=1000000 TESSERA_FUZZ_WORK=/tmp/fuzz bash scripts/fuzz_campaign.sh chip-config-fuzz
#
# Targets: program-reader-fuzz chip-config-fuzz onnx-importer-fuzz
# sweep-parser-fuzz smol-reader-fuzz. Findings (crash-*, leak-*, timeout-*,
# oom-*) are left in $TESSERA_FUZZ_WORK/<target>/; the exit status is
# non-zero if any target found something.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TESSERA_BUILD_DIR:-$root/build}/bin
work=${TESSERA_FUZZ_WORK:-/tmp/tessera-fuzz}
runs=${TESSERA_FUZZ_RUNS:-1000000}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(program-reader-fuzz chip-config-fuzz
  onnx-importer-fuzz sweep-parser-fuzz smol-reader-fuzz)
mkdir -p "$work"
seeds=$work/seeds
if [ ! -d "$seeds/program" ]; then
  sh "$root/tests/fuzz/make_seeds.sh" "$root" "$bin/tessera" "$seeds"
  mkdir -p "$seeds/sweep" "$seeds/smol"
  cp "$root"/tests/sweep/errors/*.toml "$root"/tests/sweep/fuzz-seeds/*.toml \
    "$seeds/sweep/"
  "$bin/smol-fuzz-driver" --write-seeds "$seeds/smol" > /dev/null
fi
status=0
for t in "${targets[@]}"; do
  case $t in
  program-reader-fuzz) kind=program len=1048576 rss=3072 ;;
  chip-config-fuzz) kind=config len=65536 rss=3072 ;;
  # The importer's campaign seeds with the small models: one execution on
  # the 3 MiB encoder layer takes ~30 ms (docs/sanitizers.md).
  onnx-importer-fuzz) kind=onnx len=65536 rss=4096 ;;
  sweep-parser-fuzz) kind=sweep len=4096 rss=2048 ;;
  smol-reader-fuzz) kind=smol len=1048576 rss=3072 ;;
  *) echo "unknown target $t" >&2; exit 2 ;;
  esac
  dir=$work/$t
  rm -rf "$dir"; mkdir -p "$dir/corpus"
  seedDir=$seeds/$kind
  if [ $kind = onnx ]; then
    seedDir=$work/seeds/onnx-small
    mkdir -p "$seedDir"
    find "$seeds/onnx" -name '*.onnx' -size -64k -exec cp {} "$seedDir/" \;
  fi
  echo "== $t: $runs runs, seeds $(ls "$seedDir" | wc -l) files from $seedDir"
  start=$(date +%s)
  (cd "$dir" && nice -n 10 "$bin/$t" -runs="$runs" -seed=1 -max_len=$len \
    -rss_limit_mb=$rss -timeout=30 -print_final_stats=1 \
    corpus "$seedDir") > "$dir/log" 2>&1
  rc=$?
  end=$(date +%s)
  grep -E "^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|Done [0-9]+ runs|ERROR|SUMMARY" "$dir/log"
  echo "$t: exit $rc, $((end - start)) s wall, findings: $(ls "$dir" | grep -cE '^(crash|leak|timeout|oom|slow-unit)-')"
  [ $rc -eq 0 ] || status=1
done
exit $status
