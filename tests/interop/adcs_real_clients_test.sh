#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# adcs_real_clients_test.sh SCEP_RA_BINARY
#
# Real SCEP clients nobody on this project wrote enrol through scep-ra with
# `[ca] backend = adcs`: micromdm scepclient and certmonger -> `scep-ra serve`
# -> the REAL AD CS bridge (mutual TLS) -> the fake CA RPC server (MS-ICPR on
# impacket), both started by tests/unit/adcs/bridge_harness.py. Every issued
# certificate must carry the client's key and chain to the fake AD CS CA.
# Prints PASS/FAIL per step and ends with "N passed, M failed".
set -u
BIN="$(readlink -f "${1:?usage: $0 SCEP_RA_BINARY}")"
SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
SCEPCLIENT=$(command -v scepclient || true)
TIMEOUT=${STEP_TIMEOUT:-60}
passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

missing=""
[ -n "$SCEPCLIENT" ] || missing="$missing scep"
[ -x /usr/lib/certmonger/scep-submit ] && command -v certmonger > /dev/null || missing="$missing certmonger"
/usr/bin/python3 -c 'import impacket.dcerpc.v5.rpcrt, cryptography' 2> /dev/null || missing="$missing python3-impacket python3-cryptography"
if [ -n "$missing" ]; then
    fail "setup: missing Debian packages:$missing (apt-get install$missing)"
    finish
fi

WORK=$(mktemp -d /tmp/scepra-adcs-interop.XXXXXX)
SERVER_PID=""; HARNESS_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null && wait "$SERVER_PID" 2> /dev/null
    for pidfile in "$WORK"/*/*/certmonger.pid; do [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2> /dev/null; done
    exec 7>&-   # the harness stops the bridge and the fake CA when its standard input closes
    [ -n "$HARNESS_PID" ] && kill "$HARNESS_PID" 2> /dev/null && wait "$HARNESS_PID" 2> /dev/null
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- the bridge and the fake CA ----------------------------------------------------
B="$WORK/bridge"; mkdir -p "$B"
mkfifo "$B/hold"
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$SOURCE/tests/unit/adcs/bridge_harness.py" --dir "$B" \
    < "$B/hold" > "$B/ports.json" 2> "$B/harness.log" &
HARNESS_PID=$!
exec 7> "$B/hold"
for _ in $(seq 1 $((TIMEOUT * 10))); do [ -s "$B/ports.json" ] && break; sleep 0.1; done
BRIDGE_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$B/ports.json" 2> /dev/null)
[ -n "$BRIDGE_PORT" ] || { fail "the bridge harness did not start: $(tail -3 "$B/harness.log")"; finish; }
echo "== AD CS bridge at https://localhost:$BRIDGE_PORT"

# --- the instance, with [ca] backend = adcs --------------------------------------------
"$BIN" init --dir "$WORK/ra" > "$WORK/init.log" 2>&1 || { fail "init: $(tail -1 "$WORK/init.log")"; finish; }
CONF="$WORK/ra/scep-ra.conf"
sed -i -e 's/^backend = local$/backend = adcs/' -e 's/^revocation = backend$/revocation = none/' \
    -e 's/^allow_single_des = 0/allow_single_des = 1/' -e 's/^max_failures = .*/max_failures = 100/' \
    -e 's/^\(SignatureTemplate\|EncryptionTemplate\|GeneralPurposeTemplate\) = .*/\1 = SCEPDevice/' "$CONF"
cat >> "$CONF" << ADCS

[adcs]
bridge_url = https://localhost:$BRIDGE_PORT
client_cert = $B/ra.pem
client_key = $B/ra.key
server_ca = $B/tls-ca.pem
timeout_seconds = 30
chain =
ADCS
# As under NDES, the RA certificates are issued by the AD CS CA (in production they come from the NDES
# server through `scep-ra import ndes`): here the bridge's own API enrols init's RA keys (template
# SCEPDevice), so that clients which check the RA certificate against GetCACert's CA accept the replies.
ra_cert_from_bridge() {   # ra_cert_from_bridge KEY CN OUT
    local csr body
    csr=$(openssl req -new -key "$1" -subj "/CN=$2/O=Interop" -outform DER | base64 -w0)
    body=$(timeout "$TIMEOUT" curl -sS --cert "$B/ra.pem" --key "$B/ra.key" --cacert "$B/tls-ca.pem" \
        -H 'Content-Type: application/json' \
        -d "{\"csr\":\"$csr\",\"template\":\"SCEPDevice\",\"client_ref\":\"ra-${2// /-}\"}" \
        "https://localhost:$BRIDGE_PORT/v1/requests") || return 1
    python3 -c 'import json,sys,base64,textwrap; c=json.loads(sys.argv[1])["certificate"]; print("-----BEGIN CERTIFICATE-----\n"+"\n".join(textwrap.wrap(c,64))+"\n-----END CERTIFICATE-----")' \
        "$body" > "$3"
}
# One RA certificate signs and decrypts: scepclient encrypts to every certificate GetCACert lists unless
# -ca-fingerprint picks one, and then it knows only that one to verify the reply's signer with.
sed -i -e 's|^encryption_cert = .*|encryption_cert = ra-signing.pem|' \
    -e 's|^encryption_key = .*|encryption_key = private/ra-signing.key|' "$CONF"
if ra_cert_from_bridge "$WORK/ra/private/ra-signing.key" "scep-ra" "$WORK/ra/ra-signing.pem"; then
    pass "the RA certificate issued by the AD CS CA through the bridge"
else fail "RA certificates through the bridge"; finish; fi
"$BIN" serve --config "$CONF" --listen 127.0.0.1:0 --port-file "$WORK/port" --admin-listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 $((TIMEOUT * 10))); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || { fail "serve did not start: $(tail -3 "$WORK/serve.log")"; finish; }
URL="http://127.0.0.1:$(cat "$WORK/port")/certsrv/mscep/mscep.dll"
echo "== scep-ra at $URL"
password() { "$BIN" password issue --config "$CONF"; }

# verify_issued STEP CERT KEY: the certificate has the client's key and chains to the fake AD CS CA
verify_issued() {
    local step="$1" cert="$2" key="$3" cert_key client_key out
    if [ ! -s "$cert" ]; then fail "$step: no certificate written"; return; fi
    cert_key=$(openssl x509 -in "$cert" -noout -pubkey 2> /dev/null | openssl pkey -pubin -outform DER 2> /dev/null | sha256sum)
    client_key=$(openssl pkey -in "$key" -pubout -outform DER 2> /dev/null | sha256sum)
    if [ "$cert_key" != "$client_key" ]; then fail "$step: certificate does not carry the client's key"; return; fi
    if ! openssl x509 -in "$cert" -noout -issuer | grep -q "Test Issuing CA"; then
        fail "$step: not issued by the AD CS CA: $(openssl x509 -in "$cert" -noout -issuer)"; return
    fi
    if out=$(openssl verify -CAfile "$B/ca-chain.pem" "$cert" 2>&1); then
        pass "$step: $(openssl x509 -in "$cert" -noout -subject -issuer | tr '\n' ' ')"
    else
        fail "$step: $out"
    fi
}

# --- micromdm scepclient --------------------------------------------------------
S="$WORK/scepclient"; mkdir -p "$S"; cd "$S" || exit 1
# With several certificates in GetCACert scepclient encrypts to all of them (and cannot to the AD CS
# CA's EC keys): the fingerprint picks the RA certificate.
RA_FP=$(openssl x509 -in "$WORK/ra/ra-signing.pem" -outform DER | sha256sum | cut -d' ' -f1)
timeout "$TIMEOUT" "$SCEPCLIENT" -server-url "$URL" -private-key "$S/a.key" -challenge "$(password)" \
    -ca-fingerprint "$RA_FP" \
    -cn scepclient-adcs -organization Interop > "$S/a.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then verify_issued "scepclient enrol through the AD CS bridge" "$S/client.pem" "$S/a.key"
else fail "scepclient enrol: rc=$rc $(tail -1 "$S/a.log")"; fi
cd "$WORK" || exit 1

# --- certmonger (a private daemon: its own socket and state, no D-Bus) -----------------
C="$WORK/certmonger"; D="$C/good"
mkdir -p "$D"/{requests,cas,tmp,config,localca}
cp /etc/certmonger/certmonger.conf "$D/config/" 2> /dev/null
cat > "$D/steps.sh" << STEPS
#!/bin/bash
getcert add-scep-ca -c scepra -u '$URL'
for i in \$(seq 1 80); do getcert list-cas -c scepra | grep -q 'certificate thumbprint' && break; sleep 0.25; done
getcert request -c scepra -I req -k '$D/key.pem' -f '$D/cert.pem' -N 'CN=certmonger-adcs,O=Interop' \
    -L '$(password)' -w --wait-timeout=$TIMEOUT
getcert list -i req
STEPS
chmod +x "$D/steps.sh"
(cd "$D" && env CERTMONGER_REQUESTS_DIR="$D/requests" CERTMONGER_CAS_DIR="$D/cas" CERTMONGER_TMPDIR="$D/tmp" \
    CERTMONGER_CONFIG_DIR="$D/config" CERTMONGER_LOCAL_CA_DIR="$D/localca" HOME="$D" \
    timeout $((TIMEOUT + 30)) certmonger -L -P "$D/certmonger.sock" -n -d 1 -p "$D/certmonger.pid" \
    -c "$D/steps.sh" > "$D/daemon.log" 2>&1)
rm -f "$D/certmonger.pid"
verify_issued "certmonger daemon enrol through the AD CS bridge" "$D/cert.pem" "$D/key.pem"

# The RA certificate and one per client went to the CA over MS-ICPR.
issued=$(grep -c 'event="submit".*status="issued"' "$B/bridge.log" 2> /dev/null)
if [ "$issued" = 3 ]; then pass "the bridge submitted 3 requests, all issued"
else fail "the bridge issued $issued requests, not 3: $(tail -2 "$B/bridge.log" 2> /dev/null)"; fi
finish
