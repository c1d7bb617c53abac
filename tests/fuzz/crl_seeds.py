#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of the CRL readers into tests/fuzz/corpus/crl/ (run by
hand with /usr/bin/python3, Debian's python3-cryptography; the output is committed).

CRLs signed by the fuzz fixture key under its certificate's subject, with fixed
dates (same output on every run): empty and listing serials, with a cRLNumber,
as a delta CRL, with an issuingDistributionPoint limited in each way, with
ExpiredCertsOnCRL (2.5.29.60), in DER and PEM.
"""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ObjectIdentifier
from seed_files import write

HERE = os.path.dirname(os.path.abspath(__file__))
WHEN = datetime.datetime(2026, 12, 1, 10, 0, 0)


def fixture():
    with open(os.path.join(HERE, "fixtures", "ra-encryption.pem"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(HERE, "fixtures", "ra-encryption.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    return cert, key


def crl(cert, key, serials=(), extensions=()):
    builder = (x509.CertificateRevocationListBuilder().issuer_name(cert.subject)
               .last_update(WHEN).next_update(WHEN + datetime.timedelta(days=7)))
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(WHEN).build())
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(key, hashes.SHA256())


def idp(**limits):
    args = dict(full_name=None, relative_name=None, only_contains_user_certs=False,
                only_contains_ca_certs=False, only_some_reasons=None, indirect_crl=False,
                only_contains_attribute_certs=False)
    args.update(limits)
    return x509.IssuingDistributionPoint(**args)


def expired_certs_on_crl(when):
    # GeneralizedTime YYYYMMDDHHMMSSZ, DER-encoded, as the extension's value.
    text = when.strftime("%Y%m%d%H%M%SZ").encode()
    return x509.UnrecognizedExtension(ObjectIdentifier("2.5.29.60"), bytes([0x18, len(text)]) + text)


def main():
    cert, key = fixture()
    der = serialization.Encoding.DER
    samples = {
        "empty": crl(cert, key),
        "listed": crl(cert, key, serials=(cert.serial_number, 1, 2**150)),
        "numbered": crl(cert, key, extensions=((x509.CRLNumber(42), False),)),
        "delta": crl(cert, key, extensions=((x509.CRLNumber(43), False), (x509.DeltaCRLIndicator(42), True))),
        "idp-user-only": crl(cert, key, extensions=((idp(only_contains_user_certs=True), True),)),
        "idp-ca-only": crl(cert, key, extensions=((idp(only_contains_ca_certs=True), True),)),
        "idp-reasons": crl(cert, key, extensions=((idp(only_some_reasons=frozenset(
            {x509.ReasonFlags.key_compromise})), True),)),
        "idp-indirect": crl(cert, key, extensions=((idp(indirect_crl=True), True),)),
        "expired-kept": crl(cert, key, extensions=((expired_certs_on_crl(WHEN), False),)),
    }
    files = {name + ".der": sample.public_bytes(der) for name, sample in samples.items()}
    files["listed.pem"] = samples["listed"].public_bytes(serialization.Encoding.PEM)
    print("crl:", write("crl", files))


if __name__ == "__main__":
    main()
