# SPDX-License-Identifier: Apache-2.0
"""The bridge's HTTPS API with required client certificates (http.server + ssl).

    POST /v1/requests            submit (or answer a repeated client_ref)
    GET  /v1/requests/{id}       the request's current state
    GET  /v1/ca                  the CA chain, issuing CA first
    GET  /healthz                200 when the CA answers
"""
import hashlib
import http.server
import json
import re
import socket
import ssl
import threading

from cryptography import x509

from .outcome import Reply
from .validate import MAX_BODY, BadRequest, parse_submit

MAX_CONNECTIONS = 32
# One address holds at most half the connections: idle or trickling connections from one host
# (a scan, a client that never sends) leave the RA's requests room.
MAX_CONNECTIONS_PER_ADDRESS = 16
IO_TIMEOUT_SECONDS = 30
# The TLS handshake, the request line, the headers and the body together, whatever their pace
# (the CA call that follows has timeouts of its own).
REQUEST_READ_SECONDS = 30
_STATUS_PATH = re.compile(r"/v1/requests/([1-9][0-9]{0,9})")


def tls_context(cert: str, key: str, client_ca: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(cafile=client_ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class BridgeServer(http.server.ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS at once and MAX_CONNECTIONS_PER_ADDRESS
    from one address; the TLS handshake runs in the connection's thread, and it and the request
    must arrive within REQUEST_READ_SECONDS, so a slow client cannot stall accept() or hold a
    slot; a client certificate off allow_client is answered 403 before the request is read."""
    daemon_threads = True
    # socketserver's default backlog of 5 drops the SYNs of a burst of the RA's requests (each
    # then waits a second for its retry).
    request_queue_size = 64

    def __init__(self, address, bridge, allow, context: ssl.SSLContext, log):
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, Handler)
        self.bridge = bridge
        self.allow = allow
        self.context = context
        self.log = log
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.per_address = {}
        self.per_address_lock = threading.Lock()

    def process_request(self, request, client_address):
        if not self._take_slot(client_address[0]):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._give_slot(client_address[0])
            raise

    def _take_slot(self, address: str) -> bool:
        with self.per_address_lock:
            if self.per_address.get(address, 0) >= MAX_CONNECTIONS_PER_ADDRESS:
                return False
            if not self.slots.acquire(blocking=False):
                return False
            self.per_address[address] = self.per_address.get(address, 0) + 1
            return True

    def _give_slot(self, address: str):
        with self.per_address_lock:
            left = self.per_address.get(address, 1) - 1
            if left > 0:
                self.per_address[address] = left
            else:
                self.per_address.pop(address, None)
            self.slots.release()

    def process_request_thread(self, request, client_address):
        # Ends a connection whose handshake and request have not arrived in time; the handler
        # cancels it once the whole request is read.
        current = [request]   # wrap_socket detaches request: the TLS socket takes its place
        deadline = threading.Timer(REQUEST_READ_SECONDS, lambda: _abort(current[0]))
        deadline.daemon = True
        deadline.start()
        try:
            request.settimeout(IO_TIMEOUT_SECONDS)
            try:
                tls = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.log.write("tls", peer=client_address[0], message=str(e))
                self.shutdown_request(request)
                return
            current[0] = tls
            tls.read_deadline = deadline
            super().process_request_thread(tls, client_address)
        finally:
            deadline.cancel()
            self._give_slot(client_address[0])


def _abort(sock):
    """Shuts the connection's socket (not its TLS layer, which belongs to the handler's thread):
    a read blocked on it returns."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "scep-ra-adcs-bridge"
    sys_version = ""
    timeout = IO_TIMEOUT_SECONDS

    def log_message(self, format, *args):   # the bridge logs its own line per call
        pass

    def handle_one_request(self):
        """Any failure inside the bridge answers 500 (and is logged) instead of a dropped connection."""
        if self._allowed() is None:
            # Refused before a byte of the request is read: a certificate from client_ca that is
            # not on allow_client cannot hold the connection by trickling its headers.
            self.close_connection = True
            self._refuse_unread()
            return
        try:
            super().handle_one_request()
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:
            self.server.log.write("internal", path=getattr(self, "path", ""), message=repr(e))
            try:
                self._send(Reply(500, {"status": "error", "message": "internal error"}))
            except OSError:
                pass
            self.close_connection = True

    def do_GET(self):
        self._request_read()
        client = self._client()
        if client is None:
            return
        if self.path == "/healthz":
            return self._send(self.server.bridge.health())
        if self.path == "/v1/ca":
            return self._send(self.server.bridge.chain())
        m = _STATUS_PATH.fullmatch(self.path)
        if m and int(m.group(1)) <= 0xFFFFFFFF:
            return self._send(self.server.bridge.status(int(m.group(1)), client))
        self._send(Reply(404, {"status": "error", "message": "no such resource"}))

    def do_POST(self):
        client = self._client()
        if client is None:
            return
        if self.path != "/v1/requests":
            return self._send(Reply(404, {"status": "error", "message": "no such resource"}))
        body = self._body()
        self._request_read()
        if body is None:
            return
        try:
            req = parse_submit(body, self.server.bridge.templates)
        except BadRequest as e:
            self.server.log.write("refused", client=client, http=400, message=str(e))
            return self._send(Reply(400, {"status": "error", "message": str(e)}))
        self._send(self.server.bridge.submit(req, client))

    def _other(self):
        self._client() and self._send(Reply(405, {"status": "error", "message": "method not allowed"}))

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other

    def _request_read(self):
        """The whole request is in: the read deadline no longer applies."""
        deadline = getattr(self.connection, "read_deadline", None)
        if deadline is not None:
            deadline.cancel()

    def _allowed(self):
        """The allowed client's subject (or fingerprint), or None (logged)."""
        der = self.connection.getpeercert(binary_form=True)
        if not der:
            return None
        fingerprint = hashlib.sha256(der).hexdigest()
        try:
            subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
        except ValueError:
            subject = ""
        if self.server.allow.allows(fingerprint, subject):
            return subject or fingerprint
        self.server.log.write("refused", client=subject, fingerprint=fingerprint, http=403,
                              message="client certificate not on allow_client")
        return None

    def _refuse_unread(self):
        data = json.dumps({"status": "error", "message": "this client certificate is not allowed"}).encode()
        try:
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(data)).encode() + b"\r\nConnection: close\r\n\r\n" + data)
            self.wfile.flush()
            # Take in (and drop) what the client still sends, so that closing does not reset the
            # connection before it has read the answer; bounded by the read deadline and 16 reads.
            for _ in range(16):
                if not self.connection.recv(65536):
                    break
        except OSError:   # ssl.SSLError too
            pass

    def _client(self):
        """The allowed client's subject, or None after answering 403."""
        client = self._allowed()
        if client is None:
            self._send(Reply(403, {"status": "error", "message": "this client certificate is not allowed"}))
        return client

    def _body(self):
        if self.headers.get("Transfer-Encoding") or self.headers.get("Content-Encoding"):
            self._send(Reply(400, {"status": "error", "message": "send a plain body with Content-Length"}))
            return None
        length = self.headers.get("Content-Length", "")
        if not re.fullmatch(r"[0-9]{1,12}", length):   # str.isdigit() would take "²", int() would not
            self._send(Reply(411, {"status": "error", "message": "Content-Length required"}))
            return None
        if int(length) > MAX_BODY:
            self._send(Reply(413, {"status": "error", "message": "body larger than %d bytes" % MAX_BODY}))
            return None
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            self.close_connection = True
            return None
        return body

    def _send(self, reply: Reply):
        data = json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True
