#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs the BENCHMARKS.md measurements: scep-ra (no challenge, single password, one-time passwords,
# C=64 with memory, start-up time) and micromdm scepserver side by side, all on loopback, and prints a table.
# Usage: tools/bench/run-benchmarks.sh   (as root: micromdm runs in network namespace scepns)
# Knobs: BUILD=/work/main/build-bench RA_BIN=... N=200 GET_N=10000 C64_N=640 OUT=/tmp/scep-bench-results
#        SKIP_MICROMDM=1 PERF=1 (perf record one C=16 enrolment run of scep-ra)
#        QUIET_WAIT=300: before each run wait up to this many seconds for the machine to be idle
#        (other processes under 15% CPU over one second); the busy % seen is recorded either way.
set -euo pipefail

BUILD=${BUILD:-/work/main/build-bench}
B=${RA_BIN:-$BUILD/ra/scep-ra}
S=${BENCH_BIN:-$BUILD/tools/scep-bench}
OUT=${OUT:-/tmp/scep-bench-results}
RA=${RA_DIR:-/tmp/bench-ra}
N=${N:-200}
GET_N=${GET_N:-10000}
C64_N=${C64_N:-640}
MICROMDM=${MICROMDM:-/work/shared/interop/micromdm}
MM_PORT=${MM_PORT:-8080}
MM_CHALLENGE=secret
KEYS=$OUT/keys.pem
mkdir -p "$OUT"

RA_PID=
stop_ra() {
    if [ -n "$RA_PID" ]; then kill "$RA_PID" 2>/dev/null || true; wait "$RA_PID" 2>/dev/null || true; RA_PID=; fi
}
MM_STARTED=
stop_all() {
    stop_ra
    if [ -n "$MM_STARTED" ]; then "$MICROMDM/stop.sh" >/dev/null 2>&1 || true; fi
}
trap stop_all EXIT

# start_ra: serve $RA on an ephemeral loopback port; sets RA_PID and URL.
start_ra() {
    rm -f "$RA/port"
    "$B" serve --config "$RA/scep-ra.conf" --listen 127.0.0.1:0 --port-file "$RA/port" >"$RA/serve.log" 2>&1 &
    RA_PID=$!
    SERVER_PID=$RA_PID
    for _ in $(seq 1 500); do [ -s "$RA/port" ] && break; sleep 0.01; done
    [ -s "$RA/port" ] || { echo "scep-ra did not start" >&2; exit 1; }
    URL="http://127.0.0.1:$(cat "$RA/port")/certsrv/mscep/mscep.dll"
}

# ensure_ra: restart scep-ra if something else on the machine stopped it (logged in $OUT/restarts.txt).
ensure_ra() {
    if [ -n "$RA_PID" ] && ! kill -0 "$RA_PID" 2>/dev/null; then
        echo "$(date +%T) scep-ra pid $RA_PID was gone; restarted" >>"$OUT/restarts.txt"
        RA_PID=
        start_ra
    fi
}

set_conf() {  # set_conf KEY VALUE
    sed -i "s/^$1 = .*/$1 = $2/" "$RA/scep-ra.conf"
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }  # user + system, in clock ticks
TICK_HZ=$(getconf CLK_TCK)
busy_pct() {  # CPU busy % of the whole machine over one second
    local a b
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
    echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
wait_quiet() {
    local waited=0 busy
    busy=$(busy_pct)
    while [ "$busy" -ge 15 ] && [ "$waited" -lt "${QUIET_WAIT:-0}" ]; do sleep 4; waited=$((waited + 5)); busy=$(busy_pct); done
    echo "$busy"
}
SERVER_PID=  # the server whose CPU time each bench run records

# run_one LABEL CMD...: one scep-bench run; JSON in $OUT/LABEL.json, server CPU seconds in $OUT/LABEL.cpu.
run_one() {
    local label=$1; shift
    wait_quiet >"$OUT/$label.busy"
    ensure_ra
    local args=() a
    for a in "$@"; do [ "$a" = "@URL@" ] && a=$URL; args+=("$a"); done
    echo "== $label (machine busy $(cat "$OUT/$label.busy")% before): ${args[*]}" >&2
    local before; before=$(cpu_ticks "$SERVER_PID")
    "${args[@]}" --json >"$OUT/$label.json" || true
    echo "$(( $(cpu_ticks "$SERVER_PID") - before )) $TICK_HZ" | awk '{printf "%.2f\n", $1 / $2}' >"$OUT/$label.cpu"
}

bench() {  # bench LABEL MODE ARGS...: scep-bench against the current scep-ra $URL
    local label=$1; shift
    run_one "$label" "$S" "@URL@" "$@"
}
bench_ns() { local label=$1; shift; run_one "$label" ip netns exec scepns "$S" "$@"; }  # micromdm's namespace

rm -f "$OUT"/*.json "$OUT"/*.cpu "$OUT"/*.busy "$OUT"/*.txt
{ echo "nproc $(nproc)"; grep -m1 'model name' /proc/cpuinfo; openssl version; uptime; } >"$OUT/machine.txt"

# --- scep-ra, challenge not enforced (stands in for single-password mode) ---
rm -rf "$RA"
"$B" init --dir "$RA" >/dev/null
set_conf EnforcePassword 0
start_ra
sleep 0.5
echo "idle_rss_kib $(rss_kib "$RA_PID")" >"$OUT/ra-memory.txt"
E=(--cache "$KEYS" --requests "$N")
bench ra-enroll-c1 enroll "${E[@]}" --concurrency 1
bench ra-enroll-c4 enroll "${E[@]}" --concurrency 4
bench ra-enroll-c16 enroll "${E[@]}" --concurrency 16
bench ra-enroll-c16-v10 enroll "${E[@]}" --concurrency 16 --verify-every 10
bench ra-getcacert-c16 getcacert --requests "$GET_N" --concurrency 16
if [ "${PERF:-0}" = 1 ]; then
    perf record -F 999 --call-graph dwarf,16384 -p "$RA_PID" -o "$OUT/perf.data" 2>/dev/null &
    PERF_PID=$!
    sleep 0.5
    "$S" "$URL" enroll --cache "$KEYS" --requests 600 --concurrency 16 --skip-baseline --verify-every 100 >&2 || true
    kill -INT "$PERF_PID"; wait "$PERF_PID" || true
    perf report -i "$OUT/perf.data" --children --sort symbol --stdio -g none --percent-limit 2 2>/dev/null |
        grep -v '^#' | grep -v '^$' | sed -E 's/ +- +- +$//; s/ {2,}/ /g' >"$OUT/perf-report.txt" || true
    perf script -i "$OUT/perf.data" -F comm,tid,ip,sym 2>/dev/null |
        python3 "$(dirname "$0")/perf-breakdown.py" >"$OUT/perf-breakdown.txt" || true
fi
# C=64 with resident memory sampled every 50 ms.
( peak=0; while kill -0 "$RA_PID" 2>/dev/null && [ ! -e "$OUT/.stop-sampler" ]; do
      r=$(rss_kib "$RA_PID" 2>/dev/null || echo 0); [ "${r:-0}" -gt "$peak" ] && peak=$r; sleep 0.05
  done; echo "peak_rss_kib_c64 $peak" >>"$OUT/ra-memory.txt" ) &
SAMPLER=$!
bench ra-enroll-c64 enroll --cache "$KEYS" --requests "$C64_N" --concurrency 64
touch "$OUT/.stop-sampler"; wait "$SAMPLER"; rm -f "$OUT/.stop-sampler"
echo "after_rss_kib $(rss_kib "$RA_PID")" >>"$OUT/ra-memory.txt"
grep VmHWM "/proc/$RA_PID/status" | awk '{print "vmhwm_kib", $2}' >>"$OUT/ra-memory.txt"
stop_ra

# --- scep-ra start-up: launch `serve` until the port file appears, initialised instance ---
for i in $(seq 1 10); do
    rm -f "$RA/port"
    t0=$(date +%s%N)
    "$B" serve --config "$RA/scep-ra.conf" --listen 127.0.0.1:0 --port-file "$RA/port" >/dev/null 2>&1 &
    RA_PID=$!
    for _ in $(seq 1 5000); do [ -s "$RA/port" ] && break; sleep 0.001; done
    t1=$(date +%s%N)
    echo "startup_ms $(( (t1 - t0) / 1000000 ))" >>"$OUT/ra-startup.txt"
    stop_ra
done

# --- scep-ra with the single password (skipped by a scep-ra without `password set-single`) ---
SINGLE=BenchSinglePassword-$$
set_conf EnforcePassword 1
if grep -q '^UseSinglePassword' "$RA/scep-ra.conf" && set_conf UseSinglePassword 1 &&
    printf '%s\n' "$SINGLE" | "$B" password set-single --config "$RA/scep-ra.conf" >/dev/null 2>&1; then
    start_ra
    bench ra-enroll-c16-single enroll "${E[@]}" --concurrency 16 --challenge "$SINGLE"
    stop_ra
    set_conf UseSinglePassword 0
fi

# --- scep-ra with one-time passwords ---
set_conf PasswordMax 100000
for i in $(seq 1 "$N"); do "$B" password issue --config "$RA/scep-ra.conf"; done >"$OUT/otp.txt"
start_ra
bench ra-enroll-c16-otp enroll "${E[@]}" --concurrency 16 --challenge-file "$OUT/otp.txt"
stop_ra

# --- micromdm scepserver (own network namespace; AES accepted, replies in single DES) ---
if [ "${SKIP_MICROMDM:-0}" != 1 ]; then
    PORT=$MM_PORT CHALLENGE=$MM_CHALLENGE "$MICROMDM/start.sh" >/dev/null
    MM_STARTED=1
    SERVER_PID=$(cat "${WORKDIR:-/tmp/micromdm-scep}/scepserver.pid")
    M="http://127.0.0.1:$MM_PORT/scep"
    ip netns exec scepns curl -fs "$M?operation=GetCACaps" | tr -d '\r' | paste -sd' ' >"$OUT/micromdm-caps.txt"
    bench_ns mm-enroll-c1 "$M" enroll "${E[@]}" --concurrency 1 --challenge "$MM_CHALLENGE"
    bench_ns mm-enroll-c4 "$M" enroll "${E[@]}" --concurrency 4 --challenge "$MM_CHALLENGE"
    bench_ns mm-enroll-c16 "$M" enroll "${E[@]}" --concurrency 16 --challenge "$MM_CHALLENGE"
    bench_ns mm-getcacert-c16 "$M" getcacert --requests "$GET_N" --concurrency 16
    "$MICROMDM/stop.sh" >/dev/null 2>&1 || true
    MM_STARTED=
fi

python3 "$(dirname "$0")/summarize-results.py" "$OUT"
