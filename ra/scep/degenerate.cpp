// SPDX-License-Identifier: Apache-2.0
// Certificates-only PKCS#7, built with the PKCS7 API the way `openssl crl2pkcs7` does.
#include "scep/degenerate.hpp"

#include <openssl/err.h>

#include "crypto/openssl_error.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

using crypto::check;

Bytes make_degenerate(const std::vector<X509*>& certs, const std::vector<X509_CRL*>& crls) {
    crypto::Pkcs7Ptr p7(PKCS7_new());
    check(p7 && PKCS7_set_type(p7.get(), NID_pkcs7_signed) == 1, "PKCS7_set_type");
    check(PKCS7_content_new(p7.get(), NID_pkcs7_data) == 1, "PKCS7_content_new");
    for (X509* cert : certs) {
        check(PKCS7_add_certificate(p7.get(), cert) == 1, "PKCS7_add_certificate");
    }
    for (X509_CRL* crl : crls) {
        check(PKCS7_add_crl(p7.get(), crl) == 1, "PKCS7_add_crl");
    }
    int len = i2d_PKCS7(p7.get(), nullptr);
    check(len > 0, "i2d_PKCS7");
    Bytes out(static_cast<size_t>(len));
    unsigned char* p = out.data();
    i2d_PKCS7(p7.get(), &p);
    return out;
}

std::vector<crypto::X509Ptr> parse_degenerate(ByteView der) {
    const unsigned char* p = der.data();
    crypto::Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    if (!p7 || !PKCS7_type_is_signed(p7.get())) {
        ERR_clear_error();
        throw DecodeError("not a PKCS#7 SignedData");
    }
    std::vector<crypto::X509Ptr> out;
    STACK_OF(X509)* certs = p7->d.sign->cert;
    for (int i = 0; certs && i < sk_X509_num(certs); ++i) {
        out.push_back(crypto::up_ref(*sk_X509_value(certs, i)));
    }
    return out;
}

std::vector<crypto::X509CrlPtr> parse_degenerate_crls(ByteView der) {
    const unsigned char* p = der.data();
    crypto::Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    if (!p7 || !PKCS7_type_is_signed(p7.get())) {
        ERR_clear_error();
        throw DecodeError("not a PKCS#7 SignedData");
    }
    std::vector<crypto::X509CrlPtr> out;
    STACK_OF(X509_CRL)* crls = p7->d.sign->crl;
    for (int i = 0; crls && i < sk_X509_CRL_num(crls); ++i) {
        X509_CRL* crl = sk_X509_CRL_value(crls, i);
        X509_CRL_up_ref(crl);
        out.emplace_back(crl);
    }
    return out;
}

}  // namespace scepra::scep
