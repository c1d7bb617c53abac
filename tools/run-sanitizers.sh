#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The unit and integration test executables under sanitizers (not the
# interop, browser or bench tests, which drive outside programs).
#
#   tools/run-sanitizers.sh [asan|tsan|all]     (default all)
#
# asan: ./build-asan, gcc, AddressSanitizer + UndefinedBehaviorSanitizer with
#       -fno-sanitize-recover=undefined, LeakSanitizer at exit with the
#       suppressions of tools/sanitizers/lsan.supp (by our function's name).
# tsan: ./build-tsan, gcc, ThreadSanitizer on the concurrency tests only
#       (TSAN_TESTS below), suppressions in tools/sanitizers/tsan.supp.
# gcc because clang 14 (Debian 12) cannot compile two C++20 constructs the
# code uses (see TESTING.md); the fuzz build needs clang and reports them.
# -O0: it compiles fastest, and gcc 12 with sanitizers and optimisation warns
# maybe-uninitialized inside libstdc++'s <regex> (a false positive that
# -Werror turns into a failed build), so warnings stay errors here too.
# One line per test executable; exit 1 when any failed (logs in BUILD/logs/).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case "$what" in asan | tsan | all) ;; *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;; esac

tools/install-deps.sh
supp="$PWD/tools/sanitizers"
failed=0

# build DIR FLAGS TARGETS...
build() {
    local dir=$1 flags=$2
    shift 2
    local start
    start=$(date +%s)
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g" \
        -DSCEPRA_WERROR=ON -DCMAKE_CXX_FLAGS="$flags -fno-omit-frame-pointer" > /dev/null
    mkdir -p "$dir/logs"
    if ! cmake --build "$dir" --parallel "$(nproc)" --target "$@" > "$dir/logs/build.log" 2>&1; then
        tail -30 "$dir/logs/build.log"
        echo "$dir: BUILD FAILED"
        exit 1
    fi
    echo "$dir: build $(( $(date +%s) - start )) s"
}

# run DIR EXECUTABLE [doctest args...]
run() {
    local dir=$1 exe=$2
    shift 2
    local start rc=0 log="$dir/logs/$exe.log"
    start=$(date +%s)
    "$dir/tests/$exe" "$@" > "$log" 2>&1 || rc=$?
    local summary
    summary=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1 | sed 's/^\[doctest\] //' || true)
    if [ $rc -eq 0 ]; then
        printf '%-12s %-13s ok     %4d s  %s\n' "$(basename "$dir")" "$exe" $(( $(date +%s) - start )) "$summary"
    else
        failed=1
        printf '%-12s %-13s FAILED %4d s  %s  %s\n' "$(basename "$dir")" "$exe" $(( $(date +%s) - start )) "$summary" \
            "$(grep -m1 -E 'ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error|SUMMARY' "$log" || echo "exit $rc, see $log")"
    fi
}

if [ "$what" != tsan ]; then
    tests=(crypto_tests scep_tests store_tests backend_tests core_tests cli_tests http_tests)
    build build-asan "-fsanitize=address,undefined -fno-sanitize-recover=undefined" scep-ra "${tests[@]}"
    # fast_unwind_on_malloc=0: libcrypto has no frame pointers, and the LSan
    # suppression names our function above it. Child processes (scep-ra) inherit these.
    export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=1:detect_stack_use_after_return=0"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    for t in "${tests[@]}"; do
        run build-asan "$t"
    done
    unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
fi

if [ "$what" != asan ]; then
    # The tests that race threads against each other: one-time passwords used
    # by concurrent enrolments (200 x 4, through the real server), request claims
    # taken over by many callers, concurrent issuers, logins, scrypt and CA serials.
    build build-tsan "-fsanitize=thread" scep-ra store_tests backend_tests http_tests
    export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=1:second_deadlock_stack=1:history_size=4"
    run build-tsan store_tests -tc='*concurrent*,*at once*,*exactly one of many callers*,*created once*'
    run build-tsan backend_tests -tc='*concurrent*'
    run build-tsan http_tests -tc='200 one-time passwords*'
    unset TSAN_OPTIONS
fi
exit $failed
