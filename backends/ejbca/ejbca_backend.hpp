// SPDX-License-Identifier: Apache-2.0
// The EJBCA backend: relays approved requests to EJBCA's REST API
// (v1/certificate/pkcs10enroll) over mutually authenticated TLS.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"
#include "common/bytes.hpp"
#include "crypto/handles.hpp"
#include "ejbca/ejbca_config.hpp"
#include "ejbca/ejbca_errors.hpp"
#include "http/rest_client.hpp"

namespace scepra::backend::ejbca {

/// submit() with what the audit trail needs besides the SubmitResult.
struct EjbcaSubmitOutcome {
    SubmitResult result;
    std::string serial_hex;  ///< the issued certificate's serial (EJBCA's serial_number), when issued
    std::string username;    ///< the end entity EJBCA filed the request under
    /// EJBCA's own words (HTTP status and error_message) when it refused:
    /// for the audit trail only, never for the client.
    std::string audit_detail;
};

/// RFC 5280 CRLReason codes EJBCA's revoke call accepts.
enum class RevocationReason {
    unspecified = 0,
    key_compromise = 1,
    ca_compromise = 2,
    affiliation_changed = 3,
    superseded = 4,
    cessation_of_operation = 5,
    certificate_hold = 6,
    privileges_withdrawn = 9,
    aa_compromise = 10,
};

/// Thread safe: every call opens its own connection; the CA chain changes
/// only through refresh_ca_chain(), behind a lock.
class EjbcaBackend final : public CaBackend {
  public:
    /// Loads the client certificate and key and the CA chain: from chain_file
    /// when set (EJBCA is not contacted), else from EJBCA (GET v1/ca, then the
    /// CA's certificate/download). Throws std::invalid_argument for bad config
    /// values, std::runtime_error naming a file that cannot be read, and
    /// BackendUnavailable when the chain must come from EJBCA and cannot.
    explicit EjbcaBackend(EjbcaConfig config);

    std::string name() const override { return "ejbca"; }
    /// submit_with_audit(), with EJBCA's words in the result's audit_detail.
    SubmitResult submit(const SubmitRequest& request) override;
    /// POST v1/certificate/pkcs10enroll with a fresh random end-entity
    /// password. 2xx: issued; 202: pending; 400, 403, 404, 409, 413, 422:
    /// rejected with a short reason (EJBCA's message in audit_detail); a CSR
    /// the username rule finds nothing in: rejected without asking EJBCA.
    /// Throws BackendUnavailable when the request certainly did not reach
    /// EJBCA (no connection, TLS refused) and OutcomeUnknown when it may have
    /// (timeout after sending, 5xx, an answer that cannot be understood).
    EjbcaSubmitOutcome submit_with_audit(const SubmitRequest& request) const;
    /// EJBCA Community answers pkcs10enroll at once or not at all; a 202
    /// (approval in EJBCA) cannot be followed up, so this rejects.
    SubmitResult poll(const PollRequest& request) override;
    /// GetCert and renewal status by serial, CRL, the search after a lost
    /// answer, revocation; no look-up by subject.
    Capabilities capabilities() const override { return {true, false, true, true, true}; }
    /// find_issued_for() on the request as submitted; nothing when the RA no
    /// longer holds its CSR (the username and key come from it).
    std::optional<SubmitResult> find_by_transaction(const TransactionQuery& query) override;
    /// A call EJBCA was still working on when the RA gave up (3 x
    /// timeout_seconds at most) is finished or failed within that much again.
    std::chrono::seconds settle_time() const override {
        return std::chrono::seconds(3 * m_config.timeout_seconds);
    }
    /// revoke(serial_hex, reason) with an RFC 5280 CRLReason code; throws
    /// std::invalid_argument for a code EJBCA does not take.
    RevokeOutcome revoke(const std::string& serial_hex, int crl_reason) override;
    std::vector<crypto::X509Ptr> ca_chain() const override;
    /// Fetches the chain again, or reads the operator's chain_file again;
    /// refuses (BackendUnavailable) a chain that cannot be read or whose
    /// issuing CA has another subject.
    bool refresh_ca_chain() override;

    /// Whether an earlier attempt for this request already issued: searches
    /// EJBCA by the request's username and returns the newest certificate
    /// from the issuing CA for the CSR's public key (as an issued result), or
    /// nullopt. Throws BackendUnavailable or OutcomeUnknown when it cannot
    /// tell (including a search that was cut short with no match).
    std::optional<SubmitResult> find_issued_for(const SubmitRequest& request,
                                                std::optional<TimePoint> claimed_at = std::nullopt) const;

    /// The certificate (found by search) with its revocation status
    /// (GET .../revocationstatus); nothing when EJBCA does not know it.
    /// Throws BackendUnavailable when EJBCA cannot be asked or answers badly.
    std::optional<IssuedCertificate> find_certificate(const std::string& issuer_dn,
                                                      const std::string& serial_hex) override;
    /// GET v1/ca/{issuer_dn}/getLatestCrl; throws BackendUnavailable on failure.
    std::optional<Bytes> crl() override;
    /// PUT v1/certificate/{issuer_dn}/{serial}/revoke?reason=. Throws
    /// std::invalid_argument for a serial that is not hex, an unknown
    /// certificate (404), one already revoked (409) or another refusal (400,
    /// 403, 422), and BackendUnavailable when EJBCA cannot be asked. Returns
    /// false when EJBCA put the revocation up for approval (202).
    bool revoke(const std::string& serial_hex, RevocationReason reason);

    /// Probes EJBCA: reachable at the URL, server certificate trusted, client
    /// certificate accepted as an administrator, REST protocol enabled, CA known.
    Health health() const override;

    /// The issuing CA's DN as the RA writes it (RFC 2253), for revoke and CRL calls.
    const std::string& issuer_dn() const { return m_issuer_dn; }

  private:
    struct Profiles {
        std::string certificate_profile;
        std::string end_entity_profile;
    };
    /// The template's [ejbca.template.NAME] profiles, else the defaults.
    Profiles profiles_for(const std::string& template_name) const;
    std::vector<crypto::X509Ptr> fetch_chain() const;
    std::vector<Bytes> search(const std::string& query, std::size_t max_results, bool& more) const;

    /// The CA chain in use, issuing CA first, and the same as DER.
    struct Chain {
        std::vector<crypto::X509Ptr> certs;
        std::vector<Bytes> der;
    };
    static std::shared_ptr<const Chain> make_chain(std::vector<crypto::X509Ptr> certs);
    /// The chain in use now; it stays valid while held, whatever a refresh does.
    std::shared_ptr<const Chain> chain() const;
    /// An issued answer, served with the chain its certificate was checked against.
    static SubmitResult issued(Bytes certificate_der, const Chain& checked_against);

    EjbcaConfig m_config;
    http::RestClient m_client;
    mutable std::mutex m_chain_mutex;
    std::shared_ptr<const Chain> m_chain;
    std::string m_issuer_dn;  ///< of the issuing CA; a refresh never changes it
};

}  // namespace scepra::backend::ejbca
