#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The unit and integration test executables under sanitizers (not the
# interop, browser or bench tests, which drive outside programs).
#
#   tools/run-sanitizers.sh [asan|tsan|all|ci] [--build-only|--no-build]   (default all)
#
# --build-only builds what the runs need and stops (tools/run-tests.sh builds
# at nice 19 while ctest runs, on the CPU the tests leave idle); --no-build
# runs what was built.
#
# asan: ./build-asan, clang -O2, AddressSanitizer + UndefinedBehaviorSanitizer
#       with -fno-sanitize-recover=undefined, LeakSanitizer at exit with no
#       suppression (the one process-lifetime allocation, OpenSSL's legacy
#       provider, is given back at exit: scep::enable_legacy_ciphers).
#       The same folder, with the same flags as tools/run-fuzz.sh, holds the
#       libFuzzer targets (-fsanitize=fuzzer-no-link on all code), so CI builds
#       the project once for both: BUILD_DIR=build-asan tools/run-fuzz.sh
#       --no-build 10 runs them.
# tsan: ./build-tsan, gcc -O0, ThreadSanitizer on the concurrency tests only
#       (TSAN_RUNS below), suppressions in tools/sanitizers/tsan.supp. (gcc 12
#       with a sanitizer and optimisation warns maybe-uninitialized inside
#       libstdc++'s <regex>, a false positive -Werror would turn into a failed
#       build; -O0 compiles fastest anyway.)
# ci:   what tools/run-tests.sh runs within its time budget (TESTING.md):
#       the asan build with the ASAN_CI_RUNS test executables (all), the fuzz
#       targets 10 s each and the known crashing inputs replayed, then the
#       tsan build and TSAN_CI_RUNS; two at a time.
# Warnings stay errors in both.
# One line per test executable; exit 1 when any failed (logs in BUILD/logs/).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case "$what" in asan | tsan | all | ci) ;; *) echo "usage: $0 [asan|tsan|all|ci] [--build-only|--no-build]" >&2; exit 2 ;; esac
steps=${2:-}
case "$steps" in "" | --build-only | --no-build) ;; *) echo "usage: $0 [asan|tsan|all|ci] [--build-only|--no-build]" >&2; exit 2 ;; esac

tools/install-deps.sh --fuzz
supp="$PWD/tools/sanitizers"
jobs=${JOBS:-$(nproc)}
failed=0

# Every test executable, whole, the longest first (two run at a time, so the
# longest does not start last); the tests that race threads, alone under TSan.
ASAN_ALL_RUNS=(http_tests cli_tests adcs_tests intune_tests remote_ca_tests hostile_tests store_tests ejbca_tests
               contract_tests backend_tests core_tests crypto_tests scep_tests metrics_tests)
# CI's share (TESTING.md, "Sanitizers" and "CI budget"): all of them since
# session 10, when leaving the slow unwinder cut their CPU from about 990 to
# 300 s. The extra compilations over what scep-ra, hostile_tests and the fuzz
# targets put in build-asan anyway: 9 unity batches, 173 CPU s cold. This is
# the knob if CI's time runs short.
ASAN_CI_RUNS=("${ASAN_ALL_RUNS[@]}")
# store_tests: every case that starts threads (one-time passwords, claims,
# the HMAC key file, admin logins, the single password and its bursts) and
# every case of Database::write's group commit (store.group_commit: writers
# queued, throwing and failing in one batch, a write inside a write); check
# with `build-tsan/tests/store_tests -ltc -tc=...` (13 cases).
TSAN_STORE_RUN="store_tests -tc=*concurrent*,*at*once*,*exactly*one*of*many*callers*,*created*once*,*writer*,*write*inside*a*write*,*burst*,*max_waiting*"
TSAN_BACKEND_RUN="backend_tests -tc=*concurrent*"
TSAN_RUNS=("$TSAN_STORE_RUN" "$TSAN_BACKEND_RUN" "http_tests -tc=200*one-time*passwords*")
# CI runs them all since session 10: with the unity build, build-tsan for the
# three (the whole project under gcc -O0 TSan, 40 compilations) costs 241 CPU s
# cold, about 100 s of CI's wall time more than the store and backend alone.
TSAN_CI_RUNS=("${TSAN_RUNS[@]}")

# build DIR CXX FLAGS OPT_FLAGS FUZZ(ON|OFF) TARGETS...   (OPT_FLAGS empty: RelWithDebInfo's)
build() {
    local dir=$1 cxx=$2 flags=$3 opt=$4 fuzz=$5
    shift 5
    [ "$steps" != --no-build ] || return 0
    local start
    start=$(date +%s)
    local opt_args=()
    [ -z "$opt" ] || opt_args=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt")
    CXX=$cxx cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCEPRA_WERROR=ON \
        -DSCEPRA_FUZZ="$fuzz" -DCMAKE_CXX_FLAGS="$flags" "${opt_args[@]}" > /dev/null
    mkdir -p "$dir/logs"
    if ! cmake --build "$dir" --parallel "$(nproc)" --target "$@" > "$dir/logs/build.log" 2>&1; then
        grep -m20 -E 'error|FAILED' "$dir/logs/build.log" || tail -30 "$dir/logs/build.log"
        echo "$dir: BUILD FAILED"
        exit 1
    fi
    echo "$dir: build $(($(date +%s) - start)) s"
}

# executables RUN...: the distinct executable names of runs like "http_tests -tc=...".
executables() {
    local r
    for r in "$@"; do echo "${r%% *}"; done | sort -u
}

# A sanitizer's report or a doctest assertion that failed.
failure_lines='ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error|SUMMARY|: ERROR: '

# run_one DIR RUN: "EXE [doctest args]" (no spaces inside an argument; doctest
# filters take * for them) -> one line in DIR/logs/N.result.
run_one() {
    local dir=$1 exe=${2%% *} args=() log result start rc=0
    [ "$2" = "$exe" ] || read -r -a args <<< "${2#* }"
    log="$dir/logs/$(tr -c 'A-Za-z0-9_\n' '_' <<< "$2" | head -c 80).log"
    result="${log%.log}.result"
    start=$(date +%s)
    /usr/bin/time -f '%U %S' -o "${log%.log}.cpu" "$dir/tests/$exe" ${args[@]+"${args[@]}"} > "$log" 2>&1 || rc=$?
    local summary cpu
    summary=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1 | sed 's/^\[doctest\] //' || true)
    cpu=$(tail -1 "${log%.log}.cpu" 2> /dev/null | awk '{printf "%d", $1 + $2}')
    if [ $rc -eq 0 ]; then
        printf '%-12s %-60s ok     %4d s (cpu %4s s)  %s\n' "$(basename "$dir")" "$2" $(($(date +%s) - start)) "$cpu" \
            "$summary" > "$result"
    else
        printf '%-12s %-60s FAILED %4d s (cpu %4s s)  %s  %s\n' "$(basename "$dir")" "$2" $(($(date +%s) - start)) \
            "$cpu" "$summary" "$(grep -m1 -E "$failure_lines" "$log" || echo "exit $rc, see $log")" > "$result"
        # CI keeps only what is printed: the first failures, each with a few lines after it.
        grep -m5 -A4 -E "$failure_lines" "$log" | head -40 | sed 's/^/    /' >> "$result"
        return 1
    fi
}

# run_all DIR RUN...: JOBS runs at a time, one line each in the order given.
run_all() {
    local dir=$1
    shift
    [ "$steps" != --build-only ] || return 0
    mkdir -p "$dir/logs"
    local -a results=()
    local r
    for r in "$@"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
            wait -n || true
        done
        run_one "$dir" "$r" &
        results+=("$dir/logs/$(tr -c 'A-Za-z0-9_\n' '_' <<< "$r" | head -c 80).result")
    done
    wait || true
    # The outcome is in each line (a job reaped by wait -n has no status left to ask).
    for r in "${results[@]}"; do
        cat "$r" 2> /dev/null || echo "$r: no result"
        grep -q ' ok  ' "$r" 2> /dev/null || failed=1
    done
}

# The flags of tools/run-fuzz.sh, in the same order (a shared ccache then serves both).
asan_flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link -fno-omit-frame-pointer"
tsan_flags="-fsanitize=thread -fno-omit-frame-pointer"

if [ "$what" = asan ] || [ "$what" = all ] || [ "$what" = ci ]; then
    if [ "$what" = ci ]; then runs=("${ASAN_CI_RUNS[@]}"); else runs=("${ASAN_ALL_RUNS[@]}"); fi
    fuzz_targets=$(sed -n 's/^all_targets="\(.*\)"$/\1/p' tools/run-fuzz.sh)
    # shellcheck disable=SC2046
    build build-asan clang++ "$asan_flags" "-O2 -gline-tables-only -DNDEBUG" ON scep-ra $(executables "${runs[@]}") \
        $(for t in $fuzz_targets; do echo "fuzz_$t"; done)
    # Child processes (scep-ra) inherit these. Allocation stacks use ASan's
    # fast unwinder (frame pointers): they stop at libcrypto, which has none,
    # but our own frames are complete. (The slow unwinder cost 16 times the
    # CPU: TESTING.md, session 10.)
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    run_all build-asan "${runs[@]}"
    unset ASAN_OPTIONS UBSAN_OPTIONS
    if [ "$what" = ci ] && [ "$steps" != --build-only ]; then
        BUILD_DIR=build-asan JOBS=$jobs tools/run-fuzz.sh --no-build 10 || failed=1
        # Every crash found so far, kept in tests/fuzz/regressions/, once each.
        BUILD_DIR=build-asan tools/run-fuzz.sh --no-build --replay || failed=1
    fi
fi

if [ "$what" != asan ] && { [ "$what" != ci ] || [ ${#TSAN_CI_RUNS[@]} -gt 0 ]; }; then
    # The tests that race threads against each other: one-time passwords used
    # by concurrent enrolments (200 x 4, through the real server), request claims
    # taken over by many callers, concurrent issuers, logins, scrypt and CA serials.
    if [ "$what" = ci ]; then truns=("${TSAN_CI_RUNS[@]}"); else truns=("${TSAN_RUNS[@]}"); fi
    # shellcheck disable=SC2046
    build build-tsan g++ "$tsan_flags" "-O0 -g" OFF $(executables "${truns[@]}")
    export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=1:second_deadlock_stack=1:history_size=4"
    run_all build-tsan "${truns[@]}"
    unset TSAN_OPTIONS
fi
exit $failed
