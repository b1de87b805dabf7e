#!/usr/bin/env bash
# Installs Tessera's build and test dependencies from Debian's packages.
# Idempotent: installs only what is missing and prints what it installs.
# Runs as root (or with sudo available) on a fresh Debian 12 machine.
set -euo pipefail

packages=(
  # Build tools.
  cmake ninja-build ccache pkg-config g++ clang
  # Compiler: LLVM/MLIR 19 through Debian's shared libMLIR.so / libLLVM.so;
  # llvm-19-tools brings FileCheck and lit.
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  # ONNX protobuf definitions for the importer.
  libonnx-dev libprotobuf-dev protobuf-compiler
  # Simulator and numerics.
  libsystemc-dev libeigen3-dev
  # Tests.
  libgtest-dev libgmock-dev python3
  # Storage path (.smol format, baselines, fuzzing).
  libsodium-dev libhdf5-dev libarchive-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libx264-dev
  libclang-rt-14-dev
  # Formats through maintained libraries: TOML configs, JSON, CRC-32C.
  libtomlplusplus-dev nlohmann-json3-dev libisal-dev
  # Model zoo (models/, scripts/zoo.py): generators, PyTorch references,
  # the trained digits model; /usr/bin/time for the perception benchmark.
  python3-numpy python3-onnx python3-torch python3-torchvision python3-sklearn
  # An optimized BLAS behind libblas.so.3 (torch and numpy use it): the
  # reference BLAS is ~20x slower on the zoo's PyTorch references.
  libopenblas0-pthread
  # ... and its headers: the functional simulator's GEMMs call cblas_sgemm.
  libopenblas-dev
  time
  # Sweeps, plots and reports (tessera sweep, scripts/sweep_plots.py,
  # scripts/screenshot_report.sh) and the Slurm test of sharded sweeps.
  libtomlplusplus-dev nlohmann-json3-dev python3-matplotlib
  chromium slurm-wlm munge
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "setup: need root to install: ${missing[*]}" >&2; exit 1
  fi
fi

echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
