# SPDX-License-Identifier: Apache-2.0
"""The bridge's HTTPS API end to end: real server on a loopback port, mutual TLS, the fake CA
over MS-ICPR, the SQLite map on disk."""
import base64
import glob
import json
import os
import socket
import sqlite3
import ssl
import time
import unittest
from unittest import mock

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ObjectIdentifier

import support  # sets sys.path
import pki
from scep_ra_adcs_bridge import http_api
from scep_ra_adcs_bridge.config import load_config
from scep_ra_adcs_bridge.store import MAX_CSR_DER
from scep_ra_adcs_bridge.validate import parse_submit, subject_key_of
from support import BridgeFixture

RPC_S_SERVER_TOO_BUSY = 0x800706BB
E_ACCESSDENIED = 0x80070005


def der(text: str) -> bytes:
    return base64.b64decode(text)


def csr_of_size(size: int) -> bytes:
    """A valid CSR of exactly size DER bytes, padded with an extension (Ed25519: fixed-size signature)."""
    key = ed25519.Ed25519PrivateKey.generate()
    padding = size - 200
    for _ in range(20):   # bounded: converges in two or three passes
        extension = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\0" * padding)
        csr = (x509.CertificateSigningRequestBuilder().subject_name(pki.name("big"))
               .add_extension(extension, critical=False).sign(key, None))
        der_ = csr.public_bytes(serialization.Encoding.DER)
        if len(der_) == size:
            return der_
        padding += size - len(der_)
    raise AssertionError("no CSR of %d bytes" % size)


class BridgeTest(unittest.TestCase):
    def setUp(self):
        self.b = BridgeFixture()

    def tearDown(self):
        self.b.close()


class IssueAndPending(BridgeTest):
    def test_issued_request_answers_201_with_certificate_chain_without_leaf_and_upper_hex_serial(self):
        csr = pki.csr_der("device-42")
        status, body = self.b.submit(csr)
        self.assertEqual(status, 201, body)
        self.assertEqual(body["status"], "issued")
        cert = x509.load_der_x509_certificate(der(body["certificate"]))
        self.assertEqual(cert.subject, x509.load_der_x509_csr(csr).subject)
        chain = [x509.load_der_x509_certificate(der(c)) for c in body["chain"]]
        self.assertEqual([c.subject for c in chain], [self.b.ca.issuing.cert.subject, self.b.ca.root.cert.subject])
        self.assertNotIn(cert, chain)
        chain[0].public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                     ec.ECDSA(cert.signature_hash_algorithm))
        self.assertEqual(body["serial"], "%X" % cert.serial_number if len("%X" % cert.serial_number) % 2 == 0
                         else "0%X" % cert.serial_number)
        self.assertEqual(body["serial"], body["serial"].upper())
        self.assertEqual(body["request_id"], max(self.b.ca.rows))
        call = self.b.ca.calls[-1]
        self.assertEqual(call["flags"], 0x102)                     # CR_IN_BINARY | CR_IN_PKCS10
        self.assertEqual(call["authority"], "Test Issuing CA")
        self.assertEqual(call["attributes"], "CertificateTemplate:SCEPDevice\0".encode("utf-16-le"))
        self.assertEqual(call["request"], csr)

    def test_pending_request_is_issued_after_the_officer_approves_it(self):
        csr = pki.csr_der()
        status, body = self.b.submit(csr, template="SCEPPending")
        self.assertEqual((status, body["status"], body["disposition"]), (202, "pending", 5), body)
        request_id = body["request_id"]
        status, body = self.b.request("GET", "/v1/requests/%d" % request_id)
        self.assertEqual((status, body["status"]), (202, "pending"))
        self.b.ca.approve(request_id)
        status, body = self.b.request("GET", "/v1/requests/%d" % request_id)
        self.assertEqual((status, body["status"], body["request_id"]), (200, "issued", request_id), body)
        retrieval = self.b.ca.calls[-1]
        self.assertEqual((retrieval["request_id"], retrieval["flags"], retrieval["request"], retrieval["attributes"]),
                         (request_id, 0, b"", b""))

    def test_officer_denial_answers_422_denied_with_the_cas_message(self):
        status, body = self.b.submit(pki.csr_der(), template="SCEPPending")
        self.b.ca.deny(body["request_id"])
        status, body = self.b.request("GET", "/v1/requests/%d" % body["request_id"])
        self.assertEqual((status, body["status"], body["disposition"]), (422, "denied", 2), body)
        self.assertEqual(body["message"], "Denied by Officer")

    def test_policy_denial_answers_422_with_the_hresult_from_the_disposition(self):
        status, body = self.b.submit(pki.csr_der(), template="SCEPNotOnCa")
        self.assertEqual((status, body["status"], body["disposition"]), (422, "denied", 2), body)
        self.assertEqual(body["hresult"], "0x80094800")
        self.assertIn("SCEPNotOnCa", body["message"])
        self.assertEqual(body["request_id"], max(self.b.ca.rows))

    def test_issued_out_of_band_is_issued_when_the_certificate_can_be_retrieved(self):
        status, body = self.b.submit(pki.csr_der(), template="SCEPOutOfBand")
        self.assertEqual((status, body["status"]), (201, "issued"), body)

    def test_issued_out_of_band_without_a_certificate_is_pending(self):
        status, body = self.b.submit(pki.csr_der(), template="SCEPOutOfBandHidden")
        self.assertEqual((status, body["status"], body["disposition"]), (202, "pending", 4), body)

    def test_get_of_an_id_neither_this_bridge_nor_the_ca_knows_is_404_after_one_retrieval(self):
        status, body = self.b.request("GET", "/v1/requests/40")
        self.assertEqual(status, 404)
        self.assertEqual([(c["request_id"], c["request"]) for c in self.b.ca.calls], [(40, b"")])
        for path in ("/v1/requests/0", "/v1/requests/abc", "/v1/requests/99999999999", "/v1/requests/1/x"):
            self.assertEqual(self.b.request("GET", path)[0], 404, path)
        self.assertEqual(len(self.b.ca.calls), 1)

    def test_get_of_a_request_the_ca_has_but_the_map_lost_is_503_retry_never_a_final_404(self):
        status, body = self.b.submit(pki.csr_der(), template="SCEPPending", client_ref="lost-map-1")
        request_id = body["request_id"]
        self.b.submissions.forget("lost-map-1")   # the state file lost or replaced
        for approve in (False, True):
            if approve:
                self.b.ca.approve(request_id)
            status, body = self.b.request("GET", "/v1/requests/%d" % request_id)
            self.assertEqual((status, body["status"]), (503, "error"), body)
            self.assertIn("not in this bridge's map", body["message"])
            self.assertNotIn("certificate", body)

    def test_ca_chain_is_served_issuing_ca_first(self):
        status, body = self.b.request("GET", "/v1/ca")
        self.assertEqual(status, 200)
        self.assertEqual([x509.load_der_x509_certificate(der(c)).subject for c in body["chain"]],
                         [self.b.ca.issuing.cert.subject, self.b.ca.root.cert.subject])


class CaFailures(BridgeTest):
    def test_ca_offline_answers_503_and_the_same_request_succeeds_when_it_is_back(self):
        csr = pki.csr_der()
        self.assertEqual(self.b.request("GET", "/healthz")[0], 200)
        self.b.ca_offline()
        status, body = self.b.submit(csr, client_ref="offline-1")
        self.assertEqual((status, body["status"]), (503, "error"), body)
        self.assertEqual(self.b.request("GET", "/healthz")[0], 503)
        self.assertIsNone(self.b.submissions.by_client_ref("offline-1"))
        self.b.ca_online()
        self.assertEqual(self.b.request("GET", "/healthz")[0], 200)
        status, body = self.b.submit(csr, client_ref="offline-1")
        self.assertEqual((status, body["status"]), (201, "issued"), body)

    def test_busy_ca_return_code_answers_503_and_nothing_is_recorded(self):
        self.b.ca.failures.append(RPC_S_SERVER_TOO_BUSY)
        status, body = self.b.submit(pki.csr_der(), client_ref="busy-1")
        self.assertEqual((status, body["hresult"]), (503, "0x800706bb"), body)
        self.assertIsNone(self.b.submissions.by_client_ref("busy-1"))

    def test_refusing_return_code_answers_422_with_the_hresult(self):
        self.b.ca.failures.append(E_ACCESSDENIED)
        status, body = self.b.submit(pki.csr_der())
        self.assertEqual((status, body["status"], body["disposition"], body["hresult"]),
                         (422, "denied", 1, "0x80070005"), body)
        self.assertNotIn("request_id", body)   # the CA made no request

    def test_a_refused_look_up_of_a_pending_request_is_an_error_not_a_denial(self):
        status, body = self.b.submit(pki.csr_der(), template="SCEPPending")
        self.assertEqual(status, 202, body)
        request_id = body["request_id"]
        self.b.ca.failures.append(E_ACCESSDENIED)
        status, body = self.b.request("GET", "/v1/requests/%d" % request_id)
        self.assertEqual((status, body["status"], body["hresult"]), (503, "error", "0x80070005"), body)
        # The request is still pending at the CA, and still mapped.
        status, body = self.b.request("GET", "/v1/requests/%d" % request_id)
        self.assertEqual((status, body["status"], body["request_id"]), (202, "pending", request_id), body)

    def test_a_success_without_a_request_id_is_unknown_never_forgotten(self):
        # The CA may hold the request: submitting it again could make a second one.
        self.b.ca.no_id_next = True
        csr = pki.csr_der()
        status, body = self.b.submit(csr, client_ref="no-id")
        self.assertEqual((status, body["status"]), (202, "unknown"), body)
        self.assertEqual([r.client_ref for r in self.b.submissions.unknown()], ["no-id"])
        self.assertEqual(self.b.submit(csr, client_ref="no-id")[1]["status"], "unknown")
        self.assertEqual(self.b.new_submissions(), 1)

    def test_certificate_for_another_key_than_the_csrs_is_not_passed_on(self):
        self.b.ca.wrong_key_next = True
        status, body = self.b.submit(pki.csr_der())
        self.assertEqual((status, body["status"]), (503, "error"), body)
        self.assertIn("another key", body["message"])
        self.assertNotIn("certificate", body)

    def test_timeout_leaves_the_outcome_unknown_never_resubmitted_until_an_operator_resolves_it(self):
        csr = pki.csr_der()
        self.b.ca.hang_next = True
        status, body = self.b.submit(csr, client_ref="lost-1")
        self.assertEqual((status, body["status"], body["client_ref"]), (202, "unknown", "lost-1"), body)
        self.b.ca.release.set()
        status, body = self.b.submit(csr, client_ref="lost-1")
        self.assertEqual((status, body["status"]), (202, "unknown"), body)
        self.assertEqual(self.b.new_submissions(), 1)
        self.assertEqual([r.client_ref for r in self.b.submissions.unknown()], ["lost-1"])
        # The operator finds the request at the CA and resolves the map.
        self.b.submissions.resolve("lost-1", max(self.b.ca.rows))
        status, body = self.b.submit(csr, client_ref="lost-1")
        self.assertEqual((status, body["status"], body["request_id"]), (200, "issued", max(self.b.ca.rows)), body)
        self.assertEqual(self.b.new_submissions(), 1)


class MapFailures(BridgeTest):
    def test_a_map_that_cannot_record_the_cas_request_id_answers_unknown_and_logs_the_id(self):
        csr = pki.csr_der()
        locked = sqlite3.OperationalError("database is locked")
        with mock.patch.object(self.b.submissions, "complete", side_effect=locked):
            status, body = self.b.submit(csr, template="SCEPPending", client_ref="locked-1")
        request_id = max(self.b.ca.rows)
        self.assertEqual((status, body["status"], body["client_ref"]), (202, "unknown", "locked-1"), body)
        self.assertIn("request id %d" % request_id, body["message"])
        self.assertEqual(self.b.submissions.by_client_ref("locked-1").state, "unknown")
        line = [line for line in self.b.log_lines() if 'client_ref="locked-1"' in line][-1]
        for field in ('event="submit"', 'request_id="%d"' % request_id, 'disposition="5"', 'http="202"',
                      "database is locked"):
            self.assertIn(field, line)
        status, body = self.b.submit(csr, template="SCEPPending", client_ref="locked-1")
        self.assertEqual((status, body["status"]), (202, "unknown"), body)
        self.assertEqual(self.b.new_submissions(), 1)

    def test_a_map_that_cannot_even_mark_the_request_unknown_still_answers_unknown(self):
        full = sqlite3.OperationalError("database or disk is full")
        with mock.patch.object(self.b.submissions, "complete", side_effect=full), \
                mock.patch.object(self.b.submissions, "mark_unknown", side_effect=full):
            status, body = self.b.submit(pki.csr_der(), client_ref="full-1")
        self.assertEqual((status, body["status"]), (202, "unknown"), body)
        self.assertIn("request id %d" % max(self.b.ca.rows), body["message"])
        self.assertEqual(self.b.submissions.recover(), 1)   # the row left "submitting" is unknown at start-up


class CsrSize(BridgeTest):
    def test_a_csr_of_the_maps_largest_size_is_accepted_and_one_byte_more_is_400(self):
        largest = csr_of_size(MAX_CSR_DER)
        body = ('{"csr": "%s", "template": "SCEPDevice", "client_ref": "big-1"}'
                % base64.b64encode(largest).decode()).encode()
        self.assertEqual(len(parse_submit(body, {"SCEPDevice"}).csr_der), 16384)
        for size in (MAX_CSR_DER + 1, MAX_CSR_DER + 2):   # base64 of both fits the text limit
            with self.subTest(size):
                status, answer = self.b.submit(csr_of_size(size), client_ref="big-%d" % size)
                self.assertEqual((status, answer["status"]), (400, "error"), answer)
                self.assertIn("larger than 16384 bytes", answer["message"])
        self.assertEqual(self.b.ca.calls, [])
        # Past validation, into the map and out to the CA (which the fake CA cannot take: impacket's
        # DCERPCServer does not reassemble a request of several fragments, so it is "unknown" here).
        status, answer = self.b.submit(largest, client_ref="big-1")
        self.assertNotIn(status, (400, 500), answer)
        stored = self.b.submissions.by_client_ref("big-1").subject_key
        self.assertEqual(stored, subject_key_of(largest))
        self.assertTrue(stored.startswith(b"\x30"))   # a SubjectPublicKeyInfo, not the whole request

    def test_the_state_file_never_holds_a_requests_challenge_password(self):
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder().subject_name(pki.name("device-pw"))
               .add_attribute(x509.oid.AttributeOID.CHALLENGE_PASSWORD, b"s3cret-ch4llenge")
               .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
        self.assertIn(b"s3cret-ch4llenge", csr)
        status, answer = self.b.submit(csr, client_ref="with-password")
        self.assertEqual(status, 201, answer)
        paths = glob.glob(os.path.join(self.b.dir, "bridge.sqlite*"))   # the map, its WAL and shm
        self.assertTrue(paths)
        for path in paths:
            with open(path, "rb") as f:
                self.assertNotIn(b"s3cret-ch4llenge", f.read(), path)


class Repeats(BridgeTest):
    def test_repeat_with_the_same_csr_answers_the_current_state_without_a_new_submission(self):
        csr = pki.csr_der()
        status, first = self.b.submit(csr, template="SCEPPending", client_ref="tx-9")
        self.assertEqual(status, 202)
        status, body = self.b.submit(csr, template="SCEPPending", client_ref="tx-9")
        self.assertEqual((status, body["status"], body["request_id"]), (202, "pending", first["request_id"]))
        self.b.ca.approve(first["request_id"])
        status, body = self.b.submit(csr, template="SCEPPending", client_ref="tx-9")
        self.assertEqual((status, body["status"], body["request_id"]), (200, "issued", first["request_id"]), body)
        self.assertEqual(self.b.new_submissions(), 1)

    def test_repeat_with_another_csr_while_the_first_is_pending_is_409(self):
        status, first = self.b.submit(pki.csr_der(), template="SCEPPending", client_ref="tx-10")
        self.assertEqual(status, 202)
        self.assertEqual(self.b.submit(pki.csr_der(), template="SCEPPending", client_ref="tx-10")[0], 409)
        self.assertEqual(self.b.new_submissions(), 1)

    def test_repeat_with_another_template_while_the_first_is_pending_is_409(self):
        csr = pki.csr_der()
        self.assertEqual(self.b.submit(csr, template="SCEPPending", client_ref="tx-11")[0], 202)
        self.assertEqual(self.b.submit(csr, client_ref="tx-11")[0], 409)

    def test_a_replacement_racing_another_is_judged_against_that_ones_row_not_refused(self):
        status, first = self.b.submit(pki.csr_der(), client_ref="tx-race")
        self.assertEqual(status, 201)
        newer = pki.csr_der()
        real_retire = self.b.submissions.retire

        def retired_by_the_other_call(client_ref, request_id):
            # The other call retired the row and claimed client_ref for the same new CSR first.
            real_retire(client_ref, request_id)
            req = parse_submit(json.dumps({"csr": base64.b64encode(newer).decode(), "template": "SCEPDevice",
                                           "client_ref": client_ref}).encode(), {"SCEPDevice"})
            self.b.submissions.claim(client_ref, req.csr_sha256, req.subject_key, req.template)
            return False

        with mock.patch.object(self.b.submissions, "retire", retired_by_the_other_call):
            status, body = self.b.submit(newer, client_ref="tx-race")
        # Its twin is being submitted: retry (503), never 409 (which scep-ra takes as final).
        self.assertEqual((status, body["status"]), (503, "error"), body)
        self.assertIn("being submitted", body["message"])

    def test_another_csr_after_the_first_was_decided_is_a_new_submission(self):
        # scep-ra sends it for a new transaction under a transactionID used before.
        status, first = self.b.submit(pki.csr_der(), client_ref="tx-12")
        self.assertEqual(status, 201)
        status, second = self.b.submit(pki.csr_der(), client_ref="tx-12")
        self.assertEqual((status, second["status"]), (201, "issued"), second)
        self.assertNotEqual(second["request_id"], first["request_id"])
        self.assertEqual(self.b.new_submissions(), 2)
        # The first stays known by its request id; the client_ref now names the second.
        status, body = self.b.request("GET", "/v1/requests/%d" % first["request_id"])
        self.assertEqual((status, body["status"]), (200, "issued"), body)
        csr = pki.csr_der()
        self.assertEqual(self.b.submit(csr, client_ref="tx-12")[0], 201)
        status, again = self.b.submit(csr, client_ref="tx-12")
        self.assertEqual((status, again["status"]), (200, "issued"), again)
        self.assertEqual(self.b.new_submissions(), 3)


class ClientCertificates(BridgeTest):
    def test_client_certificate_from_another_ca_is_refused_in_the_handshake(self):
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.b.request("GET", "/v1/ca", cert="stranger")

    def test_absent_client_certificate_is_refused_in_the_handshake(self):
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.b.request("GET", "/v1/ca", cert=None)

    def test_client_certificate_not_on_allow_client_gets_403_and_no_ca_call(self):
        status, body = self.b.request("POST", "/v1/requests", {"csr": base64.b64encode(pki.csr_der()).decode(),
                                                              "template": "SCEPDevice", "client_ref": "x"},
                                      cert="other")
        self.assertEqual(status, 403)
        self.assertEqual(self.b.request("GET", "/v1/ca", cert="other")[0], 403)
        self.assertEqual(self.b.ca.calls, [])


class SlowAndIdleClients(BridgeTest):
    def _tls(self, cert):
        ctx = self.b.pki.client_context(cert, {self.b.pki.ra_cert: self.b.pki.ra_key,
                                               self.b.pki.other_cert: self.b.pki.other_key}[cert])
        sock = socket.create_connection(("127.0.0.1", self.b.port), timeout=10)
        return ctx.wrap_socket(sock, server_hostname="127.0.0.1")

    def test_idle_connections_from_one_address_leave_room_for_the_ra(self):
        idle = []
        try:
            for _ in range(http_api.MAX_CONNECTIONS + 8):   # more than every slot, from another host
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(30)
                sock.bind(("127.0.0.2", 0))
                sock.connect(("127.0.0.1", self.b.port))
                idle.append(sock)
            time.sleep(0.5)   # let the bridge take what it takes of them
            status, body = self.b.submit(pki.csr_der(), client_ref="beside-idle")
            self.assertEqual(status, 201, body)
        finally:
            for sock in idle:
                sock.close()

    def test_a_certificate_off_the_allow_list_is_refused_before_it_sends_a_byte(self):
        with self._tls(self.b.pki.other_cert) as tls:
            answer = tls.recv(4096)   # nothing sent: the 403 comes unasked
        self.assertTrue(answer.startswith(b"HTTP/1.1 403"), answer)
        self.assertEqual(self.b.ca.calls, [])

    def test_a_request_that_does_not_arrive_in_time_loses_its_connection(self):
        saved = http_api.REQUEST_READ_SECONDS
        http_api.REQUEST_READ_SECONDS = 1
        try:
            with self._tls(self.b.pki.ra_cert) as tls:
                tls.sendall(b"POST /v1/requests HTTP/1.1\r\n")   # then one header line, and no more
                tls.sendall(b"Host: x\r\n")
                # Shorter than the bridge's 30 s per-read timeout, far beyond the 1 s deadline.
                tls.settimeout(20)
                try:
                    answer = tls.recv(4096)
                except socket.timeout:
                    self.fail("the bridge kept the connection past its read deadline")
                except (ssl.SSLError, ConnectionError):
                    answer = b""
        finally:
            http_api.REQUEST_READ_SECONDS = saved
        self.assertEqual(answer, b"")   # closed by the bridge, not answered
        self.assertEqual(self.b.ca.calls, [])


class FingerprintAllowList(BridgeTest):
    def test_a_sha256_fingerprint_entry_allows_that_certificate_and_no_other(self):
        with open(self.b.pki.other_cert, "rb") as f:
            other = x509.load_pem_x509_certificate(f.read())
        colons = ":".join("%02X" % byte for byte in other.fingerprint(hashes.SHA256()))
        path = support.write_config(self.b.dir, self.b.pki, self.b.ca_port, self.b.chain_file,
                                    {("server", "allow_client"): "sha256:" + colons})
        self.b.server.allow = load_config(path).allow_client
        self.assertEqual(self.b.request("GET", "/v1/ca", cert="other")[0], 200)
        self.assertEqual(self.b.request("GET", "/v1/ca", cert="ra")[0], 403)


class BadBodies(BridgeTest):
    def post(self, body, headers=None):
        return self.b.request("POST", "/v1/requests", body, headers=headers)

    def test_bodies_it_cannot_use_get_400_and_never_reach_the_ca(self):
        good = base64.b64encode(pki.csr_der()).decode()
        key = ec.generate_private_key(ec.SECP256R1())
        csr = x509.CertificateSigningRequestBuilder().subject_name(pki.name("x")).sign(key, hashes.SHA256())
        csr_der = csr.public_bytes(serialization.Encoding.DER)
        tampered = bytearray(csr_der)
        tampered[-3] ^= 0x01     # inside the signature
        cases = {
            "not json": b"{",
            "not an object": b"[1]",
            "not utf-8": b'{"csr": "\xff"}',
            "missing csr": {"template": "SCEPDevice", "client_ref": "a"},
            "csr not a string": {"csr": 5, "template": "SCEPDevice", "client_ref": "a"},
            "base64 with a newline": {"csr": good[:10] + "\n" + good[10:], "template": "SCEPDevice",
                                      "client_ref": "a"},
            "url-safe base64": {"csr": good.replace("+", "-").replace("/", "_") + "-_", "template": "SCEPDevice",
                                "client_ref": "a"},
            "base64 of garbage": {"csr": base64.b64encode(b"\x30\x03abc").decode(), "template": "SCEPDevice",
                                  "client_ref": "a"},
            "trailing bytes": {"csr": base64.b64encode(csr_der + b"\x00").decode(), "template": "SCEPDevice",
                               "client_ref": "a"},
            "bad signature": {"csr": base64.b64encode(bytes(tampered)).decode(), "template": "SCEPDevice",
                              "client_ref": "a"},
            "template off the allow-list": {"csr": good, "template": "Administrator", "client_ref": "a"},
            "control character in client_ref": {"csr": good, "template": "SCEPDevice", "client_ref": "a\nb"},
            "client_ref too long": {"csr": good, "template": "SCEPDevice", "client_ref": "a" * 129},
            "nested past the parser's recursion limit": b"[" * 30000 + b"]" * 30000,
        }
        for name, body in cases.items():
            with self.subTest(name):
                status, answer = self.post(body)
                self.assertEqual(status, 400, (name, answer))
                self.assertEqual(answer["status"], "error")
        self.assertEqual(self.b.ca.calls, [])
        self.assertEqual(self.b.submissions.unknown(), [])

    def test_a_csr_carrying_instructions_for_the_ca_gets_400_and_never_reaches_it(self):
        san = "2.5.29.17"
        own_name = pki.extension_set((san, pki.der(0x30, pki.der(0x82, b"device-1"))))
        other_name = pki.extension_set((san, pki.der(0x30, pki.der(0x82, b"dc01.corp"))))
        client_auth = pki.der(0x30, pki.der(0x30, pki.der_oid("1.3.6.1.5.5.7.3.2")))
        cases = {
            "a name-value pair asking for a UPN": [
                ("1.3.6.1.4.1.311.13.2.1",
                 [pki.der(0x30, pki.der(0x30, pki.bmp("SAN") + pki.bmp("upn=administrator@corp")))])],
            "two sets of extensions": [("1.2.840.113549.1.9.14", [own_name]),
                                       ("1.3.6.1.4.1.311.2.1.14", [other_name])],
            "application policies": [("1.2.840.113549.1.9.14",
                                      [pki.extension_set(("1.3.6.1.4.1.311.21.10", client_auth))])],
        }
        for name, attributes in cases.items():
            with self.subTest(name):
                status, answer = self.b.submit(pki.csr_with_attributes(attributes), client_ref="nvp-" + str(len(name)))
                self.assertEqual(status, 400, (name, answer))
        self.assertEqual(self.b.ca.calls, [])
        # The same way of building a request, with only its own name, is submitted.
        status, answer = self.b.submit(pki.csr_with_attributes([("1.2.840.113549.1.9.14", [own_name])]),
                                       client_ref="plain")
        self.assertEqual(status, 201, answer)

    def test_oversized_body_gets_413_before_it_is_read(self):
        answer = self.b.raw(b"POST /v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.0 413") or answer.startswith(b"HTTP/1.1 413"), answer[:40])

    def test_chunked_or_unsized_bodies_are_refused(self):
        answer = self.b.raw(b"POST /v1/requests HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assertIn(b" 400 ", answer.split(b"\r\n", 1)[0])
        answer = self.b.raw(b"POST /v1/requests HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b" 411 ", answer.split(b"\r\n", 1)[0])
        # "\xb2" (superscript two) is a digit to str.isdigit() but not to int().
        answer = self.b.raw(b"POST /v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\nab")
        self.assertIn(b" 411 ", answer.split(b"\r\n", 1)[0])
        self.assertEqual(self.b.ca.calls, [])


class CallLog(BridgeTest):
    def test_each_call_is_one_log_line_without_the_csr(self):
        csr = pki.csr_der()
        self.b.submit(csr, client_ref="log-1")
        self.b.submit(csr, client_ref="log-1")
        lines = [line for line in self.b.log_lines() if 'client_ref="log-1"' in line]
        self.assertEqual(len(lines), 2, lines)
        self.assertIn('event="submit"', lines[0])
        self.assertIn('event="repeat"', lines[1])
        self.assertNotIn(base64.b64encode(csr).decode()[:40], "\n".join(self.b.log_lines()))


if __name__ == "__main__":
    unittest.main()
