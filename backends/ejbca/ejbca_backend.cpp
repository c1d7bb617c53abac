// SPDX-License-Identifier: Apache-2.0
// The EJBCA REST backend (see ejbca_backend.hpp).
#include "ejbca/ejbca_backend.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <utility>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "ejbca/ejbca_answers.hpp"
#include "ejbca/username.hpp"
#include "http/base64.hpp"

namespace scepra::backend::ejbca {

using http::base64_encode;
using http::HttpAnswer;
using http::percent_encode;
using http::TransportError;
using http::TransportFailure;

namespace {

// Size caps for EJBCA's answers: an enrolment answer holds one certificate
// and a short chain; a search answer at most search_limit certificates; a
// CRL of a large CA can be tens of megabytes (base64 in JSON).
constexpr std::size_t max_small_answer = 256 * 1024;
constexpr std::size_t max_enroll_answer = 1024 * 1024;
constexpr std::size_t max_search_answer = 4 * 1024 * 1024;
constexpr std::size_t max_crl_answer = 64 * 1024 * 1024;
constexpr std::size_t search_limit = 50;
// How much earlier than the RA's claim a certificate for it may start:
// EJBCA backdates notBefore (certificate.validityoffset, 10 minutes by
// default), and the two clocks may differ.
constexpr auto claim_to_not_before = std::chrono::hours(1);
constexpr std::size_t max_chain_certs = 10;
constexpr std::size_t max_audit_message = 300;
constexpr std::size_t password_bytes = 16;  // 128 bits from the CSPRNG

/// EJBCA's words, made safe to store: bounded, no control characters.
std::string audit_text(int status, const std::string& body) {
    std::string message = read_error_message(body).value_or("(no EJBCA error message)");
    if (message.size() > max_audit_message) {
        std::size_t cut = max_audit_message;
        while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xc0) == 0x80) {
            --cut;  // not inside a UTF-8 sequence
        }
        message.resize(cut);
        message += "...";
    }
    for (char& c : message) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            c = ' ';
        }
    }
    return "EJBCA HTTP " + std::to_string(status) + ": " + message;
}

/// What the client may be told when EJBCA refuses: the class of refusal, nothing of EJBCA's text.
std::string rejection_reason(int status) {
    switch (status) {
        case 403:
            return "the CA did not authorise the request";
        case 404:
            return "the CA does not know the requested CA or profile";
        case 409:
            return "the CA holds a conflicting certificate";
        case 413:
            return "the request is too large for the CA";
        case 422:
            return "the request does not satisfy the CA's profile";
        default:
            return "the CA refused the request";
    }
}

bool is_rejection(int status) {
    return status == 400 || status == 403 || status == 404 || status == 409 || status == 413 || status == 422;
}

SubmitResult rejected(std::string reason) {
    SubmitResult result;
    result.disposition = Disposition::rejected;
    result.reason = std::move(reason);
    return result;
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

/// PEM of a CSR; EJBCA takes PEM or bare base64 DER.
std::string csr_pem(ByteView der) {
    const std::string text = base64_encode(der);
    std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
    for (std::size_t i = 0; i < text.size(); i += 64) {
        pem += text.substr(i, 64) + "\n";
    }
    return pem + "-----END CERTIFICATE REQUEST-----\n";
}

/// DER of a SubjectPublicKeyInfo, for comparing keys without decoding them.
Bytes spki_der(const X509_PUBKEY* key) { return crypto::spki_der(*key); }

/// Orders CA certificates issuing CA first, up to the root; throws
/// std::runtime_error when they are not one unbranched chain of CAs.
std::vector<crypto::X509Ptr> order_chain(std::vector<crypto::X509Ptr> certs, const std::string& source) {
    if (certs.empty() || certs.size() > max_chain_certs) {
        throw std::runtime_error(source + ": expected 1 to " + std::to_string(max_chain_certs) +
                                 " CA certificates");
    }
    for (const auto& cert : certs) {
        if (X509_check_ca(cert.get()) < 1) {
            throw std::runtime_error(source + ": " + crypto::name_string(*X509_get_subject_name(cert.get())) +
                                     " is not a CA certificate");
        }
    }
    // The issuing CA issued none of the others.
    auto issues_another = [&](const crypto::X509Ptr& candidate) {
        return std::any_of(certs.begin(), certs.end(), [&](const crypto::X509Ptr& other) {
            return other != candidate && X509_check_issued(candidate.get(), other.get()) == X509_V_OK;
        });
    };
    std::vector<crypto::X509Ptr> ordered;
    auto leaf = std::find_if(certs.begin(), certs.end(), [&](const auto& c) { return !issues_another(c); });
    if (leaf == certs.end()) {
        throw std::runtime_error(source + ": the CA certificates form a loop");
    }
    ordered.push_back(std::move(*leaf));
    certs.erase(leaf);
    while (!certs.empty()) {
        auto parent = std::find_if(certs.begin(), certs.end(), [&](const auto& c) {
            return X509_check_issued(c.get(), ordered.back().get()) == X509_V_OK;
        });
        if (parent == certs.end()) {
            throw std::runtime_error(source + ": the CA certificates are not one chain");
        }
        ordered.push_back(std::move(*parent));
        certs.erase(parent);
    }
    return ordered;
}

/// "0x01A2b" -> "1A2B"; nullopt unless 1 to 40 hex digits.
std::optional<std::string> normalised_serial(std::string serial) {
    if (serial.rfind("0x", 0) == 0 || serial.rfind("0X", 0) == 0) {
        serial.erase(0, 2);
    }
    if (serial.empty() || serial.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        return std::nullopt;
    }
    serial.erase(0, std::min(serial.find_first_not_of('0'), serial.size() - 1));  // as EJBCA writes serials
    if (serial.size() > 40) {  // RFC 5280: at most 20 octets
        return std::nullopt;
    }
    std::transform(serial.begin(), serial.end(), serial.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    return serial;
}

bool same_serial(const X509& cert, const std::string& serial_hex) {
    BIGNUM* wanted = nullptr;
    if (BN_hex2bn(&wanted, serial_hex.c_str()) == 0) {
        return false;
    }
    crypto::BignumPtr wanted_owned(wanted);
    crypto::BignumPtr actual(ASN1_INTEGER_to_BN(X509_get0_serialNumber(&cert), nullptr));
    return actual && BN_cmp(actual.get(), wanted) == 0;
}

const char* ejbca_reason_name(RevocationReason reason) {
    switch (reason) {
        case RevocationReason::unspecified:
            return "UNSPECIFIED";
        case RevocationReason::key_compromise:
            return "KEY_COMPROMISE";
        case RevocationReason::ca_compromise:
            return "CA_COMPROMISE";
        case RevocationReason::affiliation_changed:
            return "AFFILIATION_CHANGED";
        case RevocationReason::superseded:
            return "SUPERSEDED";
        case RevocationReason::cessation_of_operation:
            return "CESSATION_OF_OPERATION";
        case RevocationReason::certificate_hold:
            return "CERTIFICATE_HOLD";
        case RevocationReason::privileges_withdrawn:
            return "PRIVILEGES_WITHDRAWN";
        case RevocationReason::aa_compromise:
            return "AA_COMPROMISE";
    }
    return "UNSPECIFIED";
}

/// Wipes a string that held the end-entity password.
struct Wipe {
    std::string& text;
    ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
};

}  // namespace

EjbcaBackend::EjbcaBackend(EjbcaConfig config)
    : m_config(std::move(config)),
      m_client(http::ClientConfig{"EJBCA", m_config.url, m_config.client_cert, m_config.client_key,
                                  m_config.server_ca, m_config.timeout_seconds}) {
    if (m_config.ca_name.empty() || m_config.certificate_profile.empty() ||
        m_config.end_entity_profile.empty()) {
        throw std::invalid_argument("EJBCA ca_name, certificate_profile and end_entity_profile are required");
    }
    try {  // every name goes into JSON, which must be UTF-8
        nlohmann::json names = {m_config.ca_name, m_config.certificate_profile, m_config.end_entity_profile};
        for (const auto& [template_name, profiles] : m_config.template_profiles) {
            names.push_back(profiles.certificate_profile);
            names.push_back(profiles.end_entity_profile);
        }
        (void)names.dump();
    } catch (const nlohmann::json::exception&) {
        throw std::invalid_argument("EJBCA ca_name and profile names must be UTF-8");
    }
    if (!m_config.chain_file.empty()) {
        m_chain = make_chain(
            order_chain(crypto::load_certs_file(m_config.chain_file), m_config.chain_file.string()));
    } else {
        m_chain = make_chain(fetch_chain());
    }
    m_issuer_dn = crypto::name_string(*X509_get_subject_name(m_chain->certs.front().get()));
}

std::shared_ptr<const EjbcaBackend::Chain> EjbcaBackend::make_chain(std::vector<crypto::X509Ptr> certs) {
    auto made = std::make_shared<Chain>();
    for (const auto& cert : certs) {
        made->der.push_back(crypto::cert_der(*cert));
    }
    made->certs = std::move(certs);
    return made;
}

std::shared_ptr<const EjbcaBackend::Chain> EjbcaBackend::chain() const {
    std::lock_guard lock(m_chain_mutex);
    return m_chain;
}

bool EjbcaBackend::refresh_ca_chain() {
    std::shared_ptr<const Chain> fetched;
    if (!m_config.chain_file.empty() && !m_config.chain_file_is_copy) {
        try {  // the operator's file, replaced by the operator before the reload
            fetched = make_chain(
                order_chain(crypto::load_certs_file(m_config.chain_file), m_config.chain_file.string()));
        } catch (const std::exception& e) {
            throw BackendUnavailable("EJBCA chain file: " + std::string(e.what()));
        }
    } else {
        fetched = make_chain(fetch_chain());
    }
    const std::string issuer = crypto::name_string(*X509_get_subject_name(fetched->certs.front().get()));
    if (issuer != m_issuer_dn) {
        // Certificates, CRLs and revocations name the issuing CA: another one needs a restart.
        throw BackendUnavailable("EJBCA's CA '" + m_config.ca_name + "' is now " + issuer + ", not " +
                                 m_issuer_dn + "; restart scep-ra to serve another issuing CA");
    }
    std::lock_guard lock(m_chain_mutex);
    m_chain = std::move(fetched);
    return true;
}

std::vector<crypto::X509Ptr> EjbcaBackend::fetch_chain() const {
    try {
        const HttpAnswer list = m_client.get("v1/ca", max_small_answer);
        if (list.status != 200) {
            throw BackendUnavailable("EJBCA answered HTTP " + std::to_string(list.status) +
                                     " to GET v1/ca; configure chain_file instead");
        }
        std::string subject_dn;
        for (const CaEntry& ca : read_ca_list(list.body)) {
            if (ca.name == m_config.ca_name) {
                subject_dn = ca.subject_dn;
            }
        }
        if (subject_dn.empty()) {
            throw BackendUnavailable("EJBCA knows no CA named '" + m_config.ca_name + "'");
        }
        const HttpAnswer download = m_client.get(
            "v1/ca/" + percent_encode(subject_dn) + "/certificate/download", max_small_answer, "*/*");
        if (download.status != 200) {
            throw BackendUnavailable("EJBCA answered HTTP " + std::to_string(download.status) +
                                     " to the CA certificate download");
        }
        return order_chain(crypto::certs_from_pem(download.body),
                           "EJBCA's chain of CA '" + m_config.ca_name + "'");
    } catch (const TransportError& e) {
        throw BackendUnavailable(e.what());
    } catch (const BadAnswer& e) {
        throw BackendUnavailable(std::string("EJBCA's CA list could not be read: ") + e.what());
    } catch (const crypto::OpensslError& e) {
        throw BackendUnavailable(std::string("EJBCA's CA chain could not be read: ") + e.what());
    } catch (const BackendUnavailable&) {
        throw;
    } catch (const std::runtime_error& e) {  // a chain that is not one (order_chain)
        throw BackendUnavailable(e.what());
    }
}

std::vector<crypto::X509Ptr> EjbcaBackend::ca_chain() const {
    const auto current = chain();
    std::vector<crypto::X509Ptr> out;
    for (const auto& cert : current->certs) {
        out.push_back(crypto::up_ref(*cert));
    }
    return out;
}

EjbcaBackend::Profiles EjbcaBackend::profiles_for(const std::string& template_name) const {
    // Every template scep-ra selects (the [templates] names) is sent with the
    // [ejbca] profiles unless its own [ejbca.template.NAME] section says otherwise.
    Profiles profiles{m_config.certificate_profile, m_config.end_entity_profile};
    for (const auto& [name, overrides] : m_config.template_profiles) {
        if (lower(name) == lower(template_name)) {
            if (!overrides.certificate_profile.empty()) {
                profiles.certificate_profile = overrides.certificate_profile;
            }
            if (!overrides.end_entity_profile.empty()) {
                profiles.end_entity_profile = overrides.end_entity_profile;
            }
            return profiles;
        }
    }
    return profiles;
}

SubmitResult EjbcaBackend::issued(Bytes certificate_der, const Chain& checked_against) {
    SubmitResult result;
    result.disposition = Disposition::issued;
    result.certificate_der = std::move(certificate_der);
    result.chain_der = checked_against.der;
    return result;
}

SubmitResult EjbcaBackend::submit(const SubmitRequest& request) {
    EjbcaSubmitOutcome outcome = submit_with_audit(request);
    outcome.result.audit_detail = std::move(outcome.audit_detail);
    return std::move(outcome.result);
}

EjbcaSubmitOutcome EjbcaBackend::submit_with_audit(const SubmitRequest& request) const {
    EjbcaSubmitOutcome outcome;
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
    const Profiles profiles = profiles_for(request.template_name);
    const auto username = username_for(m_config.username_rule, *csr, request.transaction_id);
    if (!username) {
        outcome.result = rejected("the request lacks what the CA's username rule (" +
                                  to_string(m_config.username_rule) + ") needs");
        return outcome;
    }
    outcome.username = *username;

    const nlohmann::json body = {
        {"certificate_request", csr_pem(crypto::csr_der(*csr))},
        {"certificate_profile_name", profiles.certificate_profile},
        {"end_entity_profile_name", profiles.end_entity_profile},
        {"certificate_authority_name", m_config.ca_name},
        {"username", *username},
        {"include_chain", true},
        {"response_format", "DER"},
    };
    // The end-entity password is appended by hand (hex needs no escaping) so
    // that no copy of it is left behind unwiped in this process's code.
    std::string text = body.dump();
    Wipe wipe_text{text};
    {
        Bytes random = crypto::random_bytes(password_bytes);
        text.pop_back();  // the closing brace
        text.reserve(text.size() + 2 * password_bytes + 16);
        text += ",\"password\":\"";
        static const char* digits = "0123456789abcdef";
        for (std::uint8_t byte : random) {
            text += digits[byte >> 4];
            text += digits[byte & 0x0f];
        }
        text += "\"}";
        OPENSSL_cleanse(random.data(), random.size());
    }

    HttpAnswer answer;
    try {
        answer = m_client.post_json("v1/certificate/pkcs10enroll", text, max_enroll_answer);
    } catch (const TransportError& e) {
        if (e.may_have_reached()) {
            throw OutcomeUnknown(e.what());
        }
        throw BackendUnavailable(e.what());
    }

    if (answer.status == 202) {
        // pkcs10enroll never pends in EJBCA Community; stay safe if it does.
        outcome.result.disposition = Disposition::pending;
        outcome.audit_detail = "EJBCA HTTP 202: the request awaits approval in EJBCA";
        return outcome;
    }
    if (answer.status >= 200 && answer.status < 300) {
        try {
            EnrollAnswer enrolled = read_enroll_answer(answer.body);
            const crypto::X509Ptr cert = crypto::cert_from_exact_der(enrolled.certificate_der);
            if (spki_der(X509_get_X509_PUBKEY(cert.get())) != spki_der(X509_REQ_get_X509_PUBKEY(csr))) {
                throw BadAnswer("the certificate is for another key than the request's");
            }
            // Only the issuing CA in use counts (ca_name's chain, read at start and on
            // reload), not the chain the answer brings.
            const auto current_chain = chain();  // one read: the chain checked is the chain served
            if (!crypto::signed_by(*current_chain->certs.front(), *cert)) {
                throw BadAnswer("the certificate was not issued by the issuing CA in use, " + m_issuer_dn +
                                " (after the CA renewed its certificate, reload scep-ra)");
            }
            for (const Bytes& der : enrolled.chain_der) {
                crypto::cert_from_exact_der(der);  // each must at least be a certificate
            }
            if (!enrolled.serial_hex.empty() && !same_serial(*cert, enrolled.serial_hex)) {
                throw BadAnswer("serial_number is not the certificate's");
            }
            outcome.serial_hex = crypto::serial_hex(*cert);
            outcome.result = issued(std::move(enrolled.certificate_der), *current_chain);
            return outcome;
        } catch (const BadAnswer& e) {
            throw OutcomeUnknown(std::string("EJBCA's enrolment answer could not be understood: ") +
                                 e.what());
        } catch (const crypto::OpensslError& e) {
            throw OutcomeUnknown(std::string("EJBCA's enrolment answer holds no valid certificate: ") +
                                 e.what());
        }
    }
    if (is_rejection(answer.status)) {
        outcome.result = rejected(rejection_reason(answer.status));
        outcome.audit_detail = audit_text(answer.status, answer.body);
        return outcome;
    }
    throw OutcomeUnknown("EJBCA answered the enrolment with " + audit_text(answer.status, answer.body));
}

SubmitResult EjbcaBackend::poll(const PollRequest& /*request*/) {
    return rejected("approval inside EJBCA is not supported; use scep-ra's manual approval");
}

std::vector<Bytes> EjbcaBackend::search(const std::string& query, std::size_t max_results, bool& more) const {
    const nlohmann::json body = {
        {"max_number_of_results", max_results},
        {"criteria",
         nlohmann::json::array({{{"property", "QUERY"}, {"value", query}, {"operation", "EQUAL"}}})},
    };
    const HttpAnswer answer = m_client.post_json("v1/certificate/search", body.dump(), max_search_answer);
    if (answer.status != 200) {
        throw BadAnswer("search answered " + audit_text(answer.status, answer.body));
    }
    SearchAnswer found = read_search_answer(answer.body, max_results);
    more = found.more_results;
    return std::move(found.certificates_der);
}

std::optional<SubmitResult> EjbcaBackend::find_issued_for(const SubmitRequest& request,
                                                          std::optional<TimePoint> claimed_at) const {
    crypto::X509ReqPtr parsed;
    X509_REQ* csr = request.verified_csr;
    if (csr == nullptr) {
        parsed = crypto::csr_from_der(request.csr_der);
        csr = parsed.get();
    }
    const auto username = username_for(m_config.username_rule, *csr, request.transaction_id);
    if (!username) {
        return std::nullopt;  // submit() would not have sent it either
    }
    const Bytes wanted_key = spki_der(X509_REQ_get_X509_PUBKEY(csr));
    bool more = false;
    std::vector<Bytes> candidates;
    try {
        candidates = search(*username, search_limit, more);
    } catch (const TransportError& e) {
        if (e.may_have_reached()) {
            throw OutcomeUnknown(e.what());
        }
        throw BackendUnavailable(e.what());
    } catch (const BadAnswer& e) {
        throw OutcomeUnknown(std::string("EJBCA's search answer could not be understood: ") + e.what());
    }
    // The username may hold older certificates (other keys, other CAs): only
    // one from our issuing CA for this request's key counts; the newest wins.
    // One from long before the claim is not its answer: a renewal that keeps
    // its key would otherwise get back the very certificate it replaces.
    const auto current_chain = chain();
    X509& issuing_ca = *current_chain->certs.front();
    std::optional<std::time_t> earliest;
    if (claimed_at) {
        earliest = std::chrono::system_clock::to_time_t(*claimed_at - claim_to_not_before);
    }
    crypto::X509Ptr best;
    Bytes best_der;
    for (Bytes& der : candidates) {
        crypto::X509Ptr cert;
        try {
            cert = crypto::cert_from_exact_der(der);
        } catch (const crypto::OpensslError&) {
            throw OutcomeUnknown("EJBCA's search answer holds something that is not a certificate");
        }
        // X509_cmp_time: 1 only when notBefore is after earliest (0 is an unreadable time).
        if (spki_der(X509_get_X509_PUBKEY(cert.get())) != wanted_key ||
            !crypto::signed_by(issuing_ca, *cert) ||
            (earliest && X509_cmp_time(X509_get0_notBefore(cert.get()), &*earliest) != 1)) {
            continue;
        }
        if (!best ||
            ASN1_TIME_compare(X509_get0_notBefore(cert.get()), X509_get0_notBefore(best.get())) > 0) {
            best = std::move(cert);
            best_der = std::move(der);
        }
    }
    if (!best) {
        if (more) {
            throw OutcomeUnknown("EJBCA holds more than " + std::to_string(search_limit) +
                                 " certificates for '" + *username +
                                 "'; cannot tell whether one is this request's");
        }
        return std::nullopt;
    }
    return issued(std::move(best_der), *current_chain);
}

std::optional<IssuedCertificate> EjbcaBackend::find_certificate(const std::string& issuer_dn,
                                                                const std::string& serial_hex) {
    const auto serial = normalised_serial(serial_hex);
    if (!serial) {
        return std::nullopt;
    }
    try {
        const HttpAnswer status_answer =
            m_client.get("v1/certificate/" + percent_encode(issuer_dn) + "/" + *serial + "/revocationstatus",
                         max_small_answer);
        if (status_answer.status == 404) {
            return std::nullopt;
        }
        if (status_answer.status != 200) {
            throw BackendUnavailable("EJBCA revocation status: " +
                                     audit_text(status_answer.status, status_answer.body));
        }
        const RevocationStatus status = read_revocation_status(status_answer.body);
        bool more = false;
        for (const Bytes& der : search(*serial, search_limit, more)) {
            crypto::X509Ptr cert = crypto::cert_from_der(der);
            if (same_serial(*cert, *serial) &&
                crypto::name_string(*X509_get_issuer_name(cert.get())) == issuer_dn) {
                IssuedCertificate found;
                found.state = status.revoked                                              ? CertState::revoked
                              : X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0 ? CertState::expired
                                                                                          : CertState::valid;
                found.certificate = std::move(cert);
                return found;
            }
        }
        return std::nullopt;
    } catch (const TransportError& e) {
        throw BackendUnavailable(e.what());
    } catch (const BadAnswer& e) {
        throw BackendUnavailable(std::string("EJBCA's answer could not be understood: ") + e.what());
    } catch (const crypto::OpensslError& e) {
        throw BackendUnavailable(std::string("EJBCA's answer holds no valid certificate: ") + e.what());
    }
}

std::optional<Bytes> EjbcaBackend::crl() {
    try {
        const HttpAnswer answer = m_client.get(
            "v1/ca/" + percent_encode(m_issuer_dn) + "/getLatestCrl?deltaCrl=false&crlPartitionIndex=0",
            max_crl_answer);
        if (answer.status != 200) {
            throw BackendUnavailable("EJBCA CRL: " + audit_text(answer.status, answer.body));
        }
        Bytes der = read_crl_answer(answer.body);
        const unsigned char* p = der.data();
        crypto::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
        if (!crl || p != der.data() + der.size()) {
            ERR_clear_error();
            throw BadAnswer("crl is not a DER CRL");
        }
        if (X509_CRL_verify(crl.get(), X509_get0_pubkey(chain()->certs.front().get())) != 1) {
            ERR_clear_error();
            throw BadAnswer("the CRL is not signed by the issuing CA");
        }
        return der;
    } catch (const TransportError& e) {
        throw BackendUnavailable(e.what());
    } catch (const BadAnswer& e) {
        throw BackendUnavailable(std::string("EJBCA's CRL answer could not be understood: ") + e.what());
    }
}

std::optional<SubmitResult> EjbcaBackend::find_by_transaction(const TransactionQuery& query) {
    if (query.csr_der.empty()) {
        return std::nullopt;
    }
    SubmitRequest request;
    request.transaction_id = query.transaction_id;
    request.csr_der = query.csr_der;
    request.template_name = query.template_name;
    return find_issued_for(request, query.claimed_at);
}

RevokeOutcome EjbcaBackend::revoke(const std::string& serial_hex, int crl_reason) {
    if (!is_revocation_reason(crl_reason)) {
        throw std::invalid_argument("EJBCA takes CRLReason 0-6, 9 or 10, not " + std::to_string(crl_reason));
    }
    return revoke(serial_hex, static_cast<RevocationReason>(crl_reason)) ? RevokeOutcome::revoked
                                                                         : RevokeOutcome::awaiting_approval;
}

bool EjbcaBackend::revoke(const std::string& serial_hex, RevocationReason reason) {
    const auto serial = normalised_serial(serial_hex);
    if (!serial) {
        throw std::invalid_argument("not a hex serial number: '" + serial_hex + "'");
    }
    HttpAnswer answer;
    try {
        answer = m_client.put("v1/certificate/" + percent_encode(m_issuer_dn) + "/" + *serial +
                                  "/revoke?reason=" + ejbca_reason_name(reason),
                              max_small_answer);
    } catch (const TransportError& e) {
        throw BackendUnavailable(e.what());
    }
    if (answer.status == 202) {
        return false;
    }
    if (answer.status == 200) {
        try {
            if (read_revocation_status(answer.body).revoked) {
                return true;
            }
        } catch (const BadAnswer&) {
        }
        throw BackendUnavailable("EJBCA's revocation answer does not say revoked");
    }
    if (answer.status == 404) {
        throw std::invalid_argument("EJBCA knows no certificate " + *serial + " from " + m_issuer_dn);
    }
    if (answer.status == 409) {
        throw std::invalid_argument("certificate " + *serial + " is already revoked");
    }
    if (is_rejection(answer.status)) {
        throw std::invalid_argument("EJBCA refused the revocation: " +
                                    audit_text(answer.status, answer.body));
    }
    throw BackendUnavailable("EJBCA revocation: " + audit_text(answer.status, answer.body));
}

Health EjbcaBackend::health() const {
    const std::string where = m_config.url;
    std::string revision;
    try {
        const HttpAnswer status = m_client.get("v1/certificate/status", max_small_answer);
        if (status.status == 403) {
            // The status call needs no administrator: only the protocol filter refuses it.
            return {false,
                    "EJBCA at " + where +
                        " has the REST protocol disabled (enable REST Certificate Management in System "
                        "Configuration > Protocol Configuration)"};
        }
        const auto parsed = status.status == 200 ? read_status_revision(status.body) : std::nullopt;
        if (!parsed) {
            return {false, "no EJBCA REST API at " + where + " (HTTP " + std::to_string(status.status) +
                               " to v1/certificate/status): check the url"};
        }
        revision = *parsed;
        const HttpAnswer cas = m_client.get("v1/ca", max_small_answer);
        if (cas.status == 403) {
            const auto message = read_error_message(cas.body);
            if (message) {
                return {false, "EJBCA at " + where +
                                   " does not accept the RA's client certificate as an "
                                   "administrator: " +
                                   audit_text(cas.status, cas.body)};
            }
            // v1/ca disabled (a Community build without it): a one-result search needs the administrator too.
            const nlohmann::json body = {
                {"max_number_of_results", 1},
                {"criteria",
                 nlohmann::json::array(
                     {{{"property", "QUERY"}, {"value", m_config.ca_name}, {"operation", "EQUAL"}}})}};
            const HttpAnswer search =
                m_client.post_json("v1/certificate/search", body.dump(), max_search_answer);
            if (search.status == 403) {
                return {false, "EJBCA at " + where +
                                   " does not accept the RA's client certificate as an "
                                   "administrator: " +
                                   audit_text(search.status, search.body)};
            }
            if (search.status != 200) {
                return {false, "EJBCA at " + where + " answered the probe search with " +
                                   audit_text(search.status, search.body)};
            }
        } else if (cas.status == 200) {
            const auto list = read_ca_list(cas.body);
            if (std::none_of(list.begin(), list.end(),
                             [&](const CaEntry& ca) { return ca.name == m_config.ca_name; })) {
                return {false, "EJBCA at " + where + " knows no CA named '" + m_config.ca_name + "'"};
            }
        } else {
            return {false,
                    "EJBCA at " + where + " answered GET v1/ca with " + audit_text(cas.status, cas.body)};
        }
    } catch (const TransportError& e) {
        if (revision.empty() && (e.failure() == TransportFailure::dropped_while_sending ||
                                 e.failure() == TransportFailure::dropped_after_send)) {
            // TLS 1.3 servers check the client certificate after the handshake
            // and just close; the first call of all is refused.
            return {false, std::string(e.what()) +
                               ": most likely it refused the RA's client certificate (check client_cert and "
                               "EJBCA's truststore)"};
        }
        return {false, e.what()};
    } catch (const BadAnswer& e) {
        return {false, "EJBCA at " + where + " gave an answer that could not be understood: " + e.what()};
    }
    return {true, "EJBCA at " + where + " (" + revision + "): reachable, client certificate accepted, CA '" +
                      m_config.ca_name + "' present"};
}

}  // namespace scepra::backend::ejbca
