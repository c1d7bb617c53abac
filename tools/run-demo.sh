#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds, creates a demo instance in ./demo on the
# embedded defaults (local OpenSSL CA, SQLite) unless it exists, and serves it
# on http://127.0.0.1:8080/certsrv/mscep/mscep.dll until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
if [ ! -f demo/scep-ra.conf ]; then
    build/ra/scep-ra init --dir demo
fi
echo "one-time challenge password: $(build/ra/scep-ra password issue --config demo/scep-ra.conf || echo '(cache full)')"
echo "more with: build/ra/scep-ra password issue --config demo/scep-ra.conf"
exec build/ra/scep-ra serve --config demo/scep-ra.conf
