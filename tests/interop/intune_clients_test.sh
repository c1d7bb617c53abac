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
TIMEOUT=${STEP_TIMEOUT:-60}
TENANT=contoso.example
CLIENT_ID=6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"

[ -n "$SCEPCLIENT" ] || missing="$missing scep"
need_command certmonger certmonger
need_command sqlite3 sqlite3
need_command curl curl
no_missing

make_work scepra-intune

# --- the fake Intune ------------------------------------------------------------
start_service "fake Intune" "$WORK/fake" /usr/bin/python3 "$HERE/../support/fake_intune/fake_intune.py" \
    --dir "$WORK/fake" --tenant "$TENANT" --client-id "$CLIENT_ID"
PORT=$SERVICE_PORT
CONTROL=$SERVICE_CONTROL_PORT
control() { curl -fsS -o /dev/null -X POST --data "$1" "http://127.0.0.1:$CONTROL/control"; }
state() { curl -fsS "http://127.0.0.1:$CONTROL/state"; }

# challenge N SEED: an Intune-like challenge of N base64 characters
challenge() { head -c $(($1 * 3 / 4 + 3)) /dev/urandom | base64 -w0 | head -c "$1"; }

# --- the instance -------------------------------------------------------------
init_instance
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
start_serve
echo "== scep-ra at $URL, fake Intune at https://localhost:$PORT"

# verify_chain STEP CERT: chains to the instance's CA
verify_chain() {
    local out
    if out=$(openssl verify -CAfile "$CA" "$2" 2>&1); then pass "$1: $(openssl x509 -in "$2" -noout -subject | tr '\n' ' ')"
    else fail "$1: $out"; fi
}

# --- micromdm scepclient (POST) ---------------------------------------------------
S="$WORK/scepclient"; mkdir -p "$S/ok" "$S/refused"
cd "$S/ok" || exit 1
scepclient "$S/ok/a.log" -private-key "$S/ok/a.key" -challenge "$(challenge 4000)" \
    -cn intune-scepclient -organization Interop
rc=$?
if [ $rc -eq 0 ]; then verify_issued "scepclient enrol with a 4000-character Intune challenge Intune accepts (POST)" "$S/ok/client.pem" "$S/ok/a.key"
else fail "scepclient Intune enrol: rc=$rc $(tail -1 "$S/ok/a.log")"; fi

REFUSED=$(challenge 3000)
control "{\"codes\": {\"$REFUSED\": \"SubjectNameMismatch\"}}"
cd "$S/refused" || exit 1
scepclient "$S/refused/b.log" -private-key "$S/refused/b.key" -challenge "$REFUSED" \
    -cn intune-refused -organization Interop
rc=$?
if [ $rc -ne 0 ] && grep -q "badRequest" "$S/refused/b.log" && [ ! -s "$S/refused/client.pem" ]; then
    pass "scepclient with a challenge Intune refuses: badRequest, no certificate"
else fail "scepclient refused challenge: rc=$rc $(tail -1 "$S/refused/b.log")"; fi
cd "$WORK" || exit 1

# --- certmonger (GET) ---------------------------------------------------------------
C="$WORK/certmonger/good"
certmonger_request "$C" intune-certmonger "$(challenge 1200)"
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
