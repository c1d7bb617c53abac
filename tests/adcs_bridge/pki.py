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
