// SPDX-License-Identifier: Apache-2.0
// The local CA backend: loading and checking the CA and its profiles, its
// health and chain. Issuing, the approval queue, revocation and look-ups are
// in local_ca_issuing.cpp, local_ca_queue.cpp, local_ca_revocation.cpp and
// local_ca_lookups.cpp.
#include "local/local_ca_backend.hpp"

#include <openssl/err.h>

#include <chrono>
#include <stdexcept>
#include <utility>

#include "crypto/asn1_time.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "local/ca_setup.hpp"
#include "local/local_ca_internal.hpp"
#include "store/challenge_store.hpp"

namespace scepra::backend::local {

namespace {

using detail::sealed_row;

constexpr int default_min_rsa_bits = 2048;

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

}  // namespace

LocalCaBackend::LocalCaBackend(LocalCaConfig config, store::Database& db, const Clock& clock)
    : m_config(std::move(config)),
      m_db(db),
      m_clock(clock),
      m_store(std::string()),
      m_seal(store::ChallengeStore::load_or_create_key(m_config.csr_key_file.empty()
                                                           ? m_config.key_file.parent_path() / "csr-seal.key"
                                                           : m_config.csr_key_file)) {
    if (m_config.validity_days <= 0) {
        throw std::invalid_argument("local CA validity_days must be positive");
    }
    if (m_config.backdate_seconds < 0) {
        throw std::invalid_argument("local CA backdate_seconds must not be negative");
    }
    if (m_config.crl_validity_hours <= 0) {
        throw std::invalid_argument("local CA crl_validity_hours must be positive");
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
    // authorityKeyIdentifier=keyid:always copies the CA's SKI into every certificate and CRL.
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
    if (!m_config.crl_distribution_point.empty()) {
        validate_extension_text(NID_crl_distribution_points, "URI:" + m_config.crl_distribution_point,
                                "crl_distribution_point");
    }
    for (size_t i = 0; i < m_config.profiles.size(); ++i) {
        check_profile(m_config.profiles[i]);
        for (size_t j = 0; j < i; ++j) {
            if (iequals(m_config.profiles[i].name, m_config.profiles[j].name)) {
                throw std::invalid_argument("certificate template '" + m_config.profiles[i].name +
                                            "' is defined twice");
            }
        }
    }
    m_default_profile.validity_days = m_config.validity_days;
    m_default_profile.key_usage = m_config.key_usage;
    m_default_profile.extended_key_usage = m_config.extended_key_usage;
    m_default_profile.copy_san = m_config.copy_san;
    m_default_profile.min_rsa_bits = default_min_rsa_bits;
    m_default_profile.allowed_key_types = {"RSA", "EC"};

    if (!m_config.chain_file.empty()) {
        for (auto& cert : crypto::load_certs_file(m_config.chain_file)) {
            if (X509_cmp(cert.get(), m_ca_cert.get()) != 0) {  // the chain file may repeat the CA itself
                m_chain.push_back(std::move(cert));
            }
        }
    }
    for (const auto& cert : ca_chain()) {
        m_chain_der.push_back(crypto::cert_der(*cert));
    }
    m_issuer_dn = crypto::name_string(*X509_get_subject_name(m_ca_cert.get()));
    m_store = LocalCaStore(m_issuer_dn);
    seal_plaintext_requests();
}

void LocalCaBackend::seal_plaintext_requests() {
    m_db.write([&](store::Database& db) {
        for (const auto& [id, csr_der] : m_store.plaintext_requests(db)) {
            m_store.set_request_csr(db, id, m_seal.seal(csr_der, sealed_row(id)));
        }
    });
}

std::optional<std::string> LocalCaBackend::key_refusal(const std::string& template_name,
                                                       EVP_PKEY& subject_key) const {
    const CertificateProfile* profile = find_profile(template_name);
    if (profile == nullptr) {
        return "unknown certificate template '" + template_name + "'";
    }
    return key_rejection(*profile, subject_key);
}

const CertificateProfile* LocalCaBackend::find_profile(const std::string& template_name) const {
    if (template_name.empty()) {
        return &m_default_profile;
    }
    for (const auto& profile : m_config.profiles) {
        if (iequals(profile.name, template_name)) {
            return &profile;
        }
    }
    return nullptr;
}

Health LocalCaBackend::health() const {
    const std::string subject = crypto::name_string(*X509_get_subject_name(m_ca_cert.get()));
    const auto not_after = crypto::to_time_point(*X509_get0_notAfter(m_ca_cert.get()));
    if (!not_after || *not_after <= m_clock.now()) {
        return {false,
                "local CA " + subject + ": its certificate has expired (scep-ra ra rollover --new-ca)"};
    }
    try {
        m_db.read([](store::Database& db) { db.prepare("SELECT 1").step(); });
    } catch (const std::exception& e) {
        return {false, "local CA " + subject + ": its database cannot be read: " + e.what()};
    }
    const auto days = std::chrono::duration_cast<std::chrono::hours>(*not_after - m_clock.now()).count() / 24;
    return {true, "local CA " + subject + ", certificate valid for " + std::to_string(days) + " more days"};
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

}  // namespace scepra::backend::local
