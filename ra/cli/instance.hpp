// SPDX-License-Identifier: Apache-2.0
// Everything a running instance is built from, opened from its configuration.
#pragma once

#include <memory>

#include "cli/app_config.hpp"
#include "cli/replaced_cas.hpp"
#include "cli/validator_registry.hpp"
#include "core/challenge_throttle.hpp"
#include "core/challenge_verifier.hpp"
#include "core/scep_service.hpp"
#include "http/admin_site.hpp"
#include "http/crl_site.hpp"
#include "http/scep_site.hpp"
#include "local/local_ca_backend.hpp"
#include "metrics/instrumented_backend.hpp"
#include "metrics/registry.hpp"
#include "store/admin_store.hpp"
#include "store/audit_log.hpp"
#include "store/challenge_store.hpp"
#include "store/database.hpp"
#include "store/request_store.hpp"
#include "store/single_password_store.hpp"
#include "store/throttle_store.hpp"

namespace scepra::cli {

/// The stores every subcommand may need, on the instance database.
struct Stores {
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::ChallengeStore> challenges;
    std::unique_ptr<store::SinglePasswordStore> single_password;
    std::unique_ptr<store::AdminStore> admins;
    std::unique_ptr<store::AuditLog> audit;
    std::unique_ptr<store::RequestStore> requests;
    std::unique_ptr<store::ThrottleStore> throttle;
};
/// The local CA settings, with a profile for every template name the
/// [templates] section can select that no [profile.NAME] defines.
backend::local::LocalCaConfig local_ca_config(const AppConfig& config);

/// Opens the database of an initialised instance (it must exist).
Stores open_stores(const AppConfig& config, const Clock& clock);

/// The parts of a serving instance, wired in dependency order (members are
/// destroyed in reverse, so the service goes before what it uses).
class Instance {
  public:
    Instance(AppConfig config, const Clock& clock);

    const AppConfig& config() const { return m_config; }
    store::Database& database() { return *m_stores.db; }
    store::ChallengeStore& challenges() { return *m_stores.challenges; }
    store::SinglePasswordStore& single_password() { return *m_stores.single_password; }
    store::AdminStore& admins() { return *m_stores.admins; }
    core::PasswordModes& password_modes() { return *m_modes; }
    store::ThrottleStore& throttle() { return *m_stores.throttle; }
    store::RequestStore& requests() { return *m_stores.requests; }
    core::ScepService& service() { return *m_service; }
    backend::CaBackend& backend() { return *m_backend; }
    /// The embedded CA, for its own commands and tests; throws std::logic_error for another backend.
    backend::local::LocalCaBackend& local_ca();
    http::AdminSite& admin_site() { return *m_admin_site; }
    /// What /metrics shows (the metrics listener is serve's).
    const metrics::Registry& metrics() const { return m_metrics_registry; }
    /// The sites of the SCEP listener: SCEP, the CRL, and the admin page when configured there.
    std::vector<http::Site*> scep_listener_sites();

    /// Applies what can change without a restart (the [password] settings,
    /// the challenge validators and [webhook]) from a freshly loaded
    /// configuration: all of it, or nothing when a validator cannot be built.
    void reload(const AppConfig& fresh);
    /// On reload: a remote CA's chain fetched again and served by GetCACert.
    /// When the CA re-keyed under the same name, the replaced CA certificate
    /// is kept (ReplacedCas, audited) so that what it issued may still renew.
    /// What happened, for the log; a failure keeps the chain in use.
    std::string refresh_ca_chain();

  private:
    /// Keeps previous as a replaced CA when current re-keyed it; audits and
    /// returns the log line (empty when it is no re-key).
    std::string note_replaced_ca(X509& previous, X509& current);

    AppConfig m_config;
    const Clock& m_clock;
    Stores m_stores;
    metrics::Registry m_metrics_registry;
    std::unique_ptr<metrics::ScepMetrics> m_metrics;
    std::unique_ptr<backend::CaBackend> m_backend;
    std::unique_ptr<ReplacedCas> m_replaced_cas;                       ///< remote backends only
    std::unique_ptr<metrics::InstrumentedBackend> m_measured_backend;  ///< m_backend, with its calls counted
    std::unique_ptr<core::PasswordModes> m_modes;
    std::shared_ptr<core::ThrottledVerifier> m_throttled;  ///< validator = local
    std::unique_ptr<ValidatorRegistry> m_validators;       ///< picks each template's validator
    std::unique_ptr<core::ScepService> m_service;
    std::unique_ptr<http::ScepSite> m_scep_site;
    std::unique_ptr<http::AdminSite> m_admin_site;
    std::unique_ptr<http::CrlSite> m_crl_site;
};

}  // namespace scepra::cli
