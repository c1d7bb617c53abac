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
TIMEOUT=${STEP_TIMEOUT:-60}
# shellcheck source=tests/interop/lib.sh
. "$SOURCE/tests/interop/lib.sh"

[ -n "$SCEPCLIENT" ] || missing="$missing scep"
[ -x /usr/lib/certmonger/scep-submit ] && command -v certmonger > /dev/null || missing="$missing certmonger"
need_python 'impacket.dcerpc.v5.rpcrt, cryptography' 'python3-impacket python3-cryptography'
no_missing

make_work scepra-adcs-interop
# Called by cleanup: the harness stops the bridge and the fake CA when its standard input closes.
# shellcheck disable=SC2317
on_cleanup() { exec 7>&-; }

# --- the bridge and the fake CA ----------------------------------------------------
B="$WORK/bridge"; mkdir -p "$B"
mkfifo "$B/hold"
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$SOURCE/tests/unit/adcs/bridge_harness.py" --dir "$B" \
    < "$B/hold" > "$B/ports.json" 2> "$B/service.log" &
BACKGROUND_PIDS+=($!)
exec 7> "$B/hold"
wait_for_service "the bridge harness" "$B"
BRIDGE_PORT=$SERVICE_PORT
echo "== AD CS bridge at https://localhost:$BRIDGE_PORT"

# --- the instance, with [ca] backend = adcs --------------------------------------------
init_instance
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
start_serve
echo "== scep-ra at $URL"

# verify_chain STEP CERT: issued by the fake AD CS CA, and chains to it
verify_chain() {
    local out
    if ! openssl x509 -in "$2" -noout -issuer | grep -q "Test Issuing CA"; then
        fail "$1: not issued by the AD CS CA: $(openssl x509 -in "$2" -noout -issuer)"; return
    fi
    if out=$(openssl verify -CAfile "$B/ca-chain.pem" "$2" 2>&1); then
        pass "$1: $(openssl x509 -in "$2" -noout -subject -issuer | tr '\n' ' ')"
    else
        fail "$1: $out"
    fi
}

# --- micromdm scepclient --------------------------------------------------------
S="$WORK/scepclient"; mkdir -p "$S"; cd "$S" || exit 1
# With several certificates in GetCACert scepclient encrypts to all of them (and cannot to the AD CS
# CA's EC keys): the fingerprint picks the RA certificate.
RA_FP=$(openssl x509 -in "$WORK/ra/ra-signing.pem" -outform DER | sha256sum | cut -d' ' -f1)
scepclient "$S/a.log" -private-key "$S/a.key" -challenge "$(password)" -ca-fingerprint "$RA_FP" \
    -cn scepclient-adcs -organization Interop
rc=$?
if [ $rc -eq 0 ]; then verify_issued "scepclient enrol through the AD CS bridge" "$S/client.pem" "$S/a.key"
else fail "scepclient enrol: rc=$rc $(tail -1 "$S/a.log")"; fi
cd "$WORK" || exit 1

# --- certmonger (a private daemon: its own socket and state, no D-Bus) -----------------
D="$WORK/certmonger/good"
certmonger_request "$D" certmonger-adcs "$(password)"
verify_issued "certmonger daemon enrol through the AD CS bridge" "$D/cert.pem" "$D/key.pem"

# The RA certificate and one per client went to the CA over MS-ICPR.
issued=$(grep -c 'event="submit".*status="issued"' "$B/bridge.log" 2> /dev/null)
if [ "$issued" = 3 ]; then pass "the bridge submitted 3 requests, all issued"
else fail "the bridge issued $issued requests, not 3: $(tail -2 "$B/bridge.log" 2> /dev/null)"; fi
finish
