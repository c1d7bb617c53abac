// SPDX-License-Identifier: Apache-2.0
// Every key of scep-ra.conf outside the backends' sections, with its default.
#include "cli/config_sections.hpp"
#include "core/template_selection.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

// clang-format off
po::options_description config_keys() {
    po::options_description d;
    add_local_ca_keys(d);
    add_ejbca_keys(d);
    add_adcs_keys(d);
    add_validator_keys(d);
    add_intune_keys(d);
    d.add_options()
        ("server.listen", po::value<std::string>()->default_value("127.0.0.1:8080"))
        ("server.threads", po::value<int>()->default_value(64))
        ("server.max_body_bytes", po::value<long>()->default_value(2 << 20))
        ("server.max_connections", po::value<int>()->default_value(4096))
        ("server.max_connections_per_address", po::value<int>()->default_value(256))
        ("server.max_queued_requests", po::value<int>()->default_value(1024))
        ("server.max_active_requests_per_address", po::value<int>()->default_value(32))
        ("server.request_timeout_seconds", po::value<int>()->default_value(60))
        ("server.idle_timeout_seconds", po::value<int>()->default_value(5))
        ("server.write_timeout_seconds", po::value<int>()->default_value(30))
        ("server.max_requests_per_connection", po::value<int>()->default_value(1000))
        ("ra.signing_cert", po::value<std::string>()->default_value("ra-signing.pem"))
        ("ra.signing_key", po::value<std::string>()->default_value("private/ra-signing.key"))
        ("ra.encryption_cert", po::value<std::string>()->default_value("ra-encryption.pem"))
        ("ra.encryption_key", po::value<std::string>()->default_value("private/ra-encryption.key"))
        ("ra.allow_single_des", po::value<int>()->default_value(0))
        ("ra.max_clock_skew_minutes", po::value<int>()->default_value(0))
        ("server.pid_file", po::value<std::string>()->default_value("scep-ra.pid"))
        ("database.path", po::value<std::string>()->default_value("scep-ra.db"))
        ("ca.backend", po::value<std::string>()->default_value("local"))
        ("ca.unavailable", po::value<std::string>()->default_value("pending"))
        ("password.EnforcePassword", po::value<int>()->default_value(1))
        ("password.UseSinglePassword", po::value<int>()->default_value(0))
        ("password.PasswordMax", po::value<int>()->default_value(5))
        ("password.PasswordLength", po::value<int>()->default_value(8))
        ("password.PasswordValidity", po::value<int>()->default_value(60))
        ("password.hmac_key", po::value<std::string>()->default_value("private/challenge-hmac.key"))
        ("admin.listen", po::value<std::string>()->default_value(""))
        ("admin.tls_cert", po::value<std::string>()->default_value(""))
        ("admin.tls_key", po::value<std::string>()->default_value(""))
        ("admin.on_scep_listener", po::value<int>()->default_value(0))
        ("admin.utf16", po::value<int>()->default_value(1))
        ("admin.utf16_bom", po::value<int>()->default_value(1))
        ("admin.auth", po::value<std::string>()->default_value("basic"))
        ("admin.allow_plaintext", po::value<int>()->default_value(0))
        ("admin.keytab", po::value<std::string>()->default_value(""))
        ("admin.service_principal", po::value<std::string>()->default_value(""))
        ("admin.kerberos_realm", po::value<std::string>()->default_value(""))
        ("renewal.enabled", po::value<int>()->default_value(1))
        ("renewal.grace_days", po::value<int>()->default_value(0))
        ("renewal.same_subject", po::value<int>()->default_value(1))
        ("renewal.require_new_key", po::value<int>()->default_value(0))
        ("renewal.window_days", po::value<int>()->default_value(0))
        ("renewal.window_percent", po::value<int>()->default_value(0))
        ("renewal.san", po::value<std::string>()->default_value("same"))
        ("renewal.revocation", po::value<std::string>()->default_value("backend"))
        ("renewal.unrecorded_signers", po::value<int>()->default_value(1))
        ("policy.existing_subject", po::value<std::string>()->default_value("allow"))
        ("templates.SignatureTemplate", po::value<std::string>()->default_value(core::default_template_name))
        ("templates.EncryptionTemplate", po::value<std::string>()->default_value(core::default_template_name))
        ("templates.GeneralPurposeTemplate", po::value<std::string>()->default_value(core::default_template_name))
        ("throttle.max_failures", po::value<int>()->default_value(5))
        ("throttle.window_minutes", po::value<int>()->default_value(15))
        ("throttle.lockout_minutes", po::value<int>()->default_value(15))
        ("audit.retention_days", po::value<int>()->default_value(365))
        ("metrics.listen", po::value<std::string>()->default_value("127.0.0.1:9464"))
        ("log.format", po::value<std::string>()->default_value("text"));
    return d;
}
// clang-format on

}  // namespace scepra::cli
