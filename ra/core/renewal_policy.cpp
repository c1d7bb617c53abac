// SPDX-License-Identifier: Apache-2.0
// Renewal authentication and policy.
#include "core/renewal_policy.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "crypto/asn1_time.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::core {

Bytes key_hash(const X509_PUBKEY& key) {
    unsigned char* der = nullptr;
    int len = i2d_X509_PUBKEY(&key, &der);
    crypto::check(len > 0, "i2d_X509_PUBKEY");
    Bytes hash = crypto::sha256(ByteView(der, static_cast<size_t>(len)));
    OPENSSL_free(der);
    return hash;
}

bool issued_by(X509& cert, const std::vector<crypto::X509Ptr>& ca_chain) {
    if (ca_chain.empty()) {
        return false;
    }
    crypto::X509StorePtr store(X509_STORE_new());
    for (const auto& ca : ca_chain) {
        X509_STORE_add_cert(store.get(), ca.get());
    }
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), &cert, nullptr) != 1) {
        ERR_clear_error();
        return false;
    }
    // Dates are the renewal policy's business (grace after expiry).
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
    const bool ok = X509_verify_cert(ctx.get()) == 1 &&
                    X509_check_issued(ca_chain.front().get(), &cert) == X509_V_OK;
    ERR_clear_error();
    return ok;
}

std::optional<std::string> renewal_refusal(X509& signer, const scep::Csr& csr, backend::CaBackend& backend,
                                           const RenewalPolicy& policy, TimePoint now) {
    if (!policy.enabled) {
        return "renewal is disabled on this RA";
    }
    // Clamped to years 1900..2200: a notAfter of 9999 must not overflow TimePoint.
    const auto valid_from = crypto::to_time_point(*X509_get0_notBefore(&signer));
    const auto valid_to = crypto::to_time_point(*X509_get0_notAfter(&signer));
    if (!valid_from || !valid_to) {
        return "the validity dates of the certificate used to sign the renewal cannot be read";
    }
    const TimePoint not_before = *valid_from;
    const TimePoint not_after = *valid_to;
    if (now < not_before) {
        return "the certificate used to sign the renewal is not yet valid";
    }
    if (now > not_after + policy.grace_after_expiry) {
        return "the certificate used to sign the renewal has expired";
    }
    auto record = backend.find_certificate(crypto::name_string(*X509_get_issuer_name(&signer)),
                                           crypto::serial_hex(signer));
    if (record && record->state == backend::CertState::revoked) {
        return "the certificate used to sign the renewal has been revoked";
    }
    const auto lifetime = not_after - not_before;
    if (policy.window_days > 0 && now < not_after - std::chrono::hours(24) * policy.window_days) {
        return "too early to renew: renewal opens " + std::to_string(policy.window_days) +
               " days before the certificate expires";
    }
    if (policy.window_percent > 0 && now < not_after - lifetime * policy.window_percent / 100) {
        return "too early to renew: renewal opens in the last " + std::to_string(policy.window_percent) +
               "% of the certificate's validity";
    }
    if (policy.same_subject && X509_NAME_cmp(X509_get_subject_name(&signer), X509_REQ_get_subject_name(csr.req.get())) != 0) {
        return "a renewal must keep the certificate's subject";
    }
    EVP_PKEY* new_key = X509_REQ_get0_pubkey(csr.req.get());
    if (policy.require_new_key && new_key && EVP_PKEY_eq(new_key, X509_get0_pubkey(&signer)) == 1) {
        return "a renewal must use a new key";
    }
    return std::nullopt;
}

}  // namespace scepra::core
