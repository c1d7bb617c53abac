// SPDX-License-Identifier: Apache-2.0
// The AD CS backend (see adcs_backend.hpp).
#include "adcs/adcs_backend.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <utility>

#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "http/base64.hpp"

namespace scepra::backend::adcs {

namespace {

constexpr const char* peer = "the AD CS bridge";
// An answer holds one certificate and a chain of at most ten (base64 in JSON);
// the bridge's own errors are one short line.
constexpr std::size_t max_answer = 256 * 1024;
constexpr std::size_t max_chain_certs = 10;

SubmitResult rejected(std::string reason) {
    SubmitResult result;
    result.disposition = Disposition::rejected;
    result.reason = std::move(reason);
    return result;
}

/// The bridge's client_ref alphabet (its validate.py): a transactionID outside
/// it would be refused with 400 after a round trip.
bool is_client_ref(const std::string& text) {
    if (text.empty() || text.size() > 128) {
        return false;
    }
    for (unsigned char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '+' || c == '/' || c == '=' || c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/// "1".."4294967295" without sign, leading zero or anything after it.
std::optional<std::uint32_t> request_id_of(const std::string& text) {
    std::uint32_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id == 0 || text.front() == '0') {
        return std::nullopt;
    }
    return id;
}

/// One DER certificate and nothing after it.
crypto::X509Ptr strict_certificate(const Bytes& der, const char* what) {
    try {
        return crypto::cert_from_exact_der(der);
    } catch (const crypto::OpensslError&) {
        throw BadAnswer(std::string(what) + " is not one DER certificate");
    }
}

/// Checks that certs are CA certificates, each issued by the next (issuing CA
/// first, as the bridge's API and the chain file put them).
void check_chain_order(const std::vector<crypto::X509Ptr>& certs, const std::string& source) {
    if (certs.empty() || certs.size() > max_chain_certs) {
        throw BadAnswer(source + ": expected 1 to " + std::to_string(max_chain_certs) + " CA certificates");
    }
    for (std::size_t i = 0; i < certs.size(); ++i) {
        if (X509_check_ca(certs[i].get()) < 1) {
            throw BadAnswer(source + ": " + crypto::name_string(*X509_get_subject_name(certs[i].get())) +
                            " is not a CA certificate");
        }
        if (i + 1 < certs.size() && X509_check_issued(certs[i + 1].get(), certs[i].get()) != X509_V_OK) {
            throw BadAnswer(source + ": certificate " + std::to_string(i + 2) +
                            " did not issue certificate " + std::to_string(i + 1) +
                            " (issuing CA first, then its issuers)");
        }
    }
}

/// What the audit trail keeps of the CA's answer.
std::string ca_words(const RequestAnswer& answer) {
    std::string text = answer.request_id != 0 ? "AD CS request " + std::to_string(answer.request_id)
                                              : std::string("AD CS, no request made");
    if (answer.disposition) {
        text += ", disposition " + std::to_string(*answer.disposition);
    }
    if (!answer.hresult.empty()) {
        text += ", HRESULT " + answer.hresult;
    }
    return text + ": " + audit_text(answer.message.empty() ? "(no message)" : answer.message);
}

std::string bridge_words(const http::HttpAnswer& answer) {
    const std::string message = read_message(answer.body);
    return "AD CS bridge HTTP " + std::to_string(answer.status) + ": " +
           audit_text(message.empty() ? "(no message)" : message);
}

}  // namespace

AdcsBackend::AdcsBackend(AdcsConfig config)
    : m_config(std::move(config)),
      m_client(http::ClientConfig{peer, m_config.bridge_url, m_config.client_cert, m_config.client_key,
                                  m_config.server_ca, m_config.timeout_seconds}) {
    if (m_config.client_cert.empty()) {
        throw std::invalid_argument(
            "AD CS client_cert and client_key are required: the bridge allows clients by "
            "their certificate");
    }
    auto chain = std::make_shared<const std::vector<crypto::X509Ptr>>(
        m_config.chain_file.empty() ? fetch_chain() : read_chain_file());
    m_issuer_dn = crypto::name_string(*X509_get_subject_name(chain->front().get()));
    m_chain = std::move(chain);
}

std::vector<crypto::X509Ptr> AdcsBackend::read_chain_file() const {
    try {
        auto chain = crypto::load_certs_file(m_config.chain_file);
        check_chain_order(chain, m_config.chain_file.string());
        return chain;
    } catch (const crypto::OpensslError& e) {
        throw std::runtime_error("AD CS chain file " + m_config.chain_file.string() +
                                 " holds no PEM certificates: " + e.what());
    } catch (const BadAnswer& e) {
        throw std::runtime_error(std::string("AD CS chain file ") + e.what());
    }
}

std::shared_ptr<const std::vector<crypto::X509Ptr>> AdcsBackend::chain() const {
    std::lock_guard lock(m_chain_mutex);
    return m_chain;
}

bool AdcsBackend::refresh_ca_chain() {
    std::vector<crypto::X509Ptr> fetched;
    if (m_config.chain_file.empty() || m_config.chain_file_is_copy) {
        fetched = fetch_chain();  // throws BackendUnavailable
    } else {
        try {
            fetched = read_chain_file();
        } catch (const std::exception& e) {  // a file being replaced, or a wrong one
            throw BackendUnavailable(e.what());
        }
    }
    const std::string issuer = crypto::name_string(*X509_get_subject_name(fetched.front().get()));
    if (issuer != m_issuer_dn) {
        // Certificates, GetCert and renewal name the issuing CA: another one needs a restart.
        throw BackendUnavailable("the AD CS issuing CA is now " + issuer + ", not " + m_issuer_dn +
                                 "; restart scep-ra to serve another issuing CA");
    }
    auto chain = std::make_shared<const std::vector<crypto::X509Ptr>>(std::move(fetched));
    std::lock_guard lock(m_chain_mutex);
    m_chain = std::move(chain);
    return true;
}

std::vector<crypto::X509Ptr> AdcsBackend::fetch_chain() const {
    const std::string advice = "; start the bridge, or set [adcs] chain to the CA chain's PEM file";
    try {
        const http::HttpAnswer answer = m_client.get("v1/ca", max_answer);
        if (answer.status != 200) {
            throw BackendUnavailable("cannot read the CA chain: " + bridge_words(answer) + " to GET /v1/ca" +
                                     advice);
        }
        std::vector<crypto::X509Ptr> chain;
        for (const Bytes& der : read_chain_answer(answer.body)) {
            chain.push_back(strict_certificate(der, "a certificate of the chain"));
        }
        check_chain_order(chain, "the AD CS bridge's CA chain");
        return chain;
    } catch (const http::TransportError& e) {
        throw BackendUnavailable(std::string("cannot read the CA chain: ") + e.what() + advice);
    } catch (const BadAnswer& e) {
        throw BackendUnavailable(std::string("the AD CS bridge's answer to GET /v1/ca is unusable: ") +
                                 e.what() + advice);
    }
}

std::vector<crypto::X509Ptr> AdcsBackend::ca_chain() const {
    std::vector<crypto::X509Ptr> copy;
    for (const auto& cert : *chain()) {
        copy.push_back(crypto::up_ref(*cert));
    }
    return copy;
}

Capabilities AdcsBackend::capabilities() const {
    Capabilities capabilities;
    capabilities.find_by_transaction = true;
    return capabilities;
}

http::HttpAnswer AdcsBackend::post_request(const SubmitRequest& request) const {
    const nlohmann::json body = {
        {"csr", http::base64_encode(request.csr_der)},
        {"template", request.template_name},
        {"client_ref", request.transaction_id},
    };
    try {
        return m_client.post_json("v1/requests", body.dump(), max_answer);
    } catch (const http::TransportError& e) {
        if (e.may_have_reached()) {
            throw OutcomeUnknown(e.what());
        }
        throw BackendUnavailable(e.what());
    }
}

AdcsSubmitOutcome AdcsBackend::submit_with_audit(const SubmitRequest& request) const {
    AdcsSubmitOutcome outcome;
    crypto::X509ReqPtr parsed;
    X509_REQ* csr = request.verified_csr;
    if (csr == nullptr) {
        try {
            parsed = crypto::csr_from_der(request.csr_der);
        } catch (const crypto::OpensslError&) {
            outcome.result = rejected("malformed certificate request");
            return outcome;
        }
        csr = parsed.get();
    }
    if (request.template_name.empty()) {
        outcome.result = rejected("no certificate template for this request (AD CS needs one)");
        return outcome;
    }
    if (!is_client_ref(request.transaction_id)) {
        outcome.result = rejected(
            "the transactionID is not one the CA bridge can file (1-128 characters of "
            "A-Z a-z 0-9 + / = _ . : -)");
        return outcome;
    }
    try {
        (void)nlohmann::json(request.template_name).dump();
    } catch (const nlohmann::json::exception&) {
        outcome.result = rejected("the certificate template name is not UTF-8");
        return outcome;
    }
    return outcome_of(post_request(request), csr, std::nullopt);
}

AdcsSubmitOutcome AdcsBackend::poll_with_audit(const PollRequest& request) const {
    const auto id = request_id_of(request.backend_ref);
    if (!id) {
        AdcsSubmitOutcome outcome;
        outcome.result = rejected("the CA's reference for this request is unusable");
        outcome.audit_detail = "not an AD CS request id: '" + audit_text(request.backend_ref, 40) + "'";
        return outcome;
    }
    crypto::X509ReqPtr csr;
    if (!request.csr_der.empty()) {
        try {
            csr = crypto::csr_from_der(request.csr_der);
        } catch (const crypto::OpensslError&) {
            csr.reset();  // the key check is then the bridge's alone
        }
    }
    http::HttpAnswer answer;
    try {
        answer = m_client.get("v1/requests/" + std::to_string(*id), max_answer);
    } catch (const http::TransportError& e) {
        if (e.may_have_reached()) {
            throw OutcomeUnknown(e.what());
        }
        throw BackendUnavailable(e.what());
    }
    return outcome_of(answer, csr.get(), *id);
}

std::optional<SubmitResult> AdcsBackend::find_by_transaction(const TransactionQuery& query) {
    if (query.csr_der.empty()) {
        return std::nullopt;  // the bridge finds a request by client_ref and CSR together
    }
    SubmitRequest request;
    request.transaction_id = query.transaction_id;
    request.csr_der = query.csr_der;
    request.template_name = query.template_name;
    return with_audit_detail(submit_with_audit(request));  // the CA's words for the audit trail too
}

AdcsSubmitOutcome AdcsBackend::outcome_of(const http::HttpAnswer& answer, X509_REQ* csr,
                                          std::optional<std::uint32_t> asked_id) const {
    AdcsSubmitOutcome outcome;
    switch (answer.status) {
        case 503:  // the CA is unreachable or busy; the bridge forgot the submission
            throw BackendUnavailable("the CA cannot be reached through the bridge: " + bridge_words(answer));
        case 403:
            throw BackendUnavailable(
                "the AD CS bridge does not allow the RA's client certificate (check its "
                "allow_client): " +
                bridge_words(answer));
        case 404:
            if (asked_id) {  // the CA (or this bridge) does not know the request: final
                outcome.result = rejected("the CA no longer knows this request");
                outcome.audit_detail = bridge_words(answer);
                return outcome;
            }
            throw BackendUnavailable("no bridge API at " + m_config.bridge_url + ": " + bridge_words(answer));
        case 400:
            outcome.result = rejected("the CA bridge refused the request as unusable");
            outcome.audit_detail = bridge_words(answer);
            return outcome;
        case 409:
            outcome.result = rejected("this transactionID was already used for another request");
            outcome.audit_detail = bridge_words(answer);
            return outcome;
        case 413:
            outcome.result = rejected("the request is too large for the CA");
            outcome.audit_detail = bridge_words(answer);
            return outcome;
        case 200:
        case 201:
        case 202:
        case 422:
            break;
        default:
            if (answer.status >= 400 && answer.status < 500) {  // refused before it was read
                throw BackendUnavailable("the AD CS bridge refused the call: " + bridge_words(answer));
            }
            throw OutcomeUnknown("the AD CS bridge answered " + bridge_words(answer));
    }
    try {
        const RequestAnswer read = read_request_answer(answer.body);
        const bool expected =
            (answer.status == 422 && read.status == "denied") ||
            (answer.status == 202 && (read.status == "pending" || read.status == "unknown")) ||
            ((answer.status == 200 || answer.status == 201) && read.status == "issued");
        if (!expected) {
            throw BadAnswer("status '" + audit_text(read.status, 40) + "' with HTTP " +
                            std::to_string(answer.status));
        }
        if (read.status == "unknown") {
            throw OutcomeUnknown(
                "the CA did not answer the bridge in time; an operator must settle the request "
                "at the bridge (scep-ra-adcs-bridge unknown): " +
                audit_text(read.message));
        }
        if (asked_id && read.request_id != *asked_id) {
            throw BadAnswer("request " + std::to_string(read.request_id) + " instead of " +
                            std::to_string(*asked_id));
        }
        if (read.status == "pending") {
            outcome.result.disposition = Disposition::pending;
            outcome.result.backend_ref = std::to_string(read.request_id);
            outcome.audit_detail = ca_words(read);
            return outcome;
        }
        if (read.status == "denied") {
            outcome.result = rejected("the CA denied the request");
            outcome.audit_detail = ca_words(read);
            return outcome;
        }
        return issued(read, csr);
    } catch (const BadAnswer& e) {
        throw OutcomeUnknown(std::string("the AD CS bridge's answer could not be understood: ") + e.what());
    }
}

AdcsSubmitOutcome AdcsBackend::issued(const RequestAnswer& answer, X509_REQ* csr) const {
    const crypto::X509Ptr cert = strict_certificate(answer.certificate_der, "certificate");
    std::vector<crypto::X509Ptr> chain;  // checked for form only: a garbled answer is not taken
    for (const Bytes& der : answer.chain_der) {
        chain.push_back(strict_certificate(der, "a certificate of chain"));
    }
    if (!chain.empty()) {
        check_chain_order(chain, "chain");
    }
    // Only the issuing CA in use counts (the chain file, or the chain pinned by
    // its name at start and refreshed on reload), never the answer's own chain:
    // whoever could answer for the bridge must not mint under a CA of its own.
    const auto in_use = this->chain();
    if (!crypto::signed_by(*in_use->front(), *cert)) {
        throw BadAnswer("the certificate was not issued by the issuing CA in use, " + m_issuer_dn +
                        " (after the CA renewed its certificate, reload scep-ra)");
    }
    if (csr != nullptr && EVP_PKEY_eq(X509_get0_pubkey(cert.get()), X509_REQ_get0_pubkey(csr)) != 1) {
        ERR_clear_error();
        throw BadAnswer("the certificate is for another key than the request's");
    }
    std::string serial = crypto::serial_hex(*cert);
    serial.erase(0, std::min(serial.find_first_not_of('0'), serial.size() - 1));
    std::string claimed = answer.serial;
    claimed.erase(0, std::min(claimed.find_first_not_of('0'), claimed.size() - 1));
    if (serial != claimed) {
        throw BadAnswer("serial " + answer.serial + " is not the certificate's");
    }
    AdcsSubmitOutcome outcome;
    outcome.serial_hex = crypto::serial_hex(*cert);
    outcome.result.disposition = Disposition::issued;
    outcome.result.certificate_der = answer.certificate_der;
    outcome.result.backend_ref = std::to_string(answer.request_id);
    for (const auto& ca : *in_use) {
        outcome.result.chain_der.push_back(crypto::cert_der(*ca));
    }
    return outcome;
}

Health AdcsBackend::health() const {
    const std::string where = m_config.bridge_url;
    try {
        const http::HttpAnswer answer = m_client.get("healthz", max_answer);
        if (answer.status == 200) {
            return {true,
                    "AD CS bridge at " + where + ": reachable, client certificate accepted, CA answers"};
        }
        if (answer.status == 403) {
            return {false, "AD CS bridge at " + where +
                               " does not allow the RA's client certificate (add it to the bridge's "
                               "allow_client)"};
        }
        if (answer.status == 503) {
            return {false, "AD CS bridge at " + where + " cannot reach the CA: " + bridge_words(answer)};
        }
        return {false, "AD CS bridge at " + where + " answered GET /healthz with " + bridge_words(answer)};
    } catch (const http::TransportError& e) {
        return {false, e.what()};
    }
}

}  // namespace scepra::backend::adcs
