// SPDX-License-Identifier: Apache-2.0
// Renewal authentication and policy.
#include "core/renewal_policy.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstdint>
#include <ctime>

#include "crypto/alt_names.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::core {

namespace {

// A renewal compares every requested name with every name of the old
// certificate: bound both lists so that the comparison stays cheap.
constexpr int max_renewal_alt_names = 1000;

/// Seconds since the epoch, in 64 bits: certificates valid until 9999 are
/// legitimate, and nanosecond time points overflow after 2262.
std::optional<std::int64_t> unix_seconds(const ASN1_TIME& t) {
    struct tm tm {};
    if (ASN1_TIME_to_tm(&t, &tm) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    return static_cast<std::int64_t>(timegm(&tm));
}

std::int64_t unix_seconds(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

/// Why the validity dates and the window refuse renewal now, or nullopt.
std::optional<std::string> validity_refusal(X509& signer, const RenewalPolicy& policy, TimePoint at) {
    const auto not_before = unix_seconds(*X509_get0_notBefore(&signer));
    const auto not_after = unix_seconds(*X509_get0_notAfter(&signer));
    if (!not_before || !not_after || *not_after < *not_before) {
        return "the certificate used to sign the renewal has an unreadable validity period";
    }
    const std::int64_t now = unix_seconds(at);
    if (now < *not_before) {
        return "the certificate used to sign the renewal is not yet valid";
    }
    if (now > *not_after + policy.grace_after_expiry.count()) {
        return "the certificate used to sign the renewal has expired";
    }
    constexpr std::int64_t seconds_per_day = 86400;
    if (policy.window_days > 0 && now < *not_after - seconds_per_day * policy.window_days) {
        return "too early to renew: renewal opens " + std::to_string(policy.window_days) +
               " days before the certificate expires";
    }
    // In seconds, a lifetime up to the year 9999 (3.2e11 s) times 100 stays far below 2^63.
    const std::int64_t lifetime = *not_after - *not_before;
    if (policy.window_percent > 0 && now < *not_after - lifetime * policy.window_percent / 100) {
        return "too early to renew: renewal opens in the last " + std::to_string(policy.window_percent) +
               "% of the certificate's validity";
    }
    return std::nullopt;
}

/// Why the requested subjectAltName is not allowed for a renewal of signer:
/// it may never add a name, and with RenewalSanRule::same not drop one.
std::optional<std::string> alt_name_refusal(X509& signer, const scep::Csr& csr, RenewalSanRule rule) {
    using crypto::contains_alt_name;
    using crypto::describe_alt_name;
    const crypto::AltNames held = crypto::certificate_alt_names(signer);
    if (!held.error.empty()) {
        return "the certificate used to sign the renewal: " + held.error;
    }
    const crypto::AltNames& asked = csr.alt_names();
    if (!asked.error.empty()) {
        return "the renewal request: " + asked.error;
    }
    if (held.count() > max_renewal_alt_names || asked.count() > max_renewal_alt_names) {
        return "a renewal may carry at most " + std::to_string(max_renewal_alt_names) +
               " subjectAltName entries";
    }
    for (int i = 0; i < asked.count(); ++i) {
        if (!contains_alt_name(held, asked.at(i))) {
            return "a renewal may not add names: the certificate has no subjectAltName " +
                   describe_alt_name(asked.at(i));
        }
    }
    if (rule == RenewalSanRule::same) {
        for (int i = 0; i < held.count(); ++i) {
            if (!contains_alt_name(asked, held.at(i))) {
                return "a renewal must keep the certificate's subjectAltName: " +
                       describe_alt_name(held.at(i)) + " is missing";
            }
        }
    }
    return std::nullopt;
}

}  // namespace

Bytes key_hash(const X509_PUBKEY& key) { return crypto::spki_hash(key); }

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
    const bool ok =
        X509_verify_cert(ctx.get()) == 1 && X509_check_issued(ca_chain.front().get(), &cert) == X509_V_OK;
    ERR_clear_error();
    return ok;
}

std::optional<std::string> renewal_refusal(X509& signer, const scep::Csr& csr, RevocationCheck& revocation,
                                           const RenewalPolicy& policy, TimePoint now) {
    if (!policy.enabled) {
        return "renewal is disabled on this RA";
    }
    if (auto why = validity_refusal(signer, policy, now)) {
        return why;
    }
    if (auto why = revocation.refusal(signer)) {
        return why;
    }
    if (policy.same_subject && !csr.has_subject_of(signer)) {
        return "a renewal must keep the certificate's subject";
    }
    if (auto why = alt_name_refusal(signer, csr, policy.san)) {
        return why;
    }
    if (policy.require_new_key && csr.has_key_of(signer)) {
        return "a renewal must use a new key";
    }
    return std::nullopt;
}

}  // namespace scepra::core
