# SPDX-License-Identifier: Apache-2.0
"""From a CA answer to the bridge's fixed HTTP answer (status code and JSON body)."""
import base64
import dataclasses

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from . import adcs
from .rpc import CaAnswer


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    body: dict


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def serial_hex(cert: x509.Certificate) -> str:
    text = "%X" % cert.serial_number
    return text if len(text) % 2 == 0 else "0" + text


def error(message: str, hresult: int = None, status: int = 503) -> Reply:
    body = {"status": "error", "message": message}
    if hresult is not None:
        body["hresult"] = adcs.hresult_text(hresult)
    return Reply(status, body)


def not_found(request_id: int) -> Reply:
    return Reply(404, {"status": "error", "message": "no request %d at this bridge's CA" % request_id})


def issued(request_id: int, cert: x509.Certificate, chain_der, status: int) -> Reply:
    return Reply(status, {"status": "issued", "request_id": request_id,
                          "certificate": b64(cert.public_bytes(serialization.Encoding.DER)),
                          "chain": [b64(c) for c in chain_der], "serial": serial_hex(cert)})


def pending(request_id: int, disposition: int, message: str) -> Reply:
    return Reply(202, {"status": "pending", "request_id": request_id, "disposition": disposition,
                       "message": message or "taken under submission"})


def denied(request_id: int, disposition: int, hresult: int, message: str) -> Reply:
    body = {"status": "denied", "disposition": disposition,
            "hresult": adcs.hresult_text(hresult), "message": message or "denied by the CA"}
    if request_id:   # none when the CA refused the call before it made a request
        body["request_id"] = request_id
    return Reply(422, body)


def unknown(client_ref: str, message: str = None) -> Reply:
    return Reply(202, {"status": "unknown", "client_ref": client_ref,
                       "message": message or "the CA did not answer in time; an operator must resolve this request"})


def is_not_found(answer: CaAnswer) -> bool:
    """A retrieval the CA answered with "no such request"."""
    if answer.return_code != adcs.S_OK:
        return answer.return_code in adcs.NOT_FOUND_CODES
    return adcs.is_failure_hresult(answer.disposition) and answer.disposition in adcs.NOT_FOUND_CODES


def classify(answer: CaAnswer, request_id: int, subject_key: bytes, chain_der, issued_status: int,
             is_retrieval: bool) -> Reply:
    """Maps one answer. Returns None for "issued out of band without the certificate", which the
    caller may settle with a retrieval."""
    rid = request_id if is_retrieval else answer.request_id
    if is_retrieval and is_not_found(answer):
        return not_found(request_id)
    if answer.return_code != adcs.S_OK:
        if answer.return_code in adcs.TRANSIENT_CODES:
            return error("the CA is not serving: %s" % (answer.message or "retry later"), answer.return_code)
        if is_retrieval:
            # The call failed, not the request: a refused look-up decides nothing (the request may
            # still be pending at the CA), so it is never a denial.
            return error("the CA refused to say what became of request %d: %s"
                         % (request_id, answer.message or "no message"), answer.return_code)
        return denied(rid, adcs.CR_DISP_ERROR, answer.return_code, answer.message)
    disposition = answer.disposition
    if adcs.is_failure_hresult(disposition):
        # MS-WCCE: "any other nonzero value indicating an error" - a failure HRESULT.
        return denied(rid, adcs.CR_DISP_DENIED, disposition, answer.message)
    if disposition in (adcs.CR_DISP_ISSUED, adcs.CR_DISP_ISSUED_OUT_OF_BAND):
        cert = _certificate(answer.encoded_cert)
        if cert is None:
            if disposition == adcs.CR_DISP_ISSUED_OUT_OF_BAND:
                return None
            return error("the CA reported request %d issued without a readable certificate" % rid)
        if not _same_key(cert, subject_key):
            return error("the CA returned a certificate for another key than request %d's" % rid)
        return issued(rid, cert, chain_der, issued_status)
    if disposition in (adcs.CR_DISP_UNDER_SUBMISSION, adcs.CR_DISP_INCOMPLETE):
        return pending(rid, disposition, answer.message)
    return denied(rid, disposition, answer.return_code, answer.message)


def _certificate(der: bytes):
    if not der:
        return None
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        return None


def _same_key(cert: x509.Certificate, subject_key: bytes) -> bool:
    """subject_key: the request's SubjectPublicKeyInfo, DER."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        return cert.public_key().public_bytes(*spki) == subject_key
    except (ValueError, TypeError, UnsupportedAlgorithm):   # a key type cryptography cannot load
        return False
