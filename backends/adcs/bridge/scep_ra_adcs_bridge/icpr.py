# SPDX-License-Identifier: Apache-2.0
"""MS-ICPR client: ICertPassage::CertServerRequest (opnum 0) on impacket's DCE/RPC.

    DWORD CertServerRequest(
        [in] handle_t h,
        [in] DWORD dwFlags,
        [in, string, unique] const wchar_t* pwszAuthority,
        [in, out, ref] DWORD* pdwRequestId,
        [out] DWORD* pdwDisposition,
        [in, ref] const CERTTRANSBLOB* pctbAttribs,
        [in, ref] const CERTTRANSBLOB* pctbRequest,
        [out, ref] CERTTRANSBLOB* pctbCert,
        [out, ref] CERTTRANSBLOB* pctbEncodedCert,
        [out, ref] CERTTRANSBLOB* pctbDispositionMessage);

One connection per call: the CA keeps no per-connection state, and a fresh connection
tells "never reached the CA" (connect/bind failed) apart from "sent, no answer".
"""
import re

from impacket.dcerpc.v5 import epm, transport
from impacket.dcerpc.v5.dtypes import DWORD, LPWSTR, ULONG
from impacket.dcerpc.v5.ndr import NDRCALL
from impacket.uuid import uuidtup_to_bin

from . import adcs, kdc
from .ndr import CERTTRANSBLOB, blob_bytes, fill_blob, from_utf16z, utf16z
from .rpc import CaAnswer, CaUnreachable, Credentials, OutcomeUnknown
from .rpc_limits import call_limits, unauthenticated

ICPR_SYNTAX = uuidtup_to_bin((adcs.ICPR_UUID, adcs.ICPR_VERSION))


class CertServerRequest(NDRCALL):
    opnum = 0
    structure = (
        ("dwFlags", DWORD),
        ("pwszAuthority", LPWSTR),
        ("pdwRequestId", DWORD),
        ("pctbAttribs", CERTTRANSBLOB),
        ("pctbRequest", CERTTRANSBLOB),
    )


class CertServerRequestResponse(NDRCALL):
    structure = (
        ("pdwRequestId", DWORD),
        ("pdwDisposition", DWORD),
        ("pctbCert", CERTTRANSBLOB),
        ("pctbEncodedCert", CERTTRANSBLOB),
        ("pctbDispositionMessage", CERTTRANSBLOB),
        ("ErrorCode", ULONG),
    )


def template_attributes(template: str) -> str:
    """The request attributes (MS-WCCE 2.2.2.7): name:value pairs, one per line."""
    return "CertificateTemplate:%s" % template


def build_request(authority: str, request_id: int, flags: int, attributes: str, request: bytes) -> CertServerRequest:
    call = CertServerRequest()
    call["dwFlags"] = flags
    call["pwszAuthority"] = authority + "\0"
    call["pdwRequestId"] = request_id
    fill_blob(call["pctbAttribs"], utf16z(attributes) if attributes else b"")
    fill_blob(call["pctbRequest"], request)
    return call


def parse_response(data: bytes) -> CaAnswer:
    resp = CertServerRequestResponse(data)
    return CaAnswer(return_code=resp["ErrorCode"], request_id=resp["pdwRequestId"],
                    disposition=resp["pdwDisposition"], cert_chain=blob_bytes(resp["pctbCert"]),
                    encoded_cert=blob_bytes(resp["pctbEncodedCert"]),
                    message=from_utf16z(blob_bytes(resp["pctbDispositionMessage"])))


class IcprClient:
    """Submits and retrieves requests at one CA over MS-ICPR.

    endpoint: an int (ncacn_ip_tcp at that port), "pipe" (ncacn_np \\pipe\\cert over SMB)
    or "epm" (ask the endpoint mapper on 135 for the TCP port)."""

    def __init__(self, ca_host: str, ca_name: str, endpoint, credentials: Credentials, timeout: float):
        self.ca_host = ca_host
        # On the wire pwszAuthority is the CA's name (MS-WCCE 3.2.1.4.2.1.1 checks it against
        # the CN of the CA certificate); "host\\name" is only the COM config string.
        self.authority = ca_name
        self.endpoint = endpoint
        self.credentials = credentials
        self.timeout = timeout
        if credentials.auth == "kerberos":
            kdc.install(timeout)   # impacket's KDC exchange has no timeout (kdc.py)

    def submit(self, csr_der: bytes, template: str) -> CaAnswer:
        return self._call(build_request(self.authority, 0, adcs.SUBMIT_FLAGS, template_attributes(template), csr_der))

    def retrieve(self, request_id: int) -> CaAnswer:
        return self._call(build_request(self.authority, request_id, adcs.RETRIEVE_FLAGS, "", b""))

    def ping(self) -> None:
        """Connects and binds ICertPassage (with authentication): the CA service answers."""
        with self._limits():
            self._connect().disconnect()

    def _limits(self):
        """The whole call (endpoint mapper, connect, bind, request, answer): three timeouts."""
        return call_limits(3 * self.timeout, require_auth=self.credentials.auth != "none")

    def _string_binding(self) -> str:
        if isinstance(self.endpoint, int):
            return r"ncacn_ip_tcp:%s[%d]" % (self.ca_host, self.endpoint)
        if self.endpoint == "pipe":
            return r"ncacn_np:%s[%s]" % (self.ca_host, adcs.ICPR_PIPE)
        mapper = transport.DCERPCTransportFactory(r"ncacn_ip_tcp:%s[135]" % self.ca_host)
        mapper.set_connect_timeout(self.timeout)
        dce = mapper.get_dce_rpc()
        with unauthenticated():   # the endpoint mapper is asked without credentials
            dce.connect()
            try:
                return epm.hept_map(self.ca_host, ICPR_SYNTAX, protocol="ncacn_ip_tcp", dce=dce)
            finally:
                dce.disconnect()

    def _connect(self):
        try:
            rpc_transport = _transport_for(self._string_binding())
            rpc_transport.set_connect_timeout(self.timeout)
            self.credentials.apply(rpc_transport)
            dce = rpc_transport.get_dce_rpc()
            self.credentials.secure(dce)
            dce.connect()
            try:
                dce.bind(ICPR_SYNTAX)
            except BaseException:
                dce.disconnect()
                raise
            return dce
        except Exception as e:  # impacket raises many kinds here (DCERPCException, OSError, SessionError)
            raise CaUnreachable("cannot reach the CA's ICertPassage: %s" % _describe(e)) from e

    def _call(self, call: CertServerRequest) -> CaAnswer:
        with self._limits():
            return self._call_within_limits(call)

    def _call_within_limits(self, call: CertServerRequest) -> CaAnswer:
        dce = self._connect()
        try:
            # Once the request is on its way, any failure (timeout, reset, even a fault PDU,
            # which impacket does not tell apart from other errors) may follow a request the
            # CA has taken: the outcome is unknown, never "not sent".
            try:
                dce.call(call.opnum, call)
                answer = dce.recv()
            except Exception as e:
                raise OutcomeUnknown("no answer from the CA: %s" % _describe(e)) from e
            try:
                return parse_response(answer)
            except Exception as e:
                raise OutcomeUnknown("unreadable answer from the CA: %s" % _describe(e)) from e
        finally:
            try:
                dce.disconnect()
            except Exception:
                pass


def _transport_for(binding: str):
    if binding.startswith("ncacn_ip_tcp:"):
        host, port = re.fullmatch(r"ncacn_ip_tcp:(.+)\[(\d+)\]", binding).groups()
        return transport.TCPTransport(host, int(port))   # its recv bounded by rpc_limits
    return transport.DCERPCTransportFactory(binding)


def _describe(e: BaseException) -> str:
    text = str(e) or e.__class__.__name__
    return text[:300]
