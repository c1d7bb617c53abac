// SPDX-License-Identifier: Apache-2.0
// Reading scep-ra.conf with Boost.Program_options' INI parser into an
// AppConfig, every problem collected by the Checker. The keys and their
// defaults are in config_keys.cpp.
#include "cli/app_config.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "cli/backend_factory.hpp"
#include "cli/config_checker.hpp"
#include "cli/config_sections.hpp"
#include "cli/option_errors.hpp"
#include "cli/validator_registry.hpp"
#include "common/utf8.hpp"
#include "http/keytab.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

/// Files the value of key under its section name when key is PREFIX NAME.KEY.
bool collect_named(const std::string& key, const std::string& prefix, const std::string& value,
                   NamedSections& into) {
    const size_t dot = key.rfind('.');
    if (key.rfind(prefix, 0) != 0 || dot == std::string::npos || dot <= prefix.size()) {
        return false;
    }
    into[key.substr(prefix.size(), dot - prefix.size())][key.substr(dot + 1)] = value;
    return true;
}

/// [admin] auth: "negotiate", "ntlm", "basic", comma-separated, in the order
/// the page offers them (IIS offers Negotiate, then NTLM).
std::vector<http::AuthScheme> admin_auth_schemes(Checker& check) {
    std::vector<http::AuthScheme> schemes;
    std::istringstream items(check.text("admin.auth"));
    for (std::string item; std::getline(items, item, ',');) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        std::transform(item.begin(), item.end(), item.begin(),
                       [](unsigned char ch) { return std::tolower(ch); });
        std::optional<http::AuthScheme> scheme;
        if (item == "negotiate") scheme = http::AuthScheme::negotiate;
        if (item == "ntlm") scheme = http::AuthScheme::ntlm;
        if (item == "basic") scheme = http::AuthScheme::basic;
        if (!scheme) {
            check.problem("admin.auth", "names '" + item + "'; the schemes are negotiate, ntlm and basic");
            continue;
        }
        if (std::find(schemes.begin(), schemes.end(), *scheme) != schemes.end()) {
            check.problem("admin.auth", "names '" + item + "' twice");
            continue;
        }
        schemes.push_back(*scheme);
    }
    if (schemes.empty()) {
        check.problem("admin.auth", "must name at least one scheme (negotiate, ntlm, basic)");
        schemes.push_back(http::AuthScheme::basic);
    }
    return schemes;
}

/// [admin] keytab, service_principal and kerberos_realm; the keytab is opened
/// and searched for the principal when files are checked, so that serve
/// refuses to start with one it could not accept with.
http::NegotiateSettings admin_negotiate_settings(Checker& check, bool negotiate, FileCheck files) {
    http::NegotiateSettings settings;
    settings.keytab = check.path("admin.keytab", false);
    settings.service_principal = check.text("admin.service_principal");
    settings.kerberos_realm = check.text("admin.kerberos_realm");
    const std::string& realm = settings.kerberos_realm;
    if (realm.find_first_of("@/\\ \t") != std::string::npos) {
        check.problem("admin.kerberos_realm",
                      "must be a realm name such as EXAMPLE.COM, not '" + realm + "'");
    }
    if (!negotiate) {
        return settings;
    }
    if (settings.keytab.empty()) {
        check.problem("admin.keytab", "must be set when auth names negotiate");
    } else if (files == FileCheck::require) {
        try {
            http::keytab_principal(settings.keytab, settings.service_principal);
        } catch (const http::KeytabError& e) {
            check.problem("admin." + e.key(), e.what());
        } catch (const std::runtime_error& e) {
            check.problem("admin.keytab", e.what());
        }
    }
    return settings;
}

}  // namespace

AppConfig load_config(const std::filesystem::path& file, FileCheck files) {
    std::ifstream in(file);
    if (!in) {
        throw ConfigError("cannot read configuration file " + file.string());
    }
    po::variables_map vm;
    // [profile.NAME] and [ejbca.template.NAME] sections have names only the
    // operator knows: collect them from the unregistered options, and refuse
    // every other unknown key.
    NamedSections profile_keys;
    NamedSections ejbca_template_keys;
    try {
        const po::options_description keys = config_keys();  // parsed keeps a pointer to it
        po::parsed_options parsed = po::parse_config_file(in, keys, true);
        for (const auto& option : parsed.options) {
            if (!option.unregistered) {
                continue;
            }
            const std::string& key = option.string_key;
            const std::string value = option.value.empty() ? std::string() : option.value.front();
            if (!collect_named(key, "profile.", value, profile_keys) &&
                !collect_named(key, "ejbca.template.", value, ejbca_template_keys)) {
                throw ConfigError(file.string() + ": unknown key '" + escape_for_terminal(key) + "'");
            }
        }
        po::store(parsed, vm);
        po::notify(vm);
    } catch (const po::unknown_option& e) {
        throw ConfigError(file.string() + ": unknown key '" + escape_for_terminal(e.get_option_name()) + "'");
    } catch (const po::error& e) {
        throw ConfigError(file.string() + ": " + describe_option_error(e));
    }

    AppConfig c;
    c.file = std::filesystem::absolute(file);
    Checker check(vm, c.file, files);
    try {
        c.listen = http::parse_listen(check.text("server.listen"));
    } catch (const std::invalid_argument& e) {
        check.problem("server.listen", e.what());
    }
    c.listen.worker_threads = check.number("server.threads", 1, 1024);
    long body = vm["server.max_body_bytes"].as<long>();
    if (body < 4096 || body > (64L << 20)) {
        check.problem("server.max_body_bytes", "must be between 4096 and 67108864");
    }
    c.listen.max_body_bytes = static_cast<size_t>(body);
    http::ConnectionLimits& limits = c.listen.limits;
    limits.max_connections = static_cast<size_t>(check.number("server.max_connections", 16, 1000000));
    limits.max_connections_per_address =
        static_cast<size_t>(check.number("server.max_connections_per_address", 1, 1000000));
    limits.max_queued_requests = static_cast<size_t>(check.number("server.max_queued_requests", 1, 1000000));
    limits.max_active_per_address =
        static_cast<size_t>(check.number("server.max_active_requests_per_address", 1, 1000000));
    limits.request_deadline = std::chrono::seconds(check.number("server.request_timeout_seconds", 1, 3600));
    limits.idle_timeout = std::chrono::seconds(check.number("server.idle_timeout_seconds", 1, 3600));
    limits.write_timeout = std::chrono::seconds(check.number("server.write_timeout_seconds", 1, 3600));
    limits.max_requests = static_cast<size_t>(check.number("server.max_requests_per_connection", 1, 1000000));

    c.signing_cert = check.path("ra.signing_cert");
    c.signing_key = check.path("ra.signing_key");
    c.encryption_cert = check.path("ra.encryption_cert");
    c.encryption_key = check.path("ra.encryption_key");
    c.allow_single_des = check.flag("ra.allow_single_des");
    c.max_clock_skew_minutes = check.number("ra.max_clock_skew_minutes", 0, 525600);
    c.database = check.path("database.path", false);
    c.pid_file = check.path("server.pid_file", false);

    c.backend = check.choice("ca.backend", backend_names());
    c.ca_unavailable = check.choice("ca.unavailable", {"pending", "fail"}) == "fail"
                           ? core::WhenCaUnavailable::fail
                           : core::WhenCaUnavailable::pending;
    c.local_ca = parse_local_ca(check, c.backend == "local", profile_keys, c.template_policies);
    c.ejbca = parse_ejbca(check, c.backend == "ejbca", ejbca_template_keys);
    c.adcs = parse_adcs(check, c.backend == "adcs");
    // The HTTP CRL is the local CA's; a remote CA publishes its own.
    c.crl_path = c.backend == "local" ? check.text("local_ca.crl_path") : std::string();
    if (!c.crl_path.empty() && c.crl_path.front() != '/') {
        check.problem("local_ca.crl_path", "must start with '/'");
    }

    c.challenge_validator = check.choice("challenge.validator", validator_names());
    c.webhook = parse_webhook(check);
    c.intune = parse_intune(check, validator_in_use(c, "intune"));
    check_validators(check, c);

    c.password.enforce_password = check.flag("password.EnforcePassword");
    c.password.use_single_password = check.flag("password.UseSinglePassword");
    c.password.one_time.max_outstanding = check.number("password.PasswordMax", 1, 1000000);
    c.password.one_time.length_bytes = check.number("password.PasswordLength", 4, 64);
    c.password.one_time.validity = std::chrono::minutes(check.number("password.PasswordValidity", 1, 525600));
    c.hmac_key_file = check.path("password.hmac_key", false);

    if (const std::string admin_listen = check.text("admin.listen"); !admin_listen.empty()) {
        try {
            c.admin.listen = http::admin_listen_options(http::parse_listen(admin_listen));
        } catch (const std::invalid_argument& e) {
            check.problem("admin.listen", e.what());
        }
    }
    const auto tls_cert = check.path("admin.tls_cert");
    const auto tls_key = check.path("admin.tls_key");
    if (tls_cert.empty() != tls_key.empty()) {
        check.problem("admin.tls_cert", "and tls_key must be set together");
    } else if (c.admin.listen) {
        c.admin.listen->tls_cert = tls_cert;
        c.admin.listen->tls_key = tls_key;
    }
    c.admin.on_scep_listener = check.flag("admin.on_scep_listener");
    c.admin.page.encoding.utf16 = check.flag("admin.utf16");
    c.admin.page.encoding.bom = check.flag("admin.utf16_bom");
    c.admin.page.auth = admin_auth_schemes(check);
    const auto& schemes = c.admin.page.auth;
    c.admin.page.negotiate = admin_negotiate_settings(
        check, std::find(schemes.begin(), schemes.end(), http::AuthScheme::negotiate) != schemes.end(),
        files);
    // NT hashes are sealed under a key derived from the one-time password key.
    c.admin.page.ntlm_key_file = c.hmac_key_file;
    // HTTP Basic sends the admin's password with every request: never in clear
    // unless the operator says so (e.g. TLS ends at a proxy on the same host).
    c.admin.allow_plaintext = check.flag("admin.allow_plaintext");
    if (!c.admin.allow_plaintext) {
        if (c.admin.listen && c.admin.listen->tls_cert.empty()) {
            check.problem("admin.tls_cert",
                          "is not set, so the admin listener would take passwords over plain HTTP; "
                          "set tls_cert and tls_key, or allow_plaintext = 1");
        }
        if (c.admin.on_scep_listener && c.listen.tls_cert.empty()) {
            check.problem("admin.on_scep_listener",
                          "= 1 serves the admin page on the plain-HTTP SCEP listener, "
                          "where passwords travel in clear; set allow_plaintext = 1 to allow it");
        }
    }

    c.renewal.enabled = check.flag("renewal.enabled");
    c.renewal.grace_after_expiry = std::chrono::hours(24) * check.number("renewal.grace_days", 0, 3650);
    c.renewal.same_subject = check.flag("renewal.same_subject");
    c.renewal.require_new_key = check.flag("renewal.require_new_key");
    c.renewal.window_days = check.number("renewal.window_days", 0, 36500);
    c.renewal.window_percent = check.number("renewal.window_percent", 0, 100);
    c.renewal.unrecorded_signers = check.flag("renewal.unrecorded_signers");
    const std::string san = check.text("renewal.san");
    if (san != "same" && san != "subset") {
        check.problem("renewal.san", "must be same or subset, not '" + san + "'");
    }
    c.renewal.san = san == "subset" ? core::RenewalSanRule::subset : core::RenewalSanRule::same;
    const std::string revocation = check.choice("renewal.revocation", {"backend", "crl", "none"});
    c.renewal.revocation = revocation == "crl"    ? core::RevocationMode::crl
                           : revocation == "none" ? core::RevocationMode::none
                                                  : core::RevocationMode::backend;
    const std::string existing = check.text("policy.existing_subject");
    if (existing != "allow" && existing != "require-renewal") {
        check.problem("policy.existing_subject", "must be allow or require-renewal, not '" + existing + "'");
    }
    c.existing_subject_requires_renewal = existing == "require-renewal";

    c.templates.signature = check.text("templates.SignatureTemplate");
    c.templates.encryption = check.text("templates.EncryptionTemplate");
    c.templates.general_purpose = check.text("templates.GeneralPurposeTemplate");

    c.throttle.max_failures = check.number("throttle.max_failures", 1, 1000000);
    c.throttle.window = std::chrono::minutes(check.number("throttle.window_minutes", 1, 525600));
    c.throttle.lockout = std::chrono::minutes(check.number("throttle.lockout_minutes", 1, 525600));
    c.audit_retention_days = check.number("audit.retention_days", 0, 36500);
    if (const std::string format = check.text("log.format"); format == "json") {
        c.log_format = http::LogFormat::json;
    } else if (format != "text") {
        check.problem("log.format", "must be text or json, not '" + format + "'");
    }
    c.listen.log_format = c.log_format;
    if (c.admin.listen) {
        c.admin.listen->log_format = c.log_format;
    }
    if (const std::string metrics_listen = check.text("metrics.listen"); !metrics_listen.empty()) {
        try {
            c.metrics_listen = http::parse_listen(metrics_listen);
        } catch (const std::invalid_argument& e) {
            check.problem("metrics.listen", e.what());
        }
    }
    check.throw_if_any();
    return c;
}

}  // namespace scepra::cli
