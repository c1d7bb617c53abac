#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan on all
# code) in ./build-fuzz and runs each one for SECONDS (default 10) from its
# seed corpus and its dictionary (tests/fuzz/scep.dict, json.dict for the
# readers of JSON, or TARGET.dict of its own). One line per target; exit 1 when any
# target crashed (the input is kept in build-fuzz/artifacts/TARGET/).
#
#   tools/run-fuzz.sh [SECONDS]     fuzz every target
#   tools/run-fuzz.sh --replay      run the known crashing inputs of
#                                   tests/fuzz/regressions/TARGET/ once each
#   tools/run-fuzz.sh --no-build [SECONDS]   run the targets already built
#   tools/run-fuzz.sh --keep-going SECONDS    go on after a crash (libFuzzer's
#                                   fork mode) and count the crashing inputs
#   (--no-build comes first when both are given)
#   TARGETS="csr envelope" tools/run-fuzz.sh 60     a subset
#   JOBS=2 tools/run-fuzz.sh 10     two targets at a time (default: 1)
#   BUILD_DIR=build-asan tools/run-fuzz.sh --no-build 10   the targets of the
#                                   sanitizer build (tools/run-sanitizers.sh asan)
# A target that does not build is reported as BUILD FAILED (exit 1); the
# others still run.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=fuzz
seconds=10
build=1
if [ "${1:-}" = "--no-build" ]; then
    build=0
    shift
fi
keep_going=()
if [ "${1:-}" = "--keep-going" ]; then
    keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    shift
fi
case "${1:-}" in
    --replay) mode=replay ;;
    "") ;;
    *[!0-9]*) echo "usage: $0 [SECONDS] | --replay" >&2; exit 2 ;;
    *) seconds=$1 ;;
esac
all_targets="signed_message envelope csr issuer_and_serial degenerate get_message admin_request ntlm_message flat_json config ejbca_answers bridge_answers intune_answers webhook_answer bounded_json base64 crl"
# The readers of JSON (remote systems' answers and the base64 of their byte
# arrays, the admin page's POSTed body) take JSON words; a target with a
# dictionary of its own (tests/fuzz/TARGET.dict) takes that; the others SCEP,
# DER and configuration words.
json_targets=" flat_json ejbca_answers bridge_answers intune_answers webhook_answer bounded_json base64 "
targets=${TARGETS:-$all_targets}
BUILD_DIR=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-1}

start=$(date +%s)
declare -A unbuilt=()
if [ $build -eq 1 ]; then
    tools/install-deps.sh --fuzz
    sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link -fno-omit-frame-pointer"
    CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSCEPRA_WERROR=ON -DSCEPRA_BUILD_TESTS=OFF -DSCEPRA_FUZZ=ON \
        -DCMAKE_CXX_FLAGS="$sanitize" > /dev/null
    mkdir -p "$BUILD_DIR/logs"
    for t in $targets; do
        if ! cmake --build "$BUILD_DIR" --parallel "$(nproc)" --target "fuzz_$t" > "$BUILD_DIR/logs/build-$t.log" 2>&1; then
            unbuilt[$t]=1
            rm -f "$BUILD_DIR/tests/fuzz/fuzz_$t"  # never run a stale binary
        fi
    done
    echo "build: $(( $(date +%s) - start )) s"
fi

# A report from either sanitizer ends the run; leaks are checked too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# fuzz_one TARGET: one line for the target in $BUILD_DIR/logs/TARGET.result;
# returns 1 when it crashed, did not build, or still crashes on replay.
fuzz_one() {
    local t=$1
    local bin="$BUILD_DIR/tests/fuzz/fuzz_$t"
    local log="$BUILD_DIR/logs/$t.log"
    local result="$BUILD_DIR/logs/$t.result"
    if [ -n "${unbuilt[$t]:-}" ] || [ ! -x "$bin" ]; then
        printf '%-18s BUILD FAILED: %s\n' "$t" \
            "$(grep -m1 'error:' "$BUILD_DIR/logs/build-$t.log" 2> /dev/null || echo "no binary $bin")" > "$result"
        return 1
    fi
    if [ "$mode" = replay ]; then
        local inputs=(tests/fuzz/regressions/"$t"/*)
        [ -e "${inputs[0]}" ] || { printf '%-18s no regression inputs\n' "$t" > "$result"; return 0; }
        local bad=0 input
        : > "$result"
        for input in "${inputs[@]}"; do
            if ! "$bin" "$input" > "$log" 2>&1; then
                bad=$((bad + 1))
                printf '%-18s CRASH %s: %s\n' "$t" "$input" \
                    "$(grep -m1 -E 'ERROR: (Address|UndefinedBehavior|LeakSanitizer|libFuzzer)|runtime error|uncaught exception' "$log" || echo see "$log")" >> "$result"
            fi
        done
        [ $bad -eq 0 ] && printf '%-18s ok (%d inputs replayed)\n' "$t" "${#inputs[@]}" > "$result"
        [ $bad -eq 0 ]
        return
    fi
    local corpus="$BUILD_DIR/corpus/$t"
    local artifacts="$BUILD_DIR/artifacts/$t"
    rm -rf "$artifacts"
    mkdir -p "$corpus" "$artifacts"
    local rc=0 dict=tests/fuzz/scep.dict
    [[ "$json_targets" != *" $t "* ]] || dict=tests/fuzz/json.dict
    [ ! -f "tests/fuzz/$t.dict" ] || dict=tests/fuzz/$t.dict
    "$bin" "${keep_going[@]}" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="$dict" -artifact_prefix="$artifacts/" "$corpus" "tests/fuzz/corpus/$t" > "$log" 2>&1 || rc=$?
    # "#RUNS<tab>KIND cov: C ft: F" or, in fork mode, "#RUNS: cov: C ft: F".
    local last runs cov crashes outcome
    last=$(grep -E '^#[0-9]+(:|[[:space:]]+[A-Z]+)[[:space:]]+cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    [ -n "$runs" ] || runs=$(sed -E 's/^#([0-9]+).*/\1/' <<< "$last")
    cov=$(sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1 ft=\2/' <<< "$last")
    crashes=$(find "$artifacts" -type f | wc -l)
    local ok=0
    if [ $rc -eq 0 ] && [ "$crashes" -eq 0 ]; then
        outcome=ok
    else
        ok=1
        outcome="CRASH x$crashes $(ls -t "$artifacts" 2> /dev/null | head -1 | sed "s|^|$artifacts/|") ($(grep -m1 -oE 'runtime error: .{0,80}|SUMMARY: [A-Za-z]+: [a-z-]+|uncaught exception|deadly signal|ALARM: working on the last Unit' "$log" || echo "exit $rc"))"
    fi
    printf '%-18s runs=%-9s cov=%-14s corpus=%-5s %s\n' "$t" "${runs:-?}" "${cov:-?}" "$(ls "$corpus" | wc -l)" "$outcome" > "$result"
    return $ok
}

# JOBS targets at a time (each libFuzzer run is one process on one core).
mkdir -p "$BUILD_DIR/logs"
for t in $targets; do
    rm -f "$BUILD_DIR/logs/$t.result"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n || true
    done
    fuzz_one "$t" &
done
wait || true
# The outcome is in each line (a job reaped by wait -n has no status left to ask).
failed=0
for t in $targets; do
    cat "$BUILD_DIR/logs/$t.result" 2> /dev/null || echo "$t: no result"
    grep -qE '^[a-z0-9_]+ +(runs=.* ok$|ok \(|no regression)' "$BUILD_DIR/logs/$t.result" 2> /dev/null || failed=1
done
echo "total: $(( $(date +%s) - start )) s"
exit $failed
