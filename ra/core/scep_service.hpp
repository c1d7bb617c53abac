// SPDX-License-Identifier: Apache-2.0
// The SCEP service: one request in, one response out. Knows nothing of HTTP;
// ra/http turns requests into ScepRequest and ScepResponse into bytes.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"
#include "common/clock.hpp"
#include "core/challenge_verifier.hpp"
#include "core/enrolment.hpp"
#include "core/renewal_policy.hpp"
#include "core/template_selection.hpp"
#include "scep/envelope.hpp"
#include "store/audit_log.hpp"
#include "store/request_store.hpp"

namespace scepra::core {

/// The RA's own credentials and the CA chain it presents.
struct RaIdentity {
    crypto::X509Ptr signing_cert;
    crypto::EvpPkeyPtr signing_key;
    crypto::X509Ptr encryption_cert;
    crypto::EvpPkeyPtr encryption_key;
    /// After a rollover, the replaced encryption certificate and key: clients
    /// that still encrypt to it are served until the grace period ends.
    crypto::X509Ptr previous_encryption_cert{};
    crypto::EvpPkeyPtr previous_encryption_key{};
    /// After a CA rollover, the replaced CA: its certificates may still renew.
    std::vector<crypto::X509Ptr> previous_cas{};
};

struct ServiceOptions {
    scep::CipherPolicy ciphers;
    /// Largest accepted difference between a request's signingTime and our
    /// clock; unset = not checked (devices often enrol before they have NTP).
    std::optional<std::chrono::seconds> max_clock_skew;
    /// Templates chosen by the CSR's key usage and passed to the backend.
    TemplateNames templates;
    RenewalPolicy renewal;
    /// A new PKCSReq (not a renewal) for a subject that already holds a valid
    /// certificate: allowed (false), or refused so that the device renews (true).
    bool existing_subject_requires_renewal = false;
    /// Where a renewal's signer certificate is checked for revocation; unset:
    /// the backend's records (BackendRevocationCheck).
    std::shared_ptr<RevocationCheck> revocation;
    /// The 32-byte key that seals the CSRs of held requests (private/csr-seal.key).
    Bytes csr_seal_key;
    /// [ca] unavailable: a new request the CA cannot take is PENDING (held) or FAILURE.
    WhenCaUnavailable ca_unavailable = WhenCaUnavailable::pending;
    /// The RA's policy per template ([profile.NAME] manual_approval).
    TemplatePolicies template_policies;
    /// Told each transaction's final outcome once (EnrolmentOptions::outcome_listeners).
    std::vector<std::shared_ptr<EnrolmentOutcomeListener>> outcome_listeners = {};
};

struct ScepRequest {
    std::string operation;         ///< GetCACert, GetCACaps, PKIOperation, ...
    std::optional<Bytes> message;  ///< the decoded pkiMessage for PKIOperation
    std::string peer;              ///< client address, for the audit trail
};

struct ScepResponse {
    int status = 200;
    std::string content_type;
    std::string body;
    std::string log;  ///< one-line summary for the request log (no secrets)
    // What a PKIOperation was and how it ended, for metrics and the request log
    // (empty for the other operations). The transactionID is the client's text.
    std::string message_type{};  ///< PKCSReq, CertPoll, ... (a number when unknown)
    std::string outcome{};       ///< success | pending | failure | malformed
    std::string fail_info{};     ///< with failure: badRequest, ...
    std::string transaction_id{};
};

class ScepService {
  public:
    ScepService(ServiceOptions options, RaIdentity identity, backend::CaBackend& backend,
                ChallengeVerifier& challenges, store::AuditLog& audit, store::RequestStore& requests,
                const Clock& clock);

    ScepResponse handle(const ScepRequest& request);

    /// The GetNextCACert response prepared by `scep-ra ra rollover`, or none.
    void set_next_ca(std::optional<Bytes> response);
    /// The CA chain GetCACert serves after the RA certificates, issuing CA
    /// first (a remote CA's chain fetched again on reload). The issuing CA
    /// keeps its subject, so GetCRL's and renewal's checks stay as they are.
    void set_ca_chain(const std::vector<crypto::X509Ptr>& chain);
    /// On reload, the chain a remote CA now answers (as set_ca_chain) and the
    /// CA certificates it replaced (a re-key under the same name) whose
    /// certificates may still renew: renewal and its CRL check accept both,
    /// besides the CAs of a local rollover (RaIdentity::previous_cas).
    void set_issuers(const std::vector<crypto::X509Ptr>& chain,
                     const std::vector<crypto::X509Ptr>& replaced_cas);

  private:
    struct Transaction;
    ScepResponse pki_operation(const ScepRequest& request);
    ScepResponse enroll(Transaction& tx);
    ScepResponse poll(Transaction& tx);
    ScepResponse get_cert(Transaction& tx);
    ScepResponse get_crl(Transaction& tx);
    /// SUCCESS with the certificates, or PENDING.
    ScepResponse answer(Transaction& tx, const EnrolmentAnswer& answer);
    /// SUCCESS carrying this degenerate SignedData (certificates or a CRL).
    ScepResponse success(Transaction& tx, const Bytes& degenerate);
    /// Records tx.event, unless the enrolment wrote this very event in the
    /// commit that stored its outcome; a decision already stored stands when its audit row
    /// cannot be written (the disk is full): the request log says so instead.
    void record_audit(Transaction& tx);
    ScepResponse pending(Transaction& tx);
    Bytes open_message_data(Transaction& tx);

    ServiceOptions m_options;
    RaIdentity m_identity;
    backend::CaBackend& m_backend;
    store::AuditLog& m_audit;
    const Clock& m_clock;
    std::vector<crypto::X509Ptr> m_ca_chain;
    Enrolment m_enrolment;
    mutable std::mutex m_ca_certs_mutex;
    std::shared_ptr<const Bytes> m_ca_certs_der;  ///< the GetCACert answer
    mutable std::mutex m_next_ca_mutex;
    std::shared_ptr<const Bytes> m_next_ca;
};

}  // namespace scepra::core
