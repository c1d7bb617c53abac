// SPDX-License-Identifier: Apache-2.0
// Wiring: configuration -> stores, backend, password modes, service, sites.
#include "cli/instance.hpp"

#include <strings.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/backend_checks.hpp"
#include "cli/backend_factory.hpp"
#include "cli/rollover.hpp"
#include "cli/startup_checks.hpp"
#include "crypto/encoding.hpp"
#include "metrics/instance_gauges.hpp"

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
        throw ConfigError(c.file.string() +
                          ": [ra] encryption_key must be RSA (SCEP uses RSA key transport)");
    }
    return id;
}

/// The issuing CA of the chain the last start (or reload) fetched from the
/// CA, or nothing (none kept, the section's chain file is used, unreadable).
crypto::X509Ptr last_fetched_issuing_ca(const AppConfig& config) {
    const auto cache = chain_cache_file(config);
    std::error_code ec;
    if (operator_chain_file(config) || !std::filesystem::exists(cache, ec)) {
        return nullptr;
    }
    try {
        auto chain = crypto::load_certs_file(cache);
        return chain.empty() ? nullptr : std::move(chain.front());
    } catch (const std::exception&) {
        return nullptr;  // make_backend says what is wrong with it, if it needs it
    }
}

}  // namespace

backend::local::LocalCaConfig local_ca_config(const AppConfig& c) {
    backend::local::LocalCaConfig ca = c.local_ca;
    for (const std::string& name :
         {c.templates.signature, c.templates.encryption, c.templates.general_purpose}) {
        bool known = false;
        for (const auto& p : ca.profiles) {
            // The backend matches template names case-insensitively, as Windows does.
            known = known || strcasecmp(p.name.c_str(), name.c_str()) == 0;
        }
        if (!known) {
            backend::local::CertificateProfile profile;
            profile.name = name;
            profile.validity_days = ca.validity_days;
            profile.key_usage = ca.key_usage;
            profile.extended_key_usage = ca.extended_key_usage;
            profile.copy_san = ca.copy_san;
            profile.allowed_key_types.clear();  // like the default profile: RSA and EC
            ca.profiles.push_back(profile);
        }
    }
    return ca;
}

Stores open_stores(const AppConfig& config, const Clock& clock) {
    Stores s;
    s.db = store::Database::open(config.database, false);
    s.challenges = std::make_unique<store::ChallengeStore>(
        *s.db, store::ChallengeStore::load_or_create_key(config.hmac_key_file), clock);
    // Wrong single passwords may hold at most a quarter of the HTTP workers (up to 8) waiting for the scrypt.
    const int scrypt_waiting = std::clamp(config.listen.worker_threads / 4, 1, 8);
    s.single_password =
        std::make_unique<store::SinglePasswordStore>(*s.db, clock, crypto::ScryptParams{}, scrypt_waiting);
    // Admin password logins: two scrypts (64 MiB) at once and eight waiting at most, whichever
    // listener serves the page; more at once are told busy (503) unchecked.
    s.admins = std::make_unique<store::AdminStore>(*s.db, clock);
    s.audit = std::make_unique<store::AuditLog>(*s.db, clock);
    s.requests = std::make_unique<store::RequestStore>(*s.db, clock);
    s.throttle = std::make_unique<store::ThrottleStore>(*s.db, clock, config.throttle);
    return s;
}

Instance::Instance(AppConfig config, const Clock& clock) : m_config(std::move(config)), m_clock(clock) {
    refuse_unsafe_start(m_config, clock.now());
    core::RaIdentity identity = load_identity(m_config);
    load_previous_identity(m_config, clock.now(), identity);
    m_stores = open_stores(m_config, clock);
    const bool remote = m_config.backend != "local";
    // The issuing CA as the last start fetched it: a re-key while the RA was stopped shows here.
    crypto::X509Ptr fetched_before = remote ? last_fetched_issuing_ca(m_config) : nullptr;
    m_backend = make_backend(m_config, *m_stores.db, clock);
    std::vector<crypto::X509Ptr> replaced;
    if (remote) {
        m_replaced_cas = std::make_unique<ReplacedCas>(replaced_cas_file(m_config.database), clock.now());
        if (fetched_before) {
            if (const std::string line = note_replaced_ca(*fetched_before, *m_backend->ca_chain().front());
                !line.empty()) {
                std::cerr << "scep-ra: " << line << std::endl;
            }
        }
        replaced = m_replaced_cas->certificates();
    }
    check_backend_supports_policies(m_config, *m_backend);
    check_no_orphaned_requests(m_config, *m_stores.db, m_backend->name());
    m_metrics = std::make_unique<metrics::ScepMetrics>(m_metrics_registry);
    m_measured_backend = std::make_unique<metrics::InstrumentedBackend>(*m_backend, *m_metrics);
    m_modes = std::make_unique<core::PasswordModes>(m_config.password, *m_stores.challenges,
                                                    *m_stores.single_password);
    m_throttled = std::make_shared<core::ThrottledVerifier>(*m_modes, *m_stores.throttle, *m_stores.audit);
    m_validators = std::make_unique<ValidatorRegistry>(m_config, *m_stores.db, clock, m_throttled, std::cerr);
    core::ServiceOptions options;
    options.ciphers.allow_single_des = m_config.allow_single_des;
    if (m_config.max_clock_skew_minutes > 0) {
        options.max_clock_skew = std::chrono::minutes(m_config.max_clock_skew_minutes);
    }
    options.templates = m_config.templates;
    options.renewal = m_config.renewal;
    options.existing_subject_requires_renewal = m_config.existing_subject_requires_renewal;
    std::vector<crypto::X509Ptr> renewing_cas = m_backend->ca_chain();
    for (const auto& previous : identity.previous_cas) {
        renewing_cas.push_back(crypto::up_ref(*previous));
    }
    for (const auto& previous : replaced) {
        renewing_cas.push_back(crypto::up_ref(*previous));
    }
    options.revocation = make_revocation_check(m_config, *m_measured_backend, std::move(renewing_cas), clock);
    options.ca_unavailable = m_config.ca_unavailable;
    options.template_policies = m_config.template_policies;
    options.outcome_listeners = m_validators->outcome_listeners();
    options.csr_seal_key =
        store::ChallengeStore::load_or_create_key(m_config.signing_key.parent_path() / "csr-seal.key");
    auto chain = m_backend->ca_chain();
    std::vector<metrics::CertificateExpiry> expiries{
        metrics::certificate_expiry("ra_signing", *identity.signing_cert),
        metrics::certificate_expiry("ra_encryption", *identity.encryption_cert)};
    for (size_t i = 0; i < chain.size(); ++i) {
        expiries.push_back(metrics::certificate_expiry(i == 0 ? "ca" : "ca_chain", *chain[i]));
    }
    metrics::add_instance_gauges(m_metrics_registry, {*m_stores.challenges, *m_modes, *m_stores.throttle,
                                                      m_config.database, std::move(expiries)});
    m_service = std::make_unique<core::ScepService>(std::move(options), std::move(identity),
                                                    *m_measured_backend, m_validators->router(),
                                                    *m_stores.audit, *m_stores.requests, clock);
    m_service->set_next_ca(load_next_ca_response(m_config));
    if (!replaced.empty()) {
        m_service->set_issuers(m_backend->ca_chain(), replaced);
    }
    m_scep_site = std::make_unique<http::ScepSite>(*m_service, m_metrics.get(), m_backend->name());
    const http::AdminSiteOptions admin_options{m_config.admin.page, m_config.admin.allow_plaintext};
    m_admin_site = std::make_unique<http::AdminSite>(admin_options, *m_stores.admins, *m_stores.challenges,
                                                     *m_modes, *m_backend);
    m_crl_site = std::make_unique<http::CrlSite>(m_config.crl_path, *m_measured_backend);
}

backend::local::LocalCaBackend& Instance::local_ca() {
    auto* local = dynamic_cast<backend::local::LocalCaBackend*>(m_backend.get());
    if (local == nullptr) {
        throw std::logic_error("the configured CA backend is " + m_backend->name() + ", not the local CA");
    }
    return *local;
}

std::vector<http::Site*> Instance::scep_listener_sites() {
    std::vector<http::Site*> sites{m_scep_site.get(), m_crl_site.get()};
    if (m_config.admin.on_scep_listener) {
        sites.push_back(m_admin_site.get());
    }
    return sites;
}

std::string Instance::note_replaced_ca(X509& previous, X509& current) {
    const auto line = m_replaced_cas->note(previous, current, m_clock.now());
    if (!line) {
        return "";
    }
    m_stores.audit->record({.peer = "scep-ra",
                            .operation = "CA re-key",
                            .subject = crypto::name_string(*X509_get_subject_name(&current)),
                            // The CA issued under a new key; the audit trail's decisions are issued,
                            // pending, rejected and error (a CHECK constraint).
                            .decision = "issued",
                            .detail = *line,
                            .serial = crypto::serial_hex(previous)});
    return *line;
}

std::string Instance::refresh_ca_chain() {
    const auto before = m_backend->ca_chain();
    try {
        if (!cli::refresh_ca_chain(*m_backend, m_config)) {
            return "";
        }
    } catch (const std::exception& e) {
        return "CA chain not refreshed, the chain in use is kept: " + std::string(e.what());
    }
    const auto chain = m_backend->ca_chain();
    std::string said = "CA chain refreshed from the " + m_backend->name() +
                       " backend: " + std::to_string(chain.size()) + " certificate(s), issuing CA serial " +
                       crypto::serial_hex(*chain.front());
    std::vector<crypto::X509Ptr> replaced;
    if (m_replaced_cas) {
        try {
            for (const std::string& line : m_replaced_cas->drop_expired(m_clock.now())) {
                said += "; " + line;
            }
            if (const std::string line = note_replaced_ca(*before.front(), *chain.front()); !line.empty()) {
                said += "; " + line;
            }
        } catch (const std::exception& e) {  // the file cannot be written: in use until the next start
            said += "; the replaced CA certificate could not be kept for the next start: " +
                    std::string(e.what());
        }
        replaced = m_replaced_cas->certificates();
    }
    m_service->set_issuers(chain, replaced);
    return said;
}

void Instance::reload(const AppConfig& fresh) {
    m_validators->reload(fresh);  // first: it may refuse the reload
    m_modes->apply(fresh.password);
    m_service->set_next_ca(load_next_ca_response(m_config));
    m_config.password = fresh.password;
}

}  // namespace scepra::cli
