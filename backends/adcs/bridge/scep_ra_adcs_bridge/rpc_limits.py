# SPDX-License-Identifier: Apache-2.0
"""Bounds on every DCE/RPC read over TCP: the bridge's own ICPR connections and those impacket
opens by itself (the endpoint mapper on 135, DCOM's activation and object connections).

impacket's TCPTransport.recv loops on socket.recv until it has `count` bytes: a peer that closed
mid-PDU makes that loop spin forever (recv returns b"" at once), a peer trickling a byte per
timeout keeps it for days, and a peer sending endless fragments grows the answer without bound.
install() replaces it, for every TCPTransport, with a read that raises on a closed connection and,
inside call_limits(), keeps to the call's deadline and byte budget, and refuses a response PDU
without an authentication verifier where the call asked for one (impacket would take it as
plaintext on a sealed binding).
"""
import contextlib
import socket
import struct
import threading
import time

from impacket.dcerpc.v5 import transport

MAX_ANSWER_BYTES = 1 << 20   # a CSR is at most 16 KiB and a chain a few KiB
_RESPONSE_PTYPE = 2
_limits = threading.local()


@contextlib.contextmanager
def call_limits(seconds: float, require_auth: bool, max_bytes: int = MAX_ANSWER_BYTES):
    """Every connect and read of this thread's calls within `seconds` in all and `max_bytes` read."""
    _limits.deadline = time.monotonic() + seconds
    _limits.left = max_bytes
    _limits.max_bytes = max_bytes
    _limits.require_auth = require_auth
    try:
        yield
    finally:
        _limits.deadline = None
        _limits.left = None
        _limits.require_auth = False


@contextlib.contextmanager
def unauthenticated():
    """Within call_limits: reads of a connection that is not authenticated (the endpoint mapper)."""
    saved = getattr(_limits, "require_auth", False)
    _limits.require_auth = False
    try:
        yield
    finally:
        _limits.require_auth = saved


def _remaining() -> float:
    deadline = getattr(_limits, "deadline", None)
    if deadline is None:
        return None
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the CA did not answer within the call's time")
    return remaining


def _recv_some(sock: socket.socket, size: int) -> bytes:
    remaining = _remaining()
    if remaining is not None:
        own = sock.gettimeout()
        sock.settimeout(remaining if own is None else min(own, remaining))
    chunk = sock.recv(size)
    if not chunk:
        raise ConnectionError("the CA closed the connection")
    left = getattr(_limits, "left", None)
    if left is not None:
        left -= len(chunk)
        if left < 0:
            raise ConnectionError("the CA's answer is larger than %d bytes" % _limits.max_bytes)
        _limits.left = left
    return chunk


def _check_authenticated(header: bytes) -> None:
    """A response PDU's common header (C706 12.6.3): rpc_vers 5, ptype, flags, drep, frag_len,
    auth_len. On a call that asked for authentication, auth_len 0 is an answer anyone could forge."""
    if not getattr(_limits, "require_auth", False) or len(header) < 16 or header[0] != 5:
        return
    if header[2] != _RESPONSE_PTYPE:
        return
    auth_len = struct.unpack("<H" if header[4] & 0x10 else ">H", header[10:12])[0]
    if auth_len == 0:
        raise ConnectionError("the CA's answer carries no authentication (refused: it could be forged)")


def _bounded_recv(self, forceRecv=0, count=0):
    sock = self.get_socket()
    if not count:
        return _recv_some(sock, 8192)
    buffer = b""
    while len(buffer) < count:
        buffer += _recv_some(sock, count - len(buffer))
    _check_authenticated(buffer)
    return buffer


_impacket_connect = transport.TCPTransport.connect


def _bounded_connect(self):
    remaining = _remaining()
    if remaining is not None and self.get_connect_timeout() > remaining:
        self.set_connect_timeout(remaining)   # DCOM's object connection asks for 300 s
    return _impacket_connect(self)


def install() -> None:
    """Once, at import of the CA clients."""
    transport.TCPTransport.recv = _bounded_recv
    transport.TCPTransport.connect = _bounded_connect


install()
