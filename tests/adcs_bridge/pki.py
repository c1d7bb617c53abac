# SPDX-License-Identifier: Apache-2.0
"""Real test PKI made with python3-cryptography: CAs, leaf and TLS certificates, CSRs."""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID

_DAY = datetime.timedelta(days=1)


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "scep-ra tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


class Authority:
    """A CA key and certificate that signs certificates."""

    def __init__(self, cn: str, parent: "Authority" = None):
        self.key = new_key()
        now = datetime.datetime.utcnow()
        issuer = parent.cert.subject if parent else name(cn)
        signer = parent.key if parent else self.key
        self.cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - _DAY).not_valid_after(now + 30 * _DAY)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(signer, hashes.SHA256()))

    def issue(self, subject: x509.Name, public_key, serial: int = None, eku=None) -> x509.Certificate:
        now = datetime.datetime.utcnow()
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.cert.subject)
                   .public_key(public_key).serial_number(serial or x509.random_serial_number())
                   .not_valid_before(now - _DAY).not_valid_after(now + 7 * _DAY)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        return builder.sign(self.key, hashes.SHA256())


def csr_der(cn: str = "device-1") -> bytes:
    key = new_key()
    csr = x509.CertificateSigningRequestBuilder().subject_name(name(cn)).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.DER)


def der(tag: int, content: bytes) -> bytes:
    """One DER element."""
    if len(content) < 0x80:
        return bytes([tag, len(content)]) + content
    size = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.insert(0, 0x80 | (arc & 0x7F))
        out += bytes(chunk)
    return der(0x06, bytes(out))


def bmp(text: str) -> bytes:
    return der(0x1E, text.encode("utf-16-be"))


def csr_with_attributes(attributes, cn: str = "device-1") -> bytes:
    """A PKCS#10 signed by a new key whose attributes are attributes: (OID, [value DER, ...]) pairs,
    put in as given (what cryptography's builder cannot make: SEQUENCE values, two extension sets)."""
    key = new_key()
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    attrs = b"".join(der(0x30, der_oid(oid) + der(0x31, b"".join(values))) for oid, values in attributes)
    info = der(0x30, der(0x02, b"\x00") + name(cn).public_bytes() + spki + der(0xA0, attrs))
    signature = key.sign(info, ec.ECDSA(hashes.SHA256()))
    algorithm = der(0x30, der_oid("1.2.840.10045.4.3.2"))   # ecdsa-with-SHA256
    return der(0x30, info + algorithm + der(0x03, b"\x00" + signature))


def extension_set(*extensions) -> bytes:
    """An extensionRequest value: Extensions of (OID, value DER) pairs, none critical."""
    return der(0x30, b"".join(der(0x30, der_oid(oid) + der(0x04, value)) for oid, value in extensions))


def write_pem(path: str, *certs: x509.Certificate) -> str:
    with open(path, "wb") as f:
        for cert in certs:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
    return path


def write_key(path: str, key) -> str:
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(path, 0o600)
    return path


def tls_pair(directory: str, stem: str, ca: Authority, cn: str, server: bool):
    """Writes stem.pem / stem.key for a TLS server (SAN localhost, 127.0.0.1) or client."""
    import ipaddress
    key = new_key()
    now = datetime.datetime.utcnow()
    builder = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - _DAY).not_valid_after(now + 7 * _DAY))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    return (write_pem(os.path.join(directory, stem + ".pem"), cert),
            write_key(os.path.join(directory, stem + ".key"), key), cert)
