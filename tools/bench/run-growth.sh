#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The growth benchmark of issue 5: enrolment rate with one-time passwords on
# an empty database against one holding 1,000,000 audit rows, 100,000
# certificates and 10,000 outstanding one-time passwords, measured in
# alternating pairs in the same run. Loopback only; every run is bounded.
# Prints each run's rate and the server's CPU time per request (utime + stime of
# its `serve`), which is steadier than the rate on a shared machine.
# Knobs: BUILD=/work/main/build N=400 C=16 PAIRS=2 OUT=/tmp/scep-bench-growth
#        KEYS=$OUT/keys.pem (a key cache kept outside OUT saves the key generation)
set -euo pipefail
BUILD=${BUILD:-/work/main/build}
B=$BUILD/ra/scep-ra
S=$BUILD/tools/scep-bench
N=${N:-400}
C=${C:-16}
PAIRS=${PAIRS:-2}
OUT=${OUT:-/tmp/scep-bench-growth}
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$OUT" && mkdir -p "$OUT"
KEYS=${KEYS:-$OUT/keys.pem}
PIDS=()
declare -A SERVE_PID
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

for kind in empty grown; do
    "$B" init --dir "$OUT/$kind" --admin-listen none > /dev/null
    sed -i 's/^PasswordMax = .*/PasswordMax = 100000/' "$OUT/$kind/scep-ra.conf"
done
"$HERE/grow-database.sh" "$OUT/grown/scep-ra.db"

for kind in empty grown; do
    "$B" serve --config "$OUT/$kind/scep-ra.conf" --listen 127.0.0.1:0 --port-file "$OUT/$kind/port" \
        > "$OUT/$kind/serve.log" 2>&1 &
    PIDS+=($!)
    SERVE_PID[$kind]=$!
done
for kind in empty grown; do
    for _ in $(seq 1 500); do [ -s "$OUT/$kind/port" ] && break; sleep 0.01; done
done

for pair in $(seq 1 "$PAIRS"); do
    for kind in empty grown; do
        conf="$OUT/$kind/scep-ra.conf"
        for _ in $(seq 1 "$N"); do "$B" password issue --config "$conf"; done > "$OUT/$kind/otp-$pair.txt"
        url="http://127.0.0.1:$(cat "$OUT/$kind/port")/certsrv/mscep/mscep.dll"
        ticks_before=$(awk '{print $14 + $15}' "/proc/${SERVE_PID[$kind]}/stat")
        "$S" "$url" enroll --cache "$KEYS" --requests "$N" --concurrency "$C" --verify-every 10 \
            --challenge-file "$OUT/$kind/otp-$pair.txt" --json > "$OUT/$kind-$pair.json"
        rate=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['rate_per_second'], 1))" "$OUT/$kind-$pair.json" 2>/dev/null ||
               grep -o '"rate[^,]*' "$OUT/$kind-$pair.json" | head -1)
        ticks=$(( $(awk '{print $14 + $15}' "/proc/${SERVE_PID[$kind]}/stat") - ticks_before ))
        cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$N" 'BEGIN {printf "%.2f", 1000 * t / hz / n}')
        echo "pair $pair $kind: $rate req/s, server CPU $cpu ms/req"
    done
done
