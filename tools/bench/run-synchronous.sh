#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The cost of PRAGMA synchronous=FULL per enrolment (issue 9): two instances,
# one served with SCEP_RA_SQLITE_SYNCHRONOUS=NORMAL and one with FULL (the
# default), measured in alternating pairs in the same run, one-time passwords,
# loopback only, every run bounded. Prints each run's rate, p50 latency and
# the server's CPU time per request.
# Knobs: BUILD=build N=300 CONCURRENCY="1 16" PAIRS=3 OUT=/tmp/scep-bench-sync KEYS=$OUT/keys.pem
set -euo pipefail
BUILD=${BUILD:-build}
B=$BUILD/ra/scep-ra
S=$BUILD/tools/scep-bench
N=${N:-300}
CONCURRENCY=${CONCURRENCY:-1 16}
PAIRS=${PAIRS:-3}
OUT=${OUT:-/tmp/scep-bench-sync}
rm -rf "$OUT" && mkdir -p "$OUT"
KEYS=${KEYS:-$OUT/keys.pem}
PIDS=()
declare -A SERVE_PID
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

for mode in NORMAL FULL; do
    "$B" init --dir "$OUT/$mode" --admin-listen none > /dev/null
    sed -i 's/^PasswordMax = .*/PasswordMax = 100000/' "$OUT/$mode/scep-ra.conf"
    SCEP_RA_SQLITE_SYNCHRONOUS=$mode "$B" serve --config "$OUT/$mode/scep-ra.conf" --listen 127.0.0.1:0 \
        --port-file "$OUT/$mode/port" > "$OUT/$mode/serve.log" 2>&1 &
    PIDS+=($!)
    SERVE_PID[$mode]=$!
done
for mode in NORMAL FULL; do
    for _ in $(seq 1 500); do [ -s "$OUT/$mode/port" ] && break; sleep 0.01; done
done

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d$2)" "$1"; }
for c in $CONCURRENCY; do
    for pair in $(seq 1 "$PAIRS"); do
        for mode in NORMAL FULL; do
            conf="$OUT/$mode/scep-ra.conf"
            for _ in $(seq 1 "$N"); do "$B" password issue --config "$conf"; done > "$OUT/$mode/otp-$c-$pair.txt"
            url="http://127.0.0.1:$(cat "$OUT/$mode/port")/certsrv/mscep/mscep.dll"
            ticks_before=$(awk '{print $14 + $15}' "/proc/${SERVE_PID[$mode]}/stat")
            out="$OUT/$mode-c$c-$pair.json"
            "$S" "$url" enroll --cache "$KEYS" --requests "$N" --concurrency "$c" --verify-every 10 --skip-baseline \
                --challenge-file "$OUT/$mode/otp-$c-$pair.txt" --json > "$out"
            ticks=$(( $(awk '{print $14 + $15}' "/proc/${SERVE_PID[$mode]}/stat") - ticks_before ))
            cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$N" 'BEGIN {printf "%.2f", 1000 * t / hz / n}')
            echo "C=$c pair $pair $mode: ok $(json "$out" "['successes']") of $N, $(json "$out" "['rate_per_second']") req/s," \
                 "p50 $(json "$out" "['latency_ms']['p50']") ms, server CPU $cpu ms/req"
        done
    done
done
