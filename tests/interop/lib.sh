# SPDX-License-Identifier: Apache-2.0
# lib.sh: what the interop scripts share, sourced by each after it sets
#   BIN        the scep-ra binary (absolute)
#   TIMEOUT    the bound of one client step, in seconds (also of a start-up)
# It gives: PASS/FAIL counting and the closing "N passed, M failed" line; the
# check for missing Debian packages; a work directory cleaned up on exit with
# every process started here; a fake service started in the background and
# its ports; `scep-ra init` and `scep-ra serve` on ephemeral loopback ports;
# and the micromdm scepclient and certmonger steps.
# shellcheck shell=bash

passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# --- what must be installed ----------------------------------------------------------
missing=""
# need_command COMMAND PACKAGE: PACKAGE is missing unless COMMAND is found
need_command() { command -v "$1" > /dev/null || missing="$missing $2"; }
# need_python MODULES PACKAGES: PACKAGES are missing unless /usr/bin/python3 imports MODULES
need_python() { /usr/bin/python3 -c "import $1" 2> /dev/null || missing="$missing $2"; }
# no_missing: a FAIL naming what to install, and the end, when something is missing
no_missing() {
    [ -z "$missing" ] && return
    fail "setup: missing Debian packages:$missing (apt-get install$missing)"
    finish
}

# --- the work directory, and what runs in the background -----------------------------------
SERVER_PID=""
BACKGROUND_PIDS=()
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null && wait "$SERVER_PID" 2> /dev/null
    for pidfile in "$WORK"/*/certmonger.pid "$WORK"/*/*/certmonger.pid; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2> /dev/null
    done
    # A script's own last steps (closing a pipe a service watches, say).
    if declare -F on_cleanup > /dev/null; then on_cleanup; fi
    for pid in "${BACKGROUND_PIDS[@]}"; do kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
# make_work NAME: WORK, a fresh directory under /tmp, removed on exit (KEEP=1 keeps it)
make_work() {
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    trap cleanup EXIT
}

# wait_for_file FILE: whether FILE has content within TIMEOUT seconds
wait_for_file() {
    local _
    for _ in $(seq 1 $((TIMEOUT * 10))); do [ -s "$1" ] && return 0; sleep 0.1; done
    [ -s "$1" ]
}

# json_field FILE KEY: the value of KEY in the JSON object in FILE
json_field() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# start_service LABEL DIR COMMAND...: COMMAND in the background, stopped on exit; it prints
# {"port": N, "control_port": M} into DIR/ports.json, its stderr goes to DIR/service.log.
# Then wait_for_service LABEL DIR.
start_service() {
    local label="$1" dir="$2"
    shift 2
    mkdir -p "$dir"
    "$@" > "$dir/ports.json" 2> "$dir/service.log" &
    BACKGROUND_PIDS+=($!)
    wait_for_service "$label" "$dir"
}

# wait_for_service LABEL DIR: waits (TIMEOUT) for the service's DIR/ports.json; sets SERVICE_PORT
# and SERVICE_CONTROL_PORT. A FAIL and the end when it does not come.
wait_for_service() {
    wait_for_file "$2/ports.json" || { fail "$1 did not start: $(tail -3 "$2/service.log")"; finish; }
    # shellcheck disable=SC2034  # for the sourcing script
    SERVICE_PORT=$(json_field "$2/ports.json" port)
    # shellcheck disable=SC2034

    SERVICE_CONTROL_PORT=$(json_field "$2/ports.json" control_port)
}

# --- scep-ra ---------------------------------------------------------------------------
# shellcheck disable=SC2120  # the options are the caller's, not the script's
# init_instance [INIT OPTIONS...]: `scep-ra init` of WORK/ra; sets CONF. A FAIL and the end when it fails.
init_instance() {
    "$BIN" init --dir "$WORK/ra" "$@" > "$WORK/init.log" 2>&1 || { fail "init: $(tail -1 "$WORK/init.log")"; finish; }
    CONF="$WORK/ra/scep-ra.conf"
}

# start_serve: `scep-ra serve --config $CONF` with SCEP, admin and metrics on ephemeral
# loopback ports, its log appended to WORK/serve.log; returns once its port file is written.
# Sets SERVER_PID and URL; a FAIL and the end when it does not start.
start_serve() {
    rm -f "$WORK/port"
    "$BIN" serve --config "$CONF" --listen 127.0.0.1:0 --port-file "$WORK/port" --admin-listen 127.0.0.1:0 \
        --metrics-listen 127.0.0.1:0 >> "$WORK/serve.log" 2>&1 &
    SERVER_PID=$!
    wait_for_file "$WORK/port" || { fail "serve did not start: $(tail -3 "$WORK/serve.log")"; finish; }
    URL="http://127.0.0.1:$(cat "$WORK/port")/certsrv/mscep/mscep.dll"
}

# stop_serve: SIGTERM, and waits until it has exited
stop_serve() {
    kill "$SERVER_PID" && wait "$SERVER_PID" 2> /dev/null
    SERVER_PID=""
}

# password: a fresh one-time password
password() { "$BIN" password issue --config "$CONF"; }

# --- the clients ------------------------------------------------------------------------
# verify_issued STEP CERT KEY: the certificate was written and carries the client's key;
# then the script's own verify_chain STEP CERT passes or fails the step.
verify_issued() {
    local step="$1" cert="$2" key="$3" cert_key client_key
    if [ ! -s "$cert" ]; then fail "$step: no certificate written"; return; fi
    cert_key=$(openssl x509 -in "$cert" -noout -pubkey 2> /dev/null | openssl pkey -pubin -outform DER 2> /dev/null | sha256sum)
    client_key=$(openssl pkey -in "$key" -pubout -outform DER 2> /dev/null | sha256sum)
    if [ "$cert_key" != "$client_key" ]; then fail "$step: certificate does not carry the client's key"; return; fi
    verify_chain "$step" "$cert"
}

SCEPCLIENT=$(command -v scepclient || true)
# scepclient LOG ARGS...: micromdm scepclient against URL, bounded by TIMEOUT, its output in LOG;
# its exit status
scepclient() {
    local log="$1"
    shift
    timeout "$TIMEOUT" "$SCEPCLIENT" -server-url "$URL" "$@" > "$log" 2>&1
}

# scepclient_renewal STEP DIR CN: when DIR/client.pem was issued, a RenewalReq signed by it
# (DIR/a.key, no challenge) must bring a new certificate
scepclient_renewal() {
    local step="$1" S="$2" cn="$3" rc
    [ -s "$S/client.pem" ] || return 0
    cp "$S/client.pem" "$S/first.pem"
    scepclient "$S/renew.log" -private-key "$S/a.key" -certificate "$S/client.pem" -cn "$cn" -organization Interop
    rc=$?
    if [ $rc -eq 0 ] && ! cmp -s "$S/client.pem" "$S/first.pem"; then
        verify_issued "$step" "$S/client.pem" "$S/a.key"
    else fail "scepclient renewal: rc=$rc $(tail -1 "$S/renew.log")"; fi
}

# certmonger_daemon DIR LOG: a private certmonger daemon (its own socket and state
# directories in DIR, no D-Bus) runs DIR/steps.sh and exits with it; its output in DIR/LOG
certmonger_daemon() {
    local D="$1"
    chmod +x "$D/steps.sh"
    (cd "$D" && env CERTMONGER_REQUESTS_DIR="$D/requests" CERTMONGER_CAS_DIR="$D/cas" CERTMONGER_TMPDIR="$D/tmp" \
        CERTMONGER_CONFIG_DIR="$D/config" CERTMONGER_LOCAL_CA_DIR="$D/localca" HOME="$D" \
        timeout $((TIMEOUT + 30)) certmonger -L -P "$D/certmonger.sock" -n -d 1 -p "$D/certmonger.pid" \
        -c "$D/steps.sh" > "$D/$2" 2>&1)
    rm -f "$D/certmonger.pid"
}

# certmonger_request DIR CN CHALLENGE: certmonger adds the SCEP CA by URL alone and requests a
# certificate for CN=CN,O=Interop (key DIR/key.pem, certificate DIR/cert.pem); its log DIR/daemon.log
certmonger_request() {
    local D="$1" cn="$2" challenge="$3"
    mkdir -p "$D"/{requests,cas,tmp,config,localca}
    cp /etc/certmonger/certmonger.conf "$D/config/" 2> /dev/null
    cat > "$D/steps.sh" << STEPS
#!/bin/bash
getcert add-scep-ca -c scepra -u '$URL'
for i in \$(seq 1 80); do getcert list-cas -c scepra | grep -q 'certificate thumbprint' && break; sleep 0.25; done
getcert request -c scepra -I req -k '$D/key.pem' -f '$D/cert.pem' -N 'CN=$cn,O=Interop' \
    -L '$challenge' -w --wait-timeout=$TIMEOUT
getcert list -i req
STEPS
    certmonger_daemon "$D" daemon.log
}
