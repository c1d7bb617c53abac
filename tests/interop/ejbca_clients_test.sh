#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ejbca_clients_test.sh SCEP_RA_BINARY
#
# Real SCEP clients (micromdm scepclient, certmonger) enrol through a real
# `scep-ra serve` whose CA is EJBCA: the fake EJBCA of tests/support/fake_ejbca
# on loopback (mutual TLS, EJBCA's REST shapes), set up the way an operator
# would: `init --backend ejbca`, [ejbca] filled in, `ra enroll` (the RA
# certificates from EJBCA, so that clients verify the RA against GetCACert).
# Every certificate must carry the client's key, chain to the fake EJBCA's
# root, and be one EJBCA holds.
# Prints PASS/FAIL per step and ends with "N passed, M failed".
set -u
BIN="$(readlink -f "${1:?usage: $0 SCEP_RA_BINARY}")"
HERE="$(cd "$(dirname "$0")" && pwd)"
FAKE="$HERE/../support/fake_ejbca/fake_ejbca.py"
SCEPCLIENT=$(command -v scepclient || true)
TIMEOUT=${STEP_TIMEOUT:-60}
passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

missing=""
[ -n "$SCEPCLIENT" ] || missing="$missing scep"
command -v certmonger > /dev/null || missing="$missing certmonger"
python3 -c 'import cryptography' 2> /dev/null || missing="$missing python3-cryptography"
command -v curl > /dev/null || missing="$missing curl"
if [ -n "$missing" ]; then
    fail "setup: missing Debian packages:$missing (apt-get install$missing)"
    finish
fi

WORK=$(mktemp -d /tmp/scepra-ejbca-interop.XXXXXX)
SERVER_PID=""; FAKE_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null && wait "$SERVER_PID" 2> /dev/null
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2> /dev/null && wait "$FAKE_PID" 2> /dev/null
    for pidfile in "$WORK"/*/certmonger.pid; do [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2> /dev/null; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- the fake EJBCA -----------------------------------------------------------
E="$WORK/ejbca"; mkdir -p "$E"
# RSA CA keys: scepclient encrypts to every certificate GetCACert returns, and only to RSA ones.
python3 "$FAKE" --dir "$E" --ca-key rsa > "$E/ports.json" 2> "$E/fake.log" &
FAKE_PID=$!
for _ in $(seq 1 400); do [ -s "$E/ports.json" ] && break; sleep 0.05; done
[ -s "$E/ports.json" ] || { fail "fake EJBCA did not start: $(tail -3 "$E/fake.log")"; finish; }
EJBCA_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$E/ports.json")
CONTROL_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["control_port"])' "$E/ports.json")
ejbca_holds() {  # ejbca_holds CERT: the fake EJBCA issued this serial
    local serial
    serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2 | sed 's/^0*//')
    curl -fsS "http://127.0.0.1:$CONTROL_PORT/state" |
        python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if sys.argv[1].upper() in s["certificates"] else 1)' "$serial"
}

# --- scep-ra in front of it -----------------------------------------------------
"$BIN" init --dir "$WORK/ra" --backend ejbca > "$WORK/init.log" 2>&1 || { fail "init: $(tail -1 "$WORK/init.log")"; finish; }
CONF="$WORK/ra/scep-ra.conf"
sed -i 's/^allow_single_des = 0/allow_single_des = 1/' "$CONF"
set_ejbca() { sed -i "s|^$1 =.*|$1 = $2|" "$CONF"; }
set_ejbca url "https://localhost:$EJBCA_PORT/ejbca/ejbca-rest-api"
set_ejbca client_cert "$E/admin.pem"
set_ejbca client_key "$E/admin.key"
set_ejbca server_ca "$E/tls-ca.pem"
set_ejbca ca_name IssuingCA
set_ejbca certificate_profile SCEP_DEVICE
set_ejbca end_entity_profile SCEP_EEP
set_ejbca ra_certificate_profile SCEP_SERVER
set_ejbca ra_end_entity_profile SERVER_EEP
if "$BIN" ra enroll --config "$CONF" > "$WORK/enroll.log" 2>&1 &&
    openssl verify -CAfile "$E/root-ca.pem" -untrusted "$E/issuing-ca.pem" "$WORK/ra/ra-signing.pem" > /dev/null; then
    pass "ra enroll: RA certificates from EJBCA: $(head -1 "$WORK/enroll.log")"
else fail "ra enroll: $(tail -2 "$WORK/enroll.log")"; finish; fi
"$BIN" serve --config "$CONF" --listen 127.0.0.1:0 --port-file "$WORK/port" --admin-listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 400); do [ -s "$WORK/port" ] && break; sleep 0.05; done
[ -s "$WORK/port" ] || { fail "serve did not start: $(tail -3 "$WORK/serve.log")"; finish; }
if grep -q "CA backend ejbca ready" "$WORK/serve.log"; then pass "serve: $(grep 'CA backend' "$WORK/serve.log")"
else fail "serve health line: $(grep 'CA backend' "$WORK/serve.log")"; fi
URL="http://127.0.0.1:$(cat "$WORK/port")/certsrv/mscep/mscep.dll"
echo "== scep-ra at $URL, EJBCA at https://localhost:$EJBCA_PORT"
password() { "$BIN" password issue --config "$CONF"; }

# verify_issued STEP CERT KEY: the client's key, chains to EJBCA's root, held by EJBCA
verify_issued() {
    local step="$1" cert="$2" key="$3" cert_key client_key out
    if [ ! -s "$cert" ]; then fail "$step: no certificate written"; return; fi
    cert_key=$(openssl x509 -in "$cert" -noout -pubkey 2> /dev/null | openssl pkey -pubin -outform DER 2> /dev/null | sha256sum)
    client_key=$(openssl pkey -in "$key" -pubout -outform DER 2> /dev/null | sha256sum)
    if [ "$cert_key" != "$client_key" ]; then fail "$step: certificate does not carry the client's key"; return; fi
    if ! out=$(openssl verify -CAfile "$E/root-ca.pem" -untrusted "$E/issuing-ca.pem" "$cert" 2>&1); then
        fail "$step: $out"; return
    fi
    if ejbca_holds "$cert"; then pass "$step: $(openssl x509 -in "$cert" -noout -subject -issuer | tr '\n' ' ')"
    else fail "$step: EJBCA holds no certificate with this serial"; fi
}

# --- micromdm scepclient --------------------------------------------------------
S="$WORK/scepclient"; mkdir -p "$S" && cd "$S" || exit 1
timeout "$TIMEOUT" "$SCEPCLIENT" -server-url "$URL" -private-key "$S/a.key" -challenge "$(password)" \
    -cn scepclient-ejbca -organization Interop > "$S/a.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then verify_issued "scepclient enrol through EJBCA" "$S/client.pem" "$S/a.key"
else fail "scepclient enrol: rc=$rc $(tail -1 "$S/a.log")"; fi

if [ -s "$S/client.pem" ]; then
    cp "$S/client.pem" "$S/first.pem"
    timeout "$TIMEOUT" "$SCEPCLIENT" -server-url "$URL" -private-key "$S/a.key" -certificate "$S/client.pem" \
        -cn scepclient-ejbca -organization Interop > "$S/renew.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && ! cmp -s "$S/client.pem" "$S/first.pem"; then
        verify_issued "scepclient renewal signed by its EJBCA certificate" "$S/client.pem" "$S/a.key"
    else fail "scepclient renewal: rc=$rc $(tail -1 "$S/renew.log")"; fi
fi
cd "$WORK" || exit 1

# --- certmonger -----------------------------------------------------------------
C="$WORK/certmonger"; D="$C/good"; mkdir -p "$D"/{requests,cas,tmp,config,localca}
cp /etc/certmonger/certmonger.conf "$D/config/" 2> /dev/null
cat > "$D/steps.sh" << STEPS
#!/bin/bash
getcert add-scep-ca -c scepra -u '$URL'
for i in \$(seq 1 80); do getcert list-cas -c scepra | grep -q 'certificate thumbprint' && break; sleep 0.25; done
getcert request -c scepra -I req -k '$D/key.pem' -f '$D/cert.pem' -N 'CN=certmonger-ejbca,O=Interop' \
    -L '$(password)' -w --wait-timeout=$TIMEOUT
getcert list -i req
STEPS
chmod +x "$D/steps.sh"
(cd "$D" && env CERTMONGER_REQUESTS_DIR="$D/requests" CERTMONGER_CAS_DIR="$D/cas" CERTMONGER_TMPDIR="$D/tmp" \
    CERTMONGER_CONFIG_DIR="$D/config" CERTMONGER_LOCAL_CA_DIR="$D/localca" HOME="$D" \
    timeout $((TIMEOUT + 30)) certmonger -L -P "$D/certmonger.sock" -n -d 1 -p "$D/certmonger.pid" \
    -c "$D/steps.sh" > "$D/daemon.log" 2>&1)
rm -f "$D/certmonger.pid"
verify_issued "certmonger daemon enrol through EJBCA" "$D/cert.pem" "$D/key.pem"

# --- EJBCA refuses: the client sees a rejection, not a certificate ---------------
curl -fsS -o /dev/null -X POST -d '{"enroll_error": [422, "End entity profile does not allow this DN"]}' \
    "http://127.0.0.1:$CONTROL_PORT/control"
mkdir -p "$S/refused" && cd "$S/refused" || exit 1
timeout "$TIMEOUT" "$SCEPCLIENT" -server-url "$URL" -private-key "$S/refused/r.key" -challenge "$(password)" \
    -cn scepclient-refused -organization Interop > "$S/refused/r.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "badRequest" "$S/refused/r.log" && ! grep -q "does not allow this DN" "$S/refused/r.log"; then
    pass "scepclient: EJBCA's refusal is badRequest, without EJBCA's words"
else fail "scepclient refused by EJBCA: rc=$rc $(tail -1 "$S/refused/r.log")"; fi
cd "$WORK" || exit 1

finish
