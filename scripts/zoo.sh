#!/usr/bin/env bash
# The model zoo on the reference chip, one table (docs/zoo.md): builds
# `tessera` if needed, then scripts/zoo.py with Debian's Python. Arguments go
# to zoo.py, e.g. `bash scripts/zoo.sh --markdown` or `--models vit,digits`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$root/build}
[ -x "$build/bin/tessera" ] || bash "$root/scripts/build.sh"
exec /usr/bin/python3 "$root/scripts/zoo.py" --tessera "$build/bin/tessera" \
  --work "$build/zoo" "$@"
