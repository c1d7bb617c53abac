#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# real_clients_test.sh SCEP_RA_BINARY
#
# Creates a scep-ra instance, serves it on a free loopback port and enrols
# SCEP clients nobody on this project wrote: micromdm scepclient (Debian
# "scep": POST, single DES, SHA-1) and certmonger (Debian "certmonger": GET,
# AES-256, SHA-256, driven by its own daemon). Each enrolment gets a fresh
# one-time password from `scep-ra password issue`. Every issued certificate
# must carry the client's key and chain to the instance's CA.
# Prints PASS/FAIL per step and ends with "N passed, M failed".
set -u
BIN="$(readlink -f "${1:?usage: $0 SCEP_RA_BINARY}")"
SCEP_SUBMIT=/usr/lib/certmonger/scep-submit
TIMEOUT=${STEP_TIMEOUT:-60}
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

[ -n "$SCEPCLIENT" ] || missing="$missing scep"
[ -x "$SCEP_SUBMIT" ] && command -v certmonger > /dev/null || missing="$missing certmonger"
need_command sqlite3 sqlite3
no_missing

make_work scepra-interop

# --- the instance -------------------------------------------------------------
init_instance
CA="$WORK/ra/ca.pem"
DB="$WORK/ra/scep-ra.db"
# scepclient only speaks single DES; the operator opts in for such legacy clients.
sed -i 's/^allow_single_des = 0/allow_single_des = 1/' "$CONF"
# Wrong and reused passwords are tried on purpose (clients may retry them): no lockout for those.
sed -i 's/^max_failures = .*/max_failures = 100/' "$CONF"
start_serve
echo "== scep-ra at $URL"

# verify_chain STEP CERT: chains to the instance's CA
verify_chain() {
    local out
    if out=$(openssl verify -CAfile "$CA" "$2" 2>&1); then
        pass "$1: $(openssl x509 -in "$2" -noout -subject -serial | tr '\n' ' ')"
    else
        fail "$1: $out"
    fi
}

# --- micromdm scepclient --------------------------------------------------------
S="$WORK/scepclient"; mkdir -p "$S"
PW=$(password)
scepclient "$S/a.log" -private-key "$S/a.key" -challenge "$PW" -cn scepclient-a -organization Interop
rc=$?
if [ $rc -eq 0 ]; then verify_issued "scepclient enrol (POST, DES, SHA-1)" "$S/client.pem" "$S/a.key"
else fail "scepclient enrol: rc=$rc $(tail -1 "$S/a.log")"; fi

# RenewalReq signed by the certificate just issued; no challenge needed.
scepclient_renewal "scepclient renewal (RenewalReq signed by the old certificate)" "$S" scepclient-a

mkdir -p "$S/reuse" && cd "$S/reuse" || exit 1
scepclient "$S/reuse/b.log" -private-key "$S/reuse/b.key" -challenge "$PW" -cn scepclient-b -organization Interop
rc=$?
if [ $rc -ne 0 ] && grep -q "badRequest" "$S/reuse/b.log" && [ ! -s "$S/reuse/client.pem" ]; then
    pass "scepclient reused password refused with badRequest"
else fail "scepclient reused password: rc=$rc $(tail -1 "$S/reuse/b.log")"; fi

mkdir -p "$S/wrong" && cd "$S/wrong" || exit 1
scepclient "$S/wrong/c.log" -private-key "$S/wrong/c.key" -challenge 0000000000000000 \
    -cn scepclient-c -organization Interop
rc=$?
if [ $rc -ne 0 ] && grep -q "badRequest" "$S/wrong/c.log"; then pass "scepclient wrong password refused with badRequest"
else fail "scepclient wrong password: rc=$rc $(tail -1 "$S/wrong/c.log")"; fi
cd "$WORK" || exit 1

# --- certmonger -----------------------------------------------------------------
C="$WORK/certmonger"; mkdir -p "$C"
if "$SCEP_SUBMIT" -u "$URL" -c > "$C/caps.txt" 2>&1 && tr -d '\r' < "$C/caps.txt" | grep -qx AES; then
    pass "certmonger scep-submit GetCACaps: $(tr '\n' ' ' < "$C/caps.txt")"
else fail "certmonger GetCACaps: $(tr '\n' ' ' < "$C/caps.txt")"; fi
if "$SCEP_SUBMIT" -u "$URL" -C > "$C/cacerts.pem" 2>&1 && [ "$(grep -c 'BEGIN CERTIFICATE' "$C/cacerts.pem")" -ge 2 ]; then
    pass "certmonger scep-submit GetCACert: $(grep -c 'BEGIN CERTIFICATE' "$C/cacerts.pem") certificates"
else fail "certmonger GetCACert: $(tail -1 "$C/cacerts.pem")"; fi

certmonger_request "$C/good" certmonger-good "$(password)"
verify_issued "certmonger daemon enrol (GET, AES-256, SHA-256)" "$C/good/cert.pem" "$C/good/key.pem"

certmonger_request "$C/bad" certmonger-bad 0000000000000000
if [ ! -s "$C/bad/cert.pem" ] && grep -aq "status: CA_REJECTED" "$C/bad/daemon.log"; then
    pass "certmonger wrong password: CA_REJECTED"
else fail "certmonger wrong password: $(grep -a 'status:' "$C/bad/daemon.log" | head -1)"; fi

# --- the audit trail ------------------------------------------------------------
issued=$(sqlite3 "$DB" "SELECT count(*) FROM audit_events WHERE decision = 'issued'")
rejected=$(sqlite3 "$DB" "SELECT count(*) FROM audit_events WHERE decision = 'rejected' AND fail_info = 'badRequest'")
certs=$(sqlite3 "$DB" "SELECT count(*) FROM issued_certs WHERE transaction_id IS NOT NULL")
if [ "$issued" = 3 ] && [ "$certs" = 3 ] && [ "$rejected" -ge 3 ]; then
    pass "audit trail: $issued issued, $rejected refused with badRequest, $certs certificates stored"
else fail "audit trail: issued=$issued rejected=$rejected certs=$certs"; fi

# --- revocation: `scep-ra revoke`, then the CRL over HTTP, checked by openssl ----
serial=$(openssl x509 -in "$C/good/cert.pem" -noout -serial | cut -d= -f2)
if "$BIN" revoke "$serial" --reason keyCompromise --config "$CONF" > /dev/null &&
    curl -fsS -o "$WORK/ca.crl" "http://127.0.0.1:$(cat "$WORK/port")/crl/scep-ra.crl" &&
    openssl crl -inform DER -in "$WORK/ca.crl" -CAfile "$CA" -noout 2>&1 | grep -q "verify OK" &&
    openssl crl -inform DER -in "$WORK/ca.crl" -noout -text | grep -q "Serial Number: $serial" &&
    ! openssl verify -crl_check -CAfile "$CA" -CRLfile <(openssl crl -inform DER -in "$WORK/ca.crl") \
        "$C/good/cert.pem" > /dev/null 2>&1; then
    pass "revoke: the CRL at /crl/scep-ra.crl verifies and lists $serial; openssl verify -crl_check refuses it"
else fail "revoke/CRL for $serial"; fi

# --- manual approval: PENDING, then the certificate once an officer approves ------
stop_serve
for t in SignatureTemplate EncryptionTemplate GeneralPurposeTemplate; do
    sed -i "s/^$t = .*/$t = Manual/" "$CONF"
done
printf '\n[profile.Manual]\nmanual_approval = 1\nextended_key_usage = clientAuth\n' >> "$CONF"
start_serve

# approve_pending SUBJECT_PART: waits for the pending request, approves it with the CLI
approve_pending() {
    local id=""
    for _ in $(seq 1 100); do
        id=$("$BIN" request list --pending --config "$CONF" | awk -F'\t' -v s="$1" 'index($4, s) {print $1}' | head -1)
        [ -n "$id" ] && break
        sleep 0.2
    done
    [ -n "$id" ] && "$BIN" request approve "$id" --config "$CONF" > /dev/null
}

# scepclient re-sends the identical PKCSReq every 30 s while it is PENDING.
mkdir -p "$S/pending" && cd "$S/pending" || exit 1
timeout $((TIMEOUT + 30)) "$SCEPCLIENT" -server-url "$URL" -private-key "$S/pending/p.key" -challenge "$(password)" \
    -cn scepclient-pending -organization Interop > "$S/pending/log" 2>&1 &
client_pid=$!
if approve_pending scepclient-pending; then
    wait "$client_pid"
    verify_issued "scepclient PENDING, approved, delivered on its re-send" "$S/pending/client.pem" "$S/pending/p.key"
else kill "$client_pid" 2> /dev/null; fail "scepclient pending: no pending request appeared"; fi
cd "$WORK" || exit 1

# certmonger: the first daemon run leaves the request waiting at the CA; the
# second one, after the approval, asks again and receives the certificate.
certmonger_request "$C/pending" certmonger-pending "$(password)"
if grep -aq "status: CA_WORKING" "$C/pending/daemon.log" && [ ! -s "$C/pending/cert.pem" ]; then
    approve_pending certmonger-pending
    cat > "$C/pending/steps.sh" << STEPS
#!/bin/bash
for i in \$(seq 1 $((TIMEOUT * 2))); do getcert list -i req | grep -q 'status: MONITORING' && break; sleep 0.5; done
getcert list -i req
STEPS
    certmonger_daemon "$C/pending" daemon2.log
    verify_issued "certmonger PENDING, approved, delivered on its next run" "$C/pending/cert.pem" "$C/pending/key.pem"
else fail "certmonger pending: $(grep -a 'status:' "$C/pending/daemon.log" | head -1)"; fi

finish
