// SPDX-License-Identifier: Apache-2.0
// The enrolment state machine: a PKCSReq, RenewalReq or CertPoll in, the
// device's answer out (SUCCESS with its certificate, PENDING, or a refusal
// thrown as scep::ScepFailure). The RA claims a transaction before the CA sees
// it, so that a re-sent request gets the stored outcome and never a second
// certificate, and keeps what it needs to finish it after an outage, a lost
// answer or a restart.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"
#include "common/clock.hpp"
#include "core/challenge_verifier.hpp"
#include "core/enrolment_outcome.hpp"
#include "core/enrolment_validators.hpp"
#include "core/renewal_policy.hpp"
#include "core/template_policy.hpp"
#include "core/template_selection.hpp"
#include "crypto/csr_seal.hpp"
#include "scep/csr.hpp"
#include "store/audit_log.hpp"
#include "store/request_store.hpp"

namespace scepra::core {

/// What a device is told when the CA cannot take its request ([ca] unavailable).
enum class WhenCaUnavailable {
    pending,  ///< PENDING: the request is held and submitted again at the device's next CertPoll or re-send
    fail,     ///< FAILURE "the CA is unavailable" (the request is still held for a re-send)
};

struct EnrolmentOptions {
    TemplateNames templates;
    RenewalPolicy renewal;
    /// A new request for a subject that holds a valid certificate is refused (it must renew).
    bool existing_subject_requires_renewal = false;
    /// The 32-byte key that seals the CSRs of held requests at rest (private/csr-seal.key).
    Bytes csr_seal_key;
    WhenCaUnavailable ca_unavailable = WhenCaUnavailable::pending;
    /// The RA's policy per template ([profile.NAME]).
    TemplatePolicies template_policies;
    /// Where a renewal's signer is checked for revocation; unset: the
    /// backend's records (BackendRevocationCheck).
    std::shared_ptr<RevocationCheck> revocation;
    /// Told each transaction's final outcome (issued; rejected by the CA or
    /// denied by an operator) once, after it is stored.
    std::vector<std::shared_ptr<EnrolmentOutcomeListener>> outcome_listeners = {};
};

/// One enrolment message as the service received and verified it.
struct EnrolmentMessage {
    const std::string& transaction_id;
    const std::string& peer;  ///< client address
    X509& signer;             ///< the certificate that signed the pkiMessage
    TimePoint now;
    store::AuditEvent& event;  ///< detail, challenge_id and serial are filled in
    /// Where a final outcome's event (issued, rejected by the CA) is written,
    /// in the commit that stores the outcome; unset: the caller writes every event.
    store::AuditLog* audit = nullptr;
    /// Set to the event as written with the outcome, its decision included:
    /// the caller does not write that same event again (only a different one,
    /// e.g. an error after it).
    std::optional<store::AuditEvent>* written_with_outcome = nullptr;
};

/// What the device is told when it is not refused.
struct EnrolmentAnswer {
    bool issued = false;  ///< false: PENDING
    Bytes certificates;   ///< when issued: degenerate SignedData, the certificate then its chain
};

class Enrolment {
  public:
    /// ca_chain: the issuing CA first; previous_cas: CAs replaced by a
    /// rollover, whose certificates may still renew.
    Enrolment(EnrolmentOptions options, backend::CaBackend& backend, ChallengeVerifier& challenges,
              store::RequestStore& requests, std::vector<crypto::X509Ptr> ca_chain,
              std::vector<crypto::X509Ptr> previous_cas);

    /// A PKCSReq or RenewalReq carrying this CSR.
    EnrolmentAnswer request(EnrolmentMessage& msg, const scep::Csr& csr, bool renewal_message);
    /// A certificate the RA itself delivered, by issuer (RFC 2253) and serial
    /// (crypto::serial_hex): GetCert in front of a CA that cannot be asked.
    crypto::X509Ptr delivered(const std::string& issuer_dn, const std::string& serial_hex);
    /// A CertPoll (RFC 8894 §3.3.3: keyed on the transactionID alone).
    EnrolmentAnswer poll(EnrolmentMessage& msg);
    /// The issuers a renewal's signer may chain to, replaced on reload: the
    /// chain now in use, and CAs replaced by a rollover or a re-key at a
    /// remote CA. Thread safe; requests under way keep the set they began with.
    void set_issuers(std::vector<crypto::X509Ptr> ca_chain, std::vector<crypto::X509Ptr> previous_cas);

  private:
    /// Whether the message's signer is a certificate of this CA (or a replaced one).
    bool signed_by_our_certificate(X509& signer) const;
    /// The template a renewal signed by this certificate keeps.
    std::string renewal_template(X509& signer);
    /// The RA's own record of the certificate (same serial and same DER), if any.
    std::optional<store::RequestRecord> issued_here(X509& signer);
    /// Runs the validators and records the claim (with the one-time password,
    /// when one is used), retiring the decided request it replaces, if any.
    store::RequestRecord claim(EnrolmentMessage& msg, const scep::Csr& csr, store::RequestRecord record,
                               bool by_certificate, std::optional<std::int64_t> replacing);
    /// Submits a claimed request to the CA, stores the outcome and answers it.
    EnrolmentAnswer submit_claimed(EnrolmentMessage& msg, const scep::Csr& csr, store::RequestRecord record);
    /// Whether this attempt already asked the CA about the transaction (and it had no record).
    enum class CaAsked { not_yet, no_record };
    /// Submits again a claim an earlier attempt never finished (see resumable()),
    /// first asking the CA for an earlier answer unless this attempt already did.
    EnrolmentAnswer resume(EnrolmentMessage& msg, const scep::Csr& csr, store::RequestRecord claim,
                           bool by_certificate, CaAsked asked = CaAsked::not_yet);
    /// A claim the CA never took: it was unavailable (held for retry), or the
    /// RA stopped between claiming the request and storing the CA's answer
    /// (pending without a CA reference for longer than any CA call takes).
    static bool resumable(const store::RequestRecord& record, TimePoint now);
    /// Keeps a claim the CA did not take (unavailable) for the device's next
    /// attempt: PENDING, or FAILURE (rethrows) with [ca] unavailable = fail.
    EnrolmentAnswer hold_unavailable(EnrolmentMessage& msg, std::int64_t claim_id, const std::exception& why);
    /// A CertPoll for a claim the CA never took: submits it again from the
    /// CSR the RA holds, or asks the device to send it again when it holds none.
    EnrolmentAnswer resume_from_stored(EnrolmentMessage& msg, store::RequestRecord claim,
                                       CaAsked asked = CaAsked::not_yet);
    /// Keeps a claim whose submission may have reached the CA (marked
    /// "outcome unknown") and answers PENDING.
    EnrolmentAnswer hold_unknown_outcome(EnrolmentMessage& msg, std::int64_t claim_id,
                                         const std::string& why);
    /// Keeps such a claim the CA cannot tell about, for an operator, and answers PENDING.
    EnrolmentAnswer hold_for_operator(EnrolmentMessage& msg, std::int64_t claim_id, const std::string& note);
    /// The CA issued (or queued) the request, and the RA could not store its
    /// answer (disk full, database locked): held as an unknown outcome, so
    /// that the device's next attempt asks the CA again; PENDING either way.
    EnrolmentAnswer hold_unstored(EnrolmentMessage& msg, std::int64_t claim_id, const std::string& what);
    /// Records the CA's answer for a claim (record_outcome) and stores it.
    /// Returns why not when it could not be stored and must not be lost
    /// (issued, pending); a rejection that cannot be stored throws.
    std::optional<std::string> store_found(EnrolmentMessage& msg, store::RequestRecord& record,
                                           const backend::SubmitResult& found);
    /// The CSR the RA holds for this request, or empty (none kept, or it does not open).
    Bytes stored_csr(const store::RequestRecord& record) const;
    /// The answer to a re-send or poll whose claim another attempt took over:
    /// that attempt's outcome as stored.
    EnrolmentAnswer answer_taken_over(EnrolmentMessage& msg, const store::RequestRecord& claim);
    /// Answers from a stored request, asking the backend again while pending.
    EnrolmentAnswer answer_from(EnrolmentMessage& msg, store::RequestRecord record, const std::string& note);
    /// Stores a request's outcome; a final one (issued, rejected) together
    /// with its audit event, in one commit (see EnrolmentMessage::audit).
    void store_outcome(EnrolmentMessage& msg, const store::RequestRecord& record);
    /// Writes the event of a final outcome (so_far completed as the device's
    /// answer completes it) inside the transaction `db` that stores the
    /// outcome; returns the event as written, or nothing when it is left to the caller.
    static std::optional<store::AuditEvent> write_outcome_event(store::Database& db,
                                                                const EnrolmentMessage& msg,
                                                                store::AuditEvent so_far,
                                                                const store::RequestRecord& record);
    /// Tells the outcome listeners a stored final outcome, the first time only
    /// (whichever re-send or poll of the transaction sees it first).
    void tell_outcome(const EnrolmentMessage& msg, const store::RequestRecord& record);

    EnrolmentOptions m_options;
    backend::CaBackend& m_backend;
    store::RequestStore& m_requests;
    struct Issuers {
        std::vector<crypto::X509Ptr> ca_chain;
        std::vector<crypto::X509Ptr> previous_cas;
    };
    std::shared_ptr<const Issuers> issuers() const;

    mutable std::mutex m_issuers_mutex;  ///< guards m_issuers (the pointer)
    std::shared_ptr<const Issuers> m_issuers;
    crypto::CsrSeal m_seal;
    EnrolmentValidators m_validators;
};

}  // namespace scepra::core
