#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scep_bench_test.sh SCEP_RA_BINARY SCEP_BENCH_BINARY
#
# Runs the benchmark client (tools/bench, BENCHMARKS.md) for real against a
# real `scep-ra serve` on a loopback port, in every mode, and checks that it
# counts what happened: successes match the certificates in the database,
# refused requests are counted as failures with a failing exit status, and it
# refuses bad usage and non-loopback targets. Small runs, no timing asserted.
# Prints PASS/FAIL per step and ends with "N passed, M failed".
set -u
RA="$(readlink -f "${1:?usage: $0 SCEP_RA_BINARY SCEP_BENCH_BINARY}")"
BENCH="$(readlink -f "${2:?usage: $0 SCEP_RA_BINARY SCEP_BENCH_BINARY}")"
passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
command -v sqlite3 > /dev/null || { fail "setup: missing Debian package sqlite3"; finish; }

WORK=$(mktemp -d /tmp/scepra-bench-test.XXXXXX)
SERVER_PID=""
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null && wait "$SERVER_PID" 2> /dev/null; SERVER_PID=""; }
cleanup() { stop_server; if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

"$RA" init --dir "$WORK/ra" --admin-listen none > "$WORK/init.log" 2>&1 || { fail "init: $(tail -1 "$WORK/init.log")"; finish; }
CONF="$WORK/ra/scep-ra.conf"
DB="$WORK/ra/scep-ra.db"
sed -i 's/^PasswordMax = .*/PasswordMax = 1000/' "$CONF"
# The replayed-password step fails 6 challenges from 127.0.0.1 on purpose: no lockout for that.
sed -i 's/^max_failures = .*/max_failures = 1000/' "$CONF"
start_server() {
    rm -f "$WORK/port"
    "$RA" serve --config "$CONF" --listen 127.0.0.1:0 --port-file "$WORK/port" --metrics-listen 127.0.0.1:0 >> "$WORK/serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
    [ -s "$WORK/port" ] || { fail "serve did not start: $(tail -3 "$WORK/serve.log")"; finish; }
    URL="http://127.0.0.1:$(cat "$WORK/port")/certsrv/mscep/mscep.dll"
}
start_server
echo "== scep-ra at $URL"

passwords() { for _ in $(seq 1 "$1"); do "$RA" password issue --config "$CONF"; done; }
issued() { sqlite3 "$DB" "SELECT count(*) FROM issued_certs"; }
# field JSON NAME: a top-level number of scep-bench's one-line JSON
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"; }
KEYS="$WORK/keys.pem"
B=(--cache "$KEYS" --skip-baseline --json)

# expect STEP WANT_EXIT OUT_JSON CMD...: runs scep-bench, checks its exit status
expect() {
    local step="$1" want="$2" out="$3"; shift 3
    "$@" > "$out" 2> "$out.err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$step: exit $rc, expected $want: $(tail -2 "$out.err") $(head -c 300 "$out")"
        return 1
    fi
    return 0
}

# --- enroll with one-time passwords: every success is a certificate in the database
passwords 6 > "$WORK/otp.txt"
before=$(issued)
if expect "enroll" 0 "$WORK/enroll.json" "$BENCH" "$URL" enroll -n 6 -c 3 --challenge-file "$WORK/otp.txt" "${B[@]}"; then
    ok=$(field "$WORK/enroll.json" successes); verified=$(field "$WORK/enroll.json" verified)
    dup=$(field "$WORK/enroll.json" duplicate_serials); now=$(issued)
    if [ "$ok" = 6 ] && [ "$verified" = 6 ] && [ "$dup" = 0 ] && [ $((now - before)) -eq 6 ]; then
        pass "enroll: 6 of 6, 6 certificates verified by the client, 6 new rows in issued_certs"
    else
        fail "enroll: successes=$ok verified=$verified duplicates=$dup new rows=$((now - before))"
    fi
fi

# --- the same passwords again: all refused, counted as badRequest, exit 1
before=$(issued)
if expect "replayed passwords" 1 "$WORK/replay.json" "$BENCH" "$URL" enroll -n 6 -c 3 --challenge-file "$WORK/otp.txt" "${B[@]}"; then
    if [ "$(field "$WORK/replay.json" successes)" = 0 ] && grep -q '"badRequest":6' "$WORK/replay.json" &&
        [ "$(issued)" = "$before" ]; then
        pass "replayed passwords: 0 of 6, reported as badRequest: 6, nothing issued"
    else
        fail "replayed passwords: $(head -c 400 "$WORK/replay.json")"
    fi
fi

# --- GET transport, AES-256, SHA-512, every second certificate decrypted and checked
passwords 4 > "$WORK/otp-get.txt"
if expect "enroll by GET" 0 "$WORK/get.json" "$BENCH" "$URL" enroll -n 4 -c 2 --method get --cipher AES-256-CBC \
    --digest SHA512 --verify-every 2 --challenge-file "$WORK/otp-get.txt" "${B[@]}"; then
    if [ "$(field "$WORK/get.json" successes)" = 4 ] && [ "$(field "$WORK/get.json" verified)" = 2 ]; then
        pass "enroll by GET, AES-256, SHA-512, K=2: 4 of 4, 2 verified"
    else
        fail "enroll by GET: $(head -c 400 "$WORK/get.json")"
    fi
fi

# --- GetCACert and GetCACaps
for mode in getcacert getcacaps; do
    if expect "$mode" 0 "$WORK/$mode.json" "$BENCH" "$URL" $mode -n 40 -c 4 "${B[@]}"; then
        [ "$(field "$WORK/$mode.json" successes)" = 40 ] && pass "$mode: 40 of 40" ||
            fail "$mode: $(head -c 300 "$WORK/$mode.json")"
    fi
done

# --- renew: enrols first (untimed), then RenewalReqs signed by the issued certificates
passwords 4 > "$WORK/otp-renew.txt"
before=$(issued)
if expect "renew" 0 "$WORK/renew.json" "$BENCH" "$URL" renew -n 4 -c 2 --challenge-file "$WORK/otp-renew.txt" "${B[@]}"; then
    renewals=$(sqlite3 "$DB" "SELECT count(*) FROM requests WHERE kind LIKE 'Renewal:%' AND status = 'issued'")
    if [ "$(field "$WORK/renew.json" successes)" = 4 ] && [ $(( $(issued) - before )) -eq 8 ] && [ "$renewals" = 4 ]; then
        pass "renew: 4 of 4 (4 enrolments + 4 renewals issued, 4 requests of kind Renewal)"
    else
        fail "renew: $(head -c 300 "$WORK/renew.json"), new rows $(( $(issued) - before )), renewals $renewals"
    fi
fi

# --- poll needs a template with manual approval: the general-purpose one gets it
stop_server
printf '\n[profile.IPSECIntermediateOffline]\nmanual_approval = 1\n' >> "$CONF"
start_server
passwords 3 > "$WORK/otp-poll.txt"
if expect "poll" 0 "$WORK/poll.json" "$BENCH" "$URL" poll -n 3 -c 3 --challenge-file "$WORK/otp-poll.txt" "${B[@]}"; then
    pending=$(sqlite3 "$DB" "SELECT count(*) FROM requests WHERE status = 'pending' AND backend_ref IS NULL")
    [ "$(field "$WORK/poll.json" successes)" = 3 ] && [ "$pending" = 3 ] &&
        pass "poll: 3 CertPolls answered PENDING, 3 requests waiting for approval" ||
        fail "poll: $(head -c 300 "$WORK/poll.json"), pending $pending"
fi

# --- usage errors and targets outside loopback: exit 2 before sending anything
for args in "http://192.0.2.1/certsrv/mscep/mscep.dll getcacaps -n 1" \
            "http://example.com/certsrv/mscep/mscep.dll getcacaps -n 1" \
            "$URL getcacaps -n 0" "$URL getcacaps -n 100001" "$URL fly -n 1" \
            "$URL enroll -n 1 --cipher RC4" "$URL enroll -n 1 --key-type ec:256" "$URL enroll -n 1 -c 0"; do
    # shellcheck disable=SC2086
    expect "refuses '$args'" 2 "$WORK/usage.out" "$BENCH" $args --skip-baseline && pass "refuses: $args"
done

# --- a server that is gone: a clear message and exit 1, not a hang
stop_server
if expect "server down" 1 "$WORK/down.json" "$BENCH" "$URL" getcacaps -n 3 -c 1 --max-seconds 10 "${B[@]}"; then
    grep -q 'GetCACert failed: connection' "$WORK/down.json.err" && pass "server down: exit 1, $(cat "$WORK/down.json.err")" ||
        fail "server down: $(cat "$WORK/down.json.err")"
fi
finish
