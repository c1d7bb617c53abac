# SPDX-License-Identifier: Apache-2.0
"""A fake AD CS Enterprise CA: MS-ICPR CertServerRequest on impacket's DCERPCServer (TCP,
loopback, unauthenticated), with AD CS semantics over a real test CA.

The stub is decoded and encoded with wire_ndr (written from the IDL, independent of the
bridge's impacket structures). Behaviour by template:
  SCEPDevice        issued at once (3), certificate and PKCS#7 chain in the answer
  SCEPPending       taken under submission (5); an officer approves or denies it later
  SCEPOutOfBand     issued out of band (4): no certificate in the answer; retrieval gives it
  SCEPOutOfBandHidden  issued out of band (4), and the certificate never comes back
  anything else     denied by the policy module: a failure HRESULT in pdwDisposition
"""
import dataclasses
import socket
import threading

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from impacket.dcerpc.v5.rpcrt import DCERPCServer

import pki
import wire_ndr

ICPR = ("91ae6020-9e3c-11cf-8d7c-00aa00c091be", "0.0")
CRYPT_E_NOT_FOUND = 0x80092004
E_INVALIDARG = 0x80070057
CERTSRV_E_UNSUPPORTED_CERT_TYPE = 0x80094800
HANG_LIMIT_SECONDS = 30


@dataclasses.dataclass
class Row:
    """A row of the CA database."""
    template: str
    csr: bytes
    disposition: int
    message: str
    cert: x509.Certificate = None
    reveal_cert: bool = True


class FakeCa:
    def __init__(self, ca_name: str = "Test Issuing CA"):
        self.root = pki.Authority("Test Root CA")
        self.issuing = pki.Authority(ca_name, parent=self.root)
        self.ca_name = ca_name
        self.rows = {}
        self.next_request_id = 40
        self.calls = []               # decoded calls, for the tests to inspect
        self.failures = []            # return codes to answer the next calls with
        self.hang_next = False
        self.wrong_key_next = False   # a misbehaving CA: certifies another key than the CSR's
        self.no_id_next = False       # a misbehaving CA: takes the request, answers pending with id 0
        self.release = threading.Event()
        self.lock = threading.Lock()

    # ---- the simulated CA officer and operator ----
    def approve(self, request_id: int) -> None:
        with self.lock:
            row = self.rows[request_id]
            row.cert = self._sign(request_id, row.csr)
            row.disposition, row.message = 3, "Issued"

    def deny(self, request_id: int) -> None:
        with self.lock:
            row = self.rows[request_id]
            row.disposition, row.message = 2, "Denied by Officer"

    def chain(self):
        return [self.issuing.cert, self.root.cert]

    # ---- CertServerRequest ----
    def handle(self, stub: bytes) -> bytes:
        call = wire_ndr.decode_cert_server_request(stub)
        with self.lock:
            self.calls.append(call)
            hang, self.hang_next = self.hang_next, False
            answer = self._answer(call)
        if hang:   # the CA took the call (the row exists) but its answer never comes in time
            self.release.wait(HANG_LIMIT_SECONDS)
        return answer

    def _answer(self, call: dict) -> bytes:
        if self.failures:
            return self._reply(call["request_id"], 0, return_code=self.failures.pop(0))
        if call["authority"] != self.ca_name:
            return self._reply(call["request_id"], 0, return_code=E_INVALIDARG)
        request_type = (call["flags"] >> 8) & 0xFF
        if call["request_id"]:
            if request_type != 0 or call["request"]:
                return self._reply(call["request_id"], 0, return_code=E_INVALIDARG)
            return self._retrieve(call["request_id"])
        if request_type != 0x01 or (call["flags"] & 0xFF) != 0x02:   # PKCS #10, binary
            return self._reply(0, 0, return_code=E_INVALIDARG)
        try:
            csr = x509.load_der_x509_csr(call["request"])
        except ValueError:
            return self._reply(0, 0, return_code=E_INVALIDARG)
        template = self._template(call["attributes"])
        request_id = self.next_request_id
        self.next_request_id += 1
        row = Row(template, call["request"], 0, "")
        self.rows[request_id] = row
        if self.no_id_next:
            self.no_id_next = False
            row.disposition, row.message = 5, "Taken Under Submission"
            return self._reply(0, 5, message=row.message)
        if template == "SCEPDevice":
            row.cert, row.disposition, row.message = self._sign(request_id, csr), 3, "Issued"
        elif template == "SCEPPending":
            row.disposition, row.message = 5, "Taken Under Submission"
        elif template in ("SCEPOutOfBand", "SCEPOutOfBandHidden"):
            row.cert, row.disposition, row.message = self._sign(request_id, csr), 4, "Issued out of band"
            row.reveal_cert = template == "SCEPOutOfBand"
            return self._reply(request_id, 4, message=row.message)   # no certificate in the answer
        else:
            row.disposition = CERTSRV_E_UNSUPPORTED_CERT_TYPE
            row.message = ("Denied by Policy Module  The request was for a certificate template that is not "
                           "supported by the Active Directory Certificate Services policy: %s." % template)
        return self._reply_row(request_id, row)

    def _retrieve(self, request_id: int) -> bytes:
        row = self.rows.get(request_id)
        if row is None:
            return self._reply(request_id, 0, return_code=CRYPT_E_NOT_FOUND)
        return self._reply_row(request_id, row)

    def _reply_row(self, request_id: int, row: Row) -> bytes:
        if row.cert is not None and row.reveal_cert:
            return self._reply(request_id, row.disposition, row.cert, row.message)
        return self._reply(request_id, row.disposition, message=row.message)

    def _reply(self, request_id, disposition, cert=None, message="", return_code=0) -> bytes:
        chain = encoded = b""
        if cert is not None:
            encoded = cert.public_bytes(serialization.Encoding.DER)
            chain = pkcs7.serialize_certificates([cert] + self.chain(), serialization.Encoding.DER)
        text = (message + "\0").encode("utf-16-le") if message else b""
        return wire_ndr.encode_cert_server_response(request_id, disposition, chain, encoded, text, return_code)

    @staticmethod
    def _template(attributes: bytes) -> str:
        """CertificateTemplate from "name:value" lines; names ignore case, spaces and hyphens."""
        text = attributes.decode("utf-16-le").split("\0", 1)[0]
        for line in text.replace("\r", "").split("\n"):
            key, _, value = line.partition(":")
            if key.replace(" ", "").replace("-", "").lower() == "certificatetemplate":
                return value.strip()
        return ""

    def _sign(self, request_id: int, csr: x509.CertificateSigningRequest):
        if isinstance(csr, bytes):
            csr = x509.load_der_x509_csr(csr)
        # Microsoft's default serial layout: request id (LE) in bytes 0-3 of 10 bytes.
        serial = int.from_bytes(request_id.to_bytes(4, "little") + b"\x00\x00\x5a\x17\xc3\x9e", "big")
        key, self.wrong_key_next = (pki.new_key().public_key() if self.wrong_key_next else csr.public_key()), False
        return self.issuing.issue(csr.subject, key, serial=serial)


class FakeCaServer(DCERPCServer):
    """impacket's DCERPCServer serving FakeCa on 127.0.0.1 (one connection at a time)."""

    def __init__(self, ca: FakeCa, port: int = 0):
        DCERPCServer.__init__(self)
        self.daemon = True
        self._sock.close()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(10)   # before start(): a client may connect at once
        self._stopping = False
        self.errors = []
        self.addCallbacks(ICPR, "", {0: ca.handle})

    @property
    def port(self) -> int:
        return self.getListenPort()

    def run(self):
        while not self._stopping:
            try:
                self._clientSock, _ = self._sock.accept()
            except OSError:
                return
            try:
                while not self._stopping:
                    data = self.recv()
                    if data is None:
                        break
                    answer = self.processRequest(data)
                    if answer is not None:
                        self.send(answer)
            except Exception as e:   # kept for the tests: a fake that fails must not hide it
                self.errors.append(repr(e))
            finally:
                self._clientSock.close()

    def stop(self) -> None:
        """Stops listening: the port refuses connections (the CA is offline)."""
        self._stopping = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self.join(HANG_LIMIT_SECONDS + 5)
