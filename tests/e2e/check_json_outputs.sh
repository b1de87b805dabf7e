#!/usr/bin/env bash
# Every JSON document the tools write, parsed back: by nlohmann::json
# (json-check, which also checks the keys of each schema) and by Python's
# `python3 -m json.tool`. The report (`run --json`, `simulate --json`), the
# Perfetto trace (`run --trace`), the replay report (`run --clip --json`) and
# the storage bench's `--json`.
#
# Usage: check_json_outputs.sh <tessera> <tessera-smol> <tessera-storage-bench>
#                              <json-check> <scratch dir>
set -euo pipefail
tessera=$1; smol=$2; bench=$3; check=$4; out=$5
rm -rf "$out"; mkdir -p "$out"

both() { # FILE KEYS...: parse with nlohmann (and check keys), then json.tool
  "$check" "$@"
  python3 -m json.tool "$1" > /dev/null || { echo "FAIL: json.tool rejects $1"; exit 1; }
}

"$tessera" run --json --trace "$out/trace.json" > "$out/report.json"
both "$out/report.json" model program chip.name chip.clock_ghz frame.cycles \
  frame.ms frame.instructions budget.budget_ms budget.passed \
  budget.headroom_ms dram.bytes_read dram.bus_busy_fraction \
  matrix_unit.utilization vector_unit.busy_cycles dma.load_busy_cycles \
  energy.joules energy.watts_at_budget_fps stalls.*.unit layers.*.name \
  layers.*.cycles layers.*.ms layers.*.energy.joules \
  layers.*.compute_queue.idle_cycles accuracy.*.tensor accuracy.*.passed \
  accuracy_passed
both "$out/trace.json" displayTimeUnit otherData.chip otherData.clock_ghz \
  traceEvents.*.name traceEvents.*.ph traceEvents.*.pid

"$tessera" run --timing-only --json > "$out/timing.json"
both "$out/timing.json" frame.cycles layers.*.name accuracy accuracy_passed

"$smol" pack "$out/clip.smol" --records 12 --seed 3 --force > /dev/null
"$tessera" run --clip "$out/clip.smol" --frames 6 --json > "$out/replay.json"
both "$out/replay.json" clip frames camera_bytes_per_frame storage.device \
  storage.ops_per_frame storage.keeps_up chip.cycles chip.ms latency_ms.p50 \
  latency_ms.p99 latency_ms.max latency_ms.per_frame.5 wait_ms.5 \
  budget.budget_ms budget.frames_over budget.passed \
  accuracy.worst_max_abs_over_rms accuracy.passed

"$bench" --records 50 --samples 10 --dir "$out/bench" --formats \
  rowbin,jsonl,tfrecord --json --quiet > "$out/bench.json"
both "$out/bench.json" records content samples rejects seed workers chip_fps \
  formats.*.name formats.*.file_bytes formats.*.cpu_ms_per_sample \
  formats.*.lossy formats.*.devices.nvme.samples_per_second \
  formats.*.devices.hdd.chip_idle_fraction
echo "ok: report, trace, replay and bench JSON parse with nlohmann and json.tool"
