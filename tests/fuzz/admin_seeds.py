#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the admin page's readers that take no SCEP:
tests/fuzz/corpus/ntlm_message/ (NTLM messages as a client sends them, after
base64) and tests/fuzz/corpus/flat_json/ (the JSON body an MDM POSTs for a
bound password). Run by hand; the output is committed and the same on every run.

The NTLMv2 AUTHENTICATE seeds ([MS-NLMP] 2.2.1.3, 2.2.2.7, 3.3.2) are answers to
the fixed server challenge of ntlm_message_fuzzer.cpp, keyed with its fixed NT
hash, so that the fuzzer starts from messages that verify. The others are the
shapes a reader must refuse: NTLMv1, no Unicode, fields outside the message,
names that are not ASCII.
"""
import hashlib
import hmac
import struct

from seed_files import write

NT_HASH = bytes([0x4E] * 16)
SERVER_CHALLENGE = bytes([0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF])
SIGNATURE = b"NTLMSSP\x00"
UNICODE, OEM, NTLM, EXTENDED, TARGET_INFO = 0x1, 0x2, 0x200, 0x80000, 0x800000


def u16(text):
    return text.encode("utf-16-le")


def ntlmv2_response(user, domain, nt_hash=NT_HASH):
    key = hmac.new(nt_hash, u16(user.upper() + domain), hashlib.md5).digest()
    info = struct.pack("<HH", 2, 14) + u16("EXAMPLE") + struct.pack("<HH", 1, 14) + u16("SCEP-RA") + b"\0" * 4
    blob = b"\x01\x01" + b"\0" * 6 + struct.pack("<Q", 133_000_000_000_000_000) + b"\x5a" * 8 + b"\0" * 4
    blob += info + b"\0" * 4
    proof = hmac.new(key, SERVER_CHALLENGE + blob, hashlib.md5).digest()
    return proof + blob


def authenticate(nt, domain, user, flags=UNICODE | NTLM | EXTENDED, workstation=u16("ROUTER1"), offsets=None):
    """Type 3: LM, NT, domain, user, workstation and session key fields (length,
    maximum, offset), the flags, then the payloads in that order."""
    payloads = [b"", nt, domain, user, workstation, b""]
    header = SIGNATURE + struct.pack("<I", 3)
    offset = 64
    fields = b""
    for i, payload in enumerate(payloads):
        at = offsets[i] if offsets and offsets[i] is not None else offset
        fields += struct.pack("<HHI", len(payload), len(payload), at)
        offset += len(payload)
    return header + fields + struct.pack("<I", flags) + b"".join(payloads)


def negotiate():
    """Type 1 as Windows sends it: flags and empty domain and workstation fields."""
    flags = UNICODE | OEM | 0x4 | NTLM | 0x8000 | EXTENDED | 0x2000000 | 0x20000000 | 0x80000000
    return SIGNATURE + struct.pack("<II", 1, flags) + struct.pack("<HHI", 0, 0, 0) * 2


def ntlm_seeds():
    good = ntlmv2_response("fuzz-admin", "EXAMPLE")
    return {
        "negotiate.bin": negotiate(),
        "authenticate-ntlmv2.bin": authenticate(good, u16("EXAMPLE"), u16("fuzz-admin")),
        "authenticate-no-domain.bin": authenticate(ntlmv2_response("Admin", ""), b"", u16("Admin")),
        "authenticate-ntlmv1.bin": authenticate(b"\x11" * 24, u16("EXAMPLE"), u16("fuzz-admin")),
        "authenticate-oem.bin": authenticate(good, b"EXAMPLE", b"fuzz-admin", flags=OEM | NTLM),
        "authenticate-outside.bin": authenticate(good, u16("EXAMPLE"), u16("fuzz-admin"),
                                                 offsets=[None, None, None, 0xFFFFFFF0, None, None]),
        "authenticate-non-ascii.bin": authenticate(good, u16("EXAMPLE"), u16("f\u00fczz")),
        "challenge.bin": SIGNATURE + struct.pack("<I", 2) + struct.pack("<HHI", 0, 0, 48)
        + struct.pack("<I", UNICODE | NTLM | TARGET_INFO) + SERVER_CHALLENGE + b"\0" * 8
        + struct.pack("<HHI", 4, 4, 48) + b"\0" * 4,
    }


def flat_json_seeds():
    return {
        "bound.json": b'{"subject":"CN=router-*.example.com","template":"IPSECIntermediateOffline","validity":30}',
        "empty.json": b"{}",
        "escapes.json": b'{"subject": "CN=M\\u00fcller\\/\\"x\\" \\ud83d\\ude00", "validity": 1e2}',
        "spaces.json": b' \r\n\t{ "template" : "Machine" , "validity" : 525600 } \n',
        "utf8.json": '{"subject":"CN=Jürgen,O=Beispiel"}'.encode(),
        "duplicate.json": b'{"validity":30,"validity":60}',
        "nested.json": b'{"subject":{"CN":"x"}}',
        "literals.json": b'{"subject":null,"template":true}',
        "numbers.json": b'{"a":-0,"b":0.5,"c":-12.5E-3,"d":01}',
        "beyond-double.json": b'{"validity":0.5e8446744073709751615}',
    }


if __name__ == "__main__":
    write("ntlm_message", ntlm_seeds())
    write("flat_json", flat_json_seeds())
