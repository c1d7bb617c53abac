# SPDX-License-Identifier: Apache-2.0
"""A bounded KDC exchange (Kerberos over TCP, RFC 4120 7.2.2) in place of impacket's.

impacket 0.10's `impacket.krb5.kerberosv5.sendReceive` connects without a timeout and reads the
answer with `while len(r) < n: r += s.recv(...)`: a KDC that goes silent hangs the call for ever,
and one that closes before sending the length it announced makes that loop spin at full CPU for
ever (recv returns b"" each time). This one has the CA timeout for the whole exchange, refuses an
announced length over MAX_REPLY and raises KdcError on a short answer.
"""
import socket
import struct
import time

from impacket.krb5 import constants, kerberosv5
from impacket.krb5.asn1 import KRB_ERROR
from pyasn1.codec.der import decoder

KDC_PORT = 88
MAX_REPLY = 1024 * 1024   # a KDC answer (a ticket with its PAC) is a few KiB; the high bit is reserved anyway
_timeout = 30.0


class KdcError(OSError):
    """The KDC could not be reached or did not answer in full within the timeout."""


def install(timeout: float) -> None:
    """Makes impacket use send_receive, with this timeout for each whole KDC exchange."""
    global _timeout
    _timeout = float(timeout)
    # impacket's getKerberosTGT and getKerberosTGS (and getKerberosType1, which DCE/RPC binds, SMB
    # session set-up and DCOM use through them) look `sendReceive` up as a global of
    # impacket.krb5.kerberosv5 at each call, so replacing that module global reaches every KDC
    # exchange the bridge makes. impacket's own has no timeout and spins for ever on a short answer.
    kerberosv5.sendReceive = send_receive


def send_receive(data: bytes, host: str, kdcHost) -> bytes:
    """impacket's sendReceive(data, host, kdcHost), bounded: same answers, same KerberosError."""
    target = kdcHost or host
    deadline = time.monotonic() + _timeout
    try:
        sock = socket.create_connection((target, KDC_PORT), timeout=_timeout)
    except OSError as e:
        raise KdcError("cannot connect to the KDC at %s:%d: %s" % (target, KDC_PORT, e)) from e
    with sock:
        try:
            sock.sendall(struct.pack("!I", len(data)) + data)
            (length,) = struct.unpack("!I", _read(sock, 4, deadline, target))
            if not 0 < length <= MAX_REPLY:
                raise KdcError("the KDC at %s announced a %d-byte answer (at most %d taken)"
                               % (target, length, MAX_REPLY))
            reply = _read(sock, length, deadline, target)
        except socket.timeout:
            raise KdcError("no answer from the KDC at %s within %g s" % (target, _timeout)) from None
        except KdcError:
            raise
        except OSError as e:
            raise KdcError("the exchange with the KDC at %s failed: %s" % (target, e)) from e
    # As impacket's: a KRB-ERROR other than "pre-authentication required" is raised as KerberosError.
    try:
        error = kerberosv5.KerberosError(packet=decoder.decode(reply, asn1Spec=KRB_ERROR())[0])
    except Exception:
        return reply
    if error.getErrorCode() != constants.ErrorCodes.KDC_ERR_PREAUTH_REQUIRED.value:
        raise error
    return reply


def _read(sock, count: int, deadline: float, target: str) -> bytes:
    """Exactly count bytes before the deadline; every pass reads at least one byte or raises."""
    buffer = bytearray()
    while len(buffer) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        sock.settimeout(left)
        chunk = sock.recv(min(count - len(buffer), 65536))
        if not chunk:
            raise KdcError("the KDC at %s closed the connection after %d of %d bytes" % (target, len(buffer), count))
        buffer += chunk
    return bytes(buffer)
