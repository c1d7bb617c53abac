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


# What AD CS reads from a PKCS#10 on its own (MS-WCCE 2.2.2.7.10, 3.2.1.4.2.1.2): name-value pairs
# ("SAN:upn=..." with EDITF_ATTRIBUTESUBJECTALTNAME2 set, "CertificateTemplate:...") and application
# policies (ESC15). scep-ra refuses requests that carry them; the bridge does too, whoever holds an
# allowed client certificate. A template extension passes: the CA refuses one that conflicts.
_NAME_VALUE_PAIRS = "1.3.6.1.4.1.311.13.2.1"
_EXTENSION_SETS = ("1.2.840.113549.1.9.14", "1.3.6.1.4.1.311.2.1.14")   # extensionRequest, msExtReq
_CA_ONLY_EXTENSIONS = ("1.3.6.1.4.1.311.21.10",)   # application policies


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

    @property
    def subject_key(self) -> bytes:
        return subject_key_of(self.csr_der)


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
    extension_sets = 0
    for oid, values in _attributes(der):
        if oid == _NAME_VALUE_PAIRS:
            raise BadRequest("csr carries name-value pairs for the CA (%s)" % oid)
        if oid in _EXTENSION_SETS:
            extension_sets += values
    if extension_sets > 1:
        raise BadRequest("csr carries more than one set of requested extensions")
    try:
        extensions = list(csr.extensions)
    except ValueError:   # a duplicate or unreadable extension
        raise BadRequest("csr extensions cannot be read") from None
    for extension in extensions:
        if extension.oid.dotted_string in _CA_ONLY_EXTENSIONS:
            raise BadRequest("csr carries an extension only the CA would read (%s)"
                             % extension.oid.dotted_string)
    return csr


def _tlv(data: bytes, pos: int):
    """(tag, start of content, end) of the DER element at pos (check_csr has made sure it is DER)."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise BadRequest("csr is not a PKCS#10 request")
    return tag, pos, pos + length


def _oid_text(content: bytes) -> str:
    first, arcs, value = content[0], [], 0
    for byte in content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return ".".join(str(a) for a in [min(first // 40, 2), first - 40 * min(first // 40, 2)] + arcs)


def subject_key_of(csr_der: bytes) -> bytes:
    """The SubjectPublicKeyInfo of a PKCS#10 (check_csr has read it), as its DER bytes: all the map
    keeps of a request, never the CSR with its challengePassword."""
    try:
        _, start, _ = _tlv(csr_der, 0)                 # CertificationRequest
        _, pos, _ = _tlv(csr_der, start)               # CertificationRequestInfo
        for _ in range(2):                             # version, subject
            pos = _tlv(csr_der, pos)[2]
        _, _, end = _tlv(csr_der, pos)
        return csr_der[pos:end]
    except (IndexError, BadRequest):
        return b""


def _attributes(der: bytes):
    """(OID, number of values) of each attribute of the CertificationRequestInfo."""
    try:
        _, start, _ = _tlv(der, 0)                 # CertificationRequest
        _, pos, info_end = _tlv(der, start)        # CertificationRequestInfo
        for _ in range(3):                         # version, subject, subjectPKInfo
            pos = _tlv(der, pos)[2]
        if pos >= info_end:
            return []
        tag, pos, end = _tlv(der, pos)
        if tag != 0xA0:                            # [0] attributes
            return []
        found = []
        while pos < end:
            _, attr, attr_end = _tlv(der, pos)     # Attribute
            _, oid_start, oid_end = _tlv(der, attr)
            _, values, values_end = _tlv(der, oid_end)
            count = 0
            while values < values_end:
                values = _tlv(der, values)[2]
                count += 1
            found.append((_oid_text(der[oid_start:oid_end]), count))
            pos = attr_end
        return found
    except IndexError:
        raise BadRequest("csr is not a PKCS#10 request") from None
