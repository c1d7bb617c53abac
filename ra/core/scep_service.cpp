// SPDX-License-Identifier: Apache-2.0
// SCEP operations: GetCACert, GetCACaps and PKIOperation (PKCSReq).
#include "core/scep_service.hpp"

#include <openssl/objects.h>

#include <cstdlib>

#include "crypto/encoding.hpp"
#include "scep/caps.hpp"
#include "scep/cert_rep.hpp"
#include "scep/csr.hpp"
#include "scep/degenerate.hpp"
#include "scep/signed_message.hpp"

namespace scepra::core {

namespace {

constexpr const char* pki_message_type = "application/x-pki-message";

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

}  // namespace

ScepService::ScepService(ServiceOptions options, RaIdentity identity, backend::CaBackend& backend,
                         ChallengeVerifier& challenges, store::AuditLog& audit, const Clock& clock)
    : m_options(std::move(options)),
      m_identity(std::move(identity)),
      m_backend(backend),
      m_challenges(challenges),
      m_audit(audit),
      m_clock(clock),
      m_ca_chain(backend.ca_chain()) {
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
    if (request.operation == "GetCACaps") {
        return {200, "text/plain", scep::render_caps({}), "GetCACaps"};
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
        return plain(400, "not a SCEP pkiMessage: " + why, "PKIOperation unparseable: " + why);
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

    const TimePoint now = m_clock.now();
    event.message_type = scep::message_type_name(msg.attrs.message_type);
    event.transaction_id = msg.attrs.transaction_id;
    const scep::ReplyTo reply_to{msg.attrs.transaction_id, msg.attrs.sender_nonce};
    // Replies use the request's digest so that SHA-1-only clients can verify them.
    const scep::Signer signer{*m_identity.signing_cert, *m_identity.signing_key,
                              digest_supported(msg.digest_nid) ? msg.digest : "SHA256"};
    std::string log = "PKIOperation " + *event.message_type + " tx=" + printable(msg.attrs.transaction_id);

    auto fail = [&](scep::FailInfo info, const std::string& client_text, const std::string& decision,
                    const std::string& detail) {
        event.decision = decision;
        event.fail_info = scep::fail_info_name(info);
        event.detail = detail;
        Bytes der = scep::make_cert_rep_failure(reply_to, signer, info, client_text, now);
        m_audit.record(event);
        return ScepResponse{200, pki_message_type, to_string(der),
                            log + " " + decision + " " + *event.fail_info + ": " + detail};
    };

    try {
        if (!msg.signature_valid) {
            throw scep::ScepFailure(scep::FailInfo::bad_message_check, "the request signature does not verify");
        }
        if (!digest_supported(msg.digest_nid)) {
            throw scep::ScepFailure(scep::FailInfo::bad_alg,
                                    "unsupported digest algorithm " + (msg.digest.empty() ? "?" : msg.digest));
        }
        if (m_options.max_clock_skew && msg.signing_time) {
            auto skew = std::chrono::abs(now - *msg.signing_time);
            if (skew > *m_options.max_clock_skew) {
                throw scep::ScepFailure(scep::FailInfo::bad_time, "signingTime is too far from the RA's clock");
            }
        }
        switch (static_cast<scep::MessageType>(msg.attrs.message_type)) {
            case scep::MessageType::pkcs_req:
                break;
            case scep::MessageType::cert_poll:
                throw scep::ScepFailure(scep::FailInfo::bad_cert_id, "no pending request for this transaction");
            case scep::MessageType::renewal_req:
            case scep::MessageType::get_cert:
            case scep::MessageType::get_crl:
                throw scep::ScepFailure(scep::FailInfo::bad_request, *event.message_type + " is not supported");
            default:
                throw scep::ScepFailure(scep::FailInfo::bad_request, "unknown messageType " + *event.message_type);
        }

        scep::OpenedEnvelope opened =
            scep::open_envelope(msg.content, {{*m_identity.encryption_cert, *m_identity.encryption_key}}, m_options.ciphers);
        scep::Csr csr = scep::parse_csr(opened.content);
        event.subject = csr.subject;
        log += " subject=" + printable(csr.subject, 120);
        if (!csr.signature_valid) {
            throw scep::ScepFailure(scep::FailInfo::bad_message_check, "the PKCS#10 signature does not verify");
        }
        const std::string template_name = select_template(*csr.req, m_options.templates);
        ChallengeVerdict verdict = m_challenges.verify({csr, template_name, msg.attrs.transaction_id});
        event.challenge_id = verdict.challenge_id;
        if (!verdict.accepted) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, verdict.reason);
        }
        if (!verdict.note.empty()) {
            event.detail = verdict.note;
        }

        backend::SubmitResult result =
            m_backend.submit({msg.attrs.transaction_id, csr.der, template_name, request.peer});
        switch (result.disposition) {
            case backend::Disposition::issued: {
                std::vector<X509*> certs{result.certificate.get()};
                for (const auto& c : result.chain) {
                    certs.push_back(c.get());
                }
                scep::EnvelopeAlgorithms reply_alg{scep::reply_cipher_for(opened.algorithms.cipher),
                                                   opened.algorithms.oaep};
                Bytes der = scep::make_cert_rep_success(reply_to, signer, certs, *msg.signer_cert, reply_alg, now);
                event.decision = "issued";
                event.serial = crypto::serial_hex(*result.certificate);
                m_audit.record(event);
                return {200, pki_message_type, to_string(der), log + " issued serial=" + *event.serial};
            }
            case backend::Disposition::pending: {
                Bytes der = scep::make_cert_rep_pending(reply_to, signer, now);
                event.decision = "pending";
                m_audit.record(event);
                return {200, pki_message_type, to_string(der), log + " pending"};
            }
            case backend::Disposition::rejected:
                throw scep::ScepFailure(scep::FailInfo::bad_request, "rejected by the CA: " + result.reason);
        }
        throw std::logic_error("unknown disposition");
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

}  // namespace scepra::core
