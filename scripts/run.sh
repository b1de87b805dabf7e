#!/usr/bin/env bash
# The main job: set up, build, and run the bundled encoder layer on the
# reference chip; prints the report. Extra arguments go to `tessera run`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$root/build}
bash "$root/scripts/build.sh" tessera
exec "$build/bin/tessera" run "$@"
