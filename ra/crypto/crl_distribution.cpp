// SPDX-License-Identifier: Apache-2.0
#include "crypto/crl_distribution.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "crypto/asn1_time.hpp"

namespace scepra::crypto {

std::vector<std::string> http_crl_urls(const X509& cert) {
    std::vector<std::string> urls;
    CrlDistPointsPtr points(static_cast<CRL_DIST_POINTS*>(
        X509_get_ext_d2i(&cert, NID_crl_distribution_points, nullptr, nullptr)));
    ERR_clear_error();
    if (!points) {
        return urls;
    }
    for (int i = 0; i < sk_DIST_POINT_num(points.get()); ++i) {
        const DIST_POINT* point = sk_DIST_POINT_value(points.get(), i);
        // Only a full name (type 0) is a URI; a relative name needs the issuer's DN.
        if (point == nullptr || point->distpoint == nullptr || point->distpoint->type != 0) {
            continue;
        }
        const GENERAL_NAMES* names = point->distpoint->name.fullname;
        for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, j);
            if (name == nullptr || name->type != GEN_URI || name->d.uniformResourceIdentifier == nullptr) {
                continue;
            }
            const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
            std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                             static_cast<size_t>(ASN1_STRING_length(uri)));
            if (text.rfind("http://", 0) == 0 && text.find('\0') == std::string::npos) {
                urls.push_back(std::move(text));
            }
        }
    }
    return urls;
}

X509CrlPtr crl_from_bytes(ByteView bytes) {
    const unsigned char* p = bytes.data();
    X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size())));
    if (crl && p == bytes.data() + bytes.size()) {
        return crl;
    }
    ERR_clear_error();
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (bio) {
        crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    }
    ERR_clear_error();
    if (!crl) {
        throw std::runtime_error("not a CRL (neither DER nor PEM)");
    }
    return crl;
}

bool crl_signed_by(X509_CRL& crl, X509& issuer) {
    EVP_PKEY* key = X509_get0_pubkey(&issuer);
    const bool ok = key != nullptr &&
                    X509_NAME_cmp(X509_CRL_get_issuer(&crl), X509_get_subject_name(&issuer)) == 0 &&
                    X509_CRL_verify(&crl, key) == 1;
    ERR_clear_error();
    return ok;
}

bool crl_lists(X509_CRL& crl, const X509& cert) {
    X509_REVOKED* entry = nullptr;
    const int found = X509_CRL_get0_by_serial(&crl, &entry, X509_get0_serialNumber(&cert));
    ERR_clear_error();
    // 1: listed; 2: listed as removeFromCRL (delta CRLs only), so not revoked.
    return found == 1;
}

std::optional<std::string> incomplete_crl(X509_CRL& crl) {
    if (X509_CRL_get_ext_by_NID(&crl, NID_delta_crl, -1) >= 0) {
        return "is a delta CRL, not a complete one";
    }
    int critical = 0;
    IssuingDistPointPtr idp(static_cast<ISSUING_DIST_POINT*>(
        X509_CRL_get_ext_d2i(&crl, NID_issuing_distribution_point, &critical, nullptr)));
    ERR_clear_error();
    if (!idp) {
        // -1: none; -2: more than one; 0 or 1: present but unreadable.
        return critical == -1 ? std::nullopt
                              : std::optional<std::string>("has an unreadable issuingDistributionPoint");
    }
    if (idp->onlysomereasons != nullptr || idp->indirectCRL != 0 || idp->onlyCA != 0 || idp->onlyattr != 0) {
        return "covers only some certificates or reasons (issuingDistributionPoint)";
    }
    return std::nullopt;
}

Asn1IntegerPtr crl_number(X509_CRL& crl) {
    Asn1IntegerPtr number(
        static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(&crl, NID_crl_number, nullptr, nullptr)));
    ERR_clear_error();
    return number;
}

std::optional<TimePoint> expired_certs_on_crl(X509_CRL& crl) {
    Asn1ObjectPtr oid(OBJ_txt2obj("2.5.29.60", 1));
    const int at = oid ? X509_CRL_get_ext_by_OBJ(&crl, oid.get(), -1) : -1;
    if (at < 0) {
        ERR_clear_error();
        return std::nullopt;
    }
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_CRL_get_ext(&crl, at));
    const unsigned char* p = ASN1_STRING_get0_data(value);
    Asn1GeneralizedTimePtr since(d2i_ASN1_GENERALIZEDTIME(nullptr, &p, ASN1_STRING_length(value)));
    ERR_clear_error();
    return since ? to_time_point(*since) : std::nullopt;
}

}  // namespace scepra::crypto
