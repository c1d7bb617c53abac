# SPDX-License-Identifier: Apache-2.0
"""PEM certificate bundles (python3-cryptography 38 has no multi-certificate loader)."""
import re

from cryptography import x509

_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.S)
MAX_CERTIFICATES = 16


def load_pem_certificates(data: bytes) -> list:
    blocks = _BLOCK.findall(data)
    if len(blocks) > MAX_CERTIFICATES:
        raise ValueError("more than %d certificates" % MAX_CERTIFICATES)
    return [x509.load_pem_x509_certificate(block) for block in blocks]
