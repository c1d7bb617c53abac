#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages scep-ra needs to build (and, with --test,
# to run its test suite against real SCEP clients; with --fuzz, to build the fuzz targets). Skips apt when all are present.
set -euo pipefail
packages=(g++ cmake ninja-build pkg-config libssl-dev libcpp-httplib-dev libsqlite3-dev libkrb5-dev
          libboost-program-options-dev doctest-dev nlohmann-json3-dev openssl)
if [ "${1:-}" = "--test" ]; then
    # Real clients for the interop tests, a real browser for the admin page, and the tools the tests call.
    packages+=(scep certmonger sqlite3 curl chromium)
    # tools/check-format.sh (clang-format 14, the version .clang-format is checked with).
    packages+=(clang-format)
    # The AD CS bridge and its tests (run with /usr/bin/python3).
    packages+=(python3-impacket python3-cryptography)  # also the fake EJBCA
    # The metrics tests read /metrics with a real Prometheus text parser.
    packages+=(python3-prometheus-client)
    # The package test: cpack's shlibdeps (dpkg-shlibdeps) and systemd-analyze verify.
    packages+=(dpkg-dev systemd)
    # Negotiate/Kerberos on the admin page: a real MIT KDC on loopback (kdb5_util, krb5kdc,
    # kadmin.local) and kinit for the test user; curl --negotiate is the client.
    packages+=(krb5-kdc krb5-admin-server krb5-user)
fi
if [ "${1:-}" = "--fuzz" ]; then
    # libFuzzer and the sanitizer runtimes (clang only Recommends libclang-rt).
    packages+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
