# SPDX-License-Identifier: Apache-2.0
"""MS-WCCE client: ICertRequestD::Request (opnum 3) over DCOM, on impacket's DCOM machinery.

    HRESULT Request(
        [in] DWORD dwFlags,
        [in, string, unique, range(1, 1536)] wchar_t const* pwszAuthority,
        [in, out, ref] DWORD* pdwRequestId,
        [out] DWORD* pdwDisposition,
        [in, string, unique, range(1, 1536)] wchar_t const* pwszAttributes,
        [in, ref] CERTTRANSBLOB const* pctbRequest,
        [out, ref] CERTTRANSBLOB* pctbCertChain,
        [out, ref] CERTTRANSBLOB* pctbEncodedCert,
        [out, ref] CERTTRANSBLOB* pctbDispositionMessage);      (MS-WCCE 3.2.1.4.2.1)

As every DCOM call, the request starts with ORPCTHIS and the answer with ORPCTHAT. Unlike
MS-ICPR the attributes travel as a string, not a blob. NOT verified against a real CA: there is
no DCOM activation server to test against here (see README).
"""
import threading

from impacket.dcerpc.v5.dcomrt import DCOMANSWER, DCOMCALL, DCOMConnection, IRemUnknown2
from impacket.dcerpc.v5.dtypes import DWORD, LPWSTR, NULL, ULONG
from impacket.dcerpc.v5.rpcrt import DCERPCException, RPC_C_AUTHN_LEVEL_PKT_PRIVACY
from impacket.uuid import string_to_bin, uuidtup_to_bin

from . import adcs, kdc
from .icpr import template_attributes
from .ndr import CERTTRANSBLOB, blob_bytes, fill_blob, from_utf16z
from .rpc import CaAnswer, CaUnreachable, Credentials, OutcomeUnknown
from .rpc_limits import call_limits

IID_ICERTREQUESTD = uuidtup_to_bin((adcs.IID_ICERTREQUESTD, "0.0"))
CLSID_CERTREQUESTD = string_to_bin(adcs.CLSID_CERTREQUESTD)


class DCERPCSessionError(DCERPCException):
    """impacket looks this name up in the call's module for a nonzero HRESULT."""


class ICertRequestDRequest(DCOMCALL):
    opnum = 3
    structure = (
        ("dwFlags", DWORD),
        ("pwszAuthority", LPWSTR),
        ("pdwRequestId", DWORD),
        ("pwszAttributes", LPWSTR),
        ("pctbRequest", CERTTRANSBLOB),
    )


class ICertRequestDRequestResponse(DCOMANSWER):
    structure = (
        ("pdwRequestId", DWORD),
        ("pdwDisposition", DWORD),
        ("pctbCertChain", CERTTRANSBLOB),
        ("pctbEncodedCert", CERTTRANSBLOB),
        ("pctbDispositionMessage", CERTTRANSBLOB),
        ("ErrorCode", ULONG),
    )


def build_request(authority: str, request_id: int, flags: int, attributes: str, request: bytes):
    call = ICertRequestDRequest()
    call["dwFlags"] = flags
    call["pwszAuthority"] = authority + "\0"
    call["pdwRequestId"] = request_id
    call["pwszAttributes"] = attributes + "\0" if attributes else NULL
    fill_blob(call["pctbRequest"], request)
    return call


def answer_from(resp) -> CaAnswer:
    return CaAnswer(return_code=resp["ErrorCode"], request_id=resp["pdwRequestId"],
                    disposition=resp["pdwDisposition"], cert_chain=blob_bytes(resp["pctbCertChain"]),
                    encoded_cert=blob_bytes(resp["pctbEncodedCert"]),
                    message=from_utf16z(blob_bytes(resp["pctbDispositionMessage"])))


class DcomClient:
    """Same interface as IcprClient. impacket keeps DCOM connections in class-level tables keyed
    by target, so calls are serialised with a lock."""

    _lock = threading.Lock()

    def __init__(self, ca_host: str, ca_name: str, credentials: Credentials, timeout: float):
        self.ca_host = ca_host
        self.authority = ca_name
        self.credentials = credentials
        self.timeout = timeout
        if credentials.auth == "kerberos":
            kdc.install(timeout)   # impacket's KDC exchange has no timeout (kdc.py)

    def submit(self, csr_der: bytes, template: str) -> CaAnswer:
        return self._call(build_request(self.authority, 0, adcs.SUBMIT_FLAGS, template_attributes(template), csr_der))

    def retrieve(self, request_id: int) -> CaAnswer:
        return self._call(build_request(self.authority, request_id, adcs.RETRIEVE_FLAGS, "", b""))

    def ping(self) -> None:
        with self._lock, self._limits():
            dcom, _ = self._activate()
            _disconnect(dcom)

    def _limits(self):
        """Activation and the call: three timeouts in all."""
        return call_limits(3 * self.timeout, require_auth=self.credentials.auth != "none")

    def _activate(self):
        c = self.credentials
        try:
            dcom = DCOMConnection(self.ca_host, c.username, c.password, c.domain, "", c.nthash, c.aes_key,
                                  authLevel=RPC_C_AUTHN_LEVEL_PKT_PRIVACY, oxidResolver=True,
                                  doKerberos=c.auth == "kerberos")
        except Exception as e:
            raise CaUnreachable("cannot reach the CA's DCOM endpoint mapper: %s" % str(e)[:300]) from e
        try:
            iface = dcom.CoCreateInstanceEx(CLSID_CERTREQUESTD, IID_ICERTREQUESTD)
            # impacket takes the object connection's level from the server's authnHint (integrity,
            # or none from a man in the middle): the request carries the challenge password.
            if self.credentials.auth != "none":
                iface.get_cinstance().set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
            request_iface = IRemUnknown2(iface)
            request_iface.connect(IID_ICERTREQUESTD)
        except Exception as e:
            _disconnect(dcom)
            raise CaUnreachable("cannot activate ICertRequestD: %s" % str(e)[:300]) from e
        try:   # impacket gives the object's connection a 300 s timeout; use ours
            request_iface.get_dce_rpc().get_rpc_transport().get_socket().settimeout(self.timeout)
        except (AttributeError, OSError):
            pass
        return dcom, request_iface

    def _call(self, call) -> CaAnswer:
        with self._lock, self._limits():
            dcom, iface = self._activate()
            try:
                try:
                    resp = iface.request(call, iid=IID_ICERTREQUESTD, uuid=iface.get_iPid())
                except DCERPCSessionError as e:   # a nonzero HRESULT with a decodable answer
                    if e.get_packet() is None:
                        raise OutcomeUnknown("undecodable answer, HRESULT %s" % adcs.hresult_text(
                            e.get_error_code() or 0)) from e
                    resp = e.get_packet()
                except Exception as e:
                    raise OutcomeUnknown("no answer from the CA: %s" % str(e)[:300]) from e
                try:
                    return answer_from(resp)
                except Exception as e:   # a blob whose length disagrees with its data
                    raise OutcomeUnknown("unreadable answer from the CA: %s" % str(e)[:300]) from e
            finally:
                _disconnect(dcom)


def _disconnect(dcom) -> None:
    """impacket's DCOMConnection.disconnect raises KeyError in a thread that never connected an
    object; a failure to disconnect must not hide the failure being reported."""
    try:
        dcom.disconnect()
    except Exception:
        pass
