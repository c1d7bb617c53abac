# SPDX-License-Identifier: Apache-2.0
"""The config file, the submission map, the log line and the executable's commands."""
import base64
import json
import os
import re
import socket
import sqlite3
import struct
import subprocess
import tempfile
import time
import types
import unittest
import http.client
from unittest import mock

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AttributeOID

import support
import fake_ca
import pki
from scep_ra_adcs_bridge import cli
from scep_ra_adcs_bridge.config import ConfigError, load_config
from scep_ra_adcs_bridge.logline import escape
from scep_ra_adcs_bridge.rpc import credentials_from_keytab
from scep_ra_adcs_bridge.store import SubmissionMap

SAMPLE = os.path.join(support.HERE, "..", "..", "config", "adcs-bridge.conf")


class ConfigFile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="adcs-bridge-config-")
        self.pki = support.TestPki(self.tmp.name)
        self.chain = pki.write_pem(os.path.join(self.tmp.name, "chain.pem"), self.pki.tls_ca.cert)

    def tearDown(self):
        self.tmp.cleanup()

    def errors(self, overrides) -> list:
        path = support.write_config(self.tmp.name, self.pki, 4000, self.chain, overrides)
        with self.assertRaises(ConfigError) as caught:
            load_config(path)
        return caught.exception.errors

    def test_a_valid_config_loads(self):
        config = load_config(support.write_config(self.tmp.name, self.pki, 4000, self.chain))
        self.assertEqual((config.port, config.transport, config.auth, config.config_string),
                         (4000, "icpr", "none", "127.0.0.1\\Test Issuing CA"))
        self.assertIn("SCEPPending", config.templates)

    def test_errors_name_file_section_and_key_and_come_all_at_once(self):
        errors = self.errors({("ca", "transport"): "soap", ("ca", "port"): "99999", ("ca", "timeout_seconds"): "0",
                              ("server", "allow_client"): "CN=x", ("ca", "chain"): None, ("bridge", "typo"): "1"})
        path = os.path.join(self.tmp.name, "adcs-bridge.conf")
        for section, key in (("ca", "transport"), ("ca", "port"), ("ca", "timeout_seconds"),
                             ("server", "allow_client"), ("ca", "chain"), ("bridge", "typo")):
            self.assertTrue(any(e.startswith("%s: [%s] %s:" % (path, section, key)) for e in errors), (key, errors))
        self.assertEqual(len(errors), 6, errors)

    def test_auth_none_is_refused_for_a_ca_that_is_not_loopback(self):
        errors = self.errors({("ca", "ca_host"): "ca01.example.com"})
        self.assertTrue(any("[auth] auth:" in e and "loopback" in e for e in errors), errors)
        errors = self.errors({("ca", "ca_host"): "10.0.0.5"})
        self.assertTrue(any("[auth] auth:" in e for e in errors), errors)

    def test_ntlm_needs_a_private_password_file_and_kerberos_a_keytab(self):
        secret = os.path.join(self.tmp.name, "password")
        with open(secret, "w") as f:
            f.write("s3cret\n")
        os.chmod(secret, 0o644)
        errors = self.errors({("auth", "auth"): "ntlm", ("auth", "domain"): "EXAMPLE", ("auth", "username"): "svc",
                              ("auth", "password_file"): secret})
        self.assertTrue(any("[auth] password_file:" in e and "chmod 600" in e for e in errors), errors)
        self.assertFalse(any("s3cret" in e for e in errors))
        errors = self.errors({("auth", "auth"): "kerberos"})
        for key in ("domain", "username", "keytab"):
            self.assertTrue(any("[auth] %s: is required" % key in e for e in errors), (key, errors))

    def test_sample_config_uses_only_known_keys(self):
        with self.assertRaises(ConfigError) as caught:
            load_config(SAMPLE)   # its files do not exist here; its keys must all be known
        for error in caught.exception.errors:
            self.assertNotIn("unknown", error)
            self.assertRegex(error, r"^.*adcs-bridge\.conf: \[(server|ca|auth|bridge)\] \w+: ")


def write_keytab(path: str, principal: str, realm: str, keytype: int, key: bytes) -> str:
    """A version 0x502 keytab with one entry (MIT krb5 keytab format, big-endian)."""
    def counted(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data
    body = struct.pack(">H", 1) + counted(realm.encode()) + counted(principal.encode())
    body += struct.pack(">IIBH", 1, 0, 1, keytype) + counted(key) + struct.pack(">I", 1)
    with open(path, "wb") as f:
        f.write(b"\x05\x02" + struct.pack(">i", len(body)) + body)
    os.chmod(path, 0o600)
    return path


class KerberosKeytab(unittest.TestCase):
    def test_the_aes_key_of_username_at_domain_is_taken_from_the_keytab(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = write_keytab(os.path.join(tmp, "svc.keytab"), "svc-scep-ra", "EXAMPLE.COM", 18, b"\x11" * 32)
            creds = credentials_from_keytab(path, "svc-scep-ra", "example.com")
            self.assertEqual((creds.auth, creds.aes_key, creds.password), ("kerberos", "11" * 32, ""))
            self.assertNotIn("11" * 32, repr(creds))
            with self.assertRaises(LookupError):
                credentials_from_keytab(path, "someone-else", "example.com")


class CaClientSetUp(unittest.TestCase):
    def test_a_credential_cache_in_the_environment_is_not_used_for_the_ca(self):
        # impacket would take its tickets before the keytab: an admin's kinit would enrol as the admin.
        with tempfile.TemporaryDirectory() as tmp:
            test_pki = support.TestPki(tmp)
            path = support.write_config(tmp, test_pki, 1, pki.write_pem(os.path.join(tmp, "chain.pem"),
                                                                         test_pki.tls_ca.cert))
            with mock.patch.dict(os.environ, {"KRB5CCNAME": "/tmp/krb5cc_admin"}):
                cli.ca_client(load_config(path))
                self.assertNotIn("KRB5CCNAME", os.environ)


class SubmissionMapOnDisk(unittest.TestCase):
    def test_a_crash_between_record_and_answer_leaves_the_request_unknown(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "map.sqlite")
            first = SubmissionMap(path)
            claimed, _ = first.claim("tx-1", "a" * 64, b"csr", "SCEPDevice")
            self.assertTrue(claimed)
            first.close()                     # the process died during the RPC
            second = SubmissionMap(path)
            self.assertEqual(second.recover(), 1)
            self.assertEqual([r.client_ref for r in second.unknown()], ["tx-1"])
            claimed, row = second.claim("tx-1", "a" * 64, b"csr", "SCEPDevice")
            self.assertEqual((claimed, row.state), (False, "unknown"))
            second.close()

    def test_a_map_of_an_earlier_bridge_keeps_public_keys_not_csrs(self):
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder().subject_name(pki.name("old-device"))
               .add_attribute(AttributeOID.CHALLENGE_PASSWORD, b"old-s3cret-pw")
               .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "map.sqlite")
            old = sqlite3.connect(path, isolation_level=None)   # the schema before this bridge
            old.execute("PRAGMA journal_mode=WAL")
            old.execute("CREATE TABLE submissions (client_ref TEXT PRIMARY KEY CHECK (length(client_ref) BETWEEN 1 "
                        "AND 128), csr_sha256 TEXT NOT NULL CHECK (length(csr_sha256) = 64), csr BLOB NOT NULL "
                        "CHECK (length(csr) <= 16384), template TEXT NOT NULL CHECK (length(template) <= 64), "
                        "state TEXT NOT NULL CHECK (state IN ('submitting', 'submitted', 'unknown')), request_id "
                        "INTEGER UNIQUE CHECK (request_id IS NULL OR request_id BETWEEN 1 AND 4294967295), "
                        "created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)")
            old.execute("INSERT INTO submissions VALUES ('tx-old', ?, ?, 'T', 'submitted', 41, 1, 1)",
                        ("c" * 64, csr))
            old.close()
            m = SubmissionMap(path)
            row = m.by_client_ref("tx-old")
            self.assertEqual((row.request_id, row.subject_key),
                             (41, key.public_key().public_bytes(serialization.Encoding.DER,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo)))
            m.close()
            for name in os.listdir(tmp):
                with open(os.path.join(tmp, name), "rb") as f:
                    self.assertNotIn(b"old-s3cret-pw", f.read(), name)

    def test_resolve_refuses_a_request_id_mapped_to_another_client_ref(self):
        with tempfile.TemporaryDirectory() as tmp:
            m = SubmissionMap(os.path.join(tmp, "map.sqlite"))
            m.claim("tx-1", "a" * 64, b"csr", "T")
            m.complete("tx-1", 40)
            m.claim("tx-2", "b" * 64, b"csr", "T")
            m.mark_unknown("tx-2")
            with self.assertRaises(LookupError):
                m.resolve("tx-2", 40)
            with self.assertRaises(LookupError):
                m.resolve("tx-1", 41)         # not unknown
            m.close()


class ServeDefaultTimeout(unittest.TestCase):
    def test_serve_gives_sockets_without_a_timeout_the_ca_timeout_before_building_anything(self):
        self.addCleanup(socket.setdefaulttimeout, socket.getdefaulttimeout())
        socket.setdefaulttimeout(None)
        seen = []

        def build_server(config, log):   # stands in for the real one: only what serve set before it
            seen.append(socket.getdefaulttimeout())
            raise RuntimeError("stop here")

        config = types.SimpleNamespace(log="", timeout_seconds=7)
        with mock.patch.object(cli, "build_server", build_server), self.assertRaises(RuntimeError):
            cli.serve(config)
        self.assertEqual(seen, [7])


class LogLine(unittest.TestCase):
    def test_control_characters_and_quotes_are_escaped(self):
        self.assertEqual(escape('a"b\\c\nd\x1b[31m\x7f'), '"a\\"b\\\\c\\nd\\x1b[31m\\x7f"')
        self.assertEqual(len(escape("x" * 5000)), 514)


class Executable(unittest.TestCase):
    """The entry point as an operator runs it, against the fake CA."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="adcs-bridge-exe-")
        self.ca = fake_ca.FakeCa()
        self.server = fake_ca.FakeCaServer(self.ca)
        self.server.start()
        self.pki = support.TestPki(self.tmp.name)
        chain = pki.write_pem(os.path.join(self.tmp.name, "chain.pem"), *self.ca.chain())
        self.config = support.write_config(self.tmp.name, self.pki, self.server.port, chain)
        self.log = os.path.join(self.tmp.name, "bridge.log")
        self.proc = None

    def tearDown(self):
        self.ca.release.set()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
        self.server.stop()
        self.tmp.cleanup()

    def run_cli(self, *args):
        return subprocess.run(["/usr/bin/python3", support.EXECUTABLE, *args, "--config", self.config],
                              capture_output=True, text=True, timeout=60)

    def start_serving(self) -> int:
        self.proc = subprocess.Popen(["/usr/bin/python3", support.EXECUTABLE, "serve", "--config", self.config])
        for _ in range(300):                  # bounded wait for the start line
            if os.path.exists(self.log):
                with open(self.log) as f:
                    m = re.search(r'event="start" listen="127\.0\.0\.1:(\d+)"', f.read())
                if m:
                    return int(m.group(1))
            self.assertIsNone(self.proc.poll(), "the bridge exited")
            time.sleep(0.1)
        self.fail("the bridge did not start")

    def post(self, port, csr, client_ref):
        ctx = self.pki.client_context(self.pki.ra_cert, self.pki.ra_key)
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=ctx)
        try:
            conn.request("POST", "/v1/requests", json.dumps({"csr": base64.b64encode(csr).decode(),
                                                             "template": "SCEPDevice", "client_ref": client_ref}))
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            conn.close()

    def test_check_config_reports_every_error_and_exits_2(self):
        with open(self.config, "a") as f:
            f.write("[extra]\nkey = 1\n")
        result = self.run_cli("check-config")
        self.assertEqual(result.returncode, 2)
        self.assertIn("[extra]", result.stderr)
        self.assertEqual(self.run_cli("unknown").returncode, 2)

    def test_check_config_names_a_keytab_it_cannot_use(self):
        keytab = write_keytab(os.path.join(self.tmp.name, "svc.keytab"), "svc", "EXAMPLE.COM", 18, b"k" * 32)
        self.config = support.write_config(self.tmp.name, self.pki, self.server.port,
                                           os.path.join(self.tmp.name, "chain.pem"),
                                           {("auth", "auth"): "kerberos", ("auth", "domain"): "EXAMPLE.COM",
                                            ("auth", "username"): "svc", ("auth", "keytab"): keytab})
        self.assertEqual(self.run_cli("check-config").returncode, 0)
        with open(keytab, "wb") as f:
            f.write(b"\x05\x02garbage")
        result = self.run_cli("check-config")
        self.assertEqual(result.returncode, 2)
        self.assertIn("[auth] keytab:", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_serve_then_list_and_resolve_an_unknown_outcome_from_the_command_line(self):
        port = self.start_serving()
        csr = pki.csr_der()
        self.ca.hang_next = True
        status, body = self.post(port, csr, "cli-1")
        self.assertEqual((status, body["status"]), (202, "unknown"))
        self.ca.release.set()
        listed = self.run_cli("unknown")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertTrue(listed.stdout.startswith("cli-1\ttemplate=SCEPDevice\t"), listed.stdout)
        request_id = max(self.ca.rows)
        done = self.run_cli("resolve", "cli-1", "--request-id", str(request_id))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.run_cli("resolve", "cli-1", "--request-id", str(request_id)).returncode, 1)
        status, body = self.post(port, csr, "cli-1")
        self.assertEqual((status, body["status"], body["request_id"]), (200, "issued", request_id), body)
        self.assertIn("no request with an unknown outcome", self.run_cli("unknown").stdout)

    def test_resolve_refuses_a_request_id_the_ca_does_not_have_or_issued_for_another_key(self):
        port = self.start_serving()
        self.ca.hang_next = True
        self.assertEqual(self.post(port, pki.csr_der(), "cli-3")[1]["status"], "unknown")
        self.ca.release.set()
        typo = self.run_cli("resolve", "cli-3", "--request-id", "999")
        self.assertEqual(typo.returncode, 1)
        self.assertIn("request 999 cannot be 'cli-3'", typo.stderr)
        # Another device's issued request: its certificate is for another key.
        self.assertEqual(self.post(port, pki.csr_der(), "other-device")[0], 201)
        other = self.run_cli("resolve", "cli-3", "--request-id", str(max(self.ca.rows)))
        self.assertEqual(other.returncode, 1)
        self.assertIn("another key", other.stderr)
        self.assertTrue(self.run_cli("unknown").stdout.startswith("cli-3\t"))   # still for an operator

    def test_resolve_not_submitted_lets_the_next_post_submit_again(self):
        port = self.start_serving()
        csr = pki.csr_der()
        self.ca.hang_next = True
        self.assertEqual(self.post(port, csr, "cli-2")[1]["status"], "unknown")
        self.ca.release.set()
        self.assertEqual(self.run_cli("resolve", "cli-2", "--not-submitted").returncode, 0)
        status, body = self.post(port, csr, "cli-2")
        self.assertEqual((status, body["status"]), (201, "issued"), body)


if __name__ == "__main__":
    unittest.main()
