# SPDX-License-Identifier: Apache-2.0
"""What the bridge re-checks before it calls the CA."""
import base64
import binascii
import dataclasses
import hashlib
import json
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .store import MAX_CSR_DER

MAX_BODY = 64 * 1024
# A SCEP transactionID is printable (hex, or base64 of a hash): keep it to that alphabet.
_CLIENT_REF = re.compile(r"[A-Za-z0-9+/=_.:-]{1,128}")


class BadRequest(Exception):
    """The body cannot be used: HTTP 400 with this message."""


@dataclasses.dataclass(frozen=True)
class Submit:
    csr_der: bytes
    template: str
    client_ref: str

    @property
    def csr_sha256(self) -> str:
        return hashlib.sha256(self.csr_der).hexdigest()


def strict_base64(text: str) -> bytes:
    """Standard base64 with padding and nothing else (no whitespace, no URL alphabet)."""
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) or len(text) % 4:
        raise BadRequest("csr is not strict base64")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise BadRequest("csr is not strict base64") from None


def parse_submit(body: bytes, templates) -> Submit:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):   # RecursionError: "[[[[..." nested deep
        raise BadRequest("the body is not JSON") from None
    if not isinstance(doc, dict):
        raise BadRequest("the body must be a JSON object")
    fields = {}
    for key in ("csr", "template", "client_ref"):
        value = doc.get(key)
        if not isinstance(value, str) or not value:
            raise BadRequest("%s must be a non-empty string" % key)
        fields[key] = value
    if not _CLIENT_REF.fullmatch(fields["client_ref"]):
        raise BadRequest("client_ref must be 1-128 characters of A-Z a-z 0-9 + / = _ . : -")
    if fields["template"] not in templates:
        raise BadRequest("template is not on this bridge's allow-list")
    if len(fields["csr"]) > (MAX_CSR_DER + 2) // 3 * 4:
        raise BadRequest("csr is larger than %d bytes" % MAX_CSR_DER)
    der = strict_base64(fields["csr"])
    if len(der) > MAX_CSR_DER:   # the text check above lets up to 2 more bytes through
        raise BadRequest("csr is larger than %d bytes" % MAX_CSR_DER)
    check_csr(der)
    return Submit(der, fields["template"], fields["client_ref"])


def check_csr(der: bytes) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_der_x509_csr(der)
        canonical = csr.public_bytes(serialization.Encoding.DER)
        signed = csr.is_signature_valid
    except (ValueError, TypeError):   # TypeError: a key type cryptography does not know
        raise BadRequest("csr is not a PKCS#10 request") from None
    if canonical != der:
        raise BadRequest("csr has bytes after the PKCS#10 request or is not DER")
    if not signed:
        raise BadRequest("csr signature does not verify")
    return csr
