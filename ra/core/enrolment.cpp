// SPDX-License-Identifier: Apache-2.0
// The enrolment state machine (see enrolment.hpp).
#include "core/enrolment.hpp"

#include "crypto/der.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "scep/degenerate.hpp"
#include "scep/types.hpp"
#include "store/server_run.hpp"

namespace scepra::core {

namespace {

// A claim still pending without a CA reference after this long was left by
// an RA that stopped while the CA had the request: no CA call takes this long.
// (A claim the CA refused as unavailable is marked, and resumable at once, and
// so is one made by a server run that has since died: store::run_ended.)
constexpr auto interrupted_claim_age = std::chrono::minutes(10);

using store::outcome_unknown_note;

// The rows a CertPoll looks through for its own: a PKCSReq and renewals
// signed by different certificates share a transactionID only by accident.
constexpr std::size_t max_requests_per_transaction = 16;

bool outcome_unknown(const std::optional<std::string>& note) {
    return note && note->starts_with(outcome_unknown_note);
}

bool decided(const store::RequestRecord& record) {
    return record.status == "issued" || record.status == "rejected";
}

bool awaiting_approval(const std::optional<std::string>& note) {
    return note == store::awaiting_approval_note;
}

constexpr std::string_view approved_note = "approved by ";

scep::FailInfo fail_info_from_name(const std::string& name) {
    for (auto info : {scep::FailInfo::bad_alg, scep::FailInfo::bad_message_check, scep::FailInfo::bad_request,
                      scep::FailInfo::bad_time, scep::FailInfo::bad_cert_id}) {
        if (scep::fail_info_name(info) == name) {
            return info;
        }
    }
    return scep::FailInfo::bad_request;
}

/// A final outcome's audit event as the device's answer completes it
/// (ScepService::success, or the refusal answer_from throws and
/// ScepService records): the same fields, so that the service sees it written.
store::AuditEvent final_event(store::AuditEvent event, const store::RequestRecord& record) {
    event.challenge_id = event.challenge_id ? event.challenge_id : record.challenge_id;
    if (record.status == "issued") {
        event.decision = "issued";
        event.serial = crypto::serial_hex_of_der(record.cert_der);
    } else {
        event.decision = "rejected";
        event.fail_info = scep::fail_info_name(fail_info_from_name(record.fail_info.value_or("badRequest")));
        event.detail = record.fail_text.value_or("rejected");
    }
    return event;
}

bool self_signed(X509& cert) { return X509_check_issued(&cert, &cert) == X509_V_OK; }

Bytes certificate_hash(const X509& cert) { return crypto::sha256(crypto::cert_der(cert)); }

/// Copies a backend's final answer (issued or rejected) into the stored request.
/// The CA's own words about this result go to the audit event (never to the device).
void keep_ca_words(store::AuditEvent& event, const backend::SubmitResult& result) {
    if (!result.audit_detail.empty()) {
        event.ca_detail = result.audit_detail;
    }
}

std::string unstored_text(const std::exception& why) {
    return std::string("the CA answered, and the RA could not store its answer: ") + why.what();
}

/// Whether a claim held at its last write has waited out the CA's settle
/// time (CaBackend::settle_time). sql_time text compares as time does.
bool settled(const store::RequestRecord& held, std::chrono::seconds settle, TimePoint now) {
    return settle.count() <= 0 || held.updated_at <= sql_time(now - settle);
}

/// What the CA is asked about a claim whose answer may have been lost.
backend::TransactionQuery transaction_query(const store::RequestRecord& claim, Bytes csr_der) {
    backend::TransactionQuery query{claim.transaction_id, claim.key_hash, claim.template_name,
                                    std::move(csr_der), std::nullopt};
    try {
        query.claimed_at = parse_sql_time(claim.created_at);
    } catch (const std::runtime_error&) {
        // unreadable: the CA's search is then not bounded in time
    }
    return query;
}

void record_outcome(store::RequestRecord& record, const backend::SubmitResult& result) {
    if (result.disposition == backend::Disposition::issued) {
        record.status = "issued";
        record.cert_der = result.certificate_der;
        record.serial = crypto::serial_hex_of_der(record.cert_der);  // a renewal finds its template by it
        record.chain_der = scep::make_degenerate_der({result.chain_der.begin(), result.chain_der.end()});
    } else if (result.disposition == backend::Disposition::rejected) {
        record.status = "rejected";
        record.fail_info = scep::fail_info_name(scep::FailInfo::bad_request);
        record.fail_text = "rejected by the CA: " + result.reason;
    }
}

EnrolmentAnswer pending() { return {}; }

}  // namespace

Enrolment::Enrolment(EnrolmentOptions options, backend::CaBackend& backend, ChallengeVerifier& challenges,
                     store::RequestStore& requests, std::vector<crypto::X509Ptr> ca_chain,
                     std::vector<crypto::X509Ptr> previous_cas)
    : m_options(std::move(options)),
      m_backend(backend),
      m_requests(requests),
      m_issuers(std::make_shared<const Issuers>(Issuers{std::move(ca_chain), std::move(previous_cas)})),
      m_seal(m_options.csr_seal_key) {
    if (!m_options.revocation) {
        m_options.revocation = std::make_shared<BackendRevocationCheck>(m_backend);
    }
    // Policy refusals come before the challenge, so they do not use up a one-time password.
    m_validators.push_back(ca_directives_validator());
    m_validators.push_back(renewal_validator(*m_options.revocation, m_options.renewal));
    m_validators.push_back(template_key_validator(m_options.template_policies));
    if (m_options.existing_subject_requires_renewal) {
        m_validators.push_back(existing_subject_validator(m_backend));
    }
    m_validators.push_back(challenge_validator(challenges));
}

std::shared_ptr<const Enrolment::Issuers> Enrolment::issuers() const {
    std::lock_guard lock(m_issuers_mutex);
    return m_issuers;
}

void Enrolment::set_issuers(std::vector<crypto::X509Ptr> ca_chain,
                            std::vector<crypto::X509Ptr> previous_cas) {
    auto fresh = std::make_shared<const Issuers>(Issuers{std::move(ca_chain), std::move(previous_cas)});
    std::lock_guard lock(m_issuers_mutex);
    m_issuers = std::move(fresh);
}

bool Enrolment::signed_by_our_certificate(X509& signer) const {
    if (self_signed(signer)) {
        return false;
    }
    const auto known = issuers();
    if (issued_by(signer, known->ca_chain)) {
        return true;
    }
    for (const auto& previous : known->previous_cas) {
        std::vector<crypto::X509Ptr> old_chain;
        old_chain.push_back(crypto::up_ref(*previous));
        if (issued_by(signer, old_chain)) {
            return true;
        }
    }
    return false;
}

EnrolmentAnswer Enrolment::request(EnrolmentMessage& msg, const scep::Csr& csr, bool renewal_message) {
    if (!csr.signature_valid()) {
        throw scep::ScepFailure(scep::FailInfo::bad_message_check, "the PKCS#10 signature does not verify");
    }
    // A RenewalReq, or a PKCSReq signed by a certificate our CA issued, is
    // authenticated by that certificate (RFC 8894 §2.3, NDES renewal). With
    // renewal disabled such a PKCSReq is an ordinary one: its password decides.
    bool by_certificate = signed_by_our_certificate(msg.signer);
    if (renewal_message && !by_certificate) {
        throw scep::ScepFailure(scep::FailInfo::bad_cert_id,
                                "a RenewalReq must be signed by a certificate issued by this CA");
    }
    if (renewal_message && !m_options.renewal.enabled) {
        throw scep::ScepFailure(scep::FailInfo::bad_request, "renewal is disabled on this RA");
    }
    by_certificate = by_certificate && m_options.renewal.enabled;
    if (by_certificate && !m_options.renewal.unrecorded_signers && !issued_here(msg.signer)) {
        // [renewal] unrecorded_signers = 0: whatever else the CA issued (a
        // user's certificate of another profile) does not renew into a SCEP
        // template; a PKCSReq it signs is an ordinary one.
        if (renewal_message) {
            throw scep::ScepFailure(scep::FailInfo::bad_cert_id,
                                    "a RenewalReq must be signed by a certificate issued through this RA");
        }
        by_certificate = false;
    }
    const Bytes csr_key = csr.key_hash();
    const std::string kind = by_certificate ? "Renewal:" + crypto::serial_hex(msg.signer) : "PKCSReq";

    // A transactionID seen before: its stored outcome, never a second certificate.
    std::optional<std::int64_t> replacing;
    if (auto existing = m_requests.find(msg.transaction_id, kind)) {
        if (existing->key_hash != csr_key) {
            throw scep::ScepFailure(scep::FailInfo::bad_request,
                                    "this transactionID was already used with another key");
        }
        if (decided(*existing) && !existing->csr_info_hash.empty() &&
            existing->csr_info_hash != csr.request_info_hash()) {
            // Another request from the same key after the first was decided:
            // clients that derive the transactionID from the key (sscep, the
            // SCEP drafts) enrol again this way, after a refusal (a mistyped
            // password) or to renew. It is a new transaction; the old one is kept.
            replacing = existing->id;
            msg.event.detail = "a new request under the transactionID of a request " + existing->status +
                               " before (kept as " + msg.transaction_id + "#" + std::to_string(existing->id) +
                               ")";
        } else if (!resumable(*existing, msg.now)) {
            return answer_from(msg, std::move(*existing), "repeated request");
        } else {
            return resume(msg, csr, std::move(*existing), by_certificate);
        }
    }

    // A renewal keeps the certificate's template; the new CSR's keyUsage does not choose it.
    const std::string template_name =
        by_certificate ? renewal_template(msg.signer) : select_template(csr, m_options.templates);

    // Claim the transaction before the CA sees it, so that a duplicate racing
    // with this one gets the stored outcome instead of a second certificate.
    // The claim is also the RA's write-ahead record of the CA call: resume()
    // asks the CA what became of it when its answer was never stored.
    store::RequestRecord record;
    record.transaction_id = msg.transaction_id;
    record.kind = kind;
    record.key_hash = csr_key;
    record.subject = csr.subject();
    record.template_name = template_name;
    record.status = "pending";
    record.backend = m_backend.name();
    record.requester = msg.peer;
    record.csr_info_hash = csr.request_info_hash();
    record.signer_hash = certificate_hash(msg.signer);
    // Kept (sealed) until the final outcome, so that the RA can submit it again
    // or hand it to a CA that asks for it.
    record.csr_sealed = m_seal.seal(csr.der(), store::sealed_csr_row(record.transaction_id, record.kind));
    // RA business, whatever the backend: the request is held before any CA sees it.
    const bool held_for_approval = m_options.template_policies.of(template_name).manual_approval;
    if (held_for_approval) {
        record.fail_text = std::string(store::awaiting_approval_note);
    }
    try {
        record = claim(msg, csr, std::move(record), by_certificate, replacing);
    } catch (const store::ClaimExists&) {
        auto existing = m_requests.find(msg.transaction_id, kind);
        if (!existing || existing->key_hash != csr_key) {
            throw scep::ScepFailure(scep::FailInfo::bad_request,
                                    "this transactionID was already used with another key");
        }
        return answer_from(msg, std::move(*existing), "concurrent duplicate");
    }
    if (held_for_approval) {
        msg.event.detail = "awaiting approval (template " + template_name + ")";
        return pending();
    }
    return submit_claimed(msg, csr, std::move(record));
}

store::RequestRecord Enrolment::claim(EnrolmentMessage& msg, const scep::Csr& csr,
                                      store::RequestRecord record, bool by_certificate,
                                      std::optional<std::int64_t> replacing) {
    // A one-time password is used up in the transaction that records the
    // claim: both happen, or neither (the password stays usable, the request
    // replaced stays as it was).
    auto claim_in = [&](store::Database& db, std::int64_t challenge) {
        record.challenge_id = challenge;
        auto id = m_requests.insert_in(db, record, replacing);
        if (!id) {
            throw store::ClaimExists();
        }
        record.id = *id;
    };
    Candidate candidate{
        csr,     msg.signer, by_certificate, record.template_name, msg.transaction_id, msg.peer,
        msg.now, msg.event,  claim_in};
    for (const auto& validator : m_validators) {
        validator->check(candidate);
    }
    if (candidate.challenge_id) {
        record.challenge_id = candidate.challenge_id;
    }
    if (record.id == 0) {  // no one-time password made the claim
        auto id = m_requests.insert(record, replacing);
        if (!id) {
            throw store::ClaimExists();
        }
        record.id = *id;
    }
    return record;
}

crypto::X509Ptr Enrolment::delivered(const std::string& issuer_dn, const std::string& serial_hex) {
    auto issued = m_requests.find_issued(serial_hex);
    if (!issued || issued->cert_der.empty()) {
        return nullptr;
    }
    crypto::X509Ptr cert = crypto::cert_from_der(issued->cert_der);
    // A serial is unique per issuer only: the issuer must be the one asked for.
    if (crypto::name_string(*X509_get_issuer_name(cert.get())) != issuer_dn) {
        return nullptr;
    }
    return cert;
}

std::optional<store::RequestRecord> Enrolment::issued_here(X509& signer) {
    auto issued = m_requests.find_issued(crypto::serial_hex(signer));
    if (issued && issued->cert_der == crypto::cert_der(signer)) {
        return issued;
    }
    return std::nullopt;
}

std::string Enrolment::renewal_template(X509& signer) {
    // The RA's own row for the certificate; a certificate issued before the
    // RA recorded serials is judged by its own keyUsage.
    if (auto issued = issued_here(signer)) {
        return issued->template_name;
    }
    return select_template(signer, m_options.templates);
}

bool Enrolment::resumable(const store::RequestRecord& record, TimePoint now) {
    return record.status == "pending" && !record.backend_ref && !awaiting_approval(record.fail_text) &&
           (record.fail_text || record.updated_at < sql_time(now - interrupted_claim_age) ||
            store::run_ended(record.run_id));
}

EnrolmentAnswer Enrolment::resume(EnrolmentMessage& msg, const scep::Csr& csr, store::RequestRecord claim,
                                  bool by_certificate, CaAsked asked) {
    // The claim was authenticated when it was made (its one-time password is
    // used up by now); a renewal's certificate is checked again, it may have
    // been revoked since.
    const bool after_outage = claim.fail_text.has_value();
    // The claim was checked as it was first sent: only that request may
    // resume it (the key alone would let a device change its subject or SANs).
    if (!claim.csr_info_hash.empty() ? claim.csr_info_hash != csr.request_info_hash()
                                     : claim.subject != csr.subject()) {
        throw scep::ScepFailure(scep::FailInfo::bad_request,
                                "the re-sent request differs from the one first sent for this transactionID");
    }
    if (!claim.signer_hash.empty() && by_certificate && claim.signer_hash != certificate_hash(msg.signer)) {
        throw scep::ScepFailure(scep::FailInfo::bad_request,
                                "the re-sent renewal is signed by another certificate than the first");
    }
    if (by_certificate) {
        if (auto why = renewal_refusal(msg.signer, csr, *m_options.revocation, m_options.renewal, msg.now)) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, *why);
        }
    }
    if (asked == CaAsked::not_yet && outcome_unknown(claim.fail_text) &&
        !settled(claim, m_backend.settle_time(), msg.now)) {
        // The CA may still be working on the lost call: it is asked, and
        // nothing is submitted again before it has had time to finish.
        return answer_from(msg, std::move(claim), "");
    }
    auto taken_at = m_requests.take_over(claim);
    if (!taken_at) {
        return answer_taken_over(msg, claim);
    }
    msg.event.challenge_id = claim.challenge_id;
    const std::optional<std::string> held_note = std::move(claim.fail_text);
    claim.fail_text.reset();
    claim.updated_at = std::move(*taken_at);
    // The RA may have stopped after the CA acted and before its answer was
    // stored, or the CA's answer was lost: that answer, never a second certificate.
    std::optional<backend::SubmitResult> found;
    try {
        if (asked == CaAsked::not_yet) {
            found = m_backend.find_by_transaction(transaction_query(claim, csr.der()));
        }
    } catch (const std::exception& e) {
        // The CA cannot be asked: the claim keeps its note (take_over cleared it).
        if (outcome_unknown(held_note)) {
            m_requests.hold_for_retry(claim.id, *held_note);
            msg.event.detail =
                std::string("the CA's outcome is unknown and the CA cannot be asked: ") + e.what();
            return pending();
        }
        return hold_unavailable(msg, claim.id, e);
    }
    if (auto done = std::move(found)) {
        msg.event.detail = "completed an interrupted request with the CA's earlier answer";
        if (auto unstored = store_found(msg, claim, *done)) {
            return hold_unstored(msg, claim.id, *unstored);
        }
        return answer_from(msg, std::move(claim), "");
    }
    if (outcome_unknown(held_note)) {
        if (!m_backend.capabilities().find_by_transaction) {
            return hold_for_operator(msg, claim.id, *held_note);
        }
        // The CA was asked with the request itself and has no record of it:
        // the attempt whose answer was lost never reached it.
        msg.event.detail = "the CA has no record of the request whose outcome was unknown: submitted again";
    } else if (held_note && held_note->starts_with(approved_note)) {
        msg.event.detail = *held_note + ": submitted to the CA";
    } else {
        msg.event.detail = after_outage ? "resumed a request the CA could not take before"
                                        : "resumed a request that was interrupted before the CA answered it";
    }
    if (asked == CaAsked::not_yet) {
        // A claim this old counts as interrupted (interrupted_claim_age); each
        // CA call ends within it, two in a row might not: the claim is marked
        // as still in hand before the second, so no other attempt resumes it too.
        bool renewed = false;
        try {
            renewed = m_requests.renew_claim(claim);
        } catch (const std::exception& e) {
            msg.event.detail = std::string("the request could not be resumed now: ") + e.what();
            return pending();  // nothing was submitted; the claim is resumed at a later attempt
        }
        if (!renewed) {
            return answer_taken_over(msg, claim);
        }
    }
    return submit_claimed(msg, csr, std::move(claim));
}

EnrolmentAnswer Enrolment::answer_taken_over(EnrolmentMessage& msg, const store::RequestRecord& claim) {
    // Another copy of this request got there first: its outcome, as stored.
    auto now_stored = m_requests.find(claim.transaction_id, claim.kind);
    if (!now_stored) {
        throw scep::ScepFailure(scep::FailInfo::bad_request,
                                "the request changed while it was being resumed; send it again");
    }
    return answer_from(msg, std::move(*now_stored), "concurrent duplicate");
}

EnrolmentAnswer Enrolment::submit_claimed(EnrolmentMessage& msg, const scep::Csr& csr,
                                          store::RequestRecord record) {
    // A certificate issued by a CA that records it in this database (the
    // local CA) is recorded here in the same commit as the CA's own row.
    // Its audit event goes in that commit too (kept only once it is committed).
    std::optional<store::AuditEvent> event_written;
    auto record_issued = [&](store::Database& db, const backend::SubmitResult& issued) {
        if (!m_requests.writes_to(db)) {
            return false;
        }
        store::RequestRecord done = record;
        record_outcome(done, issued);
        m_requests.update_in(db, done);
        store::AuditEvent so_far = msg.event;
        keep_ca_words(so_far, issued);
        event_written = write_outcome_event(db, msg, std::move(so_far), done);
        return true;
    };
    backend::SubmitResult result;
    try {
        result = m_backend.submit(
            {msg.transaction_id, csr.der(), record.template_name, msg.peer, &csr.req(), record_issued});
    } catch (const backend::BackendUnavailable& e) {
        return hold_unavailable(msg, record.id, e);
    } catch (const backend::OutcomeUnknown& e) {
        return hold_unknown_outcome(msg, record.id, e.what());
    } catch (const std::exception& e) {
        // Neither contract exception: the CA may have acted before it failed.
        return hold_unknown_outcome(msg, record.id,
                                    std::string("unexpected error from the CA backend: ") + e.what());
    }
    if (result.disposition == backend::Disposition::pending) {
        record.backend_ref = result.backend_ref;
    }
    try {
        record_outcome(record, result);
        keep_ca_words(msg.event, result);
        if (!result.recorded_by_ra) {
            store_outcome(msg, record);
        } else if (event_written && msg.written_with_outcome != nullptr) {
            *msg.written_with_outcome = std::move(event_written);
        }
    } catch (const std::exception& e) {
        if (result.disposition == backend::Disposition::rejected) {
            throw;  // nothing is lost: the device may send the request again
        }
        return hold_unstored(msg, record.id, unstored_text(e));
    }
    return answer_from(msg, std::move(record), "");
}

std::optional<std::string> Enrolment::store_found(EnrolmentMessage& msg, store::RequestRecord& record,
                                                  const backend::SubmitResult& found) {
    if (found.disposition == backend::Disposition::pending) {
        record.backend_ref = found.backend_ref;
    }
    try {
        record_outcome(record, found);
        keep_ca_words(msg.event, found);
        store_outcome(msg, record);
    } catch (const std::exception& e) {
        if (found.disposition == backend::Disposition::rejected) {
            throw;  // nothing is lost: the CA says the same when asked again
        }
        return unstored_text(e);
    }
    return std::nullopt;
}

EnrolmentAnswer Enrolment::hold_unstored(EnrolmentMessage& msg, std::int64_t claim_id,
                                         const std::string& what) {
    try {
        return hold_unknown_outcome(msg, claim_id, what);
    } catch (const std::exception&) {
        // The database still fails: the claim stays pending without a note, and
        // is resumed (the CA asked first) once it is old or the server restarts.
        msg.event.detail = what + "; the claim could not be held either";
        return pending();
    }
}

EnrolmentAnswer Enrolment::hold_unavailable(EnrolmentMessage& msg, std::int64_t claim_id,
                                            const std::exception& why) {
    // The CA did not act on the request. The device has done its part (a
    // one-time password is used up): the claim stays, with its sealed CSR, and
    // the device's next CertPoll or re-send submits it again once the CA is back.
    m_requests.hold_for_retry(claim_id, std::string("CA unavailable: ") + why.what());
    if (m_options.ca_unavailable == WhenCaUnavailable::fail) {
        throw backend::BackendUnavailable(why.what());
    }
    msg.event.detail = std::string("the CA is unavailable (") + why.what() +
                       "): held, submitted again at the device's next attempt";
    return pending();
}

EnrolmentAnswer Enrolment::resume_from_stored(EnrolmentMessage& msg, store::RequestRecord claim,
                                              CaAsked asked) {
    const bool renewal = claim.kind.starts_with("Renewal:");
    // A renewal's certificate is checked again when it is resumed: only a
    // CertPoll signed by that very certificate can resume it.
    const bool by_renewing_certificate = renewal && claim.signer_hash == certificate_hash(msg.signer);
    const Bytes csr_der = stored_csr(claim);
    if (csr_der.empty() || (renewal && !by_renewing_certificate)) {
        throw scep::ScepFailure(
            scep::FailInfo::bad_request,
            "the CA has not taken this request (unavailable or interrupted): send the request again");
    }
    return resume(msg, scep::parse_csr(csr_der), std::move(claim), by_renewing_certificate, asked);
}

EnrolmentAnswer Enrolment::hold_unknown_outcome(EnrolmentMessage& msg, std::int64_t claim_id,
                                                const std::string& why) {
    // The device has done its part; the claim stays, and its next attempt
    // (re-sent request or CertPoll) asks the CA what it did before anything else.
    m_requests.hold_for_retry(claim_id, std::string(outcome_unknown_note) + why);
    msg.event.detail = "the CA's outcome is unknown (" + why + "): held, the CA is asked at the next attempt";
    return pending();
}

EnrolmentAnswer Enrolment::hold_for_operator(EnrolmentMessage& msg, std::int64_t claim_id,
                                             const std::string& note) {
    m_requests.hold_for_retry(claim_id, note);
    msg.event.detail =
        "the CA's outcome is unknown and the CA cannot tell: held for an operator (scep-ra request retry)";
    return pending();
}

Bytes Enrolment::stored_csr(const store::RequestRecord& record) const {
    if (record.csr_sealed.empty()) {
        return {};
    }
    try {
        return m_seal.open(record.csr_sealed, store::sealed_csr_row(record.transaction_id, record.kind));
    } catch (const std::runtime_error&) {
        return {};  // another instance key, or altered: the CA is asked without it
    }
}

EnrolmentAnswer Enrolment::answer_from(EnrolmentMessage& msg, store::RequestRecord record,
                                       const std::string& note) {
    if (!note.empty()) {
        msg.event.detail = note + ": stored outcome returned";
    }
    msg.event.challenge_id = msg.event.challenge_id ? msg.event.challenge_id : record.challenge_id;
    if (resumable(record, msg.now) && outcome_unknown(record.fail_text)) {
        // A CertPoll (or a duplicate) for a submission whose answer was lost:
        // the CA's own record, or PENDING until it or an operator decides.
        std::optional<backend::SubmitResult> done;
        const Bytes csr_der = stored_csr(record);
        try {
            done = m_backend.find_by_transaction(transaction_query(record, csr_der));
        } catch (const std::exception& e) {
            msg.event.detail =
                std::string("the CA's outcome is unknown and the CA cannot be asked: ") + e.what();
            return pending();
        }
        if (!done && m_backend.capabilities().find_by_transaction && !csr_der.empty()) {
            if (!settled(record, m_backend.settle_time(), msg.now)) {
                // The CA may still be working on the lost call: no second
                // submission before it has had time to finish.
                msg.event.detail =
                    "the CA's outcome is unknown and it has no record yet: asked again at the next attempt";
                return pending();
            }
            // Asked with the request itself, the CA has no record of it: the
            // lost attempt never reached it, so it is submitted again (without asking twice).
            return resume_from_stored(msg, std::move(record), CaAsked::no_record);
        }
        if (!done) {
            msg.event.detail =
                "the CA's outcome is unknown and the CA cannot tell: held for an operator (scep-ra request "
                "retry)";
            return pending();
        }
        msg.event.detail = "completed a request whose answer was lost with the CA's answer";
        record.fail_text.reset();
        if (auto unstored = store_found(msg, record, *done)) {
            // Nothing was written: the claim keeps its note, and the CA is asked again.
            msg.event.detail = *unstored;
            return pending();
        }
    }
    if (resumable(record, msg.now)) {
        return resume_from_stored(msg, std::move(record));
    }
    if (record.status == "pending" && awaiting_approval(record.fail_text)) {
        msg.event.detail = "awaiting approval";
        return pending();
    }
    if (record.status == "pending" && record.backend_ref) {
        // A device takes FAILURE as final, but the request still waits at the
        // CA: asking again is read-only, so an unreachable CA keeps it PENDING.
        auto still_pending = [&](const std::exception& e) {
            msg.event.detail = std::string("the CA was unavailable while polling: ") + e.what();
            return pending();
        };
        backend::SubmitResult result;
        try {
            result = m_backend.poll(
                {*record.backend_ref, record.transaction_id, record.template_name, stored_csr(record)});
        } catch (const backend::BackendUnavailable& e) {
            return still_pending(e);
        } catch (const backend::OutcomeUnknown& e) {
            return still_pending(e);
        }
        if (result.disposition != backend::Disposition::pending) {
            if (auto unstored = store_found(msg, record, result)) {
                // Nothing was written: the request still waits at the CA under
                // its reference, and the next poll asks it again.
                msg.event.detail = *unstored;
                return pending();
            }
        }
    }
    if (decided(record)) {
        tell_outcome(msg, record);
    }
    if (record.status == "issued") {
        // Issued certificates stay DER from the backend to the reply (crypto/der.hpp).
        std::vector<Bytes> chain = scep::degenerate_cert_ders(record.chain_der);
        std::vector<ByteView> certs{record.cert_der};
        certs.insert(certs.end(), chain.begin(), chain.end());
        msg.event.serial = crypto::serial_hex_of_der(record.cert_der);
        return {true, scep::make_degenerate_der(certs)};
    }
    if (record.status == "rejected") {
        const std::string text = record.fail_text.value_or("rejected");
        throw scep::ScepFailure(fail_info_from_name(record.fail_info.value_or("badRequest")), text);
    }
    return pending();
}

void Enrolment::store_outcome(EnrolmentMessage& msg, const store::RequestRecord& record) {
    if (msg.audit == nullptr || !m_requests.writes_to(msg.audit->database())) {
        m_requests.update(record);
        return;
    }
    std::optional<store::AuditEvent> written;
    msg.audit->database().write([&](store::Database& db) {
        m_requests.update_in(db, record);
        written = write_outcome_event(db, msg, msg.event, record);
    });
    if (written && msg.written_with_outcome != nullptr) {
        *msg.written_with_outcome = std::move(written);
    }
}

std::optional<store::AuditEvent> Enrolment::write_outcome_event(store::Database& db,
                                                                const EnrolmentMessage& msg,
                                                                store::AuditEvent so_far,
                                                                const store::RequestRecord& record) {
    if (msg.audit == nullptr || msg.written_with_outcome == nullptr || &msg.audit->database() != &db ||
        !decided(record)) {
        return std::nullopt;
    }
    store::AuditEvent event = final_event(std::move(so_far), record);
    try {
        msg.audit->record_in(db, event);
    } catch (const store::DbError&) {
        // The outcome stands without it (as when the audit had a commit of its
        // own): the caller writes the event afterwards, or says it could not.
        return std::nullopt;
    }
    return event;
}

void Enrolment::tell_outcome(const EnrolmentMessage& msg, const store::RequestRecord& record) {
    if (m_options.outcome_listeners.empty()) {
        return;
    }
    try {
        if (!m_requests.mark_outcome_told(record.id)) {
            return;  // told already
        }
    } catch (const std::exception&) {
        // The outcome is stored and the device's answer never depends on the
        // listeners: they are told at the transaction's next attempt instead.
        return;
    }
    EnrolmentOutcome outcome;
    outcome.kind =
        record.status == "issued" ? EnrolmentOutcome::Kind::issued : EnrolmentOutcome::Kind::rejected;
    outcome.transaction_id = record.transaction_id;
    outcome.template_name = record.template_name;
    outcome.peer = record.requester.value_or(msg.peer);
    outcome.message_type = record.kind.starts_with("Renewal:") ? "RenewalReq" : "PKCSReq";
    outcome.csr_der =
        stored_csr(record);  // gone from the database, still in this record when it was just decided
    outcome.certificate_der = record.cert_der;
    outcome.reason = record.status == "rejected" ? record.fail_text.value_or("rejected") : std::string();
    outcome.at = msg.now;
    for (const auto& listener : m_options.outcome_listeners) {
        listener->on_outcome(outcome);
    }
}

EnrolmentAnswer Enrolment::poll(EnrolmentMessage& msg) {
    // A transactionID names one PKCSReq and any renewals of it: another device
    // may have sent a request of another kind with the same one, so the
    // poller's own request is picked, never merely the newest.
    auto records = m_requests.find_all(msg.transaction_id, max_requests_per_transaction);
    if (records.empty()) {
        throw scep::ScepFailure(scep::FailInfo::bad_cert_id, "no request for this transaction");
    }
    X509& signer = msg.signer;
    const Bytes poller_key = key_hash(*X509_get_X509_PUBKEY(&signer));
    const Bytes signer_hash = certificate_hash(signer);
    for (auto& record : records) {
        // The requester's new key (a PKCSReq's self-signed certificate), or the
        // very certificate that signed the request; a serial alone could be
        // another CA's. Claims older than schema 6 have no signer hash: the
        // serial then counts only for a certificate of our CA.
        const bool same_signer = record.signer_hash.empty()
                                     ? record.kind == "Renewal:" + crypto::serial_hex(signer) &&
                                           !self_signed(signer) && issued_by(signer, issuers()->ca_chain)
                                     : record.signer_hash == signer_hash;
        if (poller_key == record.key_hash || same_signer) {
            msg.event.subject = record.subject;
            return answer_from(msg, std::move(record), "");
        }
    }
    throw scep::ScepFailure(scep::FailInfo::bad_cert_id,
                            "no request for this transaction from this requester");
}

}  // namespace scepra::core
