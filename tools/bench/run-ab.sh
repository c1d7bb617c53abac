#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Same-run A/B of two scep-ra binaries (issue 17): both served at once, each
# with its own fresh instance, pinned to core 0 as run-pinned.sh does (the one
# not being measured is idle); scep-bench on core 1 enrols against A and B in
# turn, ABBA order, so drift in the machine's load falls on both. Each run
# reports the server's CPU per enrolment from /proc (--server-pid), its rate,
# p50/p99 and the load average. A warm-up run per instance first (not
# reported): the first run on a fresh database grows the WAL file.
# Usage: A=/tmp/old/scep-ra B=build/ra/scep-ra [PAIRS=4 N=400 C=16 CHALLENGE=single|otp] tools/bench/run-ab.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
A=${A:?A=old scep-ra binary}
B=${B:?B=new scep-ra binary}
S=${S:-build/tools/scep-bench}
PAIRS=${PAIRS:-4}
N=${N:-400}
C=${C:-16}
CHALLENGE=${CHALLENGE:-single}
OUT=${OUT:-/tmp/scep-ab}
KEYS=${KEYS:-$OUT/keys.pem}
SERVER_CPU=${SERVER_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
mkdir -p "$OUT"
rm -rf "$OUT"/A "$OUT"/B "$OUT"/*.json
declare -A PID URL BIN=([A]=$A [B]=$B)
trap 'for p in "${PID[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
SINGLE=BenchAB-$$
for side in A B; do
    dir=$OUT/$side
    "${BIN[$side]}" init --dir "$dir" --admin-listen none >/dev/null
    sed -i 's/^PasswordMax = .*/PasswordMax = 100000/' "$dir/scep-ra.conf"
    if [ "$CHALLENGE" = single ]; then
        sed -i 's/^UseSinglePassword = .*/UseSinglePassword = 1/' "$dir/scep-ra.conf"
        printf '%s\n' "$SINGLE" | "${BIN[$side]}" password set-single --config "$dir/scep-ra.conf" >/dev/null
    fi
    taskset -c "$SERVER_CPU" "${BIN[$side]}" serve --config "$dir/scep-ra.conf" --listen 127.0.0.1:0 \
        --metrics-listen 127.0.0.1:0 --port-file "$dir/port" >"$dir/serve.log" 2>&1 &
    PID[$side]=$!
done
for side in A B; do
    for _ in $(seq 1 500); do [ -s "$OUT/$side/port" ] && break; sleep 0.02; done
    [ -s "$OUT/$side/port" ] || { echo "$side did not start" >&2; cat "$OUT/$side/serve.log" >&2; exit 1; }
    URL[$side]="http://127.0.0.1:$(cat "$OUT/$side/port")/certsrv/mscep/mscep.dll"
done

run() {  # run SIDE LABEL COUNT
    local side=$1 label=$2 count=$3 challenge=(--challenge "$SINGLE")
    if [ "$CHALLENGE" = otp ]; then
        for _ in $(seq 1 "$count"); do "${BIN[$side]}" password issue --config "$OUT/$side/scep-ra.conf"; done \
            >"$OUT/$side/otp.txt"
        challenge=(--challenge-file "$OUT/$side/otp.txt")
    fi
    local load
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    "$S" "${URL[$side]}" enroll -n "$count" -c "$C" --verify-every 10 --cache "$KEYS" "${challenge[@]}" \
        --pin "$BENCH_CPU" --skip-baseline --server-pid "${PID[$side]}" --json >"$OUT/$label.json" 2>/dev/null || true
    python3 - "$OUT/$label.json" "$label" "$load" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = r.get("server") or {}
print(f"| {sys.argv[2]} | {r['successes']}/{r['requests']} | {r['rate_per_second']:.1f} | {r['latency_ms']['p50']:.1f} | "
      f"{r['latency_ms']['p99']:.1f} | {s.get('cpu_ms_per_success', 0):.3f} | {r.get('duplicate_serials', '')} | {sys.argv[3]} |")
PY
}

echo "A=$A B=$B N=$N C=$C CHALLENGE=$CHALLENGE $(date -u +%H:%M:%S) UTC"
echo "| run | ok/sent | req/s | p50 ms | p99 ms | server CPU ms/ok | dup serials | load (1, 5, 15 min) |"
echo "|---|---|---|---|---|---|---|---|"
run A warm-A $((N / 2)) >/dev/null
run B warm-B $((N / 2)) >/dev/null
for pair in $(seq 1 "$PAIRS"); do
    if [ $((pair % 2)) = 1 ]; then order="A B"; else order="B A"; fi
    for side in $order; do run "$side" "$side$pair" "$N"; done
done
python3 - "$OUT" "$PAIRS" <<'PY'
import json, sys, statistics
out, pairs = sys.argv[1], int(sys.argv[2])
def load(side, field):
    vals = []
    for p in range(1, pairs + 1):
        r = json.load(open(f"{out}/{side}{p}.json"))
        vals.append(r["server"]["cpu_ms_per_success"] if field == "cpu" else r["rate_per_second"])
    return vals
cpu_a, cpu_b, rate_a, rate_b = load("A", "cpu"), load("B", "cpu"), load("A", "rate"), load("B", "rate")
print(f"median CPU ms/ok: A {statistics.median(cpu_a):.3f}  B {statistics.median(cpu_b):.3f}  "
      f"B/A {statistics.median(cpu_b) / statistics.median(cpu_a):.3f}")
print(f"median req/s:     A {statistics.median(rate_a):.1f}  B {statistics.median(rate_b):.1f}  "
      f"B/A {statistics.median(rate_b) / statistics.median(rate_a):.3f}")
PY
