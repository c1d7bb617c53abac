// SPDX-License-Identifier: Apache-2.0
// Public-key match and X509_verify_cert chain check of an issued certificate.
#include "scep/issued_cert_check.hpp"

#include <openssl/err.h>

#include "crypto/encoding.hpp"

namespace scepra::scep {

IssuedCertCheck check_issued_cert(const std::vector<crypto::X509Ptr>& certs, EVP_PKEY& client_key,
                                  const CaCerts& ca) {
    IssuedCertCheck out;
    X509* issued = nullptr;
    for (const auto& cert : certs) {
        if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), &client_key) == 1) {
            issued = cert.get();
            break;
        }
    }
    if (!issued) {
        out.failure =
            certs.empty() ? "no certificate in SUCCESS reply" : "no certificate with the client's key";
        return out;
    }
    out.serial = crypto::serial_hex(*issued);

    crypto::X509StorePtr store(X509_STORE_new());
    crypto::X509StackPtr untrusted(sk_X509_new_null());
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !untrusted || !ctx) {
        out.failure = "out of memory";
        return out;
    }
    for (X509* anchor : ca.cas) X509_STORE_add_cert(store.get(), anchor);
    // The issuing CA may be an intermediate that GetCACert returned: trust it directly.
    X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
    auto add_untrusted = [&](X509* cert) { sk_X509_push(untrusted.get(), crypto::up_ref(*cert).release()); };
    for (const auto& cert : certs) add_untrusted(cert.get());
    for (const auto& cert : ca.all) add_untrusted(cert.get());
    if (X509_STORE_CTX_init(ctx.get(), store.get(), issued, untrusted.get()) != 1 ||
        X509_verify_cert(ctx.get()) != 1) {
        out.failure = std::string("certificate does not chain to the CA: ") +
                      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    }
    ERR_clear_error();
    return out;
}

}  // namespace scepra::scep
