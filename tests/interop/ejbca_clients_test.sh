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
TIMEOUT=${STEP_TIMEOUT:-60}
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"

[ -n "$SCEPCLIENT" ] || missing="$missing scep"
need_command certmonger certmonger
need_python cryptography python3-cryptography
need_command curl curl
no_missing

make_work scepra-ejbca-interop

# --- the fake EJBCA -----------------------------------------------------------
E="$WORK/ejbca"
# RSA CA keys: scepclient encrypts to every certificate GetCACert returns, and only to RSA ones.
start_service "fake EJBCA" "$E" python3 "$FAKE" --dir "$E" --ca-key rsa
EJBCA_PORT=$SERVICE_PORT
CONTROL_PORT=$SERVICE_CONTROL_PORT
ejbca_holds() {  # ejbca_holds CERT: the fake EJBCA issued this serial
    local serial
    serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2 | sed 's/^0*//')
    curl -fsS "http://127.0.0.1:$CONTROL_PORT/state" |
        python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if sys.argv[1].upper() in s["certificates"] else 1)' "$serial"
}

# --- scep-ra in front of it -----------------------------------------------------
init_instance --backend ejbca
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
start_serve
if grep -q "CA backend ejbca ready" "$WORK/serve.log"; then pass "serve: $(grep 'CA backend' "$WORK/serve.log")"
else fail "serve health line: $(grep 'CA backend' "$WORK/serve.log")"; fi
echo "== scep-ra at $URL, EJBCA at https://localhost:$EJBCA_PORT"

# verify_chain STEP CERT: chains to EJBCA's root, held by EJBCA
verify_chain() {
    local out
    if ! out=$(openssl verify -CAfile "$E/root-ca.pem" -untrusted "$E/issuing-ca.pem" "$2" 2>&1); then
        fail "$1: $out"; return
    fi
    if ejbca_holds "$2"; then pass "$1: $(openssl x509 -in "$2" -noout -subject -issuer | tr '\n' ' ')"
    else fail "$1: EJBCA holds no certificate with this serial"; fi
}

# --- micromdm scepclient --------------------------------------------------------
S="$WORK/scepclient"; mkdir -p "$S" && cd "$S" || exit 1
scepclient "$S/a.log" -private-key "$S/a.key" -challenge "$(password)" -cn scepclient-ejbca -organization Interop
rc=$?
if [ $rc -eq 0 ]; then verify_issued "scepclient enrol through EJBCA" "$S/client.pem" "$S/a.key"
else fail "scepclient enrol: rc=$rc $(tail -1 "$S/a.log")"; fi

scepclient_renewal "scepclient renewal signed by its EJBCA certificate" "$S" scepclient-ejbca
cd "$WORK" || exit 1

# --- certmonger -----------------------------------------------------------------
D="$WORK/certmonger/good"
certmonger_request "$D" certmonger-ejbca "$(password)"
verify_issued "certmonger daemon enrol through EJBCA" "$D/cert.pem" "$D/key.pem"

# --- EJBCA refuses: the client sees a rejection, not a certificate ---------------
curl -fsS -o /dev/null -X POST -d '{"enroll_error": [422, "End entity profile does not allow this DN"]}' \
    "http://127.0.0.1:$CONTROL_PORT/control"
mkdir -p "$S/refused" && cd "$S/refused" || exit 1
scepclient "$S/refused/r.log" -private-key "$S/refused/r.key" -challenge "$(password)" \
    -cn scepclient-refused -organization Interop
rc=$?
if [ $rc -ne 0 ] && grep -q "badRequest" "$S/refused/r.log" && ! grep -q "does not allow this DN" "$S/refused/r.log"; then
    pass "scepclient: EJBCA's refusal is badRequest, without EJBCA's words"
else fail "scepclient refused by EJBCA: rc=$rc $(tail -1 "$S/refused/r.log")"; fi
cd "$WORK" || exit 1

finish
