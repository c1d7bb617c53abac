#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A fake EJBCA for tests: the v1 REST endpoints scep-ra's EJBCA backend uses,
with EJBCA's JSON shapes and status codes, over TLS with client certificates,
issuing from a real two-level CA.

Start: fake_ejbca.py --dir DIR [--client-cert optional] [--server-name NAME]
                    [--certificate-profiles A,B] [--end-entity-profiles C,D] [--ca-key ec|rsa]
It writes its PKI to DIR (tls-ca.pem, other-ca.pem, server.pem, admin.pem/.key,
stranger.pem/.key, root-ca.pem, issuing-ca.pem, chain.pem), listens on two
ephemeral loopback ports and prints one JSON line {"port": P, "control_port": C}.
--ca-key rsa gives the issuing hierarchy RSA keys (clients such as micromdm
scepclient encrypt to every certificate GetCACert returns, and only to RSA).

Control (plain HTTP on 127.0.0.1:C):
  POST /control  JSON, merged into the knobs below
  GET  /state    JSON: enrolments, end entities (username -> profiles), last request
Knobs:
  enroll_error     [status, message]: pkcs10enroll answers this EJBCA error
  all_error        [status, message]: every API call answers this error
  enroll_mode      "normal" | "pending" (202) | "stall" (sleep, then answer) |
                   "issue_then_stall" (issue, sleep, then answer) |
                   "trickle" (issue, then send the answer's head one byte every 0.5 s for
                   stall_seconds before the rest: each read is quick, the whole answer is not) |
                   "huge" | "invalid_json" | "deep_json" | "wrong_types" | "bad_base64" | "empty_201" |
                   "other_key" (a certificate for another key) | "wrong_serial" |
                   "rogue_issuer" (the request's key, signed by a CA of the fake's own making
                   named like the issuing CA, sent as the chain) | "trailing_bytes" (a byte after the DER)
  backdate_minutes how far before now notBefore of an issued certificate lies (default 10,
                   as EJBCA's certificate.validityoffset)
  search_mode      "normal" | "invalid_json" | "not_certificates"
  crl_mode         "normal" | "foreign" (signed by another key) | "garbage"
  search_more      true: every search answer says more_results
  stall_seconds    how long "stall" modes sleep (default 5)
  rest_disabled    true: every REST call gets the servlet filter's 403 page
  ca_api_disabled  true: v1/ca answers the disabled-service 403 (a CE build without it)
  ca_reissued      true: the CA certificate download serves the issuing CA re-issued (same
                   subject and key, new serial), as after a CA renewal; also written to
                   DIR/reissued-ca.pem
"""

import argparse
import base64
import datetime
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

API = "/ejbca/ejbca-rest-api/"
CA_NAME = "IssuingCA"
# The profiles this EJBCA knows (--certificate-profiles, --end-entity-profiles);
# certificate profiles in APPROVAL_PROFILES require approval.
CERT_PROFILES = ["SCEP_DEVICE", "SCEP_SERVER", "APPROVAL_CP"]
EE_PROFILES = ["SCEP_EEP", "SERVER_EEP"]
APPROVAL_PROFILES = ["APPROVAL_CP"]
REASONS = {
    "UNSPECIFIED": x509.ReasonFlags.unspecified,
    "KEY_COMPROMISE": x509.ReasonFlags.key_compromise,
    "CA_COMPROMISE": x509.ReasonFlags.ca_compromise,
    "AFFILIATION_CHANGED": x509.ReasonFlags.affiliation_changed,
    "SUPERSEDED": x509.ReasonFlags.superseded,
    "CESSATION_OF_OPERATION": x509.ReasonFlags.cessation_of_operation,
    "CERTIFICATE_HOLD": x509.ReasonFlags.certificate_hold,
    "PRIVILEGES_WITHDRAWN": x509.ReasonFlags.privilege_withdrawn,
    "AA_COMPROMISE": x509.ReasonFlags.aa_compromise,
}
# What Undertow sends for the ServiceControlFilter's sendError(403, ...).
DISABLED_PAGE = b"<html><head><title>Error</title></head><body>Forbidden</body></html>"


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def name(cn):
    # Most significant first, so the RFC 4514 string reads "CN=...,O=Fake EJBCA" as EJBCA writes DNs.
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fake EJBCA"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject, key, issuer_name, issuer_key, ca, sans=None, eku=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now() - datetime.timedelta(hours=1))
         .not_valid_after(now() + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class Pki:
    """TLS CA (server and client certificates), an unrelated CA, and the issuing hierarchy."""

    def __init__(self, directory, server_name, ca_key="ec"):
        self.directory = directory
        new_key = lambda: ec.generate_private_key(ec.SECP256R1())
        new_ca_key = new_key if ca_key == "ec" else (lambda: rsa.generate_private_key(65537, 2048))
        self.tls_ca_key = new_key()
        self.tls_ca = make_cert(name("Fake TLS CA"), self.tls_ca_key, name("Fake TLS CA"), self.tls_ca_key, True)
        other_key = new_key()
        other = make_cert(name("Unrelated CA"), other_key, name("Unrelated CA"), other_key, True)
        server_key = new_key()
        sans = [x509.DNSName(server_name)]
        if server_name == "localhost":
            import ipaddress
            sans.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        server = make_cert(name(server_name), server_key, self.tls_ca.subject, self.tls_ca_key, False, sans,
                           [x509.ExtendedKeyUsageOID.SERVER_AUTH])
        self.admin_fingerprints = set()
        for who in ("admin", "stranger"):
            k = new_key()
            c = make_cert(name("RA " + who), k, self.tls_ca.subject, self.tls_ca_key, False, None,
                          [x509.ExtendedKeyUsageOID.CLIENT_AUTH])
            write(os.path.join(directory, who + ".pem"), pem(c))
            write(os.path.join(directory, who + ".key"), key_pem(k), 0o600)
            if who == "admin":
                self.admin_fingerprints.add(c.fingerprint(hashes.SHA256()))
        self.root_key = new_ca_key()
        self.root = make_cert(name("Fake Root CA"), self.root_key, name("Fake Root CA"), self.root_key, True)
        self.ca_key = new_ca_key()
        self.ca = make_cert(name(CA_NAME), self.ca_key, self.root.subject, self.root_key, True)
        write(os.path.join(directory, "tls-ca.pem"), pem(self.tls_ca))
        write(os.path.join(directory, "other-ca.pem"), pem(other))
        write(os.path.join(directory, "server.pem"), pem(server) + pem(self.tls_ca))
        write(os.path.join(directory, "server.key"), key_pem(server_key), 0o600)
        write(os.path.join(directory, "root-ca.pem"), pem(self.root))
        write(os.path.join(directory, "issuing-ca.pem"), pem(self.ca))
        write(os.path.join(directory, "chain.pem"), pem(self.ca) + pem(self.root))
        self.server_files = (os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"))


def dn_string(n):
    return n.rfc4514_string()


def same_serial(text, serial):
    # QUERY also matches the serial number, read as hex (EJBCA parses it as a number).
    try:
        return int(text, 16) == int(serial, 16)
    except (TypeError, ValueError):
        return False


def same_dn(a, b):
    # EJBCA normalises the DN it is given (CertTools.stringToBCDNString); order and spacing do not matter.
    parts = lambda s: sorted(p.strip() for p in s.split(","))
    return parts(a) == parts(b)


class Ejbca:
    def __init__(self, pki):
        self.pki = pki
        self.lock = threading.Lock()
        self.knobs = {"enroll_mode": "normal", "stall_seconds": 5}
        self.end_entities = {}  # username -> {password, certificate_profile_name, end_entity_profile_name}
        self.certs = {}  # serial hex -> {cert, username, revoked: (reason, date) or None}
        self.enrolments = 0
        self.last_enroll = None
        self.crl_number = 0
        self.ca_dn = dn_string(pki.ca.subject)
        self.reissued_ca = None  # made at the first download with ca_reissued

    def served_ca(self, knobs):
        """The issuing CA certificate the download serves now."""
        if not knobs.get("ca_reissued"):
            return self.pki.ca
        with self.lock:
            if self.reissued_ca is None:
                self.reissued_ca = make_cert(self.pki.ca.subject, self.pki.ca_key, self.pki.root.subject,
                                             self.pki.root_key, True)
                write(os.path.join(self.pki.directory, "reissued-ca.pem"), pem(self.reissued_ca))
            return self.reissued_ca

    # --- helpers -----------------------------------------------------------
    def issue(self, csr, username):
        b = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(self.pki.ca.subject)
             .public_key(csr.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now() - datetime.timedelta(minutes=self.knobs.get("backdate_minutes", 10)))
             .not_valid_after(now() + datetime.timedelta(days=365))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
        try:
            san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            b = b.add_extension(san.value, critical=False)
        except x509.ExtensionNotFound:
            pass
        # As a certificate profile with "Allow Key Usage Override": the requested keyUsage.
        try:
            usage = csr.extensions.get_extension_for_class(x509.KeyUsage)
            b = b.add_extension(usage.value, critical=True)
        except x509.ExtensionNotFound:
            pass
        cert = b.sign(self.pki.ca_key, hashes.SHA256())
        serial = format(cert.serial_number, "X")
        self.certs[serial] = {"cert": cert, "username": username, "revoked": None}
        return cert, serial

    def rogue_answer(self, csr):
        """An answer for csr's key from a CA the fake made up, named like the issuing CA, as its chain."""
        rogue_key = ec.generate_private_key(ec.SECP256R1())
        rogue_ca = make_cert(self.pki.ca.subject, rogue_key, self.pki.ca.subject, rogue_key, True)
        cert = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(rogue_ca.subject)
                .public_key(csr.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now() - datetime.timedelta(minutes=10))
                .not_valid_after(now() + datetime.timedelta(days=365)).sign(rogue_key, hashes.SHA256()))
        der = serialization.Encoding.DER
        return {"certificate": b64(cert.public_bytes(der)), "serial_number": format(cert.serial_number, "X"),
                "response_format": "DER", "certificate_chain": [b64(rogue_ca.public_bytes(der))]}

    def crl(self):
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.pki.ca.subject).last_update(now())
             .next_update(now() + datetime.timedelta(days=1)))
        self.crl_number += 1
        b = b.add_extension(x509.CRLNumber(self.crl_number), critical=False)
        for serial, rec in self.certs.items():
            if rec["revoked"]:
                reason, when = rec["revoked"]
                entry = (x509.RevokedCertificateBuilder().serial_number(int(serial, 16)).revocation_date(when)
                         .add_extension(x509.CRLReason(REASONS[reason]), critical=False).build())
                b = b.add_revoked_certificate(entry)
        return b.sign(self.pki.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def error(status, message):
    return status, {"error_code": status, "error_message": message}


def b64(data):
    return base64.b64encode(data).decode()


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeEJBCA"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, body, raw=None):
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_trickled(self, status, body, seconds):
        """The whole answer, its head a byte every 0.5 s for `seconds` first: each read is quick."""
        data = json.dumps(body).encode()
        head = ("HTTP/1.1 %d Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\nX-Slow: "
                % (status, len(data))).encode()
        self.close_connection = True
        end = time.monotonic() + seconds
        try:
            self.wfile.write(head)
            self.wfile.flush()
            while time.monotonic() < end:
                time.sleep(0.5)
                self.wfile.write(b"a")
                self.wfile.flush()
            self.wfile.write(b"\r\n\r\n" + data)
            self.wfile.flush()
        except OSError:
            pass  # the client gave up

    def send_page(self, status, data, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def is_admin(self):
        der = self.connection.getpeercert(binary_form=True)
        if not der:
            return None
        cert = x509.load_der_x509_certificate(der)
        return cert.fingerprint(hashes.SHA256()) in self.server.ejbca.pki.admin_fingerprints

    def dispatch(self, method):
        ejbca = self.server.ejbca
        body = self.read_body()
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith(API):
            return self.send_page(404, b"<html><body>Not Found</body></html>", "text/html")
        # Split before decoding: an encoded DN may hold "/"-free text only, but keep segments apart.
        parts = [urllib.parse.unquote(p) for p in url.path[len(API):].split("/")]
        query = urllib.parse.parse_qs(url.query)
        knobs = dict(ejbca.knobs)
        if knobs.get("rest_disabled") or (knobs.get("ca_api_disabled") and parts[:2] == ["v1", "ca"]):
            return self.send_page(403, DISABLED_PAGE, "text/html;charset=UTF-8")
        if parts == ["v1", "certificate", "status"] and method == "GET":
            return self.send_json(200, {"status": "OK", "version": "1.0", "revision": "EJBCA 9.9.9 Community (fake)"})
        admin = self.is_admin()
        if admin is None:
            return self.send_json(*error(403, "Error no client certificate received for authentication."))
        if not admin:
            return self.send_json(*error(403, "Authorization Denied."))
        if knobs.get("all_error"):
            return self.send_json(*error(*knobs["all_error"]))
        try:
            status, answer = self.route(method, parts, query, body, knobs)
        except Exception as e:  # a bug in the fake must show in the test, not hang it
            status, answer = error(500, "fake EJBCA: %r" % (e,))
        if isinstance(answer, tuple):
            return self.send_page(status, answer[0], answer[1])
        if knobs.get("enroll_mode") == "trickle" and parts == ["v1", "certificate", "pkcs10enroll"]:
            return self.send_trickled(status, answer, knobs["stall_seconds"])
        self.send_json(status, answer)

    def route(self, method, p, query, body, knobs):
        ejbca = self.server.ejbca
        if method == "POST" and p == ["v1", "certificate", "pkcs10enroll"]:
            return self.enroll(body, knobs)
        if method == "POST" and p == ["v1", "certificate", "search"]:
            return self.search(body)
        if method == "GET" and len(p) == 5 and p[:2] == ["v1", "certificate"] and p[4] == "revocationstatus":
            return self.revocation_status(p[2], p[3])
        if method == "PUT" and len(p) == 5 and p[:2] == ["v1", "certificate"] and p[4] == "revoke":
            return self.revoke(p[2], p[3], query)
        if method == "GET" and p == ["v1", "ca"]:
            ca = ejbca.pki.ca
            return 200, {"certificate_authorities": [{
                "id": 1234567, "name": CA_NAME, "subject_dn": ejbca.ca_dn, "issuer_dn": dn_string(ejbca.pki.root.subject),
                "expiration_date": ca.not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ"), "external": False}]}
        if method == "GET" and len(p) == 5 and p[:2] == ["v1", "ca"] and p[3:] == ["certificate", "download"]:
            if not same_dn(p[2], ejbca.ca_dn):
                return error(404, "CA with DN: %s does not exist." % p[2])
            return 200, (pem(ejbca.served_ca(knobs)) + pem(ejbca.pki.root), "application/octet-stream")
        if method == "GET" and len(p) == 4 and p[:2] == ["v1", "ca"] and p[3] == "getLatestCrl":
            if not same_dn(p[2], ejbca.ca_dn):
                return error(404, "CA with DN: %s does not exist." % p[2])
            with ejbca.lock:
                crl = ejbca.crl()
            mode = knobs.get("crl_mode", "normal")
            if mode == "foreign":  # signed by another key
                other = ec.generate_private_key(ec.SECP256R1())
                crl = (x509.CertificateRevocationListBuilder().issuer_name(ejbca.pki.ca.subject).last_update(now())
                       .next_update(now() + datetime.timedelta(days=1)).sign(other, hashes.SHA256())
                       .public_bytes(serialization.Encoding.DER))
            elif mode == "garbage":
                crl = b"\x30\x03abc"
            return 200, {"crl": b64(crl), "response_format": "DER"}
        return error(404, "HTTP 404 Not Found")

    def enroll(self, body, knobs):
        ejbca = self.server.ejbca
        mode = knobs.get("enroll_mode", "normal")
        if mode == "stall":
            time.sleep(knobs["stall_seconds"])
        if knobs.get("enroll_error"):
            return error(*knobs["enroll_error"])
        if mode == "pending":
            return 202, {"status_code": 202, "info_message": "Request is awaiting approval."}
        try:
            req = json.loads(body)
            for k in ("certificate_request", "certificate_profile_name", "end_entity_profile_name",
                      "certificate_authority_name", "username", "password"):
                if not isinstance(req.get(k), str):
                    return error(400, "Malformed request.")
        except ValueError:
            return error(400, "Malformed request.")
        if req.get("response_format", "DER") not in ("DER", "PKCS7"):
            return error(400, "Response format can only be DER or PKCS7")
        if req["certificate_authority_name"] != CA_NAME:
            return error(400, "CA with name %s doesn't exist." % req["certificate_authority_name"])
        if req["certificate_profile_name"] not in CERT_PROFILES:
            return error(400, "Certificate profile with name %s doesn't exist." % req["certificate_profile_name"])
        if req["end_entity_profile_name"] not in EE_PROFILES:
            return error(404, "End entity profile with name %s not found." % req["end_entity_profile_name"])
        if req["certificate_profile_name"] in APPROVAL_PROFILES:
            return error(400, "Single transaction enrollment request rejected since approvals are enabled for this CA "
                              "(%s) or Certificate Profile (%s)." % (CA_NAME, req["certificate_profile_name"]))
        text = req["certificate_request"].strip()
        try:
            if text.startswith("-----BEGIN"):
                csr = x509.load_pem_x509_csr(text.encode())
            else:
                csr = x509.load_der_x509_csr(base64.b64decode(text, validate=True))
            if not csr.is_signature_valid:
                raise ValueError("signature")
        except Exception:
            return error(400, "Invalid certificate request.")
        with ejbca.lock:
            # pkcs10enroll creates the end entity or edits the existing one.
            ejbca.end_entities[req["username"]] = {k: req[k] for k in ("password", "certificate_profile_name",
                                                                       "end_entity_profile_name")}
            ejbca.last_enroll = {k: v for k, v in req.items() if k != "certificate_request"}
            ejbca.enrolments += 1
            cert, serial = ejbca.issue(csr, req["username"])
        der = cert.public_bytes(serialization.Encoding.DER)
        chain = [b64(c.public_bytes(serialization.Encoding.DER)) for c in (ejbca.pki.ca, ejbca.pki.root)]
        answer = {"certificate": b64(der), "serial_number": serial, "response_format": "DER"}
        if req.get("include_chain"):
            answer["certificate_chain"] = chain
        if mode == "issue_then_stall":
            time.sleep(knobs["stall_seconds"])
        hostile = {
            # A valid answer, padded past any sane size.
            "huge": lambda: dict(answer, padding="A" * (4 * 1024 * 1024)),
            "other_key": lambda: dict(answer, certificate=b64(ejbca.pki.ca.public_bytes(serialization.Encoding.DER))),
            "wrong_serial": lambda: dict(answer, serial_number="1234"),
            "rogue_issuer": lambda: ejbca.rogue_answer(csr),
            "trailing_bytes": lambda: dict(answer, certificate=b64(der + b"\0")),
            "invalid_json": lambda: None,
            "wrong_types": lambda: {"certificate": 12345, "serial_number": ["x"], "certificate_chain": "nope"},
            "bad_base64": lambda: dict(answer, certificate="%%%not*base64%%%"),
            "empty_201": lambda: {},
            "deep_json": lambda: None,
        }
        if mode in hostile:
            if mode == "invalid_json":
                return 201, (b'{"certificate": "MII', "application/json")
            if mode == "deep_json":
                return 201, (b'{"certificate": ' + b"[" * 100000 + b"]" * 100000 + b"}", "application/json")
            return 201, hostile[mode]()
        return 201, answer

    def search(self, body):
        ejbca = self.server.ejbca
        mode = ejbca.knobs.get("search_mode", "normal")
        if mode == "invalid_json":
            return 200, (b'{"certificates": [', "application/json")
        if mode == "not_certificates":
            return 200, {"certificates": [{"certificate": b64(b64(b"\x30\x03junk").encode())}], "more_results": False}
        try:
            req = json.loads(body)
            limit = req["max_number_of_results"]
            criteria = req["criteria"]
            if not isinstance(limit, int) or not isinstance(criteria, list) or not criteria:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return error(400, "Malformed request.")
        matches = []
        with ejbca.lock:
            for serial, rec in ejbca.certs.items():
                ok = True
                for c in criteria:
                    if c.get("property") != "QUERY":
                        return error(400, "Malformed request.")
                    v = c.get("value")
                    exact = c.get("operation") == "EQUAL"
                    fields = [rec["username"], dn_string(rec["cert"].subject), serial]
                    ok = ok and (any((f == v) if exact else (v in f) for f in fields) or same_serial(v, serial))
                if ok:
                    matches.append(rec)
        more = len(matches) > limit or bool(ejbca.knobs.get("search_more"))
        # EJBCA's search response puts Base64.encode(der) into a byte[] field,
        # which Jackson encodes as base64 again.
        out = [{"certificate": b64(b64(r["cert"].public_bytes(serialization.Encoding.DER)).encode()),
                "serial_number": format(r["cert"].serial_number, "X"), "response_format": "DER"}
               for r in matches[:limit]]
        return 200, {"certificates": out, "more_results": more}

    def find(self, issuer_dn, serial):
        ejbca = self.server.ejbca
        s = serial.upper()
        s = s[2:] if s.startswith("0X") else s
        s = s.lstrip("0") or "0"
        if not same_dn(issuer_dn, ejbca.ca_dn):
            return None, s
        return ejbca.certs.get(s), s

    def revocation_status(self, issuer_dn, serial):
        rec, s = self.find(issuer_dn, serial)
        if rec is None:
            return error(404, "Certificate with issuer DN '%s' and serial number '%s' was not found" % (issuer_dn, s))
        revoked = rec["revoked"]
        answer = {"issuer_dn": issuer_dn, "serial_number": s, "revoked": bool(revoked),
                  "revocation_reason": revoked[0] if revoked else "NOT_REVOKED"}
        if revoked:
            answer["revocation_date"] = int(revoked[1].replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
        return 200, answer

    def revoke(self, issuer_dn, serial, query):
        ejbca = self.server.ejbca
        reason = (query.get("reason") or [""])[0]
        if reason not in REASONS:
            return error(400, "Invalid revocation reason.")
        with ejbca.lock:
            rec, s = self.find(issuer_dn, serial)
            if rec is None:
                return error(404, "Certificate with issuer DN '%s' and serial number '%s' was not found" % (issuer_dn, s))
            if rec["revoked"]:
                return error(409, "Certificate is already revoked.")
            rec["revoked"] = (reason, now().replace(microsecond=0))
            when = rec["revoked"][1]
        return 200, {"issuer_dn": issuer_dn, "serial_number": s, "revoked": True, "revocation_reason": reason,
                     "revocation_date": int(when.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000),
                     "message": "Successfully revoked"}


class TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, handler, context, ejbca):
        self.context = context
        self.ejbca = ejbca
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        # The handshake runs in the connection's thread, so a stalled client blocks nobody.
        request.settimeout(30)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (ssl.SSLError, OSError):
            pass


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        update = json.loads(self.rfile.read(n) or b"{}")
        with self.server.ejbca.lock:
            self.server.ejbca.knobs.update(update)
        self.reply({"ok": True})

    def do_GET(self):
        e = self.server.ejbca
        with e.lock:
            self.reply({"enrolments": e.enrolments, "end_entities": e.end_entities, "last_enroll": e.last_enroll,
                        "certificates": {s: r["username"] for s, r in e.certs.items()}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--client-cert", choices=["required", "optional"], default="required")
    ap.add_argument("--server-name", default="localhost")
    ap.add_argument("--certificate-profiles", default=",".join(CERT_PROFILES))
    ap.add_argument("--end-entity-profiles", default=",".join(EE_PROFILES))
    ap.add_argument("--ca-key", choices=["ec", "rsa"], default="ec")
    args = ap.parse_args()
    CERT_PROFILES[:] = args.certificate_profiles.split(",")
    EE_PROFILES[:] = args.end_entity_profiles.split(",")
    pki = Pki(args.dir, args.server_name, args.ca_key)
    ejbca = Ejbca(pki)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*pki.server_files)
    ctx.load_verify_locations(os.path.join(args.dir, "tls-ca.pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED if args.client_cert == "required" else ssl.CERT_OPTIONAL
    api = TlsServer(("127.0.0.1", 0), ApiHandler, ctx, ejbca)
    control = ThreadingHTTPServer(("127.0.0.1", 0), ControlHandler)
    control.daemon_threads = True
    control.ejbca = ejbca
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(json.dumps({"port": api.server_address[1], "control_port": control.server_address[1]}), flush=True)
    api.serve_forever()


if __name__ == "__main__":
    main()
