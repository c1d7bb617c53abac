// SPDX-License-Identifier: Apache-2.0
// Whether the certificate that signs a renewal is still good: asked of the
// CA backend, read from the CRL the certificate names, or (chosen
// explicitly) not checked. [renewal] revocation = backend | crl | none.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"
#include "common/clock.hpp"
#include "crypto/handles.hpp"

namespace scepra::core {

enum class RevocationMode { backend, crl, none };

/// Why a certificate of this CA may not authenticate a renewal (revoked, or
/// its status cannot be established), or nothing when it may.
class RevocationCheck {
  public:
    virtual ~RevocationCheck() = default;
    virtual std::optional<std::string> refusal(X509& certificate) = 0;
    /// The CA certificates whose signatures count (on reload, after the
    /// remote CA's chain changed); nothing for a check that uses none.
    virtual void set_ca_certs(std::vector<crypto::X509Ptr> /*ca_certs*/) {}
};

/// Asks the backend's records (find_certificate); fails closed on a
/// certificate it does not know or knows differently.
class BackendRevocationCheck final : public RevocationCheck {
  public:
    explicit BackendRevocationCheck(backend::CaBackend& backend) : m_backend(backend) {}
    std::optional<std::string> refusal(X509& certificate) override;

  private:
    backend::CaBackend& m_backend;
};

/// The operator chose not to check (logged at start).
class NoRevocationCheck final : public RevocationCheck {
  public:
    std::optional<std::string> refusal(X509&) override { return std::nullopt; }
};

/// Fetches a CRL by URL (http:// only); throws std::runtime_error on failure.
class CrlFetcher {
  public:
    virtual ~CrlFetcher() = default;
    virtual Bytes fetch(const std::string& url) = 0;
};

/// Reads the CRL at the certificate's HTTP CRL distribution point, as AD CS
/// publishes it; the CRL must be signed by one of the CA certificates given
/// (the issuing CA, or a previous one after a rollover) and be current.
/// CRLs are cached per URL until their nextUpdate, at most max_age. Fails
/// closed: no distribution point, no CRL, a bad or stale one all refuse.
class CrlRevocationCheck final : public RevocationCheck {
  public:
    CrlRevocationCheck(CrlFetcher& fetcher, std::vector<crypto::X509Ptr> ca_certs, const Clock& clock,
                       std::chrono::seconds max_age = std::chrono::hours(1));
    std::optional<std::string> refusal(X509& certificate) override;
    void set_ca_certs(std::vector<crypto::X509Ptr> ca_certs) override;

  private:
    struct Cached {
        crypto::X509CrlPtr crl;
        TimePoint fetched_at;
    };
    /// The current CRL of the certificate's issuer from url, fetched when the
    /// cached one is older than max_age or past its nextUpdate.
    X509_CRL* current_crl(const std::string& url, X509& issuer);
    /// fetch(url), or the error of a fetch from url that failed within the last
    /// retry_after: a CRL server that is down or slow costs one wait, not one
    /// per renewal queued behind m_mutex.
    Bytes fetch(const std::string& url);

    CrlFetcher& m_fetcher;
    std::mutex m_ca_certs_mutex;  ///< guards m_ca_certs (the pointer)
    std::shared_ptr<const std::vector<crypto::X509Ptr>> m_ca_certs;
    const Clock& m_clock;
    std::chrono::seconds m_max_age;
    // Guards m_cache and m_failures. Fetches are serialised: one slow CRL server
    // delays renewals only, for one fetch (its deadline), then its failure is remembered.
    std::mutex m_mutex;
    std::map<std::string, Cached> m_cache;
    struct Failure {
        TimePoint at;
        std::string what;
    };
    std::map<std::string, Failure> m_failures;  ///< guarded by m_mutex; one per distribution point
};

}  // namespace scepra::core
