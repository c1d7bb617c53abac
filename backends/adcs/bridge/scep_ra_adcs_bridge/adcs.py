# SPDX-License-Identifier: Apache-2.0
"""Constants of the AD CS enrolment protocols (MS-WCCE, MS-ICPR, certcli.h)."""

# MS-ICPR ICertPassage (CertServerRequest is opnum 0).
ICPR_UUID = "91ae6020-9e3c-11cf-8d7c-00aa00c091be"
ICPR_VERSION = "0.0"
ICPR_PIPE = r"\pipe\cert"

# MS-WCCE: CCertRequestD and ICertRequestD (Request is opnum 3).
CLSID_CERTREQUESTD = "d99e6e74-fc88-11d0-b498-00a0c90312f3"
IID_ICERTREQUESTD = "d99e6e70-fc88-11d0-b498-00a0c90312f3"

# dwFlags (certcli.h). RequestType sits in bits 8-15 (MS-WCCE 3.2.1.4.3.1.1); a retrieval
# by request id MUST NOT set it, so retrievals send 0.
CR_IN_BINARY = 0x2
CR_IN_PKCS10 = 0x100
SUBMIT_FLAGS = CR_IN_BINARY | CR_IN_PKCS10
RETRIEVE_FLAGS = 0

# Dispositions (certcli.h). On the wire MS-WCCE also allows "any other nonzero value,
# indicating an error": a failure HRESULT in pdwDisposition.
CR_DISP_INCOMPLETE = 0
CR_DISP_ERROR = 1
CR_DISP_DENIED = 2
CR_DISP_ISSUED = 3
CR_DISP_ISSUED_OUT_OF_BAND = 4
CR_DISP_UNDER_SUBMISSION = 5
CR_DISP_REVOKED = 6

# HRESULTs the bridge (and the fake CA in its tests) give meaning to.
S_OK = 0
E_INVALIDARG = 0x80070057
E_ACCESSDENIED = 0x80070005
CRYPT_E_NOT_FOUND = 0x80092004
HRESULT_ERROR_NOT_FOUND = 0x80070490
CERTSRV_E_PROPERTY_EMPTY = 0x80094004
CERTSRV_E_BAD_REQUESTSUBJECT = 0x80094001
CERTSRV_E_UNSUPPORTED_CERT_TYPE = 0x80094800
CERTSRV_E_TEMPLATE_DENIED = 0x80094012
RPC_S_SERVER_UNAVAILABLE = 0x800706BA
RPC_S_SERVER_TOO_BUSY = 0x800706BB
HRESULT_ERROR_NOT_READY = 0x80070015
HRESULT_ERROR_SERVICE_NOT_ACTIVE = 0x80070426

# A retrieval answered with one of these means "no such request" (which one a real CA
# sends is not verified; see README).
NOT_FOUND_CODES = frozenset({CRYPT_E_NOT_FOUND, HRESULT_ERROR_NOT_FOUND, CERTSRV_E_PROPERTY_EMPTY})
# Return codes that say the CA is not serving right now: retryable.
TRANSIENT_CODES = frozenset({RPC_S_SERVER_UNAVAILABLE, RPC_S_SERVER_TOO_BUSY, HRESULT_ERROR_NOT_READY,
                             HRESULT_ERROR_SERVICE_NOT_ACTIVE})


def is_failure_hresult(value: int) -> bool:
    """True for a 32-bit value with the HRESULT severity bit set."""
    return bool(value & 0x80000000)


def hresult_text(value: int) -> str:
    return "0x%08x" % (value & 0xFFFFFFFF)
