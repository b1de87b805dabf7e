#!/usr/bin/env bash
# Opens a sweep's HTML report in headless Chromium (Debian's `chromium`) and
# saves a screenshot, as a person would look at it.
# Usage: scripts/screenshot_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]
# docs/sweep-report.png is made this way (docs/sweep.md).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [1400x1000]" >&2; exit 1
fi
report=$(realpath "$1")
out=$(realpath -m "$2")
size=${3:-1400x1000}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "$0: chromium is not installed (bash scripts/setup.sh installs it)" >&2
  exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# A fresh profile, no network services, no GPU; --no-sandbox because the
# tests may run as root.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic \
  --no-first-run --disable-background-networking --disable-component-update \
  --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --screenshot="$out" --window-size="${size/x/,}" "file://$report" \
  >"$profile/chromium.log" 2>&1 || {
    cat "$profile/chromium.log" >&2
    echo "$0: chromium failed" >&2; exit 1; }
if [ ! -s "$out" ]; then
  cat "$profile/chromium.log" >&2
  echo "$0: chromium wrote no screenshot" >&2; exit 1
fi
echo "wrote $out"
