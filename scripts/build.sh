#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), configures with Ninja and builds.
# Usage: scripts/build.sh [ninja targets...]   (default: everything)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$root/build}
bash "$root/scripts/setup.sh"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
jobs=${TESSERA_JOBS:-$(nproc)}
ninja -C "$build" -j "$jobs" "$@"
