#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# intune_clients_test.sh SCEP_RA_BINARY
#
# Real SCEP clients through `[challenge] validator = intune`: scep-ra asks the
# fake Entra ID / Graph / Intune (tests/support/fake_intune, loopback TLS)
# about every request. micromdm scepclient (POST) enrols with a 4000-character
# challenge the fake accepts and is refused one it refuses; certmonger (GET)
# enrols with a 1200-character challenge (a GET request line fits in 8 KiB).
# Prints PASS/FAIL per step and ends with "N passed, M failed".
set -u
BIN="$(readlink -f "${1:?usage: $0 SCEP_RA_BINARY}")"
HERE="$(cd "$(dirname "$0")" && pwd)"
SCEPCLIENT=$(command -v scepclient || true)
TIMEOUT=${STEP_TIMEOUT:-60}
TENANT=contoso.example
CLIENT_ID=6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b
passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

missing=""
[ -n "$SCEPCLIENT" ] || missing="$missing scep"
command -v certmonger > /dev/null || missing="$missing certmonger"
command -v sqlite3 > /dev/null || missing="$missing sqlite3"
command -v curl > /dev/null || missing="$missing curl"
if [ -n "$missing" ]; then
    fail "setup: missing Debian packages:$missing (apt-get install$missing)"
    finish
fi

WORK=$(mktemp -d /tmp/scepra-intune.XXXXXX)
SERVER_PID=""; FAKE_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null && wait "$SERVER_PID" 2> /dev/null
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2> /dev/null && wait "$FAKE_PID" 2> /dev/null
    for pidfile in "$WORK"/*/certmonger.pid; do [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2> /dev/null; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- the fake Intune ------------------------------------------------------------
mkdir -p "$WORK/fake"
/usr/bin/python3 "$HERE/../support/fake_intune/fake_intune.py" --dir "$WORK/fake" --tenant "$TENANT" \
    --client-id "$CLIENT_ID" > "$WORK/fake/ports" 2> "$WORK/fake/log" &
FAKE_PID=$!
for _ in $(seq 1 600); do [ -s "$WORK/fake/ports" ] && break; sleep 0.1; done
[ -s "$WORK/fake/ports" ] || { fail "fake Intune did not start: $(tail -3 "$WORK/fake/log")"; finish; }
PORT=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])' < "$WORK/fake/ports")
CONTROL=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["control_port"])' < "$WORK/fake/ports")
control() { curl -fsS -o /dev/null -X POST --data "$1" "http://127.0.0.1:$CONTROL/control"; }
state() { curl -fsS "http://127.0.0.1:$CONTROL/state"; }

# challenge N SEED: an Intune-like challenge of N base64 characters
challenge() { head -c $(($1 * 3 / 4 + 3)) /dev/urandom | base64 -w0 | head -c "$1"; }

# --- the instance -------------------------------------------------------------
"$BIN" init --dir "$WORK/ra" > "$WORK/init.log" 2>&1 || { fail "init: $(tail -1 "$WORK/init.log")"; finish; }
CONF="$WORK/ra/scep-ra.conf"
CA="$WORK/ra/ca.pem"
DB="$WORK/ra/scep-ra.db"
sed -i 's/^allow_single_des = 0/allow_single_des = 1/' "$CONF"  # scepclient only speaks single DES
sed -i 's/^validator = local$/validator = intune/' "$CONF"
cat >> "$CONF" << CONF

[intune]
tenant_id = $TENANT
client_id = $CLIENT_ID
client_secret_file = $WORK/fake/app-secret.txt
login_url = https://localhost:$PORT/login
graph_url = https://localhost:$PORT/graph
server_ca = $WORK/fake/tls-ca.pem
timeout_seconds = 5
CONF
"$BIN" check-config --config "$CONF" > "$WORK/check.log" 2>&1 || { fail "check-config: $(tail -3 "$WORK/check.log")"; finish; }
"$BIN" serve --config "$CONF" --listen 127.0.0.1:0 --port-file "$WORK/port" --admin-listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
[ -s "$WORK/port" ] || { fail "serve did not start: $(tail -3 "$WORK/serve.log")"; finish; }
URL="http://127.0.0.1:$(cat "$WORK/port")/certsrv/mscep/mscep.dll"
echo "== scep-ra at $URL, fake Intune at https://localhost:$PORT"

verify_issued() {
    local step="$1" cert="$2" key="$3" cert_key client_key out
    if [ ! -s "$cert" ]; then fail "$step: no certificate written"; return; fi
    cert_key=$(openssl x509 -in "$cert" -noout -pubkey 2> /dev/null | openssl pkey -pubin -outform DER 2> /dev/null | sha256sum)
    client_key=$(openssl pkey -in "$key" -pubout -outform DER 2> /dev/null | sha256sum)
    if [ "$cert_key" != "$client_key" ]; then fail "$step: certificate does not carry the client's key"; return; fi
    if out=$(openssl verify -CAfile "$CA" "$cert" 2>&1); then pass "$step: $(openssl x509 -in "$cert" -noout -subject | tr '\n' ' ')"
    else fail "$step: $out"; fi
}

# --- micromdm scepclient (POST) ---------------------------------------------------
S="$WORK/scepclient"; mkdir -p "$S/ok" "$S/refused"
cd "$S/ok" || exit 1
timeout "$TIMEOUT" "$SCEPCLIENT" -server-url "$URL" -private-key "$S/ok/a.key" -challenge "$(challenge 4000)" \
    -cn intune-scepclient -organization Interop > "$S/ok/a.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then verify_issued "scepclient enrol with a 4000-character Intune challenge Intune accepts (POST)" "$S/ok/client.pem" "$S/ok/a.key"
else fail "scepclient Intune enrol: rc=$rc $(tail -1 "$S/ok/a.log")"; fi

REFUSED=$(challenge 3000)
control "{\"codes\": {\"$REFUSED\": \"SubjectNameMismatch\"}}"
cd "$S/refused" || exit 1
timeout "$TIMEOUT" "$SCEPCLIENT" -server-url "$URL" -private-key "$S/refused/b.key" -challenge "$REFUSED" \
    -cn intune-refused -organization Interop > "$S/refused/b.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "badRequest" "$S/refused/b.log" && [ ! -s "$S/refused/client.pem" ]; then
    pass "scepclient with a challenge Intune refuses: badRequest, no certificate"
else fail "scepclient refused challenge: rc=$rc $(tail -1 "$S/refused/b.log")"; fi
cd "$WORK" || exit 1

# --- certmonger (GET) ---------------------------------------------------------------
C="$WORK/certmonger/good"; mkdir -p "$C"/{requests,cas,tmp,config,localca}
cp /etc/certmonger/certmonger.conf "$C/config/" 2> /dev/null
cat > "$C/steps.sh" << STEPS
#!/bin/bash
getcert add-scep-ca -c scepra -u '$URL'
for i in \$(seq 1 80); do getcert list-cas -c scepra | grep -q 'certificate thumbprint' && break; sleep 0.25; done
getcert request -c scepra -I req -k '$C/key.pem' -f '$C/cert.pem' -N 'CN=intune-certmonger,O=Interop' \
    -L '$(challenge 1200)' -w --wait-timeout=$TIMEOUT
getcert list -i req
STEPS
chmod +x "$C/steps.sh"
(cd "$C" && env CERTMONGER_REQUESTS_DIR="$C/requests" CERTMONGER_CAS_DIR="$C/cas" CERTMONGER_TMPDIR="$C/tmp" \
    CERTMONGER_CONFIG_DIR="$C/config" CERTMONGER_LOCAL_CA_DIR="$C/localca" HOME="$C" \
    timeout $((TIMEOUT + 30)) certmonger -L -P "$C/certmonger.sock" -n -d 1 -p "$C/certmonger.pid" \
    -c "$C/steps.sh" > "$C/daemon.log" 2>&1)
rm -f "$C/certmonger.pid"
verify_issued "certmonger enrol with a 1200-character Intune challenge (GET)" "$C/cert.pem" "$C/key.pem"

# --- what Intune and the audit trail saw -------------------------------------------
validations=$(state | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(a["action"]=="validateRequest" for a in s["actions"]), len(s["violations"]))')
if [ "$validations" = "3 0" ]; then pass "the fake Intune got 3 validateRequest calls, every one well-formed"
else fail "fake Intune validations/violations: $validations $(state | head -c 600)"; fi
issued=$(sqlite3 "$DB" "SELECT count(*) FROM audit_events WHERE decision = 'issued' AND detail LIKE 'Intune validated%'")
refused=$(sqlite3 "$DB" "SELECT count(*) FROM audit_events WHERE decision = 'rejected' AND detail LIKE '%SubjectNameMismatch%'")
if [ "$issued" = 2 ] && [ "$refused" -ge 1 ]; then pass "audit trail: $issued issued after Intune's Success, $refused refused naming SubjectNameMismatch"
else fail "audit trail: issued=$issued refused=$refused"; fi
finish
