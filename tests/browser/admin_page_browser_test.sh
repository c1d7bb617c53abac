#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# admin_page_browser_test.sh SCEP_RA_BINARY
#
# Opens the admin page /certsrv/mscep_admin/ in a real headless browser
# (Debian's chromium) over HTTPS: with an admin's credentials it must show a
# fresh challenge password in the NDES markup (UTF-16LE by default, also as UTF-8),
# and that password must enrol a device; without credentials, or with wrong
# ones, or with binding parameters on the GET, no password may appear.
# Ends with "N passed, M failed".
set -u
BIN="$(readlink -f "${1:?usage: $0 SCEP_RA_BINARY}")"
passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
BROWSER=$(command -v chromium || true)
[ -n "$BROWSER" ] || { fail "setup: Debian package chromium is missing (apt-get install chromium)"; finish; }

WORK=$(mktemp -d /tmp/scepra-browser.XXXXXX)
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null && wait "$SERVER_PID" 2> /dev/null
    [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null && wait "$SERVER_PID" 2> /dev/null
    rm -f "$WORK/port" "$WORK/admin-port"
    "$BIN" serve --config "$CONF" --listen 127.0.0.1:0 --port-file "$WORK/port" \
        --admin-listen 127.0.0.1:0 --admin-port-file "$WORK/admin-port" --metrics-listen 127.0.0.1:0 >> "$WORK/serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/admin-port" ] && break; sleep 0.05; done
    [ -s "$WORK/admin-port" ] || { fail "serve did not start: $(tail -2 "$WORK/serve.log")"; finish; }
    ADMIN="127.0.0.1:$(cat "$WORK/admin-port")"
}

# page URL: the DOM Chromium renders (the test CA is not in its trust store,
# hence --ignore-certificate-errors; TLS verification itself is tested in C++).
page() {
    timeout 60 "$BROWSER" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$WORK/profile-$RANDOM" --ignore-certificate-errors --dump-dom "$1" 2>> "$WORK/browser.err"
}

"$BIN" init --dir "$WORK/ra" > /dev/null 2>&1 || { fail "init"; finish; }
CONF="$WORK/ra/scep-ra.conf"
sed -i 's/^allow_single_des = 0/allow_single_des = 1/' "$CONF"
printf 'correct-horse-battery\n' | "$BIN" admin add alice --config "$CONF" > /dev/null || { fail "admin add"; finish; }
start_server

dom=$(page "https://alice:correct-horse-battery@$ADMIN/certsrv/mscep_admin/")
password=$(printf '%s' "$dom" | grep -oiE 'The enrollment challenge password is: <b> [0-9A-F]{16} </b>' | grep -oE '[0-9A-F]{16}')
if [ -n "$password" ] && printf '%s' "$dom" | grep -q "This password can be used only once"; then
    pass "with credentials the page shows a password ($password)"
else fail "with credentials: no password in $(printf '%s' "$dom" | head -c 300)"; fi

# Chromium shows its own (headless: empty) login prompt on the 401; the server log says why.
before=$(grep -c "401 .* admin page: no credentials" "$WORK/serve.log")
dom=$(page "https://$ADMIN/certsrv/mscep_admin/")
after=$(grep -c "401 .* admin page: no credentials" "$WORK/serve.log")
if ! printf '%s' "$dom" | grep -qi "challenge password is" && [ "$after" -gt "$before" ]; then
    pass "without credentials the page is refused (HTTP 401)"
else fail "without credentials: $(printf '%s' "$dom" | head -c 300)"; fi

# What a cross-site <img> would ask for with the browser's cached credentials.
dom=$(page "https://alice:correct-horse-battery@$ADMIN/certsrv/mscep_admin/?subject=*&validity=525600")
if ! printf '%s' "$dom" | grep -qi "challenge password is" &&
    printf '%s' "$dom" | grep -q "POST with Content-Type: application/json"; then
    pass "binding parameters on a GET are refused, no password issued"
else fail "binding GET: $(printf '%s' "$dom" | head -c 300)"; fi

dom=$(page "https://alice:wrong-password-here@$ADMIN/certsrv/mscep_admin/")
if ! printf '%s' "$dom" | grep -qi "challenge password is"; then pass "with a wrong password the page is refused"
else fail "with a wrong password a password was shown"; fi

if command -v scepclient > /dev/null && [ -n "$password" ]; then
    mkdir -p "$WORK/device" && cd "$WORK/device" || exit 1
    if timeout 60 scepclient -server-url "http://127.0.0.1:$(cat "$WORK/port")/certsrv/mscep/mscep.dll" \
        -private-key "$WORK/device/d.key" -challenge "$password" -cn browser-device > "$WORK/device/log" 2>&1 &&
        openssl verify -CAfile "$WORK/ra/ca.pem" "$WORK/device/client.pem" > /dev/null 2>&1; then
        pass "the password from the browser enrols scepclient"
    else fail "scepclient with the browser's password: $(tail -1 "$WORK/device/log")"; fi
    cd "$WORK" || exit 1
fi

sed -i 's/^utf16 = 1/utf16 = 0/' "$CONF"
start_server
dom=$(page "https://alice:correct-horse-battery@$ADMIN/certsrv/mscep_admin/")
if printf '%s' "$dom" | grep -qiE 'The enrollment challenge password is: <b> [0-9A-F]{16} </b>'; then
    pass "the UTF-8 page (utf16 = 0) renders the same markup"
else fail "UTF-8 page: $(printf '%s' "$dom" | head -c 300)"; fi

finish
