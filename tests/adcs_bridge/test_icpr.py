# SPDX-License-Identifier: Apache-2.0
"""The MS-ICPR layer against the fake CA (impacket DCERPCServer, TCP, loopback, auth none)."""
import contextlib
import socket
import struct
import threading
import time
import unittest
from unittest import mock

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7

import support  # noqa: F401  (sets sys.path)
import fake_ca
import pki
import wire_ndr
from impacket.krb5 import constants, kerberosv5
from impacket.krb5.types import Principal
from impacket.dcerpc.v5 import transport as impacket_transport
from scep_ra_adcs_bridge import icpr, kdc, rpc_limits
from scep_ra_adcs_bridge.rpc import CaUnreachable, Credentials, OutcomeUnknown


class IcprAgainstFakeCa(unittest.TestCase):
    def setUp(self):
        self.ca = fake_ca.FakeCa()
        self.server = fake_ca.FakeCaServer(self.ca)
        self.server.start()
        self.client = icpr.IcprClient("127.0.0.1", self.ca.ca_name, self.server.port, Credentials("none"), 2)

    def tearDown(self):
        self.ca.release.set()
        self.server.stop()
        self.assertEqual(self.server.errors, [])

    def test_issued_request_carries_request_id_certificate_and_pkcs7_chain(self):
        csr = pki.csr_der("leaf")
        answer = self.client.submit(csr, "SCEPDevice")
        self.assertEqual((answer.return_code, answer.disposition, answer.message), (0, 3, "Issued"))
        self.assertEqual(answer.request_id, 40)
        cert = x509.load_der_x509_certificate(answer.encoded_cert)
        self.assertEqual(cert.issuer, self.ca.issuing.cert.subject)
        # Microsoft's serial layout puts the request id (little-endian) first.
        self.assertEqual(cert.serial_number.to_bytes(10, "big")[:4], (40).to_bytes(4, "little"))
        bundle = pkcs7.load_der_pkcs7_certificates(answer.cert_chain)
        self.assertEqual(len(bundle), 3)
        self.assertEqual(self.client.submit(pki.csr_der(), "SCEPDevice").request_id, 41)

    def test_pending_request_is_issued_on_retrieval_after_the_officer_approves(self):
        answer = self.client.submit(pki.csr_der(), "SCEPPending")
        self.assertEqual((answer.disposition, answer.message, answer.encoded_cert), (5, "Taken Under Submission", b""))
        self.assertEqual(self.client.retrieve(answer.request_id).disposition, 5)
        self.ca.approve(answer.request_id)
        later = self.client.retrieve(answer.request_id)
        self.assertEqual((later.request_id, later.disposition), (answer.request_id, 3))
        self.assertTrue(later.encoded_cert)

    def test_retrieval_sends_no_request_type_no_attributes_and_an_empty_request(self):
        answer = self.client.submit(pki.csr_der(), "SCEPPending")
        self.client.retrieve(answer.request_id)
        call = self.ca.calls[-1]
        self.assertEqual((call["flags"], call["request_id"], call["attributes"], call["request"]),
                         (0, answer.request_id, b"", b""))

    def test_template_the_ca_does_not_offer_is_denied_with_an_hresult_disposition(self):
        answer = self.client.submit(pki.csr_der(), "WebServer")
        self.assertEqual(answer.disposition, fake_ca.CERTSRV_E_UNSUPPORTED_CERT_TYPE)
        self.assertNotEqual(answer.request_id, 0)

    def test_issued_out_of_band_answers_disposition_4_without_a_certificate(self):
        answer = self.client.submit(pki.csr_der(), "SCEPOutOfBand")
        self.assertEqual((answer.disposition, answer.encoded_cert), (4, b""))
        self.assertTrue(self.client.retrieve(answer.request_id).encoded_cert)

    def test_ca_errors_come_back_as_hresult_return_codes(self):
        wrong = icpr.IcprClient("127.0.0.1", "Another CA", self.server.port, Credentials("none"), 2)
        self.assertEqual(wrong.submit(pki.csr_der(), "SCEPDevice").return_code, fake_ca.E_INVALIDARG)
        self.assertEqual(self.client.retrieve(999).return_code, fake_ca.CRYPT_E_NOT_FOUND)
        self.ca.failures.append(0x80070005)
        self.assertEqual(self.client.submit(pki.csr_der(), "SCEPDevice").return_code, 0x80070005)

    def test_a_call_that_never_answers_is_outcome_unknown_after_the_timeout(self):
        self.ca.hang_next = True
        with self.assertRaises(OutcomeUnknown):
            self.client.submit(pki.csr_der(), "SCEPDevice")
        self.ca.release.set()
        self.assertEqual(len(self.ca.rows), 1)   # the CA did take it: hence "unknown", not "not sent"

    def test_closed_port_is_unreachable_not_unknown(self):
        port = self.server.port
        self.ca.release.set()
        self.server.stop()
        self.server = fake_ca.FakeCaServer(self.ca)
        self.server.start()
        client = icpr.IcprClient("127.0.0.1", self.ca.ca_name, port, Credentials("none"), 2)
        with self.assertRaises(CaUnreachable):
            client.submit(pki.csr_der(), "SCEPDevice")
        with self.assertRaises(CaUnreachable):
            client.ping()


class HalfAnswerServer(fake_ca.FakeCaServer):
    """Binds normally, then sends 30 bytes of its answer and hangs up."""

    def send(self, data):
        self._clientSock.sendall(data.get_packet()[:30])
        self._clientSock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def misbehaving_ca(server_class, timeout):
    """A fake CA served by server_class, and an ICPR client of it with this timeout."""
    ca = fake_ca.FakeCa()
    server = server_class(ca)
    server.start()
    try:
        yield ca, icpr.IcprClient("127.0.0.1", ca.ca_name, server.port, Credentials("none"), timeout)
    finally:
        server.stop()


class PeerClosingMidAnswer(unittest.TestCase):
    def test_a_ca_that_hangs_up_in_the_middle_of_its_answer_is_outcome_unknown_not_a_hang(self):
        """impacket's TCP recv loops forever once the peer has closed; the bridge's must not."""
        with misbehaving_ca(HalfAnswerServer, 5) as (ca, client):
            with self.assertRaises(OutcomeUnknown):
                client.submit(pki.csr_der(), "SCEPDevice")
            self.assertEqual(len(ca.rows), 1)


class TricklingServer(fake_ca.FakeCaServer):
    """Binds normally, then sends its answer a byte every half second."""

    def send(self, data):
        for byte in data.get_packet():
            try:
                self._clientSock.send(bytes([byte]))
            except OSError:
                return
            time.sleep(0.5)


class BoundedReads(unittest.TestCase):
    """rpc_limits on impacket's own TCPTransport: what the endpoint mapper and DCOM connections use."""

    def _transport_reading(self, peer_sends, close=True):
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        ours.settimeout(20)
        rpc = impacket_transport.TCPTransport("127.0.0.1", 135)
        rpc._TCPTransport__socket = ours   # as connect() would have left it

        def feed():   # from a thread: more than a socket buffer holds waits for the reader
            try:
                theirs.sendall(peer_sends)
            except OSError:
                pass
            if close:
                theirs.close()
        threading.Thread(target=feed, daemon=True).start()
        return rpc, theirs

    def _in_thread(self, work):
        outcome = []
        thread = threading.Thread(target=lambda: outcome.append(self._raised(work)), daemon=True)
        thread.start()
        thread.join(15)
        self.assertFalse(thread.is_alive(), "the read is still going")
        return outcome[0]

    @staticmethod
    def _raised(work):
        try:
            work()
        except Exception as e:
            return e
        return None

    def test_a_peer_closing_mid_pdu_ends_the_read_instead_of_spinning(self):
        rpc, _ = self._transport_reading(b"\x05\x00\x02\x03" + b"\x10" * 6)
        self.assertIsInstance(self._in_thread(lambda: rpc.recv(count=24)), ConnectionError)

    def test_a_trickling_peer_meets_the_calls_deadline(self):
        # 1 s per read, 3 s for the whole call: each byte comes within the read timeout.
        with misbehaving_ca(TricklingServer, 1) as (_, client):
            self.assertIsInstance(self._in_thread(lambda: client.submit(pki.csr_der(), "SCEPDevice")),
                                  OutcomeUnknown)

    def test_an_answer_over_the_budget_is_refused(self):
        rpc, theirs = self._transport_reading(b"\x00" * 300000, close=False)
        with rpc_limits.call_limits(30, require_auth=False, max_bytes=200000):
            error = self._raised(lambda: rpc.recv(count=300000))
        theirs.close()
        self.assertIsInstance(error, ConnectionError)
        self.assertIn("larger than 200000 bytes", str(error))

    def test_an_unauthenticated_response_on_an_authenticated_call_is_refused(self):
        # rpc_vers 5, ptype 2 (response), flags, little-endian drep, frag_len 24, auth_len 0, call_id 1.
        header = bytes([5, 0, 2, 3, 0x10, 0, 0, 0]) + struct.pack("<HHI", 24, 0, 1) + b"\x00" * 8
        rpc, _ = self._transport_reading(header)
        with rpc_limits.call_limits(30, require_auth=True):
            error = self._raised(lambda: rpc.recv(count=24))
        self.assertIsInstance(error, ConnectionError)
        self.assertIn("no authentication", str(error))
        signed = header[:10] + struct.pack("<H", 16) + header[12:]
        rpc, _ = self._transport_reading(signed)
        with rpc_limits.call_limits(30, require_auth=True):
            self.assertEqual(rpc.recv(count=24), signed)


class FakeKdc(threading.Thread):
    """A KDC on 127.0.0.1 that reads one request, then: "short" announces a 1000-byte answer,
    sends 2 bytes and closes; "huge" announces 2 GiB; "silent" never answers."""

    def __init__(self, behaviour: str):
        super().__init__(daemon=True)
        self.behaviour = behaviour
        self.requests = []
        self.done = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]

    def run(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                conn.settimeout(30)
                data = b""
                for _ in range(1000):   # bounded: one length-prefixed request
                    if len(data) >= 4 and len(data) >= 4 + struct.unpack("!I", data[:4])[0]:
                        break
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data)
                if self.behaviour == "short":
                    conn.sendall(struct.pack("!I", 1000) + b"\x7e\x82")
                    return
                if self.behaviour == "huge":
                    conn.sendall(struct.pack("!I", 0x7FFFFFFF))
                self.done.wait(30)
            except OSError:
                pass

    def close(self):
        self.done.set()
        self.sock.close()
        self.join(35)


class BoundedKdcExchange(unittest.TestCase):
    """impacket's KDC exchange has no timeout and spins for ever on a KDC that closes early; the
    bridge puts its own in impacket's place (kdc.py)."""

    def start_kdc(self, behaviour: str) -> FakeKdc:
        fake = FakeKdc(behaviour)
        fake.start()
        self.addCleanup(fake.close)
        port = mock.patch.object(kdc, "KDC_PORT", fake.port)
        port.start()
        self.addCleanup(port.stop)
        return fake

    def within(self, seconds, fn, *args):
        """fn's exception (None if it returned); fails if fn is still running after seconds."""
        outcome = []

        def run():
            try:
                fn(*args)
                outcome.append(None)
            except BaseException as e:
                outcome.append(e)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(seconds)
        self.assertFalse(worker.is_alive(), "still waiting for the KDC after %d s" % seconds)
        return outcome[0]

    def test_a_kdc_closing_before_the_length_it_announced_is_an_error_not_a_spin(self):
        fake = self.start_kdc("short")
        kdc.install(5)
        user = Principal("svc", type=constants.PrincipalNameType.NT_PRINCIPAL.value)
        # Through impacket's own getKerberosTGT: it must call the bridge's exchange, not its own.
        error = self.within(10, kerberosv5.getKerberosTGT, user, "password", "EXAMPLE.TEST", b"", b"", "",
                            "127.0.0.1")
        self.assertIsInstance(error, kdc.KdcError)
        self.assertIn("closed the connection after 2 of 1000 bytes", str(error))
        self.assertEqual(len(fake.requests), 1)

    def test_an_announced_answer_over_1_mib_is_refused_without_reading_it(self):
        self.start_kdc("huge")
        kdc.install(5)
        error = self.within(10, kerberosv5.sendReceive, b"\x6a\x00", "EXAMPLE.TEST", "127.0.0.1")
        self.assertIsInstance(error, kdc.KdcError)
        self.assertIn("announced a 2147483647-byte answer", str(error))

    def test_a_silent_kdc_makes_the_ca_unreachable_after_the_timeout(self):
        fake = self.start_kdc("silent")
        ca = socket.socket()   # the CA's port only has to accept: the bind authenticates first
        self.addCleanup(ca.close)
        ca.bind(("127.0.0.1", 0))
        ca.listen(1)
        # The realm names the KDC's host when no KDC is configured: here 127.0.0.1.
        creds = Credentials("kerberos", "127.0.0.1", "svc", password="password")
        client = icpr.IcprClient("127.0.0.1", "Test Issuing CA", ca.getsockname()[1], creds, 1)
        error = self.within(10, client.ping)
        self.assertIsInstance(error, CaUnreachable)
        self.assertIn("no answer from the KDC at 127.0.0.1 within 1 s", str(error))
        self.assertEqual(len(fake.requests), 1)


class WireLayout(unittest.TestCase):
    """The bridge's impacket structures against the independent codec written from the IDL."""

    def test_request_decodes_with_the_idl_codec(self):
        csr = pki.csr_der()
        data = icpr.build_request("Test CA", 0, 0x102, "CertificateTemplate:SCEPDevice", csr).getData()
        call = wire_ndr.decode_cert_server_request(data)
        self.assertEqual(call, {"flags": 0x102, "authority": "Test CA", "request_id": 0,
                                "attributes": "CertificateTemplate:SCEPDevice\0".encode("utf-16-le"),
                                "request": csr})
        ours = wire_ndr.encode_cert_server_request(0x102, "Test CA", 0, call["attributes"], csr)
        self.assertEqual(len(ours.rstrip(b"\0")), len(data.rstrip(b"\0")))

    def test_empty_blobs_are_null_pointers(self):
        data = icpr.build_request("CA", 7, 0, "", b"").getData()
        # flags, referent, 3 string counts, "CA\0" padded to 8, request id, (cb 0, NULL) twice
        self.assertEqual(len(data), 4 + 4 + 12 + 8 + 4 + 8 + 8)
        self.assertEqual(data[-16:], b"\0" * 16)

    def test_response_from_the_idl_codec_parses(self):
        message = "Taken Under Submission\0".encode("utf-16-le")
        data = wire_ndr.encode_cert_server_response(77, 5, b"\x30\x01\x00", b"abc", message, 0)
        answer = icpr.parse_response(data)
        self.assertEqual((answer.request_id, answer.disposition, answer.cert_chain, answer.encoded_cert,
                          answer.message, answer.return_code), (77, 5, b"\x30\x01\x00", b"abc",
                                                                "Taken Under Submission", 0))
        empty = icpr.parse_response(wire_ndr.encode_cert_server_response(0, 0, b"", b"", b"", 0x80070057))
        self.assertEqual((empty.cert_chain, empty.encoded_cert, empty.message, empty.return_code),
                         (b"", b"", "", 0x80070057))


if __name__ == "__main__":
    unittest.main()
