#!/usr/bin/env bash
# The plots and HTML report of a small sweep, checked as a person would look
# at them: every plot file is drawn, the report is one self-contained file
# (no network references), and headless Chromium opens it and saves a
# screenshot. Exit 77 (skipped) only when chromium is not installed.
# Usage: check_report.sh TESSERA SOURCE_DIR WORK_DIR
set -euo pipefail
tessera=$1 src=$2 work=$3
rm -rf "$work"; mkdir -p "$work"
cat > "$work/small.toml" <<TOML
[sweep]
model = "$src/models/encoder_layer/encoder_layer.onnx"
constraints = ["matrix_rows == matrix_cols"]
[axes]
sram_bytes = [1048576, 33554432]
matrix_rows = [64, 96]
matrix_cols = [64, 96]
TOML
"$tessera" sweep "$work/small.toml" --out "$work/out" --jobs 2
for f in latency_vs_sram_bytes latency_vs_matrix_rows latency_vs_matrix_cols \
         pareto_area layers; do
  grep -q "<svg" "$work/out/plots/$f.svg" || { echo "FAIL: no $f.svg"; exit 1; }
done
html=$work/out/report.html
grep -q "sortTable" "$html" || { echo "FAIL: the table is not sortable"; exit 1; }
[ "$(grep -c "<svg" "$html")" -ge 5 ] || { echo "FAIL: plots not inline"; exit 1; }
if grep -Eq "(src|href)=[\"']?https?:" "$html"; then
  echo "FAIL: the report loads something from the network"; exit 1
fi
if ! command -v chromium >/dev/null; then
  echo "SKIP: chromium is not installed (bash scripts/setup.sh installs it)"
  exit 77
fi
bash "$src/scripts/screenshot_report.sh" "$html" "$work/report.png"
size=$(stat -c %s "$work/report.png")
[ "$size" -gt 20000 ] || { echo "FAIL: screenshot of $size bytes"; exit 1; }
echo "ok: report with $(grep -c "<tr" "$html") table rows, screenshot $size bytes"
