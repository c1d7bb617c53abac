# SPDX-License-Identifier: Apache-2.0
"""MS-WCCE ICertRequestD::Request: the bridge's impacket structures against the independent
IDL codec (wire_ndr), both ways. No DCOM server exists here, so this is all that is verified."""
import os
import unittest
import unittest.mock

import support  # noqa: F401  (sets sys.path)
import pki
import wire_ndr
from impacket.dcerpc.v5.dtypes import NULL
from scep_ra_adcs_bridge import dcom


def with_orpcthis(call, cid: bytes):
    """ORPCTHIS as impacket's DCOM activation fills it (COM version 5.7, no extensions)."""
    call["ORPCthis"]["version"]["MajorVersion"] = 5
    call["ORPCthis"]["version"]["MinorVersion"] = 7
    call["ORPCthis"]["flags"] = 0
    call["ORPCthis"]["reserved1"] = 0
    call["ORPCthis"]["cid"] = cid
    call["ORPCthis"]["extensions"] = NULL
    return call


class RequestEncoding(unittest.TestCase):
    def test_new_request_matches_the_ms_wcce_layout(self):
        csr, cid = pki.csr_der(), os.urandom(16)
        call = with_orpcthis(dcom.build_request("Test CA", 0, 0x102, "CertificateTemplate:SCEPDevice", csr), cid)
        data = call.getData()
        decoded = wire_ndr.decode_wcce_request(data)
        self.assertEqual(decoded, {"orpcthis": {"major": 5, "minor": 7, "flags": 0, "reserved1": 0, "cid": cid},
                                   "flags": 0x102, "authority": "Test CA", "request_id": 0,
                                   "attributes": "CertificateTemplate:SCEPDevice", "request": csr})
        ours = wire_ndr.encode_wcce_request(decoded["orpcthis"], 0x102, "Test CA", 0,
                                            "CertificateTemplate:SCEPDevice", csr)
        self.assertEqual(len(ours), len(data) + (-len(data)) % 4)

    def test_retrieval_has_null_attributes_and_an_empty_request(self):
        call = with_orpcthis(dcom.build_request("Test CA", 1234, 0, "", b""), b"\x01" * 16)
        decoded = wire_ndr.decode_wcce_request(call.getData())
        self.assertEqual((decoded["request_id"], decoded["flags"], decoded["attributes"], decoded["request"]),
                         (1234, 0, None, b""))


class ResponseDecoding(unittest.TestCase):
    def test_issued_answer_from_ms_wcce_bytes(self):
        message = "Issued\0".encode("utf-16-le")
        data = wire_ndr.encode_wcce_response(41, 3, b"\x30\x80chain", b"\x30\x82leaf", message, 0)
        answer = dcom.answer_from(dcom.ICertRequestDRequestResponse(data))
        self.assertEqual((answer.request_id, answer.disposition, answer.cert_chain, answer.encoded_cert,
                          answer.message, answer.return_code), (41, 3, b"\x30\x80chain", b"\x30\x82leaf", "Issued", 0))

    def test_denied_answer_with_empty_blobs_and_an_hresult(self):
        data = wire_ndr.encode_wcce_response(42, 0x80094800, b"", b"", "Denied\0".encode("utf-16-le"), 0)
        answer = dcom.answer_from(dcom.ICertRequestDRequestResponse(data))
        self.assertEqual((answer.disposition, answer.cert_chain, answer.encoded_cert, answer.message),
                         (0x80094800, b"", b"", "Denied"))

    def test_round_trip_through_the_bridges_own_response_structure(self):
        resp = dcom.ICertRequestDRequestResponse()
        resp["ORPCthat"]["flags"] = 0
        resp["ORPCthat"]["extensions"] = NULL
        resp["pdwRequestId"] = 7
        resp["pdwDisposition"] = 5
        dcom.fill_blob(resp["pctbCertChain"], b"")
        dcom.fill_blob(resp["pctbEncodedCert"], b"")
        dcom.fill_blob(resp["pctbDispositionMessage"], "Taken Under Submission\0".encode("utf-16-le"))
        resp["ErrorCode"] = 0
        data = resp.getData()
        self.assertEqual(wire_ndr.Reader(data).u32(), 0)   # ORPCTHAT first
        answer = dcom.answer_from(dcom.ICertRequestDRequestResponse(data))
        self.assertEqual((answer.request_id, answer.disposition, answer.message), (7, 5, "Taken Under Submission"))
        self.assertEqual(len(data), len(wire_ndr.encode_wcce_response(7, 5, b"", b"",
                                                                      "Taken Under Submission\0".encode("utf-16-le"),
                                                                      0)))


if __name__ == "__main__":
    unittest.main()


class _FakeClassInstance:
    def __init__(self, level):
        self.level = level

    def set_auth_level(self, level):
        self.level = level

    def get_auth_level(self):
        return self.level


class _FakeDcom:
    """impacket's DCOMConnection as the activation sees it; the server hinted integrity (5)."""

    def __init__(self, *args, **kwargs):
        self.instance = _FakeClassInstance(5)
        self.disconnects = 0

    def CoCreateInstanceEx(self, clsid, iid):
        test_iface = unittest.mock.Mock()
        test_iface.get_cinstance.return_value = self.instance
        return test_iface

    def disconnect(self):
        self.disconnects += 1
        raise KeyError("MainThread")   # impacket does, in a thread that never connected an object


class DcomActivation(unittest.TestCase):
    def _client(self):
        return dcom.DcomClient("127.0.0.1", "Test Issuing CA", dcom.Credentials("ntlm", "corp", "svc", "pw"), 5)

    def test_the_request_connection_is_sealed_whatever_the_server_hints(self):
        seen = []

        class Remote:
            def __init__(self, iface):
                self.iface = iface

            def connect(self, iid):
                seen.append(self.iface.get_cinstance().get_auth_level())

            def get_dce_rpc(self):
                raise AttributeError("no transport in this fake")

        with unittest.mock.patch.object(dcom, "DCOMConnection", _FakeDcom), \
                unittest.mock.patch.object(dcom, "IRemUnknown2", Remote):
            self._client()._activate()
        self.assertEqual(seen, [dcom.RPC_C_AUTHN_LEVEL_PKT_PRIVACY])

    def test_an_activation_failure_is_unreachable_even_when_impacket_cannot_disconnect(self):
        class Refused:
            def __init__(self, iface):
                pass

            def connect(self, iid):
                raise OSError("connection refused on the object's port")

        with unittest.mock.patch.object(dcom, "DCOMConnection", _FakeDcom), \
                unittest.mock.patch.object(dcom, "IRemUnknown2", Refused):
            with self.assertRaises(dcom.CaUnreachable):
                self._client().submit(pki.csr_der(), "SCEPDevice")
