#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package, as an operator gets it: built with cpack from the build
# directory, its control data and file list checked, both systemd units
# verified, then unpacked into a scratch root and run from there (init with
# the /etc + /var/lib split into temp dirs, check-config, the sample configs,
# a short `serve` on a loopback port answering GetCACert and `doctor --enroll`).
# With SCEPRA_INSTALL_TEST_SYSTEM=1 (or CI=true) it also installs the package
# on this machine to run the maintainer scripts, and purges it afterwards.
# usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2> /dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "cpack builds the .deb"
(cd "$BUILD" && cpack -G DEB -B "$WORK/pkg" > "$WORK/cpack.log" 2>&1) || { cat "$WORK/cpack.log"; fail "cpack"; }
DEB=$(ls "$WORK"/pkg/scep-ra_*.deb)
[ -f "$DEB" ] || fail "no scep-ra_*.deb in $WORK/pkg"

step "control data: $(basename "$DEB")"
dpkg-deb -I "$DEB" > "$WORK/info"
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = scep-ra ] || fail "Package: $(field Package)"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
depends=$(field Depends)
echo "Depends: $depends"
for lib in libssl3 libsqlite3-0 libboost-program-options libcpp-httplib libstdc++6 adduser; do
    grep -q "$lib" <<< "$depends" || fail "Depends lacks $lib (shlibdeps): $depends"
done
grep -q python3 <<< "$depends" && fail "python3 must be recommended, not required: $depends"
recommends=$(field Recommends)
for py in python3 python3-impacket python3-cryptography; do
    grep -qw "$py" <<< "$recommends" || fail "Recommends lacks $py: $recommends"
done
for script in postinst prerm postrm; do
    grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$script " "$WORK/info" || fail "maintainer script $script missing or not executable"
done

step "file list"
dpkg-deb -c "$DEB" > "$WORK/files"
for f in ./usr/bin/scep-ra ./usr/lib/systemd/system/scep-ra.service \
         ./usr/lib/systemd/system/scep-ra-adcs-bridge.service \
         ./usr/lib/scep-ra/adcs-bridge/scep-ra-adcs-bridge \
         ./usr/lib/scep-ra/adcs-bridge/scep_ra_adcs_bridge/__init__.py \
         ./usr/lib/scep-ra/adcs-bridge/scep_ra_adcs_bridge/cli.py \
         ./usr/share/doc/scep-ra/README.md ./usr/share/doc/scep-ra/ndes-registry-map.md \
         ./usr/share/doc/scep-ra/adcs-bridge.md \
         ./usr/share/doc/scep-ra/examples/scep-ra.conf.local; do
    grep -q " $f\( \|$\)" "$WORK/files" || fail "package lacks $f"
done
grep -q "^-rwxr-xr-x .* ./usr/bin/scep-ra$" "$WORK/files" || fail "/usr/bin/scep-ra is not an executable file"
grep -q "./usr/bin/scep-ra-adcs-bridge -> ../lib/scep-ra/adcs-bridge/scep-ra-adcs-bridge" "$WORK/files" ||
    fail "/usr/bin/scep-ra-adcs-bridge is not the symlink to the bridge"
grep -q "__pycache__\|\.pyc$" "$WORK/files" && fail "compiled Python in the package"
grep -Eq " ./(etc|var)/" "$WORK/files" && fail "the package must not ship /etc or /var: postinst and init make them"

step "unpacked into a scratch root"
ROOT=$WORK/root
dpkg-deb -x "$DEB" "$ROOT"

step "systemd-analyze verify, both units"
# A root of its own: the unpacked package, plus the host's units (sysinit.target
# and the rest) and /bin/kill, so that every path the units name is looked up
# in the package, not on this machine.
VROOT=$WORK/verify-root
cp -a "$ROOT" "$VROOT"
cp -rn /usr/lib/systemd/system/. "$VROOT/usr/lib/systemd/system/"
install -D /bin/kill "$VROOT/usr/bin/kill"
ln -s usr/bin "$VROOT/bin"
for unit in scep-ra.service scep-ra-adcs-bridge.service; do
    SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no --root="$VROOT" \
        "$VROOT/usr/lib/systemd/system/$unit" > "$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log"; fail "$unit"; }
    if [ -s "$WORK/verify.log" ]; then cat "$WORK/verify.log"; fail "systemd-analyze verify complains about $unit"; fi
done
unit=$ROOT/usr/lib/systemd/system/scep-ra.service
for line in 'User=scep-ra' 'Group=scep-ra' 'Restart=on-failure' 'ProtectSystem=strict' 'ProtectHome=yes' \
            'NoNewPrivileges=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'ProtectKernelTunables=yes' \
            'ProtectKernelModules=yes' 'ProtectControlGroups=yes' \
            'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'ReadWritePaths=/var/lib/scep-ra' \
            'RuntimeDirectory=scep-ra' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
            'AmbientCapabilities=CAP_NET_BIND_SERVICE' 'ExecReload=/bin/kill -HUP $MAINPID' \
            'ExecStart=/usr/bin/scep-ra serve --config /etc/scep-ra/scep-ra.conf'; do
    grep -qxF "$line" "$unit" || fail "scep-ra.service lacks '$line'"
done
# Every absolute program a unit starts is in the package.
for u in "$ROOT"/usr/lib/systemd/system/*.service; do
    for exe in $(sed -n 's/^Exec[A-Za-z]*=[-@+!]*\(\/[^ ]*\).*/\1/p' "$u"); do
        [ "$exe" = /bin/kill ] && continue
        [ -x "$ROOT$exe" ] || fail "$(basename "$u") starts $exe, which the package does not install"
    done
done

SCEPRA=$ROOT/usr/bin/scep-ra
step "the installed binary"
"$SCEPRA" --help | grep -q check-config || fail "--help does not list check-config"
"$SCEPRA" init --help | grep -q -- --state-dir || fail "init --help does not list --state-dir"

step "init --dir ETC --state-dir VAR"
ETC=$WORK/etc/scep-ra VAR=$WORK/var/lib/scep-ra RUN=$WORK/run/scep-ra
mkdir -p "$RUN"
"$SCEPRA" init --dir "$ETC" --state-dir "$VAR" --pid-file "$RUN/scep-ra.pid" --listen 127.0.0.1:0 \
    --admin-listen 127.0.0.1:0 > "$WORK/init.log"
[ "$(ls "$ETC")" = scep-ra.conf ] || fail "ETC holds more than scep-ra.conf: $(ls "$ETC")"
grep -qxF "path = $VAR/scep-ra.db" "$ETC/scep-ra.conf" || fail "config does not name $VAR/scep-ra.db"
[ "$(stat -c %a "$VAR/private")" = 700 ] || fail "private/ is not 0700"
[ "$(stat -c %a "$VAR/private/ca.key")" = 600 ] || fail "the CA key is not 0600"

step "check-config on the result"
[ "$("$SCEPRA" check-config --config "$ETC/scep-ra.conf")" = ok ] || fail "check-config"

step "the sample configs, pointed at this instance"
for sample in scep-ra.conf.local scep-ra.conf.single-password scep-ra.conf.no-password; do
    sed -e "s|/var/lib/scep-ra|$VAR|g" -e "s|/run/scep-ra|$RUN|g" \
        "$ROOT/usr/share/doc/scep-ra/examples/$sample" > "$ETC/$sample"
    "$SCEPRA" check-config --config "$ETC/$sample" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "$sample"; }
done

step "serve on a loopback port, GetCACert"
"$SCEPRA" serve --config "$ETC/scep-ra.conf" --port-file "$WORK/port" > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    [ -s "$WORK/port" ] && break
    kill -0 "$SERVER_PID" 2> /dev/null || { cat "$WORK/serve.log"; fail "serve exited"; }
    sleep 0.1
done
[ -s "$WORK/port" ] || fail "serve did not write its port"
[ "$(cat "$RUN/scep-ra.pid")" = "$SERVER_PID" ] || fail "pid file does not hold the server's pid"
PORT=$(cat "$WORK/port")
curl -sf --max-time 10 -o "$WORK/cacert.der" \
    "http://127.0.0.1:$PORT/certsrv/mscep/mscep.dll?operation=GetCACert&message=x" || fail "GetCACert"
openssl pkcs7 -inform DER -in "$WORK/cacert.der" -print_certs -noout > "$WORK/cacert.txt"
[ "$(grep -c '^subject' "$WORK/cacert.txt")" -eq 3 ] || fail "GetCACert: $(cat "$WORK/cacert.txt")"
step "doctor --enroll: a test enrolment through the running server"
"$SCEPRA" doctor --config "$ETC/scep-ra.conf" --url "http://127.0.0.1:$PORT/certsrv/mscep/mscep.dll" --enroll \
    > "$WORK/doctor.log" 2>&1 || { cat "$WORK/doctor.log"; fail "doctor --enroll"; }
grep -q "^pass  test enrolment: issued serial .* to CN=scep-ra-doctor-" "$WORK/doctor.log" ||
    { cat "$WORK/doctor.log"; fail "doctor --enroll issued nothing"; }
"$SCEPRA" reload --config "$ETC/scep-ra.conf" > /dev/null || fail "reload through the pid file"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "serve did not stop cleanly on SIGTERM"
SERVER_PID=""
[ ! -e "$RUN/scep-ra.pid" ] || fail "pid file left behind"

step "the installed AD CS bridge starts from its private directory and through /usr/bin"
PYTHONDONTWRITEBYTECODE=1 "$ROOT/usr/lib/scep-ra/adcs-bridge/scep-ra-adcs-bridge" --help > /dev/null ||
    fail "bridge --help"
PYTHONDONTWRITEBYTECODE=1 "$ROOT/usr/bin/scep-ra-adcs-bridge" --help > /dev/null || fail "bridge --help via symlink"

if [ "${SCEPRA_INSTALL_TEST_SYSTEM:-}" = 1 ] || [ "${CI:-}" = true ]; then
    step "maintainer scripts on this machine (dpkg -i, then purge)"
    [ "$(id -u)" = 0 ] || fail "installing on the machine needs root"
    if dpkg-query -W scep-ra > /dev/null 2>&1 || [ -e /var/lib/scep-ra ] || [ -e /etc/scep-ra ] || getent passwd scep-ra > /dev/null; then
        fail "scep-ra is already on this machine: not touching it"
    fi
    system_cleanup() { dpkg --purge scep-ra > /dev/null 2>&1 || true; rm -rf /var/lib/scep-ra /etc/scep-ra; cleanup; }
    trap system_cleanup EXIT
    dpkg -i "$DEB" > "$WORK/dpkg-i.log" 2>&1 || { cat "$WORK/dpkg-i.log"; fail "dpkg -i"; }
    grep -q "sudo -u scep-ra scep-ra init --dir /etc/scep-ra --state-dir /var/lib/scep-ra" "$WORK/dpkg-i.log" ||
        fail "postinst does not say how to run init"
    getent passwd scep-ra > /dev/null || fail "no scep-ra user"
    getent passwd scep-ra-adcs-bridge > /dev/null || fail "no scep-ra-adcs-bridge user"
    [ "$(stat -c '%a %U %G' /var/lib/scep-ra)" = "750 scep-ra scep-ra" ] || fail "/var/lib/scep-ra: $(stat -c '%a %U %G' /var/lib/scep-ra)"
    [ -d /etc/scep-ra ] || fail "no /etc/scep-ra"
    runuser -u scep-ra -- scep-ra init --dir /etc/scep-ra --state-dir /var/lib/scep-ra --admin-listen none > /dev/null
    runuser -u scep-ra -- scep-ra check-config --config /etc/scep-ra/scep-ra.conf > /dev/null 2>&1 || fail "check-config as scep-ra"
    key_sum=$(sha256sum /var/lib/scep-ra/private/ca.key)
    dpkg -i "$DEB" > "$WORK/dpkg-again.log" 2>&1 || fail "reinstall"
    grep -q "has no instance yet" "$WORK/dpkg-again.log" && fail "postinst ignores the existing instance"
    [ "$(sha256sum /var/lib/scep-ra/private/ca.key)" = "$key_sum" ] || fail "reinstall touched the CA key"
    dpkg --remove scep-ra > /dev/null 2>&1 || fail "dpkg --remove"
    getent passwd scep-ra > /dev/null || fail "remove (not purge) deleted the user"
    [ "$(sha256sum /var/lib/scep-ra/private/ca.key)" = "$key_sum" ] || fail "remove touched the CA key"
    dpkg --purge scep-ra > /dev/null 2>&1 || fail "dpkg --purge"
    getent passwd scep-ra > /dev/null && fail "purge left the scep-ra user"
    [ "$(sha256sum /var/lib/scep-ra/private/ca.key)" = "$key_sum" ] || fail "purge deleted the CA key"
    rm -rf /var/lib/scep-ra /etc/scep-ra
fi
echo "PASS"
