// SPDX-License-Identifier: Apache-2.0
#include "core/revocation_check.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "crypto/asn1_time.hpp"
#include "crypto/crl_distribution.hpp"
#include "crypto/encoding.hpp"

namespace scepra::core {

std::optional<std::string> BackendRevocationCheck::refusal(X509& certificate) {
    // Fail closed: a certificate the CA cannot vouch for (not in its records,
    // or not the one it recorded under this serial) cannot be shown unrevoked.
    auto record = m_backend.find_certificate(crypto::name_string(*X509_get_issuer_name(&certificate)),
                                             crypto::serial_hex(certificate));
    if (!record) {
        return "the certificate used to sign the renewal is not in the CA's records of issued certificates";
    }
    if (!record->certificate || X509_cmp(record->certificate.get(), &certificate) != 0) {
        return "the certificate used to sign the renewal differs from the CA's record of that serial number";
    }
    if (record->state == backend::CertState::revoked) {
        return "the certificate used to sign the renewal has been revoked";
    }
    return std::nullopt;
}

CrlRevocationCheck::CrlRevocationCheck(CrlFetcher& fetcher, std::vector<crypto::X509Ptr> ca_certs,
                                       const Clock& clock, std::chrono::seconds max_age)
    : m_fetcher(fetcher),
      m_ca_certs(std::make_shared<const std::vector<crypto::X509Ptr>>(std::move(ca_certs))),
      m_clock(clock),
      m_max_age(max_age) {}

void CrlRevocationCheck::set_ca_certs(std::vector<crypto::X509Ptr> ca_certs) {
    auto fresh = std::make_shared<const std::vector<crypto::X509Ptr>>(std::move(ca_certs));
    std::lock_guard lock(m_ca_certs_mutex);
    m_ca_certs = std::move(fresh);
}

Bytes CrlRevocationCheck::fetch(const std::string& url) {
    constexpr auto retry_after = std::chrono::seconds(30);
    const TimePoint now = m_clock.now();
    if (auto failed = m_failures.find(url); failed != m_failures.end()) {
        if (now - failed->second.at < retry_after) {
            throw std::runtime_error(failed->second.what + "; tried again after 30 s");
        }
        m_failures.erase(failed);
    }
    try {
        return m_fetcher.fetch(url);
    } catch (const std::exception& e) {
        m_failures[url] = Failure{now, e.what()};
        throw;
    }
}

X509_CRL* CrlRevocationCheck::current_crl(const std::string& url, X509& issuer) {
    const TimePoint now = m_clock.now();
    auto usable = [&](X509_CRL& crl) {
        const ASN1_TIME* next = X509_CRL_get0_nextUpdate(&crl);
        const auto next_update = next ? crypto::to_time_point(*next) : std::nullopt;
        return crypto::crl_signed_by(crl, issuer) && (!next_update || *next_update > now);
    };
    if (auto cached = m_cache.find(url); cached != m_cache.end() &&
                                         now - cached->second.fetched_at < m_max_age &&
                                         usable(*cached->second.crl)) {
        return cached->second.crl.get();
    }
    crypto::X509CrlPtr crl = crypto::crl_from_bytes(fetch(url));
    if (!crypto::crl_signed_by(*crl, issuer)) {
        throw std::runtime_error("the CRL at " + url + " is not signed by the certificate's issuing CA");
    }
    if (!usable(*crl)) {
        throw std::runtime_error("the CRL at " + url + " is past its nextUpdate");
    }
    if (auto why = crypto::incomplete_crl(*crl)) {
        throw std::runtime_error("the CRL at " + url + " " + *why);
    }
    // The CA's own older CRL, still within its nextUpdate, would not list a
    // certificate revoked since: one from the plain-HTTP path could be replayed.
    if (auto cached = m_cache.find(url);
        cached != m_cache.end() && crypto::crl_signed_by(*cached->second.crl, issuer)) {
        auto seen = crypto::crl_number(*cached->second.crl);
        auto fetched = crypto::crl_number(*crl);
        if (seen && (!fetched || ASN1_INTEGER_cmp(fetched.get(), seen.get()) < 0)) {
            throw std::runtime_error("the CRL at " + url +
                                     " is older (cRLNumber) than one read from it before");
        }
    }
    X509_CRL* current = crl.get();
    m_cache[url] = Cached{std::move(crl), now};
    return current;
}

std::optional<std::string> CrlRevocationCheck::refusal(X509& certificate) {
    std::shared_ptr<const std::vector<crypto::X509Ptr>> ca_certs;
    {
        std::lock_guard lock(m_ca_certs_mutex);
        ca_certs = m_ca_certs;
    }
    X509* issuer = nullptr;
    for (const auto& ca : *ca_certs) {
        // The name alone does not decide: a CA re-keyed under the same name has two certificates.
        if (X509_check_issued(ca.get(), &certificate) == X509_V_OK &&
            X509_verify(&certificate, X509_get0_pubkey(ca.get())) == 1) {
            issuer = ca.get();
            break;
        }
    }
    ERR_clear_error();
    if (issuer == nullptr) {
        return "the certificate used to sign the renewal was not issued by this CA";
    }
    const std::vector<std::string> urls = crypto::http_crl_urls(certificate);
    if (urls.empty()) {
        return "the certificate used to sign the renewal names no HTTP CRL distribution point, so its "
               "revocation "
               "status cannot be checked";
    }
    std::string last_error;
    std::lock_guard lock(m_mutex);
    for (const auto& url : urls) {  // the first distribution point that gives a good CRL decides
        try {
            X509_CRL* crl = current_crl(url, *issuer);
            if (crypto::crl_lists(*crl, certificate)) {
                return "the certificate used to sign the renewal has been revoked";
            }
            // A renewal after expiry ([renewal] grace_days): CRLs drop expired
            // certificates, so absence proves nothing unless the CRL keeps them.
            const auto not_after = crypto::to_time_point(*X509_get0_notAfter(&certificate));
            if (!not_after || *not_after < m_clock.now()) {
                const auto kept_since = crypto::expired_certs_on_crl(*crl);
                if (!kept_since || !not_after || *kept_since > *not_after) {
                    return "the certificate used to sign the renewal has expired, and its CRL does not keep "
                           "expired certificates (no ExpiredCertsOnCRL), so it cannot be shown unrevoked";
                }
            }
            return std::nullopt;
        } catch (const std::exception& e) {
            last_error = e.what();
        }
    }
    return "the revocation status of the certificate used to sign the renewal is unavailable (" + last_error +
           ")";
}

}  // namespace scepra::core
