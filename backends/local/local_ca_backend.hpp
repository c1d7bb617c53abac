// SPDX-License-Identifier: Apache-2.0
// The local CA backend: signs approved CSRs with an on-disk CA key and records them in SQLite.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"
#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/csr_seal.hpp"
#include "crypto/handles.hpp"
#include "local/crl.hpp"
#include "local/local_ca_store.hpp"
#include "local/profile.hpp"
#include "store/database.hpp"

namespace scepra::backend::local {

struct LocalCaConfig {
    std::filesystem::path cert_file;   ///< issuing CA certificate (PEM or DER)
    std::filesystem::path key_file;    ///< its unencrypted PEM private key
    std::filesystem::path chain_file;  ///< optional: further CA certs up to the root, PEM

    // The default profile, used when SubmitRequest::template_name is empty.
    // It accepts any key type and RSA keys from 2048 bits, and never waits
    // for approval.
    int validity_days = 365;
    /// OpenSSL keyUsage names, comma separated; empty = no keyUsage extension.
    /// keyEncipherment/dataEncipherment are dropped for non-RSA keys (RFC 5480, RFC 8410).
    std::string key_usage = "digitalSignature,keyEncipherment";
    /// OpenSSL extendedKeyUsage names or OIDs; empty = no EKU extension.
    std::string extended_key_usage = "clientAuth";
    bool copy_san = true;  ///< copy the CSR's requested subjectAltName

    /// Named profiles (NDES certificate templates), selected by
    /// SubmitRequest::template_name, case-insensitively. A name that matches
    /// none is rejected, never silently mapped to the default profile.
    std::vector<CertificateProfile> profiles;

    int backdate_seconds = 600;     ///< notBefore = now - this, for clients with lagging clocks
    std::string digest = "SHA256";  ///< certificate and CRL signature digest
    int crl_validity_hours = 168;   ///< CRL nextUpdate = thisUpdate + this (RFC 5280 5.1.2.5)
    /// When set, every issued certificate gets crlDistributionPoints with this URI.
    std::string crl_distribution_point;
    /// The 32-byte key that seals manual-approval CSRs at rest (created, mode
    /// 0600, when missing); empty = csr-seal.key beside key_file.
    std::filesystem::path csr_key_file;
};

/// What the local CA knows about one certificate it issued.
struct CertStatus {
    enum class State { valid, revoked, expired };
    State state = State::valid;  ///< revoked wins over expired
    crypto::X509Ptr certificate;
    std::optional<TimePoint> revoked_at;       ///< when revoked
    int reason_code = crl_reason_unspecified;  ///< RFC 5280 CRLReason, when revoked
};

/// Thread safe: the CA certificate, key and chain are read-only after
/// construction, the Database serialises its own access and the CRL cache has
/// its own lock. All state lives in the database, so several processes (the
/// server and CLI commands) can share one file.
class LocalCaBackend final : public CaBackend {
  public:
    /// Loads the CA certificate, key and chain and checks them. Throws
    /// std::runtime_error naming the file when the certificate is not a CA,
    /// lacks a subjectKeyIdentifier or does not match the key, and
    /// std::invalid_argument for bad config values (including any profile's,
    /// and two profiles with the same name).
    LocalCaBackend(LocalCaConfig config, store::Database& db, const Clock& clock);

    std::string name() const override { return "local"; }
    /// Checks the request against the profile named by template_name (an
    /// unknown name is rejected with "unknown certificate template 'X'"), then
    /// issues at once, or, when the profile has manual_approval, records the
    /// request and answers pending with backend_ref = the request id. Throws
    /// BackendUnavailable when the store fails or the CA cannot sign
    /// (expired, key error).
    SubmitResult submit(const SubmitRequest& request) override;
    /// The state of a pending request: pending while no officer decided;
    /// issued once approved (the certificate is signed at the first poll after
    /// approval and the same one is returned by every later poll); rejected
    /// with the officer's reason when denied, or "unknown request". Throws
    /// BackendUnavailable like submit().
    SubmitResult poll(const PollRequest& request) override;
    /// Everything: the local CA keeps every certificate it issued, its CRL and its queue.
    Capabilities capabilities() const override { return {true, true, true, true, true}; }
    /// The CA certificate is valid now (and its database answers).
    Health health() const override;
    /// revoke(serial_hex, reason_code, now).
    RevokeOutcome revoke(const std::string& serial_hex, int crl_reason) override;
    std::vector<crypto::X509Ptr> ca_chain() const override;
    std::optional<IssuedCertificate> find_certificate(const std::string& issuer_dn,
                                                      const std::string& serial_hex) override;
    bool subject_has_valid_certificate(const std::string& subject_dn) override;
    /// The template's key policy (see key_rejection in profile.hpp); an unknown template refuses.
    std::optional<std::string> key_refusal(const std::string& template_name,
                                           EVP_PKEY& subject_key) const override;
    std::optional<Bytes> crl() override { return crl_der(); }
    /// From issued_certs.transaction_id (a certificate for this key) and the
    /// manual-approval queue (a request for this key: its poll() answer).
    std::optional<SubmitResult> find_by_transaction(const TransactionQuery& query) override;

    /// The profile template_name selects: the default profile for an empty
    /// name, null for an unknown one.
    const CertificateProfile* find_profile(const std::string& template_name) const;

    /// Manual-approval requests, oldest first; only those with this status
    /// (pending, approved, denied, issued) when given. Throws
    /// std::invalid_argument for another status and store::DbError.
    std::vector<PendingRequest> list_requests(std::optional<std::string> status = std::nullopt) const;
    /// Approves a pending request; the next poll() issues it. Throws
    /// std::invalid_argument for an unknown id, a request that is not pending
    /// or an empty officer name, and store::DbError.
    void approve(std::int64_t id, const std::string& officer);
    /// Denies a pending request; poll() then rejects it with reason. Throws
    /// like approve().
    void deny(std::int64_t id, const std::string& officer, const std::string& reason);

    /// Revokes a certificate this CA issued (serial in hex, any case, optional
    /// 0x and colons) with an RFC 5280 CRLReason code at when; the next
    /// crl_der() signs a new CRL. Throws std::invalid_argument for an unknown
    /// or already revoked serial, a code that is not a CRLReason (or is
    /// removeFromCRL, which only delta CRLs use) and a time after the clock's
    /// now; store::DbError when the store fails.
    void revoke(const std::string& serial_hex, int reason_code, TimePoint when);
    /// The current full v2 CRL, as crl_der().
    crypto::X509CrlPtr current_crl();
    /// DER of the current CRL: thisUpdate = the clock's now at signing,
    /// nextUpdate = thisUpdate + crl_validity_hours, AKI keyid, a cRLNumber
    /// that grows with every signing (persisted), one entry per revoked,
    /// unexpired certificate. Re-signed only after a revocation (by any
    /// process) or once half its validity has passed. Throws
    /// BackendUnavailable when the store fails or the CA cannot sign.
    Bytes crl_der();
    /// Valid, revoked or expired, with the certificate; nothing for a serial
    /// this CA never issued (or one that is not hex). Throws store::DbError.
    std::optional<CertStatus> status_of(const std::string& serial_hex) const;

    /// A certificate this CA issued, by issuer DN (RFC 2253, as
    /// crypto::name_string) and serial (hex, as crypto::serial_hex; any case).
    std::optional<crypto::X509Ptr> find_issued(const std::string& issuer_dn,
                                               const std::string& serial_hex) const;
    /// Unexpired, unrevoked certificates this CA issued to subject_dn (RFC
    /// 2253, as crypto::name_string; compared exactly), latest notAfter first.
    std::vector<crypto::X509Ptr> find_valid_by_subject(const std::string& subject_dn) const;
    /// The issuer DN recorded for every certificate this CA issues.
    const std::string& issuer_dn() const { return m_issuer_dn; }

  private:
    struct Prepared;
    Prepared prepare(const Bytes& csr_der, const CertificateProfile& profile,
                     X509_REQ* verified_csr = nullptr) const;
    /// Signs and records a certificate; record_issued (SubmitRequest's) runs
    /// in the same transaction as the certificate's row.
    SubmitResult issue(const Prepared& request, const CertificateProfile& profile,
                       const std::string& transaction_id, std::optional<std::int64_t> request_id,
                       const std::function<bool(store::Database&, const SubmitResult&)>& record_issued = {});
    SubmitResult issued(Bytes cert_der) const;
    void check_ca_current(TimePoint now) const;
    crypto::X509Ptr build_certificate(const Prepared& request, const CertificateProfile& profile,
                                      std::time_t not_before, std::time_t not_after) const;
    void decide(std::int64_t id, const std::string& status, const std::string& officer,
                const std::string& reason);
    /// Seals the CSRs that versions before schema 6 stored in the clear.
    void seal_plaintext_requests();

    LocalCaConfig m_config;
    store::Database& m_db;
    const Clock& m_clock;
    crypto::X509Ptr m_ca_cert;
    crypto::EvpPkeyPtr m_ca_key;
    crypto::EvpMdPtr m_digest;  ///< null for EdDSA CA keys
    std::vector<crypto::X509Ptr> m_chain;
    std::vector<Bytes> m_chain_der;  ///< ca_chain() as DER, for every issued result
    std::string m_issuer_dn;
    CertificateProfile m_default_profile;
    LocalCaStore m_store;
    crypto::CsrSeal m_seal;

    std::mutex m_crl_mutex;  ///< one signer at a time within the process
    Bytes m_crl_der;         ///< last CRL served, by number
    std::int64_t m_crl_number = 0;
};

}  // namespace scepra::backend::local
