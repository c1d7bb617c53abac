#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue 17's measurements (BENCHMARKS.md "Pinned"): the server on core 0, scep-bench on core 1.
#   RSA floor of the same run: `openssl speed rsa2048` on core 0 (one core), / 3 per enrolment.
#   scep-ra C=16 single password and one-time passwords, server CPU per enrolment from /proc;
#   C=16 with 1,000 idle keep-alive connections from 127.0.0.2-127.0.0.11 against a same-run baseline;
#   C=256 with a CA that answers in 200 ms (needs a build with -DSCEPRA_BENCH_CA_DELAY=ON);
#   micromdm scepserver pinned the same way (SKIP_MICROMDM=1 to leave it out).
# Usage: BUILD=build N=400 tools/bench/run-pinned.sh      Results: $OUT/*.json and a summary on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
B=$BUILD/ra/scep-ra
S=$BUILD/tools/scep-bench
OUT=${OUT:-/tmp/scep-pinned}
RA=${RA_DIR:-$OUT/ra}
N=${N:-400}
DELAY_N=${DELAY_N:-1280}
SERVER_CPU=${SERVER_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
MICROMDM=${MICROMDM:-/work/shared/interop/micromdm}
MM_PORT=${MM_PORT:-18473}
MM_WORKDIR=${MM_WORKDIR:-$OUT/micromdm}
KEYS=${KEYS:-$OUT/keys.pem}
DISTINCT=${DISTINCT:-0}  # >0: at most this many device keys, reused in turn (saves key generation on a busy machine)
mkdir -p "$OUT"
rm -f "$OUT"/*.json

RA_PID=
stop_ra() { if [ -n "$RA_PID" ]; then kill "$RA_PID" 2>/dev/null || true; wait "$RA_PID" 2>/dev/null || true; RA_PID=; fi; }
MM_STARTED=
stop_all() {
    stop_ra
    if [ -n "$MM_STARTED" ]; then WORKDIR=$MM_WORKDIR "$MICROMDM/stop.sh" >/dev/null 2>&1 || true; fi
}
trap stop_all EXIT
set_conf() { sed -i "s/^$1 = .*/$1 = $2/" "$RA/scep-ra.conf"; }
start_ra() {  # start_ra [ENV=VALUE...]: serve pinned to SERVER_CPU
    rm -f "$RA/port"
    env "$@" taskset -c "$SERVER_CPU" "$B" serve --config "$RA/scep-ra.conf" --listen 127.0.0.1:0 \
        --metrics-listen 127.0.0.1:0 --port-file "$RA/port" >"$RA/serve.log" 2>&1 &
    RA_PID=$!
    for _ in $(seq 1 500); do [ -s "$RA/port" ] && break; sleep 0.02; done
    [ -s "$RA/port" ] || { echo "scep-ra did not start" >&2; cat "$RA/serve.log" >&2; exit 1; }
    URL="http://127.0.0.1:$(cat "$RA/port")/certsrv/mscep/mscep.dll"
}
bench() {  # bench LABEL ARGS...: scep-bench pinned to BENCH_CPU against $URL, server CPU of $RA_PID
    local label=$1; shift
    echo "== $label: load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    "$S" "$URL" "$@" --pin "$BENCH_CPU" --baseline-threads 1 --server-pid "$RA_PID" --json >"$OUT/$label.json" || true
}

{ date -u; nproc; grep -m1 'model name' /proc/cpuinfo; openssl version; uptime; git rev-parse --short HEAD; } >"$OUT/machine.txt"
# The one-core RSA-2048 sign rate, on the server's core.
taskset -c "$SERVER_CPU" openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048/ {print $6}' >"$OUT/rsa-sign-1core.txt"

rm -rf "$RA"
"$B" init --dir "$RA" >/dev/null
set_conf PasswordMax 100000

# Single password.
SINGLE=BenchSingle-$$
set_conf UseSinglePassword 1
printf '%s\n' "$SINGLE" | "$B" password set-single --config "$RA/scep-ra.conf" >/dev/null
start_ra
bench single-c16 enroll -n "$N" -c 16 --verify-every 10 --cache "$KEYS" --distinct-keys "$DISTINCT" --challenge "$SINGLE"
# The same server with 1,000 idle keep-alive connections from other addresses, then again without.
bench single-c16-idle1000 enroll -n "$N" -c 16 --verify-every 10 --cache "$KEYS" --distinct-keys "$DISTINCT" --challenge "$SINGLE" \
    --idle-connections 1000
bench single-c16-again enroll -n "$N" -c 16 --verify-every 10 --cache "$KEYS" --distinct-keys "$DISTINCT" --challenge "$SINGLE"
bench getcacert-c16 getcacert -n 5000 -c 16 --skip-baseline
stop_ra

# One-time passwords.
set_conf UseSinglePassword 0
for _ in $(seq 1 "$N"); do "$B" password issue --config "$RA/scep-ra.conf"; done >"$OUT/otp.txt"
start_ra
bench otp-c16 enroll -n "$N" -c 16 --verify-every 10 --cache "$KEYS" --distinct-keys "$DISTINCT" --challenge-file "$OUT/otp.txt"
stop_ra

# A CA 200 ms away, C=256 (benchmark build only).
if grep -q SCEP_RA_BENCH_CA_DELAY_MS "$B"; then
    set_conf UseSinglePassword 1
    for threads in 64 256; do
        set_conf threads "$threads"
        start_ra SCEP_RA_BENCH_CA_DELAY_MS=200
        bench delay200-c256-t$threads enroll -n "$DELAY_N" -c 256 --verify-every 10 --cache "$KEYS" --distinct-keys "$DISTINCT" \
            --challenge "$SINGLE" --skip-baseline
        stop_ra
    done
    set_conf threads 64
else
    echo "(no CA delay in $B: build with -DSCEPRA_BENCH_CA_DELAY=ON for the 200 ms runs)" >&2
fi

# micromdm scepserver, pinned the same way.
if [ "${SKIP_MICROMDM:-0}" != 1 ]; then
    PORT=$MM_PORT CHALLENGE=secret WORKDIR=$MM_WORKDIR "$MICROMDM/start.sh" >/dev/null
    MM_STARTED=1
    RA_PID=$(cat "$MM_WORKDIR/scepserver.pid")
    taskset -a -p -c "$SERVER_CPU" "$RA_PID" >/dev/null
    URL="http://127.0.0.1:$MM_PORT/scep"
    for label in mm-enroll-c16; do
        echo "== $label: load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
        ip netns exec scepns "$S" "$URL" enroll -n "$N" -c 16 --verify-every 10 --cache "$KEYS" --distinct-keys "$DISTINCT" --challenge secret \
            --pin "$BENCH_CPU" --baseline-threads 1 --server-pid "$RA_PID" --json >"$OUT/$label.json" || true
    done
    ip netns exec scepns "$S" "$URL" getcacert -n 5000 -c 16 --skip-baseline --pin "$BENCH_CPU" \
        --server-pid "$RA_PID" --json >"$OUT/mm-getcacert-c16.json" || true
    RA_PID=
fi

python3 - "$OUT" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
sign = float((out / "rsa-sign-1core.txt").read_text().split()[0] or 0)
print(f"one-core RSA-2048 signs/s {sign:.0f}: limit {sign/3:.0f} enrolments/s, floor {3000/sign:.3f} ms/enrolment")
print("| run | ok/sent | rate/s | % of 1-core limit | p50 ms | p99 ms | mean (C/rate) ms | server CPU ms/ok | x floor | RSS peak MiB | threads | dup serials |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for f in sorted(out.glob("*.json")):
    try:
        r = json.loads(f.read_text())
    except Exception:
        print(f"| {f.stem} | (no result) |"); continue
    s = r.get("server") or {}
    rate = r["rate_per_second"]; c = r["concurrency"]
    cpu = s.get("cpu_ms_per_success")
    print(f"| {f.stem} | {r['successes']}/{r['requests']} | {rate:.1f} | {100*rate/(sign/3):.0f} % | {r['latency_ms']['p50']:.1f} | "
          f"{r['latency_ms']['p99']:.1f} | {1000*c/rate if rate else 0:.1f} | {cpu if cpu is None else round(cpu,2)} | "
          f"{'' if cpu is None else round(cpu/(3000/sign),2)} | {s.get('rss_peak_kib',0)/1024:.1f} | {s.get('threads_peak','')} | {r.get('duplicate_serials','')} |")
    if "idle" in r:
        print(f"|  idle: {r['idle']} |")
PY
