#!/usr/bin/env bash
# The whole test suite: set up, build everything, run every test under ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$root/build}
bash "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "${TESSERA_JOBS:-$(nproc)}" "$@"
