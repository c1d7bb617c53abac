// SPDX-License-Identifier: Apache-2.0
// Reading scep-ra.conf with Boost.Program_options' INI parser.
#include "cli/app_config.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

po::options_description config_keys() {
    po::options_description d;
    d.add_options()
        ("server.listen", po::value<std::string>()->default_value("127.0.0.1:8080"))
        ("server.threads", po::value<int>()->default_value(64))
        ("server.max_body_bytes", po::value<long>()->default_value(2 << 20))
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
        ("local_ca.cert", po::value<std::string>()->default_value("ca.pem"))
        ("local_ca.key", po::value<std::string>()->default_value("private/ca.key"))
        ("local_ca.chain", po::value<std::string>()->default_value(""))
        ("local_ca.validity_days", po::value<int>()->default_value(365))
        ("local_ca.backdate_minutes", po::value<int>()->default_value(10))
        ("local_ca.key_usage", po::value<std::string>()->default_value("digitalSignature,keyEncipherment"))
        ("local_ca.extended_key_usage", po::value<std::string>()->default_value("clientAuth"))
        ("local_ca.copy_san", po::value<int>()->default_value(1))
        ("local_ca.digest", po::value<std::string>()->default_value("SHA256"))
        ("local_ca.crl_validity_hours", po::value<int>()->default_value(168))
        ("local_ca.crl_distribution_point", po::value<std::string>()->default_value(""))
        ("local_ca.crl_path", po::value<std::string>()->default_value("/crl/scep-ra.crl"))
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
        ("admin.utf16", po::value<int>()->default_value(0))
        ("admin.allow_plaintext", po::value<int>()->default_value(0))
        ("renewal.enabled", po::value<int>()->default_value(1))
        ("renewal.grace_days", po::value<int>()->default_value(0))
        ("renewal.same_subject", po::value<int>()->default_value(1))
        ("renewal.require_new_key", po::value<int>()->default_value(0))
        ("renewal.window_days", po::value<int>()->default_value(0))
        ("renewal.window_percent", po::value<int>()->default_value(0))
        ("renewal.san", po::value<std::string>()->default_value("same"))
        ("policy.existing_subject", po::value<std::string>()->default_value("allow"))
        ("templates.SignatureTemplate", po::value<std::string>()->default_value("IPSECIntermediateOffline"))
        ("templates.EncryptionTemplate", po::value<std::string>()->default_value("IPSECIntermediateOffline"))
        ("templates.GeneralPurposeTemplate", po::value<std::string>()->default_value("IPSECIntermediateOffline"))
        ("throttle.max_failures", po::value<int>()->default_value(5))
        ("throttle.window_minutes", po::value<int>()->default_value(15))
        ("throttle.lockout_minutes", po::value<int>()->default_value(15))
        ("audit.retention_days", po::value<int>()->default_value(365));
    return d;
}

/// Collects every problem so the operator can fix them in one go.
class Checker {
public:
    Checker(const po::variables_map& vm, std::filesystem::path file, FileCheck files)
        : m_vm(vm), m_file(std::move(file)), m_files(files) {}

    std::string text(const std::string& key) { return m_vm[key].as<std::string>(); }

    int number(const std::string& key, int min, int max) {
        int v = m_vm[key].as<int>();
        if (v < min || v > max) {
            problem(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", not " +
                             std::to_string(v));
        }
        return v;
    }

    bool flag(const std::string& key) { return number(key, 0, 1) == 1; }

    std::filesystem::path path(const std::string& key, bool must_exist = true) {
        std::filesystem::path p = text(key);
        if (p.empty()) {
            return p;
        }
        if (p.is_relative()) {
            p = m_file.parent_path() / p;
        }
        if (must_exist && m_files == FileCheck::require && !std::filesystem::exists(p)) {
            problem(key, "names " + p.string() + ", which does not exist");
        }
        return p;
    }

    void problem(const std::string& key, const std::string& what) {
        m_problems.push_back(m_file.string() + ": [" + section(key) + "] " + name(key) + " " + what);
    }

    void throw_if_any() const {
        if (m_problems.empty()) {
            return;
        }
        std::string all;
        for (const auto& p : m_problems) {
            all += (all.empty() ? "" : "\n") + p;
        }
        throw ConfigError(all);
    }

private:
    static std::string section(const std::string& key) { return key.substr(0, key.rfind('.')); }
    static std::string name(const std::string& key) { return key.substr(key.rfind('.') + 1); }

    const po::variables_map& m_vm;
    std::filesystem::path m_file;
    FileCheck m_files;
    std::vector<std::string> m_problems;
};

/// The local CA's profile and the RA's policy (manual_approval) of one [profile.NAME].
backend::local::CertificateProfile parse_profile(const std::string& name,
                                                const std::map<std::string, std::string>& keys, Checker& check,
                                                core::TemplatePolicy& policy) {
    backend::local::CertificateProfile p;
    p.name = name;
    p.allowed_key_types.clear();
    const std::string section = "profile." + name + ".";
    for (const auto& entry : keys) {
        // Named references, not structured bindings: clang 14 (the fuzz build) cannot capture those.
        const std::string& key = entry.first;
        const std::string& value = entry.second;
        auto number = [&](int min, int max) {
            int v = min;
            try {
                size_t used = 0;
                v = std::stoi(value, &used);
                if (used != value.size()) throw std::invalid_argument(value);
            } catch (const std::exception&) {
                check.problem(section + key, "must be a number, not '" + value + "'");
                return min;
            }
            if (v < min || v > max) {
                check.problem(section + key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
            }
            return v;
        };
        if (key == "validity_days") {
            p.validity_days = number(1, 36500);
        } else if (key == "key_usage") {
            p.key_usage = value;
        } else if (key == "extended_key_usage") {
            p.extended_key_usage = value;
        } else if (key == "copy_san") {
            p.copy_san = number(0, 1) == 1;
        } else if (key == "min_rsa_bits") {
            p.min_rsa_bits = number(1024, 16384);
            policy.keys.min_rsa_bits = p.min_rsa_bits;
        } else if (key == "allowed_key_types") {
            std::stringstream list(value);
            for (std::string type; std::getline(list, type, ',');) {
                type.erase(0, type.find_first_not_of(' '));
                type.erase(type.find_last_not_of(' ') + 1);
                if (!type.empty()) p.allowed_key_types.push_back(type);
            }
            policy.keys.allowed_key_types = p.allowed_key_types;
        } else if (key == "manual_approval") {
            policy.manual_approval = number(0, 1) == 1;  // the RA holds the request, not the CA
        } else {
            check.problem(section + key, "is not a profile setting (validity_days, key_usage, extended_key_usage, "
                                         "copy_san, min_rsa_bits, allowed_key_types, manual_approval)");
        }
    }
    try {
        backend::local::check_profile(p);
    } catch (const std::invalid_argument& e) {
        check.problem(section + "name", e.what());
    }
    return p;
}

}  // namespace

AppConfig load_config(const std::filesystem::path& file, FileCheck files) {
    std::ifstream in(file);
    if (!in) {
        throw ConfigError("cannot read configuration file " + file.string());
    }
    po::variables_map vm;
    // [profile.NAME] sections have names only the operator knows: collect
    // them from the unregistered options, and refuse every other unknown key.
    std::map<std::string, std::map<std::string, std::string>> profile_keys;
    try {
        const po::options_description keys = config_keys();  // parsed keeps a pointer to it
        po::parsed_options parsed = po::parse_config_file(in, keys, true);
        for (const auto& option : parsed.options) {
            if (!option.unregistered) {
                continue;
            }
            const std::string& key = option.string_key;
            const size_t dot = key.rfind('.');
            if (key.rfind("profile.", 0) != 0 || dot <= 8) {
                throw ConfigError(file.string() + ": unknown key '" + key + "'");
            }
            profile_keys[key.substr(8, dot - 8)][key.substr(dot + 1)] =
                option.value.empty() ? std::string() : option.value.front();
        }
        po::store(parsed, vm);
        po::notify(vm);
    } catch (const po::unknown_option& e) {
        throw ConfigError(file.string() + ": unknown key '" + e.get_option_name() + "'");
    } catch (const po::invalid_option_value& e) {
        throw ConfigError(file.string() + ": " + e.what());
    } catch (const po::error& e) {
        throw ConfigError(file.string() + ": " + e.what());
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

    c.signing_cert = check.path("ra.signing_cert");
    c.signing_key = check.path("ra.signing_key");
    c.encryption_cert = check.path("ra.encryption_cert");
    c.encryption_key = check.path("ra.encryption_key");
    c.allow_single_des = check.flag("ra.allow_single_des");
    c.max_clock_skew_minutes = check.number("ra.max_clock_skew_minutes", 0, 525600);
    c.database = check.path("database.path", false);
    c.pid_file = check.path("server.pid_file", false);

    c.backend = check.text("ca.backend");
    if (c.backend != "local") {
        check.problem("ca.backend", "must be 'local' (the only backend in this build), not '" + c.backend + "'");
    }
    const std::string unavailable = check.text("ca.unavailable");
    if (unavailable != "pending" && unavailable != "fail") {
        check.problem("ca.unavailable", "must be pending or fail, not '" + unavailable + "'");
    }
    c.ca_unavailable = unavailable == "fail" ? core::WhenCaUnavailable::fail : core::WhenCaUnavailable::pending;
    c.local_ca.cert_file = check.path("local_ca.cert");
    c.local_ca.key_file = check.path("local_ca.key");
    c.local_ca.chain_file = check.path("local_ca.chain");
    c.local_ca.validity_days = check.number("local_ca.validity_days", 1, 36500);
    c.local_ca.backdate_seconds = 60 * check.number("local_ca.backdate_minutes", 0, 1440);
    c.local_ca.key_usage = check.text("local_ca.key_usage");
    c.local_ca.extended_key_usage = check.text("local_ca.extended_key_usage");
    c.local_ca.copy_san = check.flag("local_ca.copy_san");
    c.local_ca.digest = check.text("local_ca.digest");
    if (auto why = backend::local::digest_refusal(c.local_ca.digest)) {
        check.problem("local_ca.digest", *why);
    }
    c.local_ca.crl_validity_hours = check.number("local_ca.crl_validity_hours", 1, 87600);
    c.local_ca.crl_distribution_point = check.text("local_ca.crl_distribution_point");
    c.crl_path = check.text("local_ca.crl_path");
    if (!c.crl_path.empty() && c.crl_path.front() != '/') {
        check.problem("local_ca.crl_path", "must start with '/'");
    }
    for (const auto& [name, keys] : profile_keys) {
        core::TemplatePolicy policy;
        c.local_ca.profiles.push_back(parse_profile(name, keys, check, policy));
        c.template_policies.set(name, policy);
    }

    c.password.enforce_password = check.flag("password.EnforcePassword");
    c.password.use_single_password = check.flag("password.UseSinglePassword");
    c.password.one_time.max_outstanding = check.number("password.PasswordMax", 1, 1000000);
    c.password.one_time.length_bytes = check.number("password.PasswordLength", 4, 64);
    c.password.one_time.validity = std::chrono::minutes(check.number("password.PasswordValidity", 1, 525600));
    c.hmac_key_file = check.path("password.hmac_key", false);

    if (const std::string admin_listen = check.text("admin.listen"); !admin_listen.empty()) {
        try {
            c.admin.listen = http::parse_listen(admin_listen);
            c.admin.listen->worker_threads = 4;
            c.admin.listen->max_body_bytes = 64 * 1024;
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
    c.admin.utf16 = check.flag("admin.utf16");
    // HTTP Basic sends the admin's password with every request: never in clear
    // unless the operator says so (e.g. TLS ends at a proxy on the same host).
    c.admin.allow_plaintext = check.flag("admin.allow_plaintext");
    if (!c.admin.allow_plaintext) {
        if (c.admin.listen && c.admin.listen->tls_cert.empty()) {
            check.problem("admin.tls_cert", "is not set, so the admin listener would take passwords over plain HTTP; "
                                            "set tls_cert and tls_key, or allow_plaintext = 1");
        }
        if (c.admin.on_scep_listener && c.listen.tls_cert.empty()) {
            check.problem("admin.on_scep_listener", "= 1 serves the admin page on the plain-HTTP SCEP listener, "
                                                    "where passwords travel in clear; set allow_plaintext = 1 to allow it");
        }
    }

    c.renewal.enabled = check.flag("renewal.enabled");
    c.renewal.grace_after_expiry = std::chrono::hours(24) * check.number("renewal.grace_days", 0, 3650);
    c.renewal.same_subject = check.flag("renewal.same_subject");
    c.renewal.require_new_key = check.flag("renewal.require_new_key");
    c.renewal.window_days = check.number("renewal.window_days", 0, 36500);
    c.renewal.window_percent = check.number("renewal.window_percent", 0, 100);
    const std::string san = check.text("renewal.san");
    if (san != "same" && san != "subset") {
        check.problem("renewal.san", "must be same or subset, not '" + san + "'");
    }
    c.renewal.san = san == "subset" ? core::RenewalSanRule::subset : core::RenewalSanRule::same;
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
    check.throw_if_any();
    return c;
}

std::string default_config_text(const std::string& listen, const std::string& admin_listen,
                                const std::string& admin_tls_cert, const std::string& admin_tls_key,
                                const InstanceLayout& layout) {
    // A file of the instance, as the config names it: relative, or absolute under the state directory.
    auto at = [&layout](const std::string& name) {
        return layout.state_dir.empty() || name.empty() ? name : (layout.state_dir / name).string();
    };
    std::ostringstream out;
    out << R"(# scep-ra configuration, written by `scep-ra init`.
# Relative paths are relative to the directory of this file.
# Changes to [password] take effect on `scep-ra reload` (or SIGHUP); all
# others when `scep-ra serve` is restarted.

[server]
# Address and port of the SCEP listener (HOST:PORT, [IPv6]:PORT).
listen = )" << listen << R"(
# Worker threads that serve HTTP requests. A keep-alive connection holds its
# thread until it closes, so this is how many devices are served at once.
threads = 64
# Largest PKIOperation POST body accepted, in bytes.
max_body_bytes = 2097152
# `serve` writes its process id here; `scep-ra reload` signals it.
pid_file = )" << layout.pid_file << R"(

[ra]
# The RA's own certificates: signing (digitalSignature, signs every CertRep)
# and encryption (keyEncipherment, clients encrypt their requests to it).
signing_cert = )" << at("ra-signing.pem") << R"(
signing_key = )" << at("private/ra-signing.key") << R"(
encryption_cert = )" << at("ra-encryption.pem") << R"(
encryption_key = )" << at("private/ra-encryption.key") << R"(
# 1 accepts requests encrypted with single DES (forbidden by RFC 8894, but the
# only cipher of some legacy clients such as micromdm scepclient). Replies
# to them are encrypted with triple DES.
allow_single_des = 0
# Refuse (failInfo badTime) requests whose signingTime is further than this
# many minutes from the RA's clock. 0 = do not check (devices often enrol
# before they have the time).
max_clock_skew_minutes = 0

[database]
# SQLite file holding challenge passwords, issued certificates and the audit trail.
path = )" << at("scep-ra.db") << R"(

[ca]
# CA backend that issues approved requests: local (embedded OpenSSL CA).
backend = local
# A new request the CA cannot take (down): pending (the device gets PENDING,
# the request is held and submitted again at its next poll) or fail (FAILURE).
unavailable = pending

[local_ca]
cert = )" << at("ca.pem") << R"(
key = )" << at("private/ca.key") << R"(
# Optional PEM file with further CA certificates up to the root.
chain =
validity_days = 365
# notBefore is set this many minutes in the past, for clients with slow clocks.
backdate_minutes = 10
# keyUsage and extendedKeyUsage of issued certificates (OpenSSL names; empty = none).
key_usage = digitalSignature,keyEncipherment
extended_key_usage = clientAuth
# 1 copies the subjectAltName the client asked for; no other requested extension is ever copied.
copy_san = 1
# Signature digest of certificates and CRLs: SHA256, SHA384 or SHA512 (MD5 and SHA-1 are refused).
digest = SHA256
# The CRL is served over plain HTTP on the SCEP listener at crl_path, and
# re-signed after every revocation and when half of crl_validity_hours passed.
crl_path = /crl/scep-ra.crl
crl_validity_hours = 168
# When set (e.g. http://ra.example.com:8080/crl/scep-ra.crl), issued
# certificates name it as their CRL distribution point.
crl_distribution_point =
# Certificate templates: a [profile.NAME] section defines the template NAME
# (the names in [templates] pick one by key usage). Keys: validity_days,
# key_usage, extended_key_usage, copy_san, min_rsa_bits, allowed_key_types
# (RSA,EC,ED25519,...), manual_approval (1 = requests wait for
# `scep-ra request approve`). Templates without a section use the settings above.
# Keys accepted by default: RSA of at least 2048 bits (min_rsa_bits) and EC
# on P-256, P-384 or P-521; Ed25519 and Ed448 only where allowed_key_types
# lists them; DSA never.
#
# [profile.IPSECIntermediateOffline]
# validity_days = 730
# extended_key_usage = clientAuth,serverAuth
# manual_approval = 0

[password]
# The NDES settings, under their registry names.
# 1 = every PKCSReq needs a valid challenge password; 0 = none needed (audited as unauthenticated).
EnforcePassword = 1
# 1 = one reusable password instead of one-time passwords.
UseSinglePassword = 0
# One-time passwords: at most PasswordMax unused at a time, PasswordLength
# random bytes (shown as twice as many hex digits), valid PasswordValidity minutes.
PasswordMax = 5
PasswordLength = 8
PasswordValidity = 60
# Key of the keyed hash under which one-time passwords are stored (never in clear).
hmac_key = )" << at("private/challenge-hmac.key") << R"(

[admin]
# The NDES admin page, /certsrv/mscep_admin/, where administrators (accounts
# made with `scep-ra admin add NAME`) get one-time passwords. It has a
# listener of its own (empty = none), served over HTTPS when tls_cert and
# tls_key are set.
listen = )" << admin_listen << R"(
tls_cert = )" << at(admin_tls_cert) << R"(
tls_key = )" << at(admin_tls_key) << R"(
# 1 also serves the admin page on the SCEP listener (plain HTTP there unless
# that listener is behind TLS): off by default.
on_scep_listener = 0
# The admin page takes passwords (HTTP Basic) only over HTTPS. 1 allows plain
# HTTP (an admin listener without tls_cert, or on_scep_listener = 1), e.g.
# when TLS ends at a proxy on the same host. Otherwise such a file is refused.
allow_plaintext = 0
# 1 serves the page as UTF-16LE with a byte order mark, byte for byte like NDES.
utf16 = 0

[renewal]
# A RenewalReq, or a PKCSReq signed by a certificate this CA issued, is
# authenticated by that certificate: no challenge password is needed.
# 0 stops advertising and accepting renewal.
enabled = 1
# Days after expiry during which an expired certificate may still renew.
grace_days = 0
# 1 = the new request must keep the certificate's subject.
same_subject = 1
# 1 = the new request must use a new key (otherwise a new key is allowed, not required).
require_new_key = 0
# Renewal only in the last N days / last N percent of the validity (0 = any time).
window_days = 0
window_percent = 0
# A renewal never adds subjectAltName entries. same = the request's
# subjectAltName must equal the certificate's; subset = it may drop names.
san = same

[policy]
# A new PKCSReq (with a challenge password) for a subject that already holds
# a valid certificate: allow, or require-renewal (refused: renew instead).
existing_subject = allow

[templates]
# The certificate template (NDES) chosen by the key usage a request asks for:
# digitalSignature only -> SignatureTemplate, keyEncipherment only ->
# EncryptionTemplate, both or no keyUsage at all -> GeneralPurposeTemplate.
SignatureTemplate = IPSECIntermediateOffline
EncryptionTemplate = IPSECIntermediateOffline
GeneralPurposeTemplate = IPSECIntermediateOffline

[throttle]
# Failed challenge passwords (wrong, used, expired, revoked, missing, or bound
# to another subject or template) are counted per client address and per
# subject: max_failures within window_minutes lock that address or subject
# out for lockout_minutes (refused with "too many failed attempts" before any
# password check). `scep-ra lockout list` shows them, `lockout clear` lifts them.
max_failures = 5
window_minutes = 15
lockout_minutes = 15

[audit]
# Audit events, admin logins, password events and throttle entries older than
# this many days are deleted by the server at start and once a day (and by
# `scep-ra audit purge`). 0 = keep them forever.
retention_days = 365
)";
    return out.str();
}

}  // namespace scepra::cli
