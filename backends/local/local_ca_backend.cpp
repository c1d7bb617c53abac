// SPDX-License-Identifier: Apache-2.0
// The local CA backend: signs approved CSRs with an on-disk CA key and records them in SQLite.
#include "local/local_ca_backend.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <utility>

#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "local/ca_setup.hpp"
#include "local/serial.hpp"

namespace scepra::backend::local {

namespace {

using crypto::check;

constexpr int min_rsa_bits = 2048;
// 127 random bits make a collision practically impossible; the retry only
// guards the UNIQUE(issuer, serial) invariant.
constexpr int max_serial_attempts = 5;
constexpr std::time_t seconds_per_day = 86400;

SubmitResult rejected(std::string reason) {
    SubmitResult result;
    result.disposition = Disposition::rejected;
    result.reason = std::move(reason);
    return result;
}

bool is_rsa(EVP_PKEY& key) { return EVP_PKEY_is_a(&key, "RSA") == 1 || EVP_PKEY_is_a(&key, "RSA-PSS") == 1; }

std::string trim(const std::string& s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

/// The configured keyUsage for this subject key. RFC 5480 (EC) and RFC 8410
/// (EdDSA) forbid keyEncipherment and dataEncipherment for keys that cannot
/// encrypt, so those are only kept for RSA.
std::string key_usage_for(const std::string& configured, EVP_PKEY& key) {
    if (is_rsa(key)) {
        return configured;
    }
    std::string out;
    size_t pos = 0;
    while (pos <= configured.size()) {
        size_t comma = std::min(configured.find(',', pos), configured.size());
        std::string item = trim(configured.substr(pos, comma - pos));
        if (!item.empty() && item != "keyEncipherment" && item != "dataEncipherment") {
            out += (out.empty() ? "" : ",") + item;
        }
        pos = comma + 1;
    }
    return out;
}

/// Throws std::invalid_argument unless OpenSSL accepts value for the extension nid.
void validate_extension_text(int nid, const std::string& value, const char* setting) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, nullptr, nullptr, nullptr, nullptr, X509V3_CTX_TEST);
    crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (ext == nullptr) {
        ERR_clear_error();
        throw std::invalid_argument(std::string("bad ") + setting + " '" + value + "'");
    }
}

TimePoint time_point(const ASN1_TIME& time) { return std::chrono::system_clock::from_time_t(to_time_t(time)); }

}  // namespace

LocalCaBackend::LocalCaBackend(LocalCaConfig config, store::Database& db, const Clock& clock)
    : m_config(std::move(config)), m_db(db), m_clock(clock) {
    if (m_config.validity_days <= 0) {
        throw std::invalid_argument("local CA validity_days must be positive");
    }
    if (m_config.backdate_seconds < 0) {
        throw std::invalid_argument("local CA backdate_seconds must not be negative");
    }
    const std::string cert_file = m_config.cert_file.string();
    const std::string key_file = m_config.key_file.string();
    try {
        m_ca_cert = crypto::load_cert_file(m_config.cert_file);
    } catch (const crypto::OpensslError& e) {
        throw std::runtime_error("cannot load CA certificate " + cert_file + ": " + e.what());
    }
    m_ca_key = crypto::load_key_file(m_config.key_file);

    if (X509_check_ca(m_ca_cert.get()) != 1) {
        throw std::runtime_error(cert_file + " is not a CA certificate (needs basicConstraints CA:TRUE)");
    }
    // authorityKeyIdentifier=keyid:always copies the CA's SKI into every certificate.
    if (X509_get0_subject_key_id(m_ca_cert.get()) == nullptr) {
        throw std::runtime_error(cert_file + " has no subjectKeyIdentifier");
    }
    if (X509_check_private_key(m_ca_cert.get(), m_ca_key.get()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("CA key " + key_file + " does not match the CA certificate " + cert_file);
    }
    m_digest = signing_digest(*m_ca_key, m_config.digest);
    if (!m_config.key_usage.empty()) {
        validate_extension_text(NID_key_usage, "critical," + m_config.key_usage, "key_usage");
    }
    if (!m_config.extended_key_usage.empty()) {
        validate_extension_text(NID_ext_key_usage, m_config.extended_key_usage, "extended_key_usage");
    }
    if (!m_config.chain_file.empty()) {
        for (auto& cert : crypto::load_certs_file(m_config.chain_file)) {
            if (X509_cmp(cert.get(), m_ca_cert.get()) != 0) {  // the chain file may repeat the CA itself
                m_chain.push_back(std::move(cert));
            }
        }
    }
    m_issuer_dn = crypto::name_string(*X509_get_subject_name(m_ca_cert.get()));
}

SubmitResult LocalCaBackend::submit(const SubmitRequest& request) {
    ERR_clear_error();
    crypto::X509ReqPtr csr;
    try {
        csr = crypto::csr_from_der(request.csr_der);
    } catch (const crypto::OpensslError&) {
        return rejected("the request is not a valid PKCS#10 certificate request");
    }
    EVP_PKEY* public_key = X509_REQ_get0_pubkey(csr.get());
    if (public_key == nullptr) {
        ERR_clear_error();
        return rejected("the request's public key cannot be decoded");
    }
    // Proof of possession of the private key.
    if (X509_REQ_verify(csr.get(), public_key) != 1) {
        ERR_clear_error();
        return rejected("the request's signature does not verify with its public key");
    }
    if (is_rsa(*public_key) && EVP_PKEY_get_bits(public_key) < min_rsa_bits) {
        return rejected("RSA keys must have at least " + std::to_string(min_rsa_bits) + " bits, the request's has " +
                        std::to_string(EVP_PKEY_get_bits(public_key)));
    }
    if (X509_NAME_entry_count(X509_REQ_get_subject_name(csr.get())) == 0) {
        return rejected("the request has an empty subject");
    }
    const std::string key_usage = key_usage_for(m_config.key_usage, *public_key);
    if (key_usage.empty() && !m_config.key_usage.empty()) {
        return rejected("the configured key usage '" + m_config.key_usage + "' does not allow a " +
                        EVP_PKEY_get0_type_name(public_key) + " key");
    }

    // Only subjectAltName is taken from the requester; every other extension
    // (basicConstraints, keyUsage, EKU, SKI, AKI, CDP, AIA, nameConstraints)
    // comes from the CA's configuration, and attributes such as
    // challengePassword are never copied.
    crypto::X509ExtensionStackPtr requested(X509_REQ_get_extensions(csr.get()));
    if (requested == nullptr) {
        ERR_clear_error();
        return rejected("the request's extensions cannot be decoded");
    }
    X509_EXTENSION* san = nullptr;
    if (m_config.copy_san) {
        int index = X509v3_get_ext_by_NID(requested.get(), NID_subject_alt_name, -1);
        if (index >= 0) {
            if (X509v3_get_ext_by_NID(requested.get(), NID_subject_alt_name, index) >= 0) {
                return rejected("the request contains subjectAltName more than once");
            }
            san = X509v3_get_ext(requested.get(), index);
            crypto::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(san)));
            if (names == nullptr || sk_GENERAL_NAME_num(names.get()) == 0) {
                ERR_clear_error();
                return rejected("the request's subjectAltName is malformed or empty");
            }
        }
    }

    const TimePoint now = m_clock.now();
    const std::time_t now_seconds = unix_seconds(now);
    const std::time_t ca_not_after = to_time_t(*X509_get0_notAfter(m_ca_cert.get()));
    if (ca_not_after <= now_seconds) {
        throw BackendUnavailable("the local CA certificate " + m_config.cert_file.string() + " has expired");
    }
    const std::time_t not_before = now_seconds - m_config.backdate_seconds;
    // A certificate must not outlive its issuer.
    const std::time_t not_after =
        std::min(now_seconds + static_cast<std::time_t>(m_config.validity_days) * seconds_per_day, ca_not_after);

    for (int attempt = 0; attempt < max_serial_attempts; ++attempt) {
        crypto::X509Ptr cert;
        try {
            cert = build_certificate(*csr, *public_key, key_usage, san, not_before, not_after);
        } catch (const crypto::OpensslError& e) {
            throw BackendUnavailable(std::string("the local CA cannot sign: ") + e.what());
        }
        bool stored = false;
        try {
            stored = store_certificate(*cert, request, now);
        } catch (const store::DbError& e) {
            throw BackendUnavailable(std::string("cannot record the issued certificate: ") + e.what());
        }
        if (stored) {
            SubmitResult result;
            result.disposition = Disposition::issued;
            result.certificate = std::move(cert);
            result.chain = ca_chain();
            return result;
        }
    }
    throw BackendUnavailable("no unused serial number after " + std::to_string(max_serial_attempts) + " attempts");
}

crypto::X509Ptr LocalCaBackend::build_certificate(X509_REQ& csr, EVP_PKEY& public_key, const std::string& key_usage,
                                                  X509_EXTENSION* san, std::time_t not_before,
                                                  std::time_t not_after) const {
    crypto::X509Ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");
    auto serial = random_serial();
    check(X509_set_serialNumber(cert.get(), serial.get()) == 1, "X509_set_serialNumber");
    check(X509_set_issuer_name(cert.get(), X509_get_subject_name(m_ca_cert.get())) == 1, "X509_set_issuer_name");
    check(X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(&csr)) == 1, "X509_set_subject_name");
    // Times come from the injected clock, never from the system clock.
    check(ASN1_TIME_adj(X509_getm_notBefore(cert.get()), not_before, 0, 0) != nullptr, "ASN1_TIME_adj notBefore");
    check(ASN1_TIME_adj(X509_getm_notAfter(cert.get()), not_after, 0, 0) != nullptr, "ASN1_TIME_adj notAfter");
    check(X509_set_pubkey(cert.get(), &public_key) == 1, "X509_set_pubkey");

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, m_ca_cert.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(*cert, ctx, NID_basic_constraints, "critical,CA:FALSE");
    if (!key_usage.empty()) {
        add_extension(*cert, ctx, NID_key_usage, "critical," + key_usage);
    }
    if (!m_config.extended_key_usage.empty()) {
        add_extension(*cert, ctx, NID_ext_key_usage, m_config.extended_key_usage);
    }
    add_extension(*cert, ctx, NID_subject_key_identifier, "hash");
    add_extension(*cert, ctx, NID_authority_key_identifier, "keyid:always");
    if (san != nullptr) {
        check(X509_add_ext(cert.get(), san, -1) == 1, "X509_add_ext subjectAltName");
    }
    check(X509_sign(cert.get(), m_ca_key.get(), m_digest.get()) > 0, "X509_sign");
    return cert;
}

bool LocalCaBackend::store_certificate(X509& cert, const SubmitRequest& request, TimePoint now) {
    const std::string serial = crypto::serial_hex(cert);
    const std::string subject = crypto::name_string(*X509_get_subject_name(&cert));
    const std::string not_before = sql_time(time_point(*X509_get0_notBefore(&cert)));
    const std::string not_after = sql_time(time_point(*X509_get0_notAfter(&cert)));
    const Bytes der = crypto::cert_der(cert);
    auto text_or_null = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); };

    return m_db.write([&](store::Database& db) {
        auto existing = db.prepare("SELECT 1 FROM issued_certs WHERE issuer = ?1 AND serial = ?2");
        existing.bind(1, m_issuer_dn).bind(2, serial);
        if (existing.step()) {
            return false;
        }
        auto insert = db.prepare(
            "INSERT INTO issued_certs (issuer, serial, subject, not_before, not_after, transaction_id, template, "
            "issued_at, der) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        insert.bind(1, m_issuer_dn)
            .bind(2, serial)
            .bind(3, subject)
            .bind(4, not_before)
            .bind(5, not_after)
            .bind(6, text_or_null(request.transaction_id))
            .bind(7, text_or_null(request.template_name))
            .bind(8, sql_time(now))
            .bind(9, der);
        insert.run();
        return true;
    });
}

SubmitResult LocalCaBackend::poll(const std::string& /*backend_ref*/) {
    return rejected("the local CA never leaves requests pending");
}

std::vector<crypto::X509Ptr> LocalCaBackend::ca_chain() const {
    std::vector<crypto::X509Ptr> chain;
    chain.reserve(m_chain.size() + 1);
    chain.push_back(crypto::up_ref(*m_ca_cert));
    for (const auto& cert : m_chain) {
        chain.push_back(crypto::up_ref(*cert));
    }
    return chain;
}

std::optional<crypto::X509Ptr> LocalCaBackend::find_issued(const std::string& issuer_dn,
                                                           const std::string& serial_hex) const {
    std::string serial = serial_hex;
    std::transform(serial.begin(), serial.end(), serial.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::optional<Bytes> der = m_db.read([&](store::Database& db) -> std::optional<Bytes> {
        auto query = db.prepare("SELECT der FROM issued_certs WHERE issuer = ?1 AND serial = ?2");
        query.bind(1, issuer_dn).bind(2, serial);
        if (!query.step()) {
            return std::nullopt;
        }
        return query.column_blob(0);
    });
    if (!der) {
        return std::nullopt;
    }
    return crypto::cert_from_der(*der);
}

}  // namespace scepra::backend::local
