# SPDX-License-Identifier: Apache-2.0
"""MS-WCCE ICertRequestD::Request: the bridge's impacket structures against the independent
IDL codec (wire_ndr), both ways. No DCOM server exists here, so this is all that is verified."""
import os
import unittest

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
