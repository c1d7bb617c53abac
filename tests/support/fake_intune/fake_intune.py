#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A fake Entra ID token endpoint, Graph and Intune SCEP validation service for
tests, on one loopback TLS port, with the shapes Microsoft's Intune library
(Intune-Resource-Access, src/CsrValidation) uses. Every request scep-ra sends is
checked (method, path, headers, api-version, bearer token and its scope, body
fields); what is wrong is answered 400/401 and recorded in state "violations".

Start: fake_intune.py --dir DIR --tenant T --client-id C
It writes DIR/tls-ca.pem (trust this), DIR/app-secret.txt (the client secret),
DIR/app-cert.pem + DIR/app-key.pem (the application's registered certificate),
DIR/other-cert.pem + DIR/other-key.pem (a certificate not registered), and
prints {"port": P, "control_port": C}.

  POST https://localhost:P/login/{tenant}/oauth2/v2.0/token       (form: client credentials)
  GET  https://localhost:P/graph/v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints
  POST https://localhost:P/intune/ScepRequestValidationFEService/ScepActions/{validateRequest,
       successNotification,failureNotification}

Control (plain HTTP on 127.0.0.1:C): POST /control merges JSON knobs; GET /state.
Knobs:
  codes            {challenge: code}: validateRequest's code for a CSR with this challengePassword
  default_code     the code for other challenges (default "Success")
  description      errorDescription sent with a code other than Success
  token_lifetime   expires_in of new tokens, seconds (default 3599)
  expires_as_text  true: expires_in as a string (Entra ID's v1 form)
  revoke_tokens    true: every token issued so far is refused (401) from now on (as if expired)
  token_error      [status, error, description]: the token endpoint refuses
  discovery        "normal" | "fail" (503) | "missing" (no validation service listed) |
                   "moved" (lists a uri under /moved, which answers 404) | "garbage"
  intune_fail      n: the next n ScepActions calls answer 503
  slow_seconds     ScepActions calls sleep this long before answering
  discovery_slow_seconds  Graph's endpoints call sleeps this long before answering
  answer           "normal" | "garbage" (not JSON) | "no_code" | "deep" (nested 20000 deep) |
                   "huge" (a 1 MB answer)
State: token_requests [{scope, credential}], discovery_requests, actions [{action, body,
  challenge_length, headers}], violations [text].
"""

import argparse
import base64
import datetime
import json
import re
import secrets
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import AttributeOID, NameOID

INTUNE_APP_ID = "0000000a-0000-0000-c000-000000000000"
INTUNE_SCOPE = "https://api.manage.microsoft.com//.default"
SERVICE = "ScepRequestValidationFEService"
API_VERSION = "2018-02-20"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ACTIONS = {
    "validateRequest": ("request", ["transactionId", "certificateRequest", "callerInfo"]),
    "successNotification": ("notification", ["transactionId", "certificateRequest", "certificateThumbprint",
                                             "certificateSerialNumber", "certificateExpirationDateUtc",
                                             "issuingCertificateAuthority", "callerInfo"]),
    "failureNotification": ("notification", ["transactionId", "certificateRequest", "hResult",
                                             "errorDescription", "callerInfo"]),
}


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    import os
    os.chmod(path, mode)


def make_cert(cn, key, issuer, issuer_key, ca, sans=None):
    now = datetime.datetime.utcnow()
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
         .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(cert):
    return base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()


class Fake:
    def __init__(self, directory, tenant, client_id):
        self.tenant = tenant
        self.client_id = client_id
        self.lock = threading.Lock()
        self.knobs = {"codes": {}, "default_code": "Success", "description": "", "token_lifetime": 3599,
                      "expires_as_text": False, "token_error": None,
                      "discovery": "normal", "intune_fail": 0, "slow_seconds": 0, "discovery_slow_seconds": 0, "answer": "normal"}
        self.tokens = {}  # token -> scope
        self.revoked = set()
        self.state = {"token_requests": [], "discovery_requests": 0, "actions": [], "violations": []}
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fake Microsoft TLS CA")])
        ca = make_cert("Fake Microsoft TLS CA", ca_key, ca_name, ca_key, True)
        server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        import ipaddress
        server = make_cert("localhost", server_key, ca_name, ca_key, False,
                           [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        write(f"{directory}/tls-ca.pem", pem(ca))
        write(f"{directory}/server.pem", pem(server) + key_pem(server_key), 0o600)
        self.secret = secrets.token_urlsafe(30) + "~.&=+%"  # characters a form must encode
        write(f"{directory}/app-secret.txt", (self.secret + "\n").encode(), 0o600)
        self.app_certs = {}
        for name, registered in (("app", True), ("other", False)):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            own = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
            cert = make_cert(name, key, own, key, False)
            write(f"{directory}/{name}-cert.pem", pem(cert))
            write(f"{directory}/{name}-key.pem", key_pem(key), 0o600)
            if registered:
                self.app_certs[thumbprint(cert)] = cert
        self.directory = directory
        self.port = 0

    def violation(self, text):
        with self.lock:
            self.state["violations"].append(text)

    # --- Entra ID -------------------------------------------------------------------------------
    def token(self, handler, tenant, body):
        ctype = handler.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            return self.refuse(handler, 400, f"token request Content-Type is {ctype!r}")
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        form = {k: v[0] for k, v in form.items() if len(v) == 1}
        if tenant != self.tenant:
            return self.refuse(handler, 400, f"token request for tenant {tenant!r}")
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != self.client_id:
            return self.refuse(handler, 400, f"token request grant/client wrong: {sorted(form)}")
        scope = form.get("scope")
        if scope not in (INTUNE_SCOPE, self.graph_scope()):
            return self.refuse(handler, 400, f"token request for scope {scope!r}")
        credential = None
        if "client_secret" in form:
            if form["client_secret"] != self.secret:
                return self.send(handler, 401, {"error": "invalid_client",
                                                "error_description": "AADSTS7000215: Invalid client secret provided."})
            credential = "secret"
        elif form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            why = self.check_assertion(form.get("client_assertion", ""), tenant)
            if why:
                return self.send(handler, 401, {"error": "invalid_client", "error_description": "AADSTS700027: " + why})
            credential = "certificate"
        else:
            return self.refuse(handler, 400, "token request without a credential")
        with self.lock:
            self.state["token_requests"].append({"scope": scope, "credential": credential})
            error = self.knobs["token_error"]
            lifetime = self.knobs["token_lifetime"]
            as_text = self.knobs["expires_as_text"]
        if error:
            return self.send(handler, error[0], {"error": error[1], "error_description": error[2]})
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(40)
        with self.lock:
            self.tokens[token] = scope
        self.send(handler, 200, {"token_type": "Bearer", "expires_in": str(lifetime) if as_text else lifetime,
                                 "ext_expires_in": lifetime, "access_token": token})

    def check_assertion(self, assertion, tenant):
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(b64url_decode(header_b64))
            claims = json.loads(b64url_decode(claims_b64))
            signature = b64url_decode(signature_b64)
        except (ValueError, json.JSONDecodeError):
            return "the client assertion is not a JWT"
        if header.get("alg") != "RS256" or header.get("typ") != "JWT":
            return f"assertion header {header}"
        cert = self.app_certs.get(header.get("x5t"))
        if cert is None:
            return "the assertion's x5t names no certificate registered on the application"
        try:
            cert.public_key().verify(signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(),
                                     hashes.SHA256())
        except InvalidSignature:
            return "the assertion's signature does not verify"
        audience = f"https://localhost:{self.port}/login/{tenant}/oauth2/v2.0/token"
        now = time.time()
        if claims.get("aud") != audience or claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return f"assertion claims aud/iss/sub wrong: {claims}"
        if not isinstance(claims.get("exp"), int) or not claims["exp"] > now or claims.get("nbf", 0) > now + 300:
            return "the assertion is expired or not yet valid"
        if not UUID.match(str(claims.get("jti", ""))):
            return "the assertion has no jti"
        return None

    def graph_scope(self):
        return f"https://localhost:{self.port}/graph/.default"

    def bearer_scope(self, handler):
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        with self.lock:
            token = auth[len("Bearer "):]
            return None if token in self.revoked else self.tokens.get(token)

    # --- Graph ----------------------------------------------------------------------------------
    def endpoints(self, handler):
        if not UUID.match(handler.headers.get("client-request-id", "")):
            self.violation("Graph call without a client-request-id UUID")
        scope = self.bearer_scope(handler)
        if scope is None:
            return self.send(handler, 401, {"error": {"code": "InvalidAuthenticationToken"}})
        if scope != self.graph_scope():
            self.violation(f"Graph called with a token for {scope}")
            return self.send(handler, 401, {"error": {"code": "InvalidAuthenticationToken"}})
        with self.lock:
            self.state["discovery_requests"] += 1
            mode = self.knobs["discovery"]
            slow = self.knobs["discovery_slow_seconds"]
        if slow:
            time.sleep(slow)
        if mode == "fail":
            return self.send(handler, 503, {"error": {"code": "serviceNotAvailable"}})
        if mode == "garbage":
            return self.send_raw(handler, 200, b"<html>maintenance</html>")
        base = f"https://localhost:{self.port}"
        value = [{"id": "1", "capability": "Intune", "providerId": None, "providerName": "ManagedAppsService",
                  "providerResourceId": None, "uri": base + "/intune/ManagedAppsService"}]
        if mode != "missing":
            where = "/moved/" if mode == "moved" else "/intune/"
            value.append({"id": "2", "capability": "Intune", "providerId": None, "providerName": SERVICE,
                          "providerResourceId": None, "uri": base + where + SERVICE})
        self.send(handler, 200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals"
                                                   "('appId=" + INTUNE_APP_ID + "')/endpoints", "value": value})

    # --- Intune -----------------------------------------------------------------------------------
    def action(self, handler, action, body):
        h = handler.headers
        if h.get("api-version") != API_VERSION:
            self.violation(f"{action} with api-version {h.get('api-version')!r}")
            return self.send(handler, 400, {"error": "api-version"})
        if not UUID.match(h.get("client-request-id", "")):
            self.violation(f"{action} without a client-request-id UUID")
            return self.send(handler, 400, {"error": "client-request-id"})
        if not h.get("Content-Type", "").startswith("application/json"):
            self.violation(f"{action} with Content-Type {h.get('Content-Type')!r}")
            return self.send(handler, 400, {"error": "content-type"})
        scope = self.bearer_scope(handler)
        if scope is None:
            return self.send(handler, 401, {"error": "token"})
        if scope != INTUNE_SCOPE:
            self.violation(f"{action} with a token for {scope}")
            return self.send(handler, 401, {"error": "token"})
        try:
            parsed = json.loads(body)
            outer, fields = ACTIONS[action]
            inner = parsed[outer]
            missing = [f for f in fields if f not in inner]
            csr = x509.load_der_x509_csr(base64.b64decode(inner["certificateRequest"], validate=True))
            challenge = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD).value
            challenge = challenge.decode() if isinstance(challenge, bytes) else challenge
        except Exception as e:  # any malformed body is the RA's fault
            self.violation(f"{action} body unreadable: {e!r}")
            return self.send(handler, 400, {"error": "body"})
        if missing:
            self.violation(f"{action} body lacks {missing}")
            return self.send(handler, 400, {"error": "fields"})
        with self.lock:
            self.state["actions"].append({"action": action, "body": inner, "challenge_length": len(challenge),
                                          "request_id": h.get("client-request-id")})
            slow = self.knobs["slow_seconds"]
            fail = self.knobs["intune_fail"] > 0
            if fail:
                self.knobs["intune_fail"] -= 1
            code = self.knobs["codes"].get(challenge, self.knobs["default_code"])
            description = self.knobs["description"]
            answer = self.knobs["answer"]
        if slow:
            time.sleep(slow)
        if fail:
            return self.send(handler, 503, {"error": "Service Unavailable"})
        if answer == "garbage":
            return self.send_raw(handler, 200, b"Service is being upgraded")
        if answer == "no_code":
            return self.send(handler, 200, {"errorDescription": "?"})
        if answer == "deep":
            return self.send_raw(handler, 200, b"[" * 20000 + b"]" * 20000, "application/json")
        if answer == "huge":
            return self.send(handler, 200, {"code": "Success", "errorDescription": "x" * (1 << 20)})
        if action != "validateRequest":
            code = "Success"
        self.send(handler, 200, {"code": code, "errorDescription": "" if code == "Success" else description})

    # --- plumbing -------------------------------------------------------------------------------
    def refuse(self, handler, status, text):
        self.violation(text)
        self.send(handler, status, {"error": "invalid_request", "error_description": text})

    def send(self, handler, status, obj):
        self.send_raw(handler, status, json.dumps(obj).encode(), "application/json")

    def send_raw(self, handler, status, data, ctype="text/html"):
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_GET(self):
        fake = self.server.fake
        path = self.path
        if path == f"/graph/v1.0/servicePrincipals/appId={INTUNE_APP_ID}/endpoints":
            return fake.endpoints(self)
        fake.violation(f"GET {path}")
        fake.send(self, 404, {"error": "not found"})

    def do_POST(self):
        fake = self.server.fake
        body = self.body()
        m = re.fullmatch(r"/login/([^/]+)/oauth2/v2\.0/token", self.path)
        if m:
            return fake.token(self, urllib.parse.unquote(m.group(1)), body)
        m = re.fullmatch(r"/intune/" + SERVICE + r"/ScepActions/(\w+)", self.path)
        if m and m.group(1) in ACTIONS:
            return fake.action(self, m.group(1), body)
        if self.path.startswith("/moved/"):
            return fake.send(self, 404, {"error": "moved"})
        fake.violation(f"POST {self.path}")
        fake.send(self, 404, {"error": "not found"})


class TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, handler, context, fake):
        super().__init__(addr, handler)
        self.context = context
        self.fake = fake

    def finish_request(self, request, client_address):
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        except (ssl.SSLError, OSError):
            pass


class ControlHandler(BaseHTTPRequestHandler):
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
        knobs = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        fake = self.server.fake
        with fake.lock:
            if knobs.pop("revoke_tokens", False):
                fake.revoked |= set(fake.tokens)
            fake.knobs.update(knobs)
        self.reply({"ok": True})

    def do_GET(self):
        fake = self.server.fake
        with fake.lock:
            self.reply(fake.state)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--client-id", required=True)
    args = parser.parse_args()
    fake = Fake(args.dir, args.tenant, args.client_id)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{args.dir}/server.pem")
    api = TlsServer(("127.0.0.1", 0), Handler, ctx, fake)
    fake.port = api.server_address[1]
    control = ThreadingHTTPServer(("127.0.0.1", 0), ControlHandler)
    control.daemon_threads = True
    control.fake = fake
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(json.dumps({"port": fake.port, "control_port": control.server_address[1]}), flush=True)
    api.serve_forever()


if __name__ == "__main__":
    main()
