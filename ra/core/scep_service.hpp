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
};

struct ScepRequest {
    std::string operation;   ///< GetCACert, GetCACaps, PKIOperation, ...
    std::optional<Bytes> message;  ///< the decoded pkiMessage for PKIOperation
    std::string peer;        ///< client address, for the audit trail
};

struct ScepResponse {
    int status = 200;
    std::string content_type;
    std::string body;
    std::string log;         ///< one-line summary for the request log (no secrets)
    // What a PKIOperation was and how it ended, for metrics and the request log
    // (empty for the other operations). The transactionID is the client's text.
    std::string message_type{};    ///< PKCSReq, CertPoll, ... (a number when unknown)
    std::string outcome{};         ///< success | pending | failure | malformed
    std::string fail_info{};       ///< with failure: badRequest, ...
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

private:
    struct Transaction;
    ScepResponse pki_operation(const ScepRequest& request);
    ScepResponse enroll(Transaction& tx);
    /// The template a renewal signed by this certificate keeps.
    std::string renewal_template(X509& signer);
    ScepResponse poll(Transaction& tx);
    ScepResponse get_cert(Transaction& tx);
    ScepResponse get_crl(Transaction& tx);
    /// Submits a claimed request to the CA, stores the outcome and answers it.
    ScepResponse submit_claimed(Transaction& tx, const scep::Csr& csr, store::RequestRecord record);
    /// Submits again a claim an earlier attempt never finished (see resumable()).
    ScepResponse resume(Transaction& tx, const scep::Csr& csr, store::RequestRecord claim, bool by_certificate);
    /// A claim the CA never took: it was unavailable (held for retry), or the
    /// RA stopped between claiming the request and storing the CA's answer
    /// (pending without a CA reference for longer than any CA call takes).
    static bool resumable(const store::RequestRecord& record, TimePoint now);
    /// Keeps a claim whose submission may have reached the CA (marked
    /// "outcome unknown") and answers PENDING.
    ScepResponse hold_unknown_outcome(Transaction& tx, std::int64_t claim_id, const std::string& why);
    /// Keeps such a claim the CA cannot tell about, for an operator, and answers PENDING.
    ScepResponse hold_for_operator(Transaction& tx, std::int64_t claim_id, const std::string& note);
    /// Answers from a stored request, asking the backend again while pending.
    ScepResponse answer_from(Transaction& tx, store::RequestRecord record, const std::string& note);
    /// SUCCESS carrying this degenerate SignedData (certificates or a CRL).
    ScepResponse success(Transaction& tx, const Bytes& degenerate);
    ScepResponse pending(Transaction& tx);
    Bytes open_message_data(Transaction& tx);

    ServiceOptions m_options;
    RaIdentity m_identity;
    backend::CaBackend& m_backend;
    ChallengeVerifier& m_challenges;
    store::AuditLog& m_audit;
    store::RequestStore& m_requests;
    const Clock& m_clock;
    std::vector<crypto::X509Ptr> m_ca_chain;
    Bytes m_ca_certs_der;
    mutable std::mutex m_next_ca_mutex;
    std::shared_ptr<const Bytes> m_next_ca;
};

}  // namespace scepra::core
