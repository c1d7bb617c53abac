// SPDX-License-Identifier: Apache-2.0
// Wiring: configuration -> store, backend, challenge mode, service.
#include "cli/instance.hpp"

#include "crypto/encoding.hpp"

namespace scepra::cli {

namespace {
core::RaIdentity load_identity(const AppConfig& c) {
    core::RaIdentity id{crypto::load_cert_file(c.signing_cert), crypto::load_key_file(c.signing_key),
                        crypto::load_cert_file(c.encryption_cert), crypto::load_key_file(c.encryption_key)};
    if (X509_check_private_key(id.signing_cert.get(), id.signing_key.get()) != 1) {
        throw ConfigError(c.file.string() + ": [ra] signing_key does not match signing_cert");
    }
    if (X509_check_private_key(id.encryption_cert.get(), id.encryption_key.get()) != 1) {
        throw ConfigError(c.file.string() + ": [ra] encryption_key does not match encryption_cert");
    }
    if (EVP_PKEY_get_base_id(id.encryption_key.get()) != EVP_PKEY_RSA) {
        throw ConfigError(c.file.string() + ": [ra] encryption_key must be RSA (SCEP uses RSA key transport)");
    }
    return id;
}
}  // namespace

PasswordStoreHandle open_password_store(const AppConfig& config, const Clock& clock) {
    PasswordStoreHandle h;
    h.db = store::Database::open(config.database, false);
    h.challenges = std::make_unique<store::ChallengeStore>(
        *h.db, store::ChallengeStore::load_or_create_key(config.password.hmac_key_file), clock);
    return h;
}

Instance::Instance(AppConfig config, const Clock& clock) : m_config(std::move(config)) {
    core::RaIdentity identity = load_identity(m_config);
    auto handle = open_password_store(m_config, clock);
    m_db = std::move(handle.db);
    m_challenges = std::move(handle.challenges);
    m_audit = std::make_unique<store::AuditLog>(*m_db, clock);
    m_backend = std::make_unique<backend::local::LocalCaBackend>(m_config.local_ca, *m_db, clock);
    if (m_config.password.enforce_password) {
        m_verifier = std::make_unique<core::OneTimeChallengeVerifier>(*m_challenges);
    } else {
        m_verifier = std::make_unique<core::NoChallengeVerifier>();
    }
    core::ServiceOptions options;
    options.ciphers.allow_single_des = m_config.allow_single_des;
    if (m_config.max_clock_skew_minutes > 0) {
        options.max_clock_skew = std::chrono::minutes(m_config.max_clock_skew_minutes);
    }
    options.template_name = m_config.templates.general_purpose;
    m_service = std::make_unique<core::ScepService>(std::move(options), std::move(identity), *m_backend, *m_verifier,
                                                    *m_audit, clock);
}

}  // namespace scepra::cli
