// SPDX-License-Identifier: Apache-2.0
// Parses GetCACert and sorts the certificates into RA signing, RA encryption and CA roles.
#include "scep/ca_certs.hpp"

#include <openssl/err.h>

#include <stdexcept>

#include "crypto/encoding.hpp"
#include "scep/degenerate.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

namespace {

bool has_usage(X509& cert, uint32_t bit) {
    uint32_t ku = X509_get_key_usage(&cert);  // UINT32_MAX when the extension is absent
    return (ku & bit) != 0;
}

}  // namespace

CaCerts read_ca_certs(const std::string& body, const std::string& content_type) {
    CaCerts out;
    out.body = body;
    out.content_type = content_type;
    ByteView der = as_bytes(body);
    try {
        out.all = parse_degenerate(der);
    } catch (const DecodeError&) {
        try {
            out.all.push_back(crypto::cert_from_der(der));
        } catch (const std::exception&) {
            ERR_clear_error();
            throw std::runtime_error("GetCACert reply (" + content_type +
                                     ") is neither PKCS#7 nor a certificate");
        }
    }
    if (out.all.empty()) {
        throw std::runtime_error("GetCACert returned no certificate");
    }
    for (auto& cert : out.all) {
        if (X509_check_ca(cert.get()) > 0) {
            out.cas.push_back(cert.get());
        } else {
            if (!out.ra_signing && has_usage(*cert, KU_DIGITAL_SIGNATURE)) out.ra_signing = cert.get();
            if (!out.ra_encryption && has_usage(*cert, KU_KEY_ENCIPHERMENT)) out.ra_encryption = cert.get();
        }
    }
    if (out.cas.empty()) {
        throw std::runtime_error("GetCACert returned no CA certificate");
    }
    // A CA that answers SCEP itself (no RA) signs and decrypts with its own key.
    if (!out.ra_signing) out.ra_signing = out.cas.front();
    if (!out.ra_encryption) out.ra_encryption = out.cas.front();
    return out;
}

int ra_rsa_bits(const CaCerts& certs) {
    EVP_PKEY* key = X509_get0_pubkey(certs.ra_encryption);
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) return 0;
    return EVP_PKEY_get_bits(key);
}

}  // namespace scepra::scep
