# SPDX-License-Identifier: Apache-2.0
"""NDR structures shared by MS-ICPR and MS-WCCE, on impacket's NDR engine.

    typedef struct _CERTTRANSBLOB {
        ULONG cb;
        [size_is(cb), unique] BYTE* pb;
    } CERTTRANSBLOB;                               (MS-WCCE 2.2.2.2)

An empty blob is cb = 0 with a NULL pb.
"""
from impacket.dcerpc.v5.dtypes import NULL, ULONG
from impacket.dcerpc.v5.ndr import NDRPOINTER, NDRSTRUCT, NDRUniConformantArray


class BlobBytes(NDRUniConformantArray):
    item = "c"


class BlobBytesPointer(NDRPOINTER):
    referent = (("Data", BlobBytes),)


class CERTTRANSBLOB(NDRSTRUCT):
    structure = (
        ("cb", ULONG),
        ("pb", BlobBytesPointer),
    )


def fill_blob(blob: NDRSTRUCT, data: bytes) -> None:
    """Sets a CERTTRANSBLOB field (already part of a call) to data, NULL when empty."""
    blob["cb"] = len(data)
    blob["pb"] = data if data else NULL


def blob_bytes(blob: NDRSTRUCT) -> bytes:
    """The bytes of a decoded CERTTRANSBLOB; b"" for a NULL pointer."""
    pointer = blob.fields["pb"]   # blob["pb"] would give the referent's data, not the pointer
    if pointer["ReferentID"] == 0:
        return b""
    items = pointer["Data"]   # impacket decodes an array of 'c' as a list of 1-byte strings
    data = items if isinstance(items, bytes) else b"".join(items)
    if len(data) != blob["cb"]:
        raise ValueError("CERTTRANSBLOB: cb %d but %d bytes" % (blob["cb"], len(data)))
    return data


def utf16z(text: str) -> bytes:
    """A null-terminated UTF-16LE string, as MS-WCCE carries strings in blobs."""
    return (text + "\0").encode("utf-16-le")


def from_utf16z(data: bytes, limit: int = 4096) -> str:
    """Decodes a (possibly) null-terminated UTF-16LE blob; at most `limit` characters."""
    text = data[: 2 * limit].decode("utf-16-le", errors="replace")
    return text.split("\0", 1)[0]
