#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the readers of remote systems' answers into
tests/fuzz/corpus/{ejbca_answers,bridge_answers,intune_answers,webhook_answer,
bounded_json,base64}/ (run by hand; the output is committed).

The well-formed seeds are the answers the fakes send (tests/support/fake_ejbca,
tests/support/fake_intune, the AD CS bridge's API in backends/adcs/bridge/README.md
and tests/adcs_bridge) and the documented shapes of /work/shared/docs/ca-backends.md,
with the fuzz fixture certificate (tests/fuzz/fixtures/ra-encryption.pem) as the DER
they carry and a CRL signed by its key with fixed dates (same output on every run).
The hostile ones are hand-made: deep nesting, huge numbers, bad base64, wrong
types, truncated UTF-8, the fakes' own "garbage", "wrong_types" and "deep" answers.
"""
import base64
import datetime
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from seed_files import write

HERE = os.path.dirname(os.path.abspath(__file__))


def b64(data):
    return base64.b64encode(data).decode()


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def load_fixture():
    with open(os.path.join(HERE, "fixtures", "ra-encryption.pem"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(HERE, "fixtures", "ra-encryption.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    when = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    revoked = (x509.RevokedCertificateBuilder().serial_number(0x1234).revocation_date(when).build())
    crl = (x509.CertificateRevocationListBuilder().issuer_name(cert.subject).last_update(when)
           .next_update(when + datetime.timedelta(days=7)).add_revoked_certificate(revoked)
           .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER), crl.public_bytes(serialization.Encoding.DER)


def hostile(der):
    """Answers no honest server sends, for every reader."""
    cert = b64(der)
    return {
        "not-json.txt": b"Service is being upgraded",
        "html.txt": b"<html><body>502 Bad Gateway</body></html>",
        "empty.json": b"",
        "truncated.json": b'{"certificate": "MII',
        "deep-arrays.json": b"[" * 200 + b"]" * 200,
        "deep-objects.json": b'{"a":' * 100 + b"1" + b"}" * 100,
        "nine-deep.json": b'{"value":[[[[[[[[{"code":"Success"}]]]]]]]]}',
        "huge-numbers.json": b'{"request_id":18446744073709551616,"disposition":-9223372036854775809,'
                             b'"expires_in":1e999,"error_code":123456789012345678901234567890}',
        "u64-max.json": b'{"status":"pending","request_id":18446744073709551615,"disposition":18446744073709551615}',
        "bad-base64.json": dumps({"certificate": cert[:-1] + "!", "crl": "QQ=", "chain": ["A===", "===="]}),
        "base64-newline.json": dumps({"certificate": cert[:40] + "\n" + cert[40:], "status": "issued"}),
        "base64-urlsafe.json": dumps({"certificate": cert.replace("+", "-").replace("/", "_")}),
        "wrong-types.json": dumps({"certificate": 12345, "serial_number": ["x"], "certificate_chain": "nope",
                                   "status": 1, "request_id": "7", "allow": "true", "code": ["Success"],
                                   "access_token": {}, "expires_in": True, "value": {}}),
        "truncated-utf8.json": b'{"message":"\xe2\x82","reason":"caf\xc3","code":"Succ\xf0\x9f"}',
        "lone-surrogate.json": b'{"message":"\\ud800","reason":"\\udc00x","error_message":"\\ud83d"}',
        "nul-in-strings.json": b'{"status":"issued\\u0000","code":"Success\\u0000","providerName":'
                               b'"ScepRequestValidationFEService\\u0000x"}',
        "duplicate-keys.json": b'{"allow":true,"allow":false,"status":"OK","status":"issued"}',
        "bom.json": b'\xef\xbb\xbf{"allow":true}',
        "top-level-string.json": b'"certificate"',
        "top-level-number.json": b"-0.0e-0",
    }


def ejbca(der, crl):
    cert = b64(der)
    return {
        # v1/certificate/pkcs10enroll (fake_ejbca.enroll, ca-backends.md)
        "enroll.json": dumps({"certificate": cert, "serial_number": "03", "response_format": "DER"}),
        "enroll-chain.json": dumps({"certificate": cert, "serial_number": "7A3F0C91D2E4B5A6", "response_format": "DER",
                                    "certificate_chain": [cert, cert]}),
        "enroll-pem.json": dumps({"certificate": cert, "response_format": "PEM"}),
        "enroll-null-chain.json": dumps({"certificate": cert, "certificate_chain": None, "serial_number": None}),
        "enroll-202.json": dumps({"status_code": 202, "info_message": "Request is awaiting approval.",
                                  "link": "https://ejbca.test/ejbca/ejbca-rest-api/v1/certificate/7/finalize"}),
        "enroll-wrong-types.json": dumps({"certificate": 12345, "serial_number": ["x"], "certificate_chain": "nope"}),
        "enroll-deep.json": b'{"certificate": ' + b"[" * 100 + b"]" * 100 + b"}",
        "enroll-long-chain.json": dumps({"certificate": cert, "certificate_chain": [cert] * 11}),
        # ExceptionErrorRestResponse
        "error-403.json": dumps({"error_code": 403, "error_message": "Authorization Denied."}),
        "error-400.json": dumps({"error_code": 400, "error_message": "Wrong certificate profile"}),
        "error-code-text.json": dumps({"error_code": "500", "error_message": "x"}),
        # v1/certificate/status
        "status.json": dumps({"status": "OK", "version": "1.0", "revision": "EJBCA 9.9.9 Community (fake)"}),
        "status-no-revision.json": dumps({"status": "OK", "version": "1.0"}),
        # v1/ca
        "ca-list.json": dumps({"certificate_authorities": [{
            "id": 1652389506, "name": "ManagementCA", "subject_dn": "CN=ManagementCA,O=scep-ra tests",
            "issuer_dn": "CN=ManagementCA,O=scep-ra tests", "expiration_date": "2036-12-01T00:00:00Z",
            "external": False}]}),
        # v1/certificate/search: base64 of the base64 text of the DER, as EJBCA (Jackson) sends it
        "search.json": dumps({"certificates": [{"certificate": b64(cert.encode()), "serial_number": "03",
                                                "response_format": "DER"}], "more_results": False}),
        "search-plain-der.json": dumps({"certificates": [{"certificate": cert}], "more_results": True}),
        "search-empty.json": dumps({"certificates": [], "more_results": False}),
        "search-junk.json": dumps({"certificates": [{"certificate": b64(b64(b"\x30\x03junk").encode())}],
                                   "more_results": False}),
        "search-cut.json": b'{"certificates": [',
        # revocationstatus and revoke
        "revocation-status.json": dumps({"issuer_dn": "CN=ManagementCA", "serial_number": "03", "revoked": False,
                                         "revocation_reason": "NOT_REVOKED", "revocation_date": None}),
        "revoke.json": dumps({"issuer_dn": "CN=ManagementCA", "serial_number": "03", "revoked": True,
                              "revocation_reason": "KEY_COMPROMISE", "revocation_date": "2026-12-01T00:00:00Z",
                              "message": "Successfully revoked"}),
        # getLatestCrl
        "crl.json": dumps({"crl": b64(crl), "response_format": "DER"}),
    }


def bridge(der):
    cert = b64(der)
    return {
        "issued.json": dumps({"status": "issued", "request_id": 41, "certificate": cert, "chain": [cert],
                              "serial": "6100000029A1B2C3D4E5F600000000029"}),
        "pending.json": dumps({"status": "pending", "request_id": 42, "disposition": 5,
                               "message": "Taken Under Submission"}),
        "unknown.json": dumps({"status": "unknown", "client_ref": "lost-1",
                               "message": "the CA did not answer in time"}),
        "denied.json": dumps({"status": "denied", "request_id": 43, "disposition": 2, "hresult": "0x80094012",
                              "message": "Denied by Policy Module"}),
        "error.json": dumps({"status": "error", "hresult": "0x800706ba", "message": "The RPC server is unavailable."}),
        "chain.json": dumps({"chain": [cert, cert]}),
        "chain-empty.json": dumps({"chain": []}),
        "issued-lower-serial.json": dumps({"status": "issued", "request_id": 44, "certificate": cert, "chain": [],
                                           "serial": "abc"}),
        "issued-request-id-0.json": dumps({"status": "issued", "request_id": 0, "certificate": cert, "chain": [],
                                           "serial": "03"}),
        "hresult-long.json": dumps({"status": "error", "hresult": "0x800706ba0", "message": "x"}),
        "message-long.json": dumps({"status": "error", "message": "\u00e9" * 400}),
    }


def intune():
    return {
        # Entra ID token answers (fake_intune.token)
        "token.json": dumps({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                             "access_token": "eyJ0eXAiOiJKV1Qi.c2NlcC1yYS1mdXp6LXNlZWQtdG9rZW4"}),
        "token-v1-text.json": dumps({"token_type": "Bearer", "expires_in": "3599", "ext_expires_in": 3599,
                                     "access_token": "eyJ0eXAiOiJKV1Qi.dG9rZW4"}),
        "token-refused.json": dumps({"error": "invalid_client",
                                     "error_description": "AADSTS7000215: Invalid client secret provided."}),
        "token-space.json": dumps({"expires_in": 60, "access_token": "two words"}),
        "token-expires-day.json": dumps({"expires_in": 86401, "access_token": "x"}),
        # Graph: servicePrincipals(appId=0000000a-...)/endpoints (fake_intune.endpoints)
        "endpoints.json": dumps({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals"
                              "('appId=0000000a-0000-0000-c000-000000000000')/endpoints",
            "value": [{"id": "1", "capability": "Intune", "providerId": None, "providerName": "ManagedAppsService",
                       "providerResourceId": None, "uri": "https://fef.msua06.manage.microsoft.com/ManagedApps"},
                      {"id": "2", "capability": "Intune", "providerId": None,
                       "providerName": "ScepRequestValidationFEService", "providerResourceId": None,
                       "uri": "https://fef.msua06.manage.microsoft.com/ScepRequestValidationFEService/"}]}),
        "endpoints-servicename.json": dumps({"value": [{"serviceName": "sceprequestvalidationfeservice",
                                                        "uri": "https://[::1]:8443/intune"}]}),
        "endpoints-http.json": dumps({"value": [{"providerName": "ScepRequestValidationFEService",
                                                 "uri": "http://intune.test/x?y#z"}]}),
        "endpoints-missing.json": dumps({"value": [{"providerName": "ManagedAppsService", "uri": "https://x"}]}),
        # Intune ScepActions answers (fake_intune.action)
        "validate-success.json": dumps({"code": "Success", "errorDescription": ""}),
        "validate-expired.json": dumps({"code": "ChallengeExpired",
                                        "errorDescription": "The challenge has expired."}),
        "validate-no-code.json": dumps({"errorDescription": "?"}),
        "validate-bad-code.json": dumps({"code": "Not-Alnum!", "errorDescription": "\u0007bell"}),
    }


def webhook():
    return {
        "allow.json": dumps({"allow": True}),
        "allow-reason.json": dumps({"allow": True, "reason": "device 4711 is enrolled in the MDM"}),
        "deny.json": dumps({"allow": False, "reason": "unknown device"}),
        "deny-null-reason.json": dumps({"allow": False, "reason": None}),
        "reason-control.json": dumps({"allow": False, "reason": "line\nbreak\u001b[31m" + "x" * 300}),
        "nested.json": dumps({"allow": True, "extra": {"a": [1]}}),
        "allow-text.json": dumps({"allow": "yes"}),
    }


def base64_seeds(der):
    return {
        "cert.txt": b64(der).encode(),
        "pad1.txt": b"QUI=",
        "pad2.txt": b"QQ==",
        "bits-left.txt": b"QR==",
        "urlsafe.txt": b"-_-_",
        "newline.txt": b"QUJD\nREVG",
        "equals-only.txt": b"====",
    }


def main():
    der, crl = load_fixture()
    bad = hostile(der)
    counts = {
        "ejbca_answers": write("ejbca_answers", {**ejbca(der, crl), **bad}),
        "bridge_answers": write("bridge_answers", {**bridge(der), **bad}),
        "intune_answers": write("intune_answers", {**intune(), **bad}),
        "webhook_answer": write("webhook_answer", {**webhook(), **bad}),
        "bounded_json": write("bounded_json", {**intune(), **webhook(), **bad}),
        "base64": write("base64", base64_seeds(der)),
    }
    for target, n in counts.items():
        print(f"{target}: {n} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
