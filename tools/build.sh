#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds scep-ra in ./build (or $BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCEPRA_WERROR=ON "$@" > /dev/null
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
