#!/usr/bin/env bash
# Installs everything anet needs on Debian 12: the Debian packages it builds
# against and, for the tests' oracles, a Python virtual environment with the
# pinned packages of tests/requirements.txt. Idempotent, and fast when all is
# there already: apt runs only for missing packages, pip only when the
# requirements changed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake ninja-build pkg-config
  libonnx-dev libprotobuf-dev protobuf-compiler
  llvm-19-dev libclang-cpp19-dev libclang-19-dev clang-19 libclang-rt-19-dev
  libboost-context-dev # the emu device's fibers
  libgtest-dev libgmock-dev libbenchmark-dev
  libturbojpeg0-dev libpng-dev libcli11-dev nlohmann-json3-dev
  graphviz dataset-fashion-mnist
  python3 python3-venv
  python3-torch python3-onnx # the PyTorch oracle of the training-step test (system python)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

venv="${ANET_VENV:-$HOME/.cache/anet/venv}"
stamp="$venv/.anet-requirements"
if ! cmp -s "$top/tests/requirements.txt" "$stamp" 2>/dev/null; then
  echo "setup: creating the test oracles' Python environment in $venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$top/tests/requirements.txt"
  cp "$top/tests/requirements.txt" "$stamp"
fi
echo "setup: ready (Python oracles: $venv/bin/python)"
