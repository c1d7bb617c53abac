// SPDX-License-Identifier: Apache-2.0
// SCEP operations: GetCACert, GetCACaps and PKIOperation (PKCSReq,
// RenewalReq, CertPoll, GetCert, GetCRL): the message is checked and opened
// here, enrolments are decided by the state machine in enrolment.cpp.
#include "core/scep_service.hpp"

#include <openssl/objects.h>

#include "crypto/encoding.hpp"
#include "scep/caps.hpp"
#include "scep/cert_rep.hpp"
#include "scep/csr.hpp"
#include "scep/degenerate.hpp"
#include "scep/message_data.hpp"
#include "scep/signed_message.hpp"

namespace scepra::core {

namespace {

constexpr const char* pki_message_type = "application/x-pki-message";

std::vector<crypto::X509Ptr> up_ref_all(const std::vector<crypto::X509Ptr>& certs) {
    std::vector<crypto::X509Ptr> out;
    for (const auto& c : certs) {
        out.push_back(crypto::up_ref(*c));
    }
    return out;
}

bool digest_supported(int nid) {
    // RFC 8894 §2.9 forbids MD5; SHA-1 is allowed for legacy clients (§7.9).
    return nid == NID_sha1 || nid == NID_sha224 || nid == NID_sha256 || nid == NID_sha384 ||
           nid == NID_sha512;
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
    /// The event as the enrolment wrote it in its outcome's commit, if it did.
    std::optional<store::AuditEvent> written_with_outcome;
};

ScepService::ScepService(ServiceOptions options, RaIdentity identity, backend::CaBackend& backend,
                         ChallengeVerifier& challenges, store::AuditLog& audit, store::RequestStore& requests,
                         const Clock& clock)
    : m_options(std::move(options)),
      m_identity(std::move(identity)),
      m_backend(backend),
      m_audit(audit),
      m_clock(clock),
      m_ca_chain(backend.ca_chain()),
      m_enrolment({m_options.templates, m_options.renewal, m_options.existing_subject_requires_renewal,
                   m_options.csr_seal_key, m_options.ca_unavailable, m_options.template_policies,
                   m_options.revocation, m_options.outcome_listeners},
                  backend, challenges, requests, backend.ca_chain(), up_ref_all(m_identity.previous_cas)) {
    if (m_options.ciphers.allow_single_des) {
        scep::enable_legacy_ciphers();
    }
    set_ca_chain(m_ca_chain);
}

void ScepService::set_ca_chain(const std::vector<crypto::X509Ptr>& chain) {
    // NDES order: RA signing, RA encryption, CA. Windows' client expects both
    // RA certificates and certmonger needs the CA to verify replies.
    std::vector<X509*> certs{m_identity.signing_cert.get(), m_identity.encryption_cert.get()};
    for (const auto& c : chain) {
        certs.push_back(c.get());
    }
    auto answer = std::make_shared<const Bytes>(scep::make_degenerate(certs));
    std::lock_guard lock(m_ca_certs_mutex);
    m_ca_certs_der = std::move(answer);
}

void ScepService::set_issuers(const std::vector<crypto::X509Ptr>& chain,
                              const std::vector<crypto::X509Ptr>& replaced_cas) {
    std::vector<crypto::X509Ptr> previous = up_ref_all(replaced_cas);
    for (auto& local : up_ref_all(m_identity.previous_cas)) {
        previous.push_back(std::move(local));
    }
    if (m_options.revocation) {
        std::vector<crypto::X509Ptr> signers = up_ref_all(chain);
        for (const auto& ca : previous) {
            signers.push_back(crypto::up_ref(*ca));
        }
        m_options.revocation->set_ca_certs(std::move(signers));
    }
    m_enrolment.set_issuers(up_ref_all(chain), std::move(previous));
    set_ca_chain(chain);
}

ScepResponse ScepService::handle(const ScepRequest& request) {
    if (request.operation == "GetCACert") {
        std::shared_ptr<const Bytes> ca_certs;
        {
            std::lock_guard lock(m_ca_certs_mutex);
            ca_certs = m_ca_certs_der;
        }
        return {200, "application/x-x509-ca-ra-cert", to_string(*ca_certs), "GetCACert"};
    }
    std::shared_ptr<const Bytes> next_ca;
    {
        std::lock_guard lock(m_next_ca_mutex);
        next_ca = m_next_ca;
    }
    if (request.operation == "GetCACaps") {
        return {
            200, "text/plain",
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
                   {},
                   std::nullopt};
    tx.reply_to = {tx.msg.attrs.transaction_id, tx.msg.attrs.sender_nonce};
    tx.log = "PKIOperation " + *tx.event.message_type + " tx=" + printable(tx.msg.attrs.transaction_id);

    auto fail = [&](scep::FailInfo info, const std::string& client_text, const std::string& decision,
                    const std::string& detail) {
        tx.event.decision = decision;
        tx.event.fail_info = scep::fail_info_name(info);
        tx.event.detail = detail;
        Bytes der = scep::make_cert_rep_failure(tx.reply_to, tx.signer, info, client_text, tx.now);
        record_audit(tx);
        return ScepResponse{200,
                            pki_message_type,
                            to_string(der),
                            tx.log + " " + decision + " " + *tx.event.fail_info + ": " + detail,
                            *tx.event.message_type,
                            "failure",
                            *tx.event.fail_info,
                            tx.msg.attrs.transaction_id};
    };

    try {
        if (!tx.msg.signature_valid) {
            throw scep::ScepFailure(scep::FailInfo::bad_message_check,
                                    "the request signature does not verify");
        }
        if (!digest_supported(tx.msg.digest_nid)) {
            throw scep::ScepFailure(
                scep::FailInfo::bad_alg,
                "unsupported digest algorithm " + (tx.msg.digest.empty() ? "?" : tx.msg.digest));
        }
        if (m_options.max_clock_skew && tx.msg.signing_time) {
            auto skew = std::chrono::abs(tx.now - *tx.msg.signing_time);
            if (skew > *m_options.max_clock_skew) {
                throw scep::ScepFailure(scep::FailInfo::bad_time,
                                        "signingTime is too far from the RA's clock");
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
                throw scep::ScepFailure(scep::FailInfo::bad_request,
                                        "unknown messageType " + *tx.event.message_type);
        }
    } catch (const scep::ScepFailure& f) {
        const std::string detail = f.audit_detail().empty()
                                       ? std::string(f.what())
                                       : std::string(f.what()) + " (" + f.audit_detail() + ")";
        return fail(f.info(), f.what(), "rejected", detail);
    } catch (const backend::BackendUnavailable& e) {
        return fail(scep::FailInfo::bad_request, "the CA is unavailable; try again later", "error",
                    std::string("CA unavailable: ") + e.what());
    } catch (const store::DbError& e) {
        // A full disk, or the database locked past the busy timeout: nothing was
        // half-written (each decision is one SQLite transaction), and the
        // device may simply send again later.
        const int primary = e.code() & 0xff;
        if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_BUSY ||
            primary == SQLITE_LOCKED) {
            return fail(scep::FailInfo::bad_request, "the RA cannot store requests now; try again later",
                        "error", std::string("storage failure: ") + e.what());
        }
        return fail(scep::FailInfo::bad_request, "internal error; see the RA log", "error", e.what());
    } catch (const std::exception& e) {
        // The client learns nothing of our internals; the cause goes to the log and audit trail.
        return fail(scep::FailInfo::bad_request, "internal error; see the RA log", "error", e.what());
    }
}

void ScepService::record_audit(Transaction& tx) {
    if (tx.written_with_outcome && *tx.written_with_outcome == tx.event) {
        return;  // written in the commit that stored the outcome
    }
    try {
        m_audit.record(tx.event);
    } catch (const store::DbError& e) {
        tx.log += std::string(" (audit event not recorded: ") + e.what() + ")";
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
    scep::check_sealable(*tx.msg.signer_cert, tx.reply_algorithms);
    return std::move(opened.content);
}

ScepResponse ScepService::success(Transaction& tx, const Bytes& degenerate) {
    Bytes der = scep::make_cert_rep_success(tx.reply_to, tx.signer, degenerate, *tx.msg.signer_cert,
                                            tx.reply_algorithms, tx.now);
    tx.event.decision = "issued";
    record_audit(tx);
    return {200,
            pki_message_type,
            to_string(der),
            tx.log + " success" + (tx.event.serial ? " serial=" + *tx.event.serial : ""),
            *tx.event.message_type,
            "success",
            "",
            tx.msg.attrs.transaction_id};
}

ScepResponse ScepService::pending(Transaction& tx) {
    Bytes der = scep::make_cert_rep_pending(tx.reply_to, tx.signer, tx.now);
    tx.event.decision = "pending";
    record_audit(tx);
    return {200,
            pki_message_type,
            to_string(der),
            tx.log + " pending",
            *tx.event.message_type,
            "pending",
            "",
            tx.msg.attrs.transaction_id};
}

ScepResponse ScepService::enroll(Transaction& tx) {
    const bool renewal_message =
        tx.msg.attrs.message_type == static_cast<int>(scep::MessageType::renewal_req);
    scep::Csr csr = scep::parse_csr(open_message_data(tx));
    tx.event.subject = csr.subject();
    tx.log += " subject=" + printable(csr.subject(), 120);
    EnrolmentMessage msg{
        tx.msg.attrs.transaction_id, tx.request.peer, *tx.msg.signer_cert, tx.now, tx.event, &m_audit,
        &tx.written_with_outcome};
    return answer(tx, m_enrolment.request(msg, csr, renewal_message));
}

ScepResponse ScepService::poll(Transaction& tx) {
    // RFC 8894 §3.3.3: polling is keyed on the transactionID; the
    // IssuerAndSubject content is not needed to find the request.
    open_message_data(tx);
    EnrolmentMessage msg{
        tx.msg.attrs.transaction_id, tx.request.peer, *tx.msg.signer_cert, tx.now, tx.event, &m_audit,
        &tx.written_with_outcome};
    return answer(tx, m_enrolment.poll(msg));
}

ScepResponse ScepService::answer(Transaction& tx, const EnrolmentAnswer& answer) {
    return answer.issued ? success(tx, answer.certificates) : pending(tx);
}

ScepResponse ScepService::get_cert(Transaction& tx) {
    scep::IssuerAndSerial wanted = scep::parse_issuer_and_serial(open_message_data(tx));
    crypto::X509Ptr cert;
    if (m_backend.capabilities().find_certificate) {
        if (auto found = m_backend.find_certificate(wanted.issuer, wanted.serial_hex)) {
            cert = std::move(found->certificate);
        }
    } else {
        // A CA that cannot be asked (AD CS): the certificates this RA delivered.
        cert = m_enrolment.delivered(wanted.issuer, wanted.serial_hex);
    }
    if (!cert) {
        throw scep::ScepFailure(scep::FailInfo::bad_cert_id,
                                "no certificate with this issuer and serial number");
    }
    tx.event.serial = wanted.serial_hex;
    tx.event.subject = crypto::name_string(*X509_get_subject_name(cert.get()));
    return success(tx, scep::make_degenerate({cert.get()}));
}

ScepResponse ScepService::get_crl(Transaction& tx) {
    scep::IssuerAndSerial wanted = scep::parse_issuer_and_serial(open_message_data(tx));
    if (wanted.issuer != crypto::name_string(*X509_get_subject_name(m_ca_chain.front().get()))) {
        throw scep::ScepFailure(scep::FailInfo::bad_cert_id,
                                "this RA serves the CRL of " +
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
