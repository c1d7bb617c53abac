// SPDX-License-Identifier: Apache-2.0
// SCEP operations: GetCACert, GetCACaps and PKIOperation (PKCSReq,
// RenewalReq, CertPoll, GetCert, GetCRL), with stored outcomes for repeated
// transactions and pending requests that survive restarts.
#include "core/scep_service.hpp"

#include <openssl/objects.h>

#include "crypto/der.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "scep/caps.hpp"
#include "scep/cert_rep.hpp"
#include "scep/csr.hpp"
#include "scep/degenerate.hpp"
#include "scep/message_data.hpp"
#include "scep/signed_message.hpp"

namespace scepra::core {

namespace {

constexpr const char* pki_message_type = "application/x-pki-message";

// A claim still pending without a CA reference after this long was left by
// an RA that stopped while the CA had the request: no CA call takes this long.
// (A claim the CA refused as unavailable is marked, and resumable at once.)
constexpr auto interrupted_claim_age = std::chrono::minutes(10);

using store::outcome_unknown_note;

bool outcome_unknown(const std::optional<std::string>& note) {
    return note && note->starts_with(outcome_unknown_note);
}

bool digest_supported(int nid) {
    // RFC 8894 §2.9 forbids MD5; SHA-1 is allowed for legacy clients (§7.9).
    return nid == NID_sha1 || nid == NID_sha224 || nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512;
}

ScepResponse plain(int status, const std::string& text, const std::string& log) {
    return {status, "text/plain", text + "\n", log};
}

/// Keeps client-chosen text printable and short before it reaches a log line.
std::string printable(const std::string& s, size_t max = 80) {
    std::string out;
    for (char c : s.substr(0, max)) {
        out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out;
}

scep::FailInfo fail_info_from_name(const std::string& name) {
    for (auto info : {scep::FailInfo::bad_alg, scep::FailInfo::bad_message_check, scep::FailInfo::bad_request,
                      scep::FailInfo::bad_time, scep::FailInfo::bad_cert_id}) {
        if (scep::fail_info_name(info) == name) {
            return info;
        }
    }
    return scep::FailInfo::bad_request;
}

bool self_signed(X509& cert) { return X509_check_issued(&cert, &cert) == X509_V_OK; }

/// SHA-256 of the CSR's CertificationRequestInfo: what its signature covers,
/// so a CSR signed again (ECDSA signatures differ every time) hashes the same,
/// while any change of subject, key, attribute or extension does not.
Bytes request_info_hash(const scep::Csr& csr) {
    crypto::der::Reader outer(csr.der);
    if (auto request = outer.expect(crypto::der::tag_sequence)) {
        crypto::der::Reader inner(request->content);
        if (auto info = inner.expect(crypto::der::tag_sequence)) {
            return crypto::sha256(info->whole);
        }
    }
    // Not DER (OpenSSL also accepts some BER): hash OpenSSL's DER encoding of it.
    unsigned char* der = nullptr;
    const int len = i2d_re_X509_REQ_tbs(csr.req.get(), &der);
    crypto::check(len > 0, "i2d_re_X509_REQ_tbs");
    Bytes hash = crypto::sha256(ByteView(der, static_cast<size_t>(len)));
    OPENSSL_free(der);
    return hash;
}

Bytes certificate_hash(const X509& cert) { return crypto::sha256(crypto::cert_der(cert)); }

/// Copies a backend's final answer (issued or rejected) into the stored request.
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

}  // namespace

/// Everything one PKIOperation carries through the service.
struct ScepService::Transaction {
    const ScepRequest& request;
    scep::SignedMessage msg;
    scep::ReplyTo reply_to;
    scep::Signer signer;
    store::AuditEvent event;
    std::string log;
    TimePoint now;
    scep::EnvelopeAlgorithms reply_algorithms;  ///< mirrors the request once its envelope is open
};

ScepService::ScepService(ServiceOptions options, RaIdentity identity, backend::CaBackend& backend,
                         ChallengeVerifier& challenges, store::AuditLog& audit, store::RequestStore& requests,
                         const Clock& clock)
    : m_options(std::move(options)),
      m_identity(std::move(identity)),
      m_backend(backend),
      m_challenges(challenges),
      m_audit(audit),
      m_requests(requests),
      m_clock(clock),
      m_ca_chain(backend.ca_chain()) {
    if (!m_options.revocation) {
        m_options.revocation = std::make_shared<BackendRevocationCheck>(m_backend);
    }
    if (m_options.ciphers.allow_single_des) {
        scep::enable_legacy_ciphers();
    }
    // NDES order: RA signing, RA encryption, CA. Windows' client expects both
    // RA certificates and certmonger needs the CA to verify replies.
    std::vector<X509*> certs{m_identity.signing_cert.get(), m_identity.encryption_cert.get()};
    for (const auto& c : m_ca_chain) {
        certs.push_back(c.get());
    }
    m_ca_certs_der = scep::make_degenerate(certs);
}

ScepResponse ScepService::handle(const ScepRequest& request) {
    if (request.operation == "GetCACert") {
        return {200, "application/x-x509-ca-ra-cert", to_string(m_ca_certs_der), "GetCACert"};
    }
    std::shared_ptr<const Bytes> next_ca;
    {
        std::lock_guard lock(m_next_ca_mutex);
        next_ca = m_next_ca;
    }
    if (request.operation == "GetCACaps") {
        return {200, "text/plain",
                scep::render_caps({.renewal = m_options.renewal.enabled, .get_next_ca_cert = next_ca != nullptr}),
                "GetCACaps"};
    }
    if (request.operation == "GetNextCACert") {
        if (!next_ca) {
            return plain(404, "no CA or RA rollover is in progress", "GetNextCACert: none prepared");
        }
        return {200, "application/x-x509-next-ca-cert", to_string(*next_ca), "GetNextCACert"};
    }
    if (request.operation == "PKIOperation") {
        return pki_operation(request);
    }
    if (request.operation.empty()) {
        return plain(400, "missing 'operation' parameter", "no operation");
    }
    return plain(400, "unsupported operation '" + printable(request.operation) + "'",
                 "unsupported operation " + printable(request.operation));
}

ScepResponse ScepService::pki_operation(const ScepRequest& request) {
    store::AuditEvent event{.peer = request.peer, .operation = "PKIOperation"};
    auto refuse_unparseable = [&](const std::string& why) {
        event.decision = "error";
        event.detail = why;
        m_audit.record(event);
        ScepResponse out = plain(400, "not a SCEP pkiMessage: " + why, "PKIOperation unparseable: " + why);
        out.outcome = "malformed";
        return out;
    };
    if (!request.message || request.message->empty()) {
        return refuse_unparseable("empty message");
    }
    scep::SignedMessage msg;
    try {
        msg = scep::parse_signed_message(*request.message);
    } catch (const scep::DecodeError& e) {
        return refuse_unparseable(e.what());
    }

    event.message_type = scep::message_type_name(msg.attrs.message_type);
    event.transaction_id = msg.attrs.transaction_id;
    // Replies use the request's digest so that SHA-1-only clients can verify them.
    const std::string digest = digest_supported(msg.digest_nid) ? msg.digest : "SHA256";
    Transaction tx{request,
                   std::move(msg),
                   {},
                   scep::Signer{*m_identity.signing_cert, *m_identity.signing_key, digest},
                   std::move(event),
                   {},
                   m_clock.now(),
                   {}};
    tx.reply_to = {tx.msg.attrs.transaction_id, tx.msg.attrs.sender_nonce};
    tx.log = "PKIOperation " + *tx.event.message_type + " tx=" + printable(tx.msg.attrs.transaction_id);

    auto fail = [&](scep::FailInfo info, const std::string& client_text, const std::string& decision,
                    const std::string& detail) {
        tx.event.decision = decision;
        tx.event.fail_info = scep::fail_info_name(info);
        tx.event.detail = detail;
        Bytes der = scep::make_cert_rep_failure(tx.reply_to, tx.signer, info, client_text, tx.now);
        m_audit.record(tx.event);
        return ScepResponse{200, pki_message_type, to_string(der),
                            tx.log + " " + decision + " " + *tx.event.fail_info + ": " + detail,
                            *tx.event.message_type, "failure", *tx.event.fail_info, tx.msg.attrs.transaction_id};
    };

    try {
        if (!tx.msg.signature_valid) {
            throw scep::ScepFailure(scep::FailInfo::bad_message_check, "the request signature does not verify");
        }
        if (!digest_supported(tx.msg.digest_nid)) {
            throw scep::ScepFailure(scep::FailInfo::bad_alg,
                                    "unsupported digest algorithm " + (tx.msg.digest.empty() ? "?" : tx.msg.digest));
        }
        if (m_options.max_clock_skew && tx.msg.signing_time) {
            auto skew = std::chrono::abs(tx.now - *tx.msg.signing_time);
            if (skew > *m_options.max_clock_skew) {
                throw scep::ScepFailure(scep::FailInfo::bad_time, "signingTime is too far from the RA's clock");
            }
        }
        switch (static_cast<scep::MessageType>(tx.msg.attrs.message_type)) {
            case scep::MessageType::pkcs_req:
            case scep::MessageType::renewal_req:
                return enroll(tx);
            case scep::MessageType::cert_poll:
                return poll(tx);
            case scep::MessageType::get_cert:
                return get_cert(tx);
            case scep::MessageType::get_crl:
                return get_crl(tx);
            default:
                throw scep::ScepFailure(scep::FailInfo::bad_request, "unknown messageType " + *tx.event.message_type);
        }
    } catch (const scep::ScepFailure& f) {
        return fail(f.info(), f.what(), "rejected", f.what());
    } catch (const backend::BackendUnavailable& e) {
        return fail(scep::FailInfo::bad_request, "the CA is unavailable; try again later", "error",
                    std::string("CA unavailable: ") + e.what());
    } catch (const std::exception& e) {
        // The client learns nothing of our internals; the cause goes to the log and audit trail.
        return fail(scep::FailInfo::bad_request, "internal error; see the RA log", "error", e.what());
    }
}

void ScepService::set_next_ca(std::optional<Bytes> response) {
    std::lock_guard lock(m_next_ca_mutex);
    m_next_ca = response ? std::make_shared<const Bytes>(std::move(*response)) : nullptr;
}

Bytes ScepService::open_message_data(Transaction& tx) {
    std::vector<scep::Recipient> recipients{{*m_identity.encryption_cert, *m_identity.encryption_key}};
    if (m_identity.previous_encryption_cert && m_identity.previous_encryption_key) {
        // Clients that fetched GetCACert before the rollover still encrypt to the old certificate.
        recipients.push_back({*m_identity.previous_encryption_cert, *m_identity.previous_encryption_key});
    }
    scep::OpenedEnvelope opened = scep::open_envelope(tx.msg.content, recipients, m_options.ciphers);
    tx.reply_algorithms = {scep::reply_cipher_for(opened.algorithms.cipher), opened.algorithms.oaep};
    return std::move(opened.content);
}

ScepResponse ScepService::success(Transaction& tx, const Bytes& degenerate) {
    Bytes der =
        scep::make_cert_rep_success(tx.reply_to, tx.signer, degenerate, *tx.msg.signer_cert, tx.reply_algorithms, tx.now);
    tx.event.decision = "issued";
    m_audit.record(tx.event);
    return {200, pki_message_type, to_string(der),
            tx.log + " success" + (tx.event.serial ? " serial=" + *tx.event.serial : ""), *tx.event.message_type,
            "success", "", tx.msg.attrs.transaction_id};
}

ScepResponse ScepService::pending(Transaction& tx) {
    Bytes der = scep::make_cert_rep_pending(tx.reply_to, tx.signer, tx.now);
    tx.event.decision = "pending";
    m_audit.record(tx.event);
    return {200, pki_message_type, to_string(der), tx.log + " pending", *tx.event.message_type, "pending", "",
            tx.msg.attrs.transaction_id};
}

ScepResponse ScepService::enroll(Transaction& tx) {
    const bool renewal_message = tx.msg.attrs.message_type == static_cast<int>(scep::MessageType::renewal_req);
    scep::Csr csr = scep::parse_csr(open_message_data(tx));
    tx.event.subject = csr.subject;
    tx.log += " subject=" + printable(csr.subject, 120);
    if (!csr.signature_valid) {
        throw scep::ScepFailure(scep::FailInfo::bad_message_check, "the PKCS#10 signature does not verify");
    }
    X509& signer = *tx.msg.signer_cert;
    // A RenewalReq, or a PKCSReq signed by a certificate our CA issued, is
    // authenticated by that certificate (RFC 8894 §2.3, NDES renewal). With
    // renewal disabled such a PKCSReq is an ordinary one: its password decides.
    bool by_certificate = !self_signed(signer) && issued_by(signer, m_ca_chain);
    for (const auto& previous : m_identity.previous_cas) {
        std::vector<crypto::X509Ptr> old_chain;
        old_chain.push_back(crypto::up_ref(*previous));
        by_certificate = by_certificate || (!self_signed(signer) && issued_by(signer, old_chain));
    }
    if (renewal_message && !by_certificate) {
        throw scep::ScepFailure(scep::FailInfo::bad_cert_id,
                                "a RenewalReq must be signed by a certificate issued by this CA");
    }
    if (renewal_message && !m_options.renewal.enabled) {
        throw scep::ScepFailure(scep::FailInfo::bad_request, "renewal is disabled on this RA");
    }
    by_certificate = by_certificate && m_options.renewal.enabled;
    const Bytes csr_key = key_hash(*X509_REQ_get_X509_PUBKEY(csr.req.get()));
    const std::string kind = by_certificate ? "Renewal:" + crypto::serial_hex(signer) : "PKCSReq";

    // A transactionID seen before: its stored outcome, never a second certificate.
    if (auto existing = m_requests.find(tx.msg.attrs.transaction_id, kind)) {
        if (existing->key_hash != csr_key) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, "this transactionID was already used with another key");
        }
        if (!resumable(*existing, tx.now)) {
            return answer_from(tx, std::move(*existing), "repeated request");
        }
        return resume(tx, csr, std::move(*existing), by_certificate);
    }

    if (by_certificate) {
        if (auto why = renewal_refusal(signer, csr, *m_options.revocation, m_options.renewal, tx.now)) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, *why);
        }
        tx.event.detail = "renewal authenticated by certificate " + crypto::serial_hex(signer);
    }
    // A renewal keeps the certificate's template; the new CSR's keyUsage does not choose it.
    const std::string template_name =
        by_certificate ? renewal_template(signer) : select_template(*csr.req, m_options.templates);
    // A key the template refuses is refused before the challenge, so that it does not use up a one-time password.
    if (EVP_PKEY* subject_key = X509_REQ_get0_pubkey(csr.req.get())) {
        if (auto why = m_backend.key_refusal(template_name, *subject_key)) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, "rejected by the CA: " + *why);
        }
    }

    // Claim the transaction before the CA sees it, so that a duplicate racing
    // with this one gets the stored outcome instead of a second certificate.
    // The claim is also the RA's write-ahead record of the CA call: resume()
    // asks the CA what became of it when its answer was never stored.
    store::RequestRecord record;
    record.transaction_id = tx.msg.attrs.transaction_id;
    record.kind = kind;
    record.key_hash = csr_key;
    record.subject = csr.subject;
    record.template_name = template_name;
    record.status = "pending";
    record.backend = m_backend.name();
    record.requester = tx.request.peer;
    record.csr_info_hash = request_info_hash(csr);
    record.signer_hash = certificate_hash(signer);
    try {
        if (!by_certificate) {
            // Policy refusals come before the challenge, so they do not use up a one-time password.
            if (m_options.existing_subject_requires_renewal && m_backend.subject_has_valid_certificate(csr.subject)) {
                throw scep::ScepFailure(scep::FailInfo::bad_request,
                                        "this subject already holds a valid certificate: renew it with that certificate");
            }
            // A one-time password is used up in the transaction that records
            // the claim: both happen, or neither (the password stays usable).
            auto claim = [&](store::Database& db, std::int64_t challenge) {
                record.challenge_id = challenge;
                auto id = m_requests.insert_in(db, record);
                if (!id) {
                    throw store::ClaimExists();
                }
                record.id = *id;
            };
            ChallengeVerdict verdict = m_challenges.verify({csr, template_name, tx.msg.attrs.transaction_id, tx.request.peer, claim});
            if (!verdict.accepted) {
                throw scep::ScepFailure(scep::FailInfo::bad_request, verdict.reason);
            }
            record.challenge_id = verdict.challenge_id;
            tx.event.challenge_id = verdict.challenge_id;
            if (!verdict.note.empty()) {
                tx.event.detail = verdict.note;
            }
        }
        if (record.id == 0) {  // no one-time password made the claim
            auto id = m_requests.insert(record);
            if (!id) {
                throw store::ClaimExists();
            }
            record.id = *id;
        }
    } catch (const store::ClaimExists&) {
        auto existing = m_requests.find(record.transaction_id, kind);
        if (!existing || existing->key_hash != csr_key) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, "this transactionID was already used with another key");
        }
        return answer_from(tx, std::move(*existing), "concurrent duplicate");
    }

    return submit_claimed(tx, csr, std::move(record));
}

std::string ScepService::renewal_template(X509& signer) {
    // The RA's own row for the certificate; a certificate issued before the
    // RA recorded serials is judged by its own keyUsage.
    if (auto issued = m_requests.find_issued(crypto::serial_hex(signer));
        issued && issued->cert_der == crypto::cert_der(signer)) {
        return issued->template_name;
    }
    return select_template(signer, m_options.templates);
}

bool ScepService::resumable(const store::RequestRecord& record, TimePoint now) {
    return record.status == "pending" && !record.backend_ref &&
           (record.fail_text || record.updated_at < sql_time(now - interrupted_claim_age));
}

ScepResponse ScepService::resume(Transaction& tx, const scep::Csr& csr, store::RequestRecord claim,
                                 bool by_certificate) {
    // The claim was authenticated when it was made (its one-time password is
    // used up by now); a renewal's certificate is checked again, it may have
    // been revoked since.
    const bool after_outage = claim.fail_text.has_value();
    // The claim was checked as it was first sent: only that request may
    // resume it (the key alone would let a device change its subject or SANs).
    if (!claim.csr_info_hash.empty() ? claim.csr_info_hash != request_info_hash(csr) : claim.subject != csr.subject) {
        throw scep::ScepFailure(scep::FailInfo::bad_request,
                                "the re-sent request differs from the one first sent for this transactionID");
    }
    if (!claim.signer_hash.empty() && by_certificate && claim.signer_hash != certificate_hash(*tx.msg.signer_cert)) {
        throw scep::ScepFailure(scep::FailInfo::bad_request,
                                "the re-sent renewal is signed by another certificate than the first");
    }
    if (by_certificate) {
        if (auto why = renewal_refusal(*tx.msg.signer_cert, csr, *m_options.revocation, m_options.renewal, tx.now)) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, *why);
        }
    }
    if (!m_requests.take_over(claim)) {  // another copy of this request got there first
        auto now_stored = m_requests.find(claim.transaction_id, claim.kind);
        if (!now_stored) {
            throw scep::ScepFailure(scep::FailInfo::bad_request,
                                    "the request changed while it was being resumed; send it again");
        }
        return answer_from(tx, std::move(*now_stored), "concurrent duplicate");
    }
    tx.event.challenge_id = claim.challenge_id;
    const std::optional<std::string> held_note = std::move(claim.fail_text);
    claim.fail_text.reset();
    // The RA may have stopped after the CA acted and before its answer was
    // stored, or the CA's answer was lost: that answer, never a second certificate.
    std::optional<backend::SubmitResult> found;
    try {
        found = m_backend.find_by_transaction({claim.transaction_id, claim.key_hash, claim.template_name, csr.der});
    } catch (const std::exception& e) {
        // The CA cannot be asked: the claim keeps its note (take_over cleared it).
        const bool unknown = outcome_unknown(held_note);
        m_requests.hold_for_retry(claim.id, unknown ? *held_note : std::string("CA unavailable: ") + e.what());
        if (unknown) {
            tx.event.detail = std::string("the CA's outcome is unknown and the CA cannot be asked: ") + e.what();
            return pending(tx);
        }
        throw;
    }
    if (auto done = std::move(found)) {
        tx.event.detail = "completed an interrupted request with the CA's earlier answer";
        if (done->disposition == backend::Disposition::pending) {
            claim.backend_ref = done->backend_ref;
        }
        record_outcome(claim, *done);
        m_requests.update(claim);
        return answer_from(tx, std::move(claim), "");
    }
    if (outcome_unknown(held_note)) {
        return hold_for_operator(tx, claim.id, *held_note);
    }
    tx.event.detail = after_outage ? "resumed a request the CA could not take before"
                                   : "resumed a request that was interrupted before the CA answered it";
    return submit_claimed(tx, csr, std::move(claim));
}

ScepResponse ScepService::submit_claimed(Transaction& tx, const scep::Csr& csr, store::RequestRecord record) {
    backend::SubmitResult result;
    try {
        result = m_backend.submit(
            {tx.msg.attrs.transaction_id, csr.der, record.template_name, tx.request.peer, csr.req.get()});
    } catch (const backend::BackendUnavailable& e) {
        // The device has done its part (a one-time password is used up): the
        // claim stays, and its next attempt resumes it once the CA is back.
        m_requests.hold_for_retry(record.id, std::string("CA unavailable: ") + e.what());
        throw;
    } catch (const backend::OutcomeUnknown& e) {
        return hold_unknown_outcome(tx, record.id, e.what());
    } catch (const std::exception& e) {
        // Neither contract exception: the CA may have acted before it failed.
        return hold_unknown_outcome(tx, record.id, std::string("unexpected error from the CA backend: ") + e.what());
    }
    if (result.disposition == backend::Disposition::pending) {
        record.backend_ref = result.backend_ref;
    }
    record_outcome(record, result);
    m_requests.update(record);
    return answer_from(tx, std::move(record), "");
}

ScepResponse ScepService::hold_unknown_outcome(Transaction& tx, std::int64_t claim_id, const std::string& why) {
    // The device has done its part; the claim stays, and its next attempt
    // (re-sent request or CertPoll) asks the CA what it did before anything else.
    m_requests.hold_for_retry(claim_id, std::string(outcome_unknown_note) + why);
    tx.event.detail = "the CA's outcome is unknown (" + why + "): held, the CA is asked at the next attempt";
    return pending(tx);
}

ScepResponse ScepService::hold_for_operator(Transaction& tx, std::int64_t claim_id, const std::string& note) {
    m_requests.hold_for_retry(claim_id, note);
    tx.event.detail =
        "the CA's outcome is unknown and the CA cannot tell: held for an operator (scep-ra request retry)";
    return pending(tx);
}

ScepResponse ScepService::answer_from(Transaction& tx, store::RequestRecord record, const std::string& note) {
    if (!note.empty()) {
        tx.event.detail = note + ": stored outcome returned";
    }
    tx.event.challenge_id = tx.event.challenge_id ? tx.event.challenge_id : record.challenge_id;
    if (resumable(record, tx.now) && outcome_unknown(record.fail_text)) {
        // A CertPoll (or a duplicate) for a submission whose answer was lost:
        // the CA's own record, or PENDING until it or an operator decides.
        std::optional<backend::SubmitResult> done;
        try {
            done = m_backend.find_by_transaction({record.transaction_id, record.key_hash, record.template_name, {}});
        } catch (const std::exception& e) {
            tx.event.detail = std::string("the CA's outcome is unknown and the CA cannot be asked: ") + e.what();
            return pending(tx);
        }
        if (!done) {
            tx.event.detail =
                "the CA's outcome is unknown and the CA cannot tell: held for an operator (scep-ra request retry)";
            return pending(tx);
        }
        tx.event.detail = "completed a request whose answer was lost with the CA's answer";
        record.fail_text.reset();
        if (done->disposition == backend::Disposition::pending) {
            record.backend_ref = done->backend_ref;
        }
        record_outcome(record, *done);
        m_requests.update(record);
    }
    if (resumable(record, tx.now)) {
        // Only a PKCSReq carries what is needed to submit it again (enroll() resumes it).
        throw scep::ScepFailure(scep::FailInfo::bad_request,
                                "the CA has not taken this request (unavailable or interrupted): send the request again");
    }
    if (record.status == "pending" && record.backend_ref) {
        // A device takes FAILURE as final, but the request still waits at the
        // CA: asking again is read-only, so an unreachable CA keeps it PENDING.
        auto still_pending = [&](const std::exception& e) {
            tx.event.detail = std::string("the CA was unavailable while polling: ") + e.what();
            return pending(tx);
        };
        backend::SubmitResult result;
        try {
            result = m_backend.poll({*record.backend_ref, record.transaction_id, record.template_name, {}});
        } catch (const backend::BackendUnavailable& e) {
            return still_pending(e);
        } catch (const backend::OutcomeUnknown& e) {
            return still_pending(e);
        }
        if (result.disposition != backend::Disposition::pending) {
            record_outcome(record, result);
            m_requests.update(record);
        }
    }
    if (record.status == "issued") {
        // Issued certificates stay DER from the backend to the reply (crypto/der.hpp).
        std::vector<Bytes> chain = scep::degenerate_cert_ders(record.chain_der);
        std::vector<ByteView> certs{record.cert_der};
        certs.insert(certs.end(), chain.begin(), chain.end());
        tx.event.serial = crypto::serial_hex_of_der(record.cert_der);
        return success(tx, scep::make_degenerate_der(certs));
    }
    if (record.status == "rejected") {
        const std::string text = record.fail_text.value_or("rejected");
        throw scep::ScepFailure(fail_info_from_name(record.fail_info.value_or("badRequest")), text);
    }
    return pending(tx);
}

ScepResponse ScepService::poll(Transaction& tx) {
    // RFC 8894 §3.3.3: polling is keyed on the transactionID; the
    // IssuerAndSubject content is not needed to find the request.
    open_message_data(tx);
    auto record = m_requests.find_latest(tx.msg.attrs.transaction_id);
    if (!record) {
        throw scep::ScepFailure(scep::FailInfo::bad_cert_id, "no request for this transaction");
    }
    X509& signer = *tx.msg.signer_cert;
    // The requester's new key (a PKCSReq's self-signed certificate), or the
    // very certificate that signed the request; a serial alone could be
    // another CA's. Claims older than schema 6 have no signer hash: the
    // serial then counts only for a certificate of our CA.
    const bool same_signer = record->signer_hash.empty()
                                 ? record->kind == "Renewal:" + crypto::serial_hex(signer) && !self_signed(signer) &&
                                       issued_by(signer, m_ca_chain)
                                 : record->signer_hash == certificate_hash(signer);
    const bool same_requester = key_hash(*X509_get_X509_PUBKEY(&signer)) == record->key_hash || same_signer;
    if (!same_requester) {
        throw scep::ScepFailure(scep::FailInfo::bad_cert_id, "no request for this transaction from this requester");
    }
    tx.event.subject = record->subject;
    return answer_from(tx, std::move(*record), "");
}

ScepResponse ScepService::get_cert(Transaction& tx) {
    scep::IssuerAndSerial wanted = scep::parse_issuer_and_serial(open_message_data(tx));
    auto found = m_backend.find_certificate(wanted.issuer, wanted.serial_hex);
    if (!found) {
        throw scep::ScepFailure(scep::FailInfo::bad_cert_id, "no certificate with this issuer and serial number");
    }
    tx.event.serial = wanted.serial_hex;
    tx.event.subject = crypto::name_string(*X509_get_subject_name(found->certificate.get()));
    return success(tx, scep::make_degenerate({found->certificate.get()}));
}

ScepResponse ScepService::get_crl(Transaction& tx) {
    scep::IssuerAndSerial wanted = scep::parse_issuer_and_serial(open_message_data(tx));
    if (wanted.issuer != crypto::name_string(*X509_get_subject_name(m_ca_chain.front().get()))) {
        throw scep::ScepFailure(scep::FailInfo::bad_cert_id, "this RA serves the CRL of " +
                                                                 crypto::name_string(*X509_get_subject_name(m_ca_chain.front().get())) +
                                                                 " only");
    }
    auto crl_der = m_backend.crl();
    if (!crl_der) {
        throw scep::ScepFailure(scep::FailInfo::bad_request, "the CA backend publishes no CRL");
    }
    const unsigned char* p = crl_der->data();
    crypto::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(crl_der->size())));
    if (!crl) {
        throw std::runtime_error("the backend's CRL cannot be parsed");
    }
    return success(tx, scep::make_degenerate({}, {crl.get()}));
}

}  // namespace scepra::core
