# SPDX-License-Identifier: Apache-2.0
"""An independent NDR (v2.0, little-endian, 32-bit) codec for the MS-ICPR and MS-WCCE calls,
written from the IDL with struct, not impacket: the fake CA decodes what the bridge sends
with it, so a wrong layout in the bridge's impacket structures cannot cancel itself out.

Rules used (C706 chapter 14, MS-RPCE 2.2.5): primitives aligned to their size; a top-level
[ref] pointer has no wire form; a top-level [unique] pointer is a referent id followed at once
by its pointee; a struct's embedded [unique] pointee is deferred to right after the struct;
a conformant array is max_count then elements; a [string] conformant varying array is
max_count, offset, actual_count, elements.
"""
import struct


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def align(self, n: int) -> None:
        self.pos = (self.pos + n - 1) // n * n

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("NDR: %d bytes wanted at %d of %d" % (n, self.pos, len(self.data)))
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u16(self) -> int:
        self.align(2)
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        self.align(4)
        return struct.unpack("<I", self.take(4))[0]

    def unique_wstring(self):
        """[in, string, unique] wchar_t*: None for NULL; the text without its terminator."""
        if self.u32() == 0:
            return None
        max_count, offset, actual = self.u32(), self.u32(), self.u32()
        if offset != 0 or actual > max_count or actual == 0:
            raise ValueError("NDR: bad string header %d/%d/%d" % (max_count, offset, actual))
        text = self.take(2 * actual).decode("utf-16-le")
        if not text.endswith("\0"):
            raise ValueError("NDR: [string] without its terminating null")
        return text[:-1]

    def blob(self) -> bytes:
        """CERTTRANSBLOB: cb, unique pb; the conformant array of cb bytes follows the struct."""
        cb, referent = self.u32(), self.u32()
        if referent == 0:
            if cb != 0:
                raise ValueError("NDR: NULL pb with cb %d" % cb)
            return b""
        if self.u32() != cb:
            raise ValueError("NDR: pb's max_count differs from cb")
        return self.take(cb)

    def guid(self) -> bytes:
        self.align(4)
        return self.take(16)

    def end(self) -> None:
        """Everything read: at most the padding up to the next 4-byte boundary may remain."""
        rest = len(self.data) - self.pos
        if rest > (-self.pos) % 4:
            raise ValueError("NDR: %d trailing bytes" % rest)


class Writer:
    def __init__(self):
        self.out = bytearray()
        self.next_referent = 0x00020000

    def align(self, n: int) -> None:
        while len(self.out) % n:
            self.out.append(0)

    def u16(self, v: int) -> "Writer":
        self.align(2)
        self.out += struct.pack("<H", v)
        return self

    def u32(self, v: int) -> "Writer":
        self.align(4)
        self.out += struct.pack("<I", v)
        return self

    def referent(self) -> int:
        self.next_referent += 4
        return self.next_referent

    def unique_wstring(self, text) -> "Writer":
        if text is None:
            return self.u32(0)
        chars = len(text) + 1
        self.u32(self.referent()).u32(chars).u32(0).u32(chars)
        self.out += (text + "\0").encode("utf-16-le")
        return self

    def blob(self, data: bytes) -> "Writer":
        if not data:
            return self.u32(0).u32(0)
        self.u32(len(data)).u32(self.referent()).u32(len(data))
        self.out += data
        return self

    def guid(self, value: bytes) -> "Writer":
        self.align(4)
        self.out += value
        return self

    def done(self) -> bytes:
        self.align(4)
        return bytes(self.out)


# ---- MS-ICPR CertServerRequest (opnum 0) ----

def decode_cert_server_request(stub: bytes) -> dict:
    r = Reader(stub)
    call = {"flags": r.u32(), "authority": r.unique_wstring(), "request_id": r.u32(),
            "attributes": r.blob(), "request": r.blob()}
    r.end()
    return call


def encode_cert_server_response(request_id: int, disposition: int, cert: bytes, encoded_cert: bytes,
                                message: bytes, return_code: int) -> bytes:
    w = Writer().u32(request_id).u32(disposition)
    w.blob(cert).blob(encoded_cert).blob(message)
    return w.u32(return_code).done()


def encode_cert_server_request(flags, authority, request_id, attributes: bytes, request: bytes) -> bytes:
    w = Writer().u32(flags).unique_wstring(authority).u32(request_id)
    return w.blob(attributes).blob(request).done()


def decode_cert_server_response(stub: bytes) -> dict:
    r = Reader(stub)
    answer = {"request_id": r.u32(), "disposition": r.u32(), "cert": r.blob(), "encoded_cert": r.blob(),
              "message": r.blob(), "return_code": r.u32()}
    r.end()
    return answer


# ---- MS-WCCE ICertRequestD::Request (opnum 3), with the DCOM ORPCTHIS / ORPCTHAT ----

def encode_orpcthis(w: Writer, major: int, minor: int, flags: int, cid: bytes) -> None:
    w.u16(major).u16(minor).u32(flags).u32(0).guid(cid).u32(0)   # extensions: NULL


def decode_orpcthis(r: Reader) -> dict:
    this = {"major": r.u16(), "minor": r.u16(), "flags": r.u32(), "reserved1": r.u32(), "cid": r.guid()}
    if r.u32() != 0:
        raise ValueError("ORPCTHIS extensions not expected")
    return this


def encode_wcce_request(orpc: dict, flags, authority, request_id, attributes, request: bytes) -> bytes:
    w = Writer()
    encode_orpcthis(w, orpc["major"], orpc["minor"], orpc["flags"], orpc["cid"])
    w.u32(flags).unique_wstring(authority).u32(request_id).unique_wstring(attributes).blob(request)
    return w.done()


def decode_wcce_request(stub: bytes) -> dict:
    r = Reader(stub)
    call = {"orpcthis": decode_orpcthis(r), "flags": r.u32(), "authority": r.unique_wstring(),
            "request_id": r.u32(), "attributes": r.unique_wstring(), "request": r.blob()}
    r.end()
    return call


def encode_wcce_response(request_id, disposition, chain: bytes, encoded_cert: bytes, message: bytes,
                         hresult: int) -> bytes:
    w = Writer().u32(0).u32(0)   # ORPCTHAT: flags, extensions NULL
    w.u32(request_id).u32(disposition).blob(chain).blob(encoded_cert).blob(message)
    return w.u32(hresult).done()
