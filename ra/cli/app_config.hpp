// SPDX-License-Identifier: Apache-2.0
// scep-ra.conf: the INI file read by every subcommand, as plain structs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "adcs/adcs_config.hpp"
#include "core/scep_service.hpp"
#include "ejbca/ejbca_config.hpp"
#include "http/admin_page.hpp"
#include "http/listener.hpp"
#include "local/local_ca_backend.hpp"
#include "store/challenge_store.hpp"
#include "store/throttle_store.hpp"
#include "validators/intune/intune_settings.hpp"
#include "validators/webhook/webhook_config.hpp"

namespace scepra::cli {

/// The admin page listener.
struct AdminConfig {
    std::optional<http::ListenOptions> listen;  ///< a listener of its own; unset = none
    bool on_scep_listener = false;              ///< also serve the page on the SCEP listener
    http::AdminPageSettings page;               ///< [admin] utf16, utf16_bom and auth
    bool allow_plaintext = false;               ///< allow Basic passwords over plain HTTP
};

struct AppConfig {
    std::filesystem::path file;  ///< where it was read from
    http::ListenOptions listen;
    std::filesystem::path signing_cert, signing_key, encryption_cert, encryption_key;
    bool allow_single_des = false;
    int max_clock_skew_minutes = 0;
    std::filesystem::path database;
    std::filesystem::path pid_file;
    std::string backend = "local";  ///< [ca] backend: local, ejbca or adcs
    core::WhenCaUnavailable ca_unavailable = core::WhenCaUnavailable::pending;  ///< [ca] unavailable
    /// The RA's part of each [profile.NAME] (manual_approval, key policy), whatever the backend.
    core::TemplatePolicies template_policies;
    backend::local::LocalCaConfig local_ca;      ///< [local_ca], files checked only when backend = local
    backend::ejbca::EjbcaConfig ejbca;           ///< [ejbca]
    backend::adcs::AdcsConfig adcs;              ///< [adcs]
    std::string challenge_validator = "local";   ///< [challenge] validator: local, intune or webhook
    validators::webhook::WebhookConfig webhook;  ///< [webhook]
    validators::intune::IntuneSettings intune;   ///< [intune], checked when a validator is intune
    core::PasswordSettings password;             ///< [password] NDES settings
    std::filesystem::path hmac_key_file;         ///< [password] hmac_key
    core::TemplateNames templates;               ///< [templates] NDES settings
    AdminConfig admin;
    std::string
        crl_path;  ///< [local_ca] crl_path: where the SCEP listener serves the local CA's CRL; empty = none
    core::RenewalPolicy renewal;                         ///< [renewal]
    bool existing_subject_requires_renewal = false;      ///< [policy] existing_subject
    store::ThrottleSettings throttle;                    ///< [throttle] failed challenge passwords
    int audit_retention_days = 365;                      ///< [audit] retention_days; 0 = keep forever
    std::optional<http::ListenOptions> metrics_listen;   ///< [metrics] listen: /metrics; unset = off
    http::LogFormat log_format = http::LogFormat::text;  ///< [log] format of the request log
};

/// Thrown for any problem with the configuration; the message names the file
/// and the key.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Whether load_config insists that the files a config names exist.
enum class FileCheck {
    require,  ///< every named certificate and key must exist (what serve needs)
    skip,     ///< check only the settings themselves (a sample config, a config for another machine)
};

/// Reads and validates the file. Relative paths are resolved against the
/// file's directory. Throws ConfigError listing every problem found.
AppConfig load_config(const std::filesystem::path& file, FileCheck files = FileCheck::require);

/// Where `scep-ra init` puts the instance's files in the config it writes.
struct InstanceLayout {
    /// Empty: everything relative to the config's directory. Otherwise the
    /// absolute directory holding the database, certificates and private/.
    std::filesystem::path state_dir;
    std::string pid_file = "scep-ra.pid";
    /// [ca] backend of the written config; only its section is written.
    std::string backend = "local";
};

/// The commented configuration `scep-ra init` writes, with every key at its default.
/// admin_tls_cert and admin_tls_key are relative to the layout's state directory.
std::string default_config_text(const std::string& listen, const std::string& admin_listen,
                                const std::string& admin_tls_cert, const std::string& admin_tls_key,
                                const InstanceLayout& layout = {});

}  // namespace scepra::cli
