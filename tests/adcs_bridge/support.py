# SPDX-License-Identifier: Apache-2.0
"""Shared test set-up: a fake CA on a loopback port, a test PKI for mutual TLS, a bridge
config, and the bridge's real HTTPS server on a loopback port."""
import base64
import http.client
import io
import json
import os
import socket
import ssl
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
BRIDGE_DIR = os.path.join(HERE, "..", "..", "backends", "adcs", "bridge")
sys.path[:0] = [HERE, BRIDGE_DIR]

import fake_ca  # noqa: E402
import pki  # noqa: E402
from scep_ra_adcs_bridge import cli  # noqa: E402
from scep_ra_adcs_bridge.config import load_config  # noqa: E402
from scep_ra_adcs_bridge.logline import CallLog  # noqa: E402

EXECUTABLE = os.path.join(BRIDGE_DIR, "scep-ra-adcs-bridge")
TEMPLATES = "SCEPDevice, SCEPPending, SCEPOutOfBand, SCEPOutOfBandHidden, SCEPNotOnCa"


class TestPki:
    """TLS material: one client CA with an allowed and an unlisted client, and a stranger CA."""

    def __init__(self, directory: str):
        self.dir = directory
        self.tls_ca = pki.Authority("Bridge Client CA")
        self.ca_file = pki.write_pem(os.path.join(directory, "client-ca.pem"), self.tls_ca.cert)
        self.server_cert, self.server_key, _ = pki.tls_pair(directory, "server", self.tls_ca, "bridge.test", True)
        self.ra_cert, self.ra_key, self.ra = pki.tls_pair(directory, "ra", self.tls_ca, "scep-ra", False)
        self.other_cert, self.other_key, _ = pki.tls_pair(directory, "other", self.tls_ca, "not-allowed", False)
        self.stranger_ca = pki.Authority("Stranger CA")
        self.stranger_cert, self.stranger_key, _ = pki.tls_pair(directory, "stranger", self.stranger_ca,
                                                                "scep-ra", False)

    def client_context(self, cert=None, key=None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx


def write_config(directory: str, pki_: TestPki, ca_port, chain_file: str, overrides=None) -> str:
    """Writes a bridge config; overrides maps (section, key) to a value, or None to drop it."""
    values = {
        "server": {"listen": "127.0.0.1:0", "tls_cert": pki_.server_cert, "tls_key": pki_.server_key,
                   "client_ca": pki_.ca_file,
                   "allow_client": "\n    subject:%s" % pki_.ra.subject.rfc4514_string()},
        "ca": {"ca_host": "127.0.0.1", "ca_name": "Test Issuing CA", "transport": "icpr", "port": str(ca_port),
               "templates": TEMPLATES, "chain": chain_file, "timeout_seconds": "2"},
        "auth": {"auth": "none"},
        "bridge": {"state": os.path.join(directory, "bridge.sqlite"), "log": os.path.join(directory, "bridge.log")},
    }
    for (section, key), value in (overrides or {}).items():
        if value is None:
            values[section].pop(key, None)
        else:
            values[section][key] = value
    path = os.path.join(directory, "adcs-bridge.conf")
    with open(path, "w") as f:
        for section, keys in values.items():
            f.write("[%s]\n" % section)
            for key, value in keys.items():
                f.write("%s = %s\n" % (key, value))
    return path


class BridgeFixture:
    """A fake CA, and the bridge (built exactly as `serve` builds it) in a thread."""

    def __init__(self, config_overrides=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="adcs-bridge-")
        self.dir = self.tmp.name
        self.pki = TestPki(self.dir)
        self.ca = fake_ca.FakeCa()
        self.ca_server = fake_ca.FakeCaServer(self.ca)
        self.ca_server.start()
        self.ca_port = self.ca_server.port
        self.chain_file = pki.write_pem(os.path.join(self.dir, "ca-chain.pem"), *self.ca.chain())
        self.config_path = write_config(self.dir, self.pki, self.ca_port, self.chain_file,
                                        config_overrides)
        self.config = load_config(self.config_path)
        self.log_stream = open(self.config.log, "a", encoding="utf-8")
        self.server, self.submissions = cli.build_server(self.config, CallLog(self.log_stream))
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.ca.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.submissions.close()
        if self.ca_server is not None:
            self.ca_server.stop()
        self.log_stream.close()
        self.tmp.cleanup()

    def ca_offline(self):
        self.ca_server.stop()
        self.ca_server = None

    def ca_online(self):
        self.ca_server = fake_ca.FakeCaServer(self.ca, port=self.ca_port)
        self.ca_server.start()

    def new_submissions(self) -> int:
        """How many new requests (request id 0) the CA received."""
        return sum(1 for call in self.ca.calls if call["request_id"] == 0)

    # ---- HTTP ----
    def request(self, method, path, body=None, cert="ra", headers=None):
        certs = {"ra": (self.pki.ra_cert, self.pki.ra_key), "other": (self.pki.other_cert, self.pki.other_key),
                 "stranger": (self.pki.stranger_cert, self.pki.stranger_key), None: (None, None)}
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                           context=self.pki.client_context(*certs[cert]))
        try:
            data = json.dumps(body).encode() if isinstance(body, dict) else body
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
        finally:
            conn.close()

    def submit(self, csr: bytes, template="SCEPDevice", client_ref="txid-1"):
        return self.request("POST", "/v1/requests", {"csr": base64.b64encode(csr).decode(), "template": template,
                                                     "client_ref": client_ref})

    def raw(self, payload: bytes, cert="ra") -> bytes:
        """Sends raw bytes over mutual TLS; returns everything the bridge answers."""
        ctx = self.pki.client_context(*{"ra": (self.pki.ra_cert, self.pki.ra_key)}[cert])
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
                tls.sendall(payload)
                out = io.BytesIO()
                for _ in range(1000):   # bounded: the bridge closes after one answer
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    out.write(chunk)
                return out.getvalue()

    def log_lines(self):
        self.log_stream.flush()
        with open(self.config.log, encoding="utf-8") as f:
            return f.read().splitlines()
