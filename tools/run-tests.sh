#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing (build tools, scepclient, certmonger, clang), checks
# the C++ files against .clang-format, builds with warnings as errors, and runs
# every test: unit, HTTP integration, real clients; then the sanitizer and
# fuzzing share that fits CI's time budget (tools/run-sanitizers.sh ci, see
# TESTING.md "CI budget"): ASan + UBSan on every unit and integration test
# executable, each fuzz target for 10 s, the regression replay, and TSan on
# the concurrency cases (TSAN_CI_RUNS). The sanitizer builds
# (build-asan, then build-tsan) run at nice 19 beside ctest, on the CPU the
# tests leave idle; the runs come after ctest.
# SANITIZERS=0 skips that part.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --test
tools/check-format.sh
# -g1 (line tables, no variable info) instead of RelWithDebInfo's -g: a third less compile time
# for CI's cold build (ra/core/enrolment.cpp: 7.0 -> 4.8 CPU s), nothing a test reads is lost.
tools/build.sh -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
sanitizers=${SANITIZERS:-1}
if [ "$sanitizers" != 0 ]; then
    tools/install-deps.sh --fuzz
    mkdir -p build
    nice -n 19 tools/run-sanitizers.sh ci --build-only > build/sanitizer-build.log 2>&1 &
    sanitizer_build=$!
fi
rc=0
(cd build && ctest --output-on-failure --parallel 2 --timeout 900) || rc=$?
if [ "$sanitizers" != 0 ]; then
    if ! wait "$sanitizer_build"; then
        cat build/sanitizer-build.log
        exit 1
    fi
    cat build/sanitizer-build.log
    tools/run-sanitizers.sh ci --no-build || rc=1
fi
exit $rc
