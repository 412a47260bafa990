#!/usr/bin/env bash
# Configures (once) and builds Ensemble out of tree in ./build (incremental).
# BUILD_DIR and CMAKE_BUILD_TYPE may be set in the environment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}
"$root/tools/deps.sh"
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
    -DENSEMBLE_WERROR="${ENSEMBLE_WERROR:-OFF}"
fi
cmake --build "$build" -j "$jobs"
