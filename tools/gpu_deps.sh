#!/usr/bin/env bash
# Fetches, here (Debian 12, with its registry), the Debian packages the GPU
# machine lacks to build anet without LLVM: protobuf, ONNX, CLI11,
# nlohmann-json, libpng, turbojpeg, zlib headers and GoogleTest, as .deb
# files in .gpu-deps/ (about 7 MB; git ignores it). tools/gpu_check unpacks
# them there with dpkg -x into a private folder, never into /. Pass
# .gpu-deps in the device call's carry list.
#   tools/gpu_deps.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
packages=(
  libprotobuf-dev libprotobuf32 libprotobuf-lite32 protobuf-compiler libprotoc32
  libonnx-dev libonnx1 libonnxifi libcli11-dev nlohmann-json3-dev
  libpng-dev libpng16-16 zlib1g-dev zlib1g libturbojpeg0-dev libturbojpeg0
  libgtest-dev libgmock-dev
)
rm -rf "$top/.gpu-deps"
mkdir -p "$top/.gpu-deps"
cd "$top/.gpu-deps"
apt-get download "${packages[@]}" 2>&1 | grep -v "couldn't be accessed by user '_apt'" || true
count=$(ls ./*.deb | wc -l)
[ "$count" -eq "${#packages[@]}" ] || { echo "gpu_deps: got $count of ${#packages[@]}" >&2; exit 1; }
echo "gpu_deps: $count packages, $(du -sh . | cut -f1), in $top/.gpu-deps"
