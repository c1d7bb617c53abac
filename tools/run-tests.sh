#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing (build tools, scepclient, certmonger), builds with
# warnings as errors, and runs every test: unit, HTTP integration, real clients.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --test
tools/build.sh
cd build
ctest --output-on-failure --parallel 2 --timeout 900
