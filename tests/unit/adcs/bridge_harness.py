#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The AD CS bridge for scep-ra's C++ tests: the fake CA RPC server of tests/adcs_bridge
(MS-ICPR on impacket's DCERPCServer, loopback, unauthenticated) and the REAL bridge process
(`scep-ra-adcs-bridge serve`, mutual TLS, auth = none) in front of it.

Writes into --dir: tls-ca.pem (client and server TLS CA), server.pem/.key (the bridge's TLS
certificate, SAN localhost and 127.0.0.1), ra.pem/.key (allowed client), other.pem/.key (same CA,
not on allow_client), stranger.pem/.key (another CA), stranger-ca.pem, ca-chain.pem (the CA
chain, issuing CA first). Prints one JSON line {"port", "control_port"} once the bridge listens.

Control (plain HTTP on loopback): POST /control with one of
  {"approve": ID} {"deny": ID}           the CA officer decides a pending request
  {"offline": true} {"online": true}     the CA's RPC port refuses connections, or listens again
  {"hang_next": true} {"release": true}  the next CA call takes the request but answers only on release
  {"revoke": "HEX SERIAL"}               the CA lists the certificate on its CRL
  {"rekey": true}                        the CA renews its certificate with a new key under the same name
                                         (ca-chain.pem rewritten); the bridge restarts on its port to serve it
  {"bridge_down": true} {"bridge_up": true}  the bridge process stops, or starts again on its port
GET /state -> {"new_submissions": N, "rows": {"ID": disposition}, "bridge_running": bool}.
With --crl, the fake CA's certificates carry an HTTP CRL distribution point on this control server:
GET /CertEnroll/<CA name>.crl, and after each re-key /CertEnroll/<CA name>(K).crl, the CRL (DER)
of the CA key that signed them, as AD CS publishes one per key at its CDP.
Exits (stopping the bridge) on SIGTERM or when its standard input closes.
"""
import argparse
import ctypes
import datetime
import http.server
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "adcs_bridge"))

import fake_ca  # noqa: E402
import pki  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402

BRIDGE = os.path.join(SOURCE, "backends", "adcs", "bridge", "scep-ra-adcs-bridge")
TEMPLATES = "SCEPDevice, SCEPPending, SCEPNotOnCa"
START_LIMIT_SECONDS = 60
PR_SET_PDEATHSIG = 1


def write_pki(directory: str) -> str:
    tls_ca = pki.Authority("Bridge TLS CA")
    pki.write_pem(os.path.join(directory, "tls-ca.pem"), tls_ca.cert)
    pki.tls_pair(directory, "server", tls_ca, "bridge.test", True)
    _, _, ra = pki.tls_pair(directory, "ra", tls_ca, "scep-ra", False)
    pki.tls_pair(directory, "other", tls_ca, "not-allowed", False)
    stranger_ca = pki.Authority("Stranger CA")
    pki.write_pem(os.path.join(directory, "stranger-ca.pem"), stranger_ca.cert)
    pki.tls_pair(directory, "stranger", stranger_ca, "scep-ra", False)
    return ra.subject.rfc4514_string()


def write_config(directory: str, ra_subject: str, ca_port: int, timeout: int) -> str:
    path = os.path.join(directory, "adcs-bridge.conf")
    with open(path, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:0\n")
        f.write("tls_cert = %s\ntls_key = %s\n" % (os.path.join(directory, "server.pem"),
                                                    os.path.join(directory, "server.key")))
        f.write("client_ca = %s\nallow_client =\n    subject:%s\n" % (os.path.join(directory, "tls-ca.pem"),
                                                                      ra_subject))
        f.write("[ca]\nca_host = 127.0.0.1\nca_name = Test Issuing CA\ntransport = icpr\nport = %d\n" % ca_port)
        f.write("templates = %s\nchain = %s\ntimeout_seconds = %d\n" % (TEMPLATES, os.path.join(directory,
                                                                                                "ca-chain.pem"),
                                                                         timeout))
        f.write("[auth]\nauth = none\n")
        f.write("[bridge]\nstate = %s\nlog = %s\n" % (os.path.join(directory, "bridge.sqlite"),
                                                      os.path.join(directory, "bridge.log")))
    return path


def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def start_bridge(config: str, log: str) -> (subprocess.Popen, int):
    proc = subprocess.Popen(["/usr/bin/python3", BRIDGE, "serve", "--config", config], stdin=subprocess.DEVNULL,
                            preexec_fn=die_with_parent, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    deadline = time.monotonic() + START_LIMIT_SECONDS
    while time.monotonic() < deadline:   # bounded: the bridge writes its start line once it listens
        if proc.poll() is not None:
            raise SystemExit("the bridge exited with %d" % proc.returncode)
        if os.path.exists(log):
            with open(log, encoding="utf-8") as f:
                for line in f:
                    if 'event="start"' in line:
                        listen = line.split('listen="', 1)[1].split('"', 1)[0]
                        return proc, int(listen.rsplit(":", 1)[1])
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the bridge did not start in %d s" % START_LIMIT_SECONDS)


class CrlPublisher:
    """One CRL per key of the issuing CA, as AD CS publishes them: the certificates key K signs name
    base_url/CertEnroll/<CA name><suffix>.crl as their CRL distribution point (suffix "" for key 0,
    "(K)" after K re-keys), and that CRL is signed by key K and lists the revoked certificates key K
    issued."""

    def __init__(self, authority: pki.Authority, ca_name: str):
        self.ca_name = ca_name
        self.base_url = ""       # set once the control server listens, before any certificate is issued
        self.revoked = set()
        self.lock = threading.Lock()
        self.keys = []           # per key index: (authority, serials it issued)
        self.add_key(authority)

    def add_key(self, authority: pki.Authority) -> None:
        """authority is the CA's next key: its certificates name the next CRL."""
        with self.lock:
            index = len(self.keys)
            self.keys.append((authority, set()))
        authority.issue = lambda subject, public_key, serial=None, eku=None: self._issue(
            index, subject, public_key, serial, eku)

    def path(self, index: int) -> str:
        suffix = "" if index == 0 else "(%d)" % index
        return "/CertEnroll/%s%s.crl" % (urllib.parse.quote(self.ca_name), suffix)

    def key_of_path(self, path: str):
        """The key index whose CRL is at path (as requested, percent-encoded), or None."""
        for index in range(len(self.keys)):
            if urllib.parse.unquote(path) == urllib.parse.unquote(self.path(index)):
                return index
        return None

    def _issue(self, index: int, subject, public_key, serial=None, eku=None) -> x509.Certificate:
        authority, issued = self.keys[index]
        now = datetime.datetime.utcnow()
        url = self.base_url + self.path(index)
        cdp = x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier(url)],
                                                                 None, None, None)])
        serial = serial or x509.random_serial_number()
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(authority.cert.subject)
                   .public_key(public_key).serial_number(serial)
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=7))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(cdp, critical=False))
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        with self.lock:
            issued.add(serial)
        return builder.sign(authority.key, hashes.SHA256())

    def crl_der(self, index: int) -> bytes:
        authority, issued = self.keys[index]
        now = datetime.datetime.utcnow()
        builder = (x509.CertificateRevocationListBuilder().issuer_name(authority.cert.subject)
                   .last_update(now - datetime.timedelta(minutes=5)).next_update(now + datetime.timedelta(days=1)))
        with self.lock:
            listed = sorted(self.revoked & issued)
        for serial in listed:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(now - datetime.timedelta(minutes=1)).build())
        return builder.sign(authority.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


class Harness:
    def __init__(self, directory: str, bridge_timeout: int, crl: bool):
        self.ca = fake_ca.FakeCa()
        self.crl = CrlPublisher(self.ca.issuing, self.ca.ca_name) if crl else None
        self.ca_server = fake_ca.FakeCaServer(self.ca)
        self.ca_server.start()
        self.ca_port = self.ca_server.port
        self.directory = directory
        pki.write_pem(os.path.join(directory, "ca-chain.pem"), *self.ca.chain())
        self.config = write_config(directory, write_pki(directory), self.ca_port, bridge_timeout)
        self.bridge, self.port = start_bridge(self.config, os.path.join(directory, "bridge.log"))
        self.restarts = 0
        self.lock = threading.Lock()
        # The bridge dies with the thread that started it (PR_SET_PDEATHSIG): restarts run on the main thread.
        self.main_thread_jobs = queue.Queue()

    def on_main_thread(self, job) -> None:
        finished = threading.Event()
        failure = []

        def run():
            try:
                job()
            except BaseException as e:   # noqa: B036 -- reported to the control caller
                failure.append(e)
            finally:
                finished.set()

        self.main_thread_jobs.put(run)
        if not finished.wait(START_LIMIT_SECONDS + 15) or failure:
            raise ValueError("bridge restart failed: %r" % (failure[:1],))

    def _stop_bridge(self) -> None:
        if self.bridge.poll() is None:
            self.bridge.terminate()
            try:
                self.bridge.wait(10)
            except subprocess.TimeoutExpired:
                self.bridge.kill()
                self.bridge.wait()

    def _start_bridge_again(self) -> None:
        """The bridge on the port it had, reading its config (and chain) again."""
        with open(self.config, encoding="utf-8") as f:
            text = f.read().replace("listen = 127.0.0.1:0\n", "listen = 127.0.0.1:%d\n" % self.port)
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)
        log = os.path.join(self.directory, "bridge.log")
        self.restarts += 1
        if os.path.exists(log):   # start_bridge reads the start line of this run only
            os.rename(log, "%s.%d" % (log, self.restarts))
        self.bridge, _ = start_bridge(self.config, log)

    def _rekey(self) -> None:
        self.ca.issuing = pki.Authority(self.ca.ca_name, parent=self.ca.root)
        if self.crl is not None:
            self.crl.add_key(self.ca.issuing)
        pki.write_pem(os.path.join(self.directory, "ca-chain.pem"), *self.ca.chain())

    def control(self, knobs: dict) -> None:
        with self.lock:
            if "approve" in knobs:
                self.ca.approve(int(knobs["approve"]))
            if "deny" in knobs:
                self.ca.deny(int(knobs["deny"]))
            if knobs.get("offline") and self.ca_server is not None:
                self.ca_server.stop()
                self.ca_server = None
            if knobs.get("online") and self.ca_server is None:
                self.ca_server = fake_ca.FakeCaServer(self.ca, port=self.ca_port)
                self.ca_server.start()
            if knobs.get("hang_next"):
                self.ca.release.clear()
                self.ca.hang_next = True
            if knobs.get("release"):
                self.ca.release.set()
            if "revoke" in knobs and self.crl is not None:
                with self.crl.lock:
                    self.crl.revoked.add(int(str(knobs["revoke"]), 16))
            if knobs.get("rekey"):
                with self.ca.lock:
                    self._rekey()
                self._stop_bridge()
                self.on_main_thread(self._start_bridge_again)
            if knobs.get("bridge_down"):
                self._stop_bridge()
            if knobs.get("bridge_up") and self.bridge.poll() is not None:
                self.on_main_thread(self._start_bridge_again)

    def state(self) -> dict:
        with self.ca.lock:
            return {"new_submissions": sum(1 for c in self.ca.calls if c["request_id"] == 0),
                    "rows": {str(k): v.disposition for k, v in self.ca.rows.items()},
                    "bridge_running": self.bridge.poll() is None}

    def stop(self) -> None:
        self.ca.release.set()
        self._stop_bridge()
        if self.ca_server is not None:
            self.ca_server.stop()


def control_server(harness: Harness) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            key = harness.crl.key_of_path(self.path) if harness.crl is not None else None
            if key is not None:
                data = harness.crl.crl_der(key)
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None
            if self.path != "/state":
                return self._answer(404, {})
            self._answer(200, harness.state())

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            try:
                harness.control(json.loads(self.rfile.read(min(length, 4096))))
            except (ValueError, KeyError) as e:
                return self._answer(400, {"error": repr(e)})
            self._answer(200, {})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--bridge-timeout", type=int, default=20, help="the bridge's CA call timeout")
    parser.add_argument("--crl", action="store_true", help="certificates name a CRL of this harness as their CDP")
    args = parser.parse_args()
    harness = Harness(args.dir, args.bridge_timeout, args.crl)
    control = control_server(harness)
    if harness.crl is not None:
        harness.crl.base_url = "http://127.0.0.1:%d" % control.server_address[1]
    threading.Thread(target=control.serve_forever, daemon=True).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    def watch_stdin():
        while sys.stdin.buffer.read(4096):
            pass
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(json.dumps({"port": harness.port, "control_port": control.server_address[1]}), flush=True)
    while not done.is_set():   # until SIGTERM or stdin closes; runs the restarts meanwhile
        try:
            harness.main_thread_jobs.get(timeout=0.1)()
        except queue.Empty:
            pass
    control.shutdown()
    harness.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
