// SPDX-License-Identifier: Apache-2.0
// `scep-ra init --backend ejbca|adcs` and `scep-ra ra enroll` (see init_remote.hpp).
#include "cli/init_remote.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <iostream>

#include "adcs/adcs_backend.hpp"
#include "cli/app_config.hpp"
#include "cli/options.hpp"
#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"
#include "crypto/openssl_error.hpp"
#include "ejbca/ejbca_backend.hpp"
#include "local/ca_setup.hpp"
#include "store/challenge_store.hpp"
#include "store/database.hpp"

namespace scepra::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* ra_file_options[] = {"ra-signing-cert", "ra-signing-key", "ra-encryption-cert",
                                           "ra-encryption-key"};

/// A PKCS#10 for one RA key, asking for the key usage of its role: clients
/// pick the RA certificate to encrypt to by keyEncipherment, as NDES's
/// separate templates give it. EJBCA honours it under a certificate profile
/// with "Allow Key Usage Override"; otherwise the profile decides.
crypto::X509ReqPtr ra_csr(EVP_PKEY& key, const std::string& subject, const char* key_usage) {
    crypto::X509ReqPtr req(X509_REQ_new());
    crypto::check(req != nullptr, "X509_REQ_new");
    auto name = backend::local::parse_subject(subject);
    crypto::check(X509_REQ_set_subject_name(req.get(), name.get()) == 1, "X509_REQ_set_subject_name");
    crypto::check(X509_REQ_set_pubkey(req.get(), &key) == 1, "X509_REQ_set_pubkey");
    crypto::X509ExtensionStackPtr extensions(sk_X509_EXTENSION_new_null());
    crypto::X509ExtensionPtr usage(X509V3_EXT_conf_nid(nullptr, nullptr, NID_key_usage, key_usage));
    crypto::check(extensions != nullptr && usage != nullptr, "X509V3_EXT_conf_nid keyUsage");
    crypto::check(sk_X509_EXTENSION_push(extensions.get(), usage.get()) > 0, "sk_X509_EXTENSION_push");
    usage.release();  // owned by the stack now
    crypto::check(X509_REQ_add_extensions(req.get(), extensions.get()) == 1, "X509_REQ_add_extensions");
    crypto::check(X509_REQ_sign(req.get(), &key, EVP_sha256()) > 0, "X509_REQ_sign");
    return req;
}

std::string random_hex(int bytes) {
    unsigned char buf[16] = {};
    crypto::check(bytes <= 16 && RAND_bytes(buf, bytes) == 1, "RAND_bytes");
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (int i = 0; i < bytes; ++i) {
        text += digits[buf[i] >> 4];
        text += digits[buf[i] & 0xF];
    }
    return text;
}

void save_ra_pair(const AppConfig& config, const RaPair& signing, const RaPair& encryption, bool overwrite) {
    crypto::save_key_file(config.signing_key, *signing.key, overwrite);
    crypto::save_cert_file(config.signing_cert, *signing.cert, overwrite);
    crypto::save_key_file(config.encryption_key, *encryption.key, overwrite);
    crypto::save_cert_file(config.encryption_cert, *encryption.cert, overwrite);
}

}  // namespace

void check_ra_pair(const std::string& role, const RaPair& pair, const std::string& cert_source,
                   const std::string& key_source) {
    if (X509_check_private_key(pair.cert.get(), pair.key.get()) != 1) {
        ERR_clear_error();
        throw std::invalid_argument("the RA " + role + " key " + key_source + " is not the key of " +
                                    cert_source);
    }
    if (EVP_PKEY_get_base_id(pair.key.get()) != EVP_PKEY_RSA) {
        throw std::invalid_argument("the RA " + role + " key " + key_source +
                                    " must be RSA: SCEP clients encrypt to the RA with RSA key transport");
    }
    // No keyUsage extension allows every use (RFC 5280 §4.2.1.3); one that is there must allow the role's.
    const bool encryption = role == "encryption";
    const std::uint32_t needed = encryption ? KU_KEY_ENCIPHERMENT : KU_DIGITAL_SIGNATURE;
    if ((X509_get_extension_flags(pair.cert.get()) & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(pair.cert.get()) & needed) == 0) {
        throw std::invalid_argument(
            "the RA " + role + " certificate " + cert_source + " has a keyUsage without " +
            (encryption ? "keyEncipherment: SCEP clients encrypt their requests to it"
                        : "digitalSignature: SCEP clients verify the RA's replies with it"));
    }
}

RaPair read_ra_pair(const std::string& role, const fs::path& cert_file, const fs::path& key_file) {
    RaPair pair{crypto::load_cert_file(cert_file), crypto::load_key_file(key_file)};
    check_ra_pair(role, pair, cert_file.string(), key_file.string());
    return pair;
}

RaPairs enrol_ra_pairs_at_ejbca(const AppConfig& config, const crypto::KeySpec& spec,
                                const std::string& signing_subject, const std::string& encryption_subject,
                                const std::string& requester) {
    backend::ejbca::EjbcaConfig ejbca = config.ejbca;
    ejbca.certificate_profile = ejbca.ra_certificate_profile;
    ejbca.end_entity_profile = ejbca.ra_end_entity_profile;
    ejbca.template_profiles.clear();
    ejbca.username_rule = backend::ejbca::UsernameRule::cn;
    const backend::ejbca::EjbcaBackend ca(ejbca);
    auto enrol = [&](const std::string& role, const std::string& subject, const char* key_usage) {
        RaPair pair{nullptr, crypto::generate_key(spec)};
        auto csr = ra_csr(*pair.key, subject, key_usage);
        backend::SubmitRequest request;
        request.transaction_id = "scep-ra-ra-" + role;
        request.csr_der = crypto::csr_der(*csr);
        request.requester = requester;
        const auto outcome = ca.submit_with_audit(request);
        if (outcome.result.disposition != backend::Disposition::issued) {
            // The operator at the console may read EJBCA's own words.
            throw RaEnrolmentRefused(
                "EJBCA did not issue the RA " + role + " certificate: " +
                (outcome.audit_detail.empty() ? outcome.result.reason : outcome.audit_detail));
        }
        pair.cert = crypto::cert_from_der(outcome.result.certificate_der);
        return pair;
    };
    RaPair signing = enrol("signing", signing_subject, "critical,digitalSignature");
    RaPair encryption = enrol("encryption", encryption_subject, "critical,keyEncipherment");
    check_ra_pair("signing", signing, "issued by EJBCA", "made for it");
    check_ra_pair("encryption", encryption, "issued by EJBCA", "made for it");
    return {std::move(signing), std::move(encryption)};
}

RaPairs enrol_ra_pairs_at_adcs(const AppConfig& config, const crypto::KeySpec& spec,
                               const std::string& signing_subject, const std::string& encryption_subject,
                               const std::string& requester) {
    const backend::adcs::AdcsBackend ca(config.adcs);
    std::string issued_note;  // what the CA issued already when a later request fails
    auto enrol = [&](const std::string& role, const std::string& subject, const std::string& template_name,
                     const char* key_usage) {
        RaPair pair{nullptr, crypto::generate_key(spec)};
        auto csr = ra_csr(*pair.key, subject, key_usage);
        backend::SubmitRequest request;
        request.transaction_id = "scep-ra-ra-" + role + "-" + random_hex(8);  // each run new keys, new ref
        request.csr_der = crypto::csr_der(*csr);
        request.template_name = template_name;
        request.requester = requester;
        const auto outcome = ca.submit_with_audit(request);
        const std::string words = outcome.audit_detail.empty() ? outcome.result.reason : outcome.audit_detail;
        const std::string what = "the RA " + role + " certificate (template " + template_name + ")";
        if (outcome.result.disposition == backend::Disposition::pending) {
            throw RaEnrolmentRefused(
                "the CA holds the request for " + what + " for a CA manager's approval: " + words +
                ". Nothing was written" + issued_note +
                ". The RA certificates must be issued at once, as for "
                "NDES: let the template issue without CA manager approval, deny AD CS request " +
                outcome.result.backend_ref + " at the CA (its key is not kept), and run this again");
        }
        if (outcome.result.disposition != backend::Disposition::issued) {
            throw RaEnrolmentRefused("the CA did not issue " + what + ": " + words + ". Nothing was written" +
                                     issued_note);
        }
        pair.cert = crypto::cert_from_der(outcome.result.certificate_der);
        try {
            check_ra_pair(role, pair, "the CA issued with template " + template_name, "made for it");
        } catch (const std::invalid_argument& e) {
            throw RaEnrolmentRefused(std::string(e.what()) + "; fix the template. Nothing was written" +
                                     issued_note + "; revoke AD CS request " + outcome.result.backend_ref +
                                     " at the CA");
        }
        issued_note = "; the CA issued the RA " + role + " certificate already (AD CS request " +
                      outcome.result.backend_ref + ", serial " + outcome.serial_hex +
                      "), which is not used: revoke it at the CA";
        return pair;
    };
    RaPair signing =
        enrol("signing", signing_subject, config.adcs.ra_signing_template, "critical,digitalSignature");
    RaPair encryption = enrol("encryption", encryption_subject, config.adcs.ra_encryption_template,
                              "critical,keyEncipherment");
    return {std::move(signing), std::move(encryption)};
}

int init_remote(const po::variables_map& vm) {
    const std::string backend = vm["backend"].as<std::string>();
    if (backend != "ejbca" && backend != "adcs") {
        std::cerr << "scep-ra init: --backend must be local, ejbca or adcs, not '" << backend << "'\n";
        return exit_usage;
    }
    int given = 0;
    for (const char* option : ra_file_options) {
        given += vm.count(option) ? 1 : 0;
    }
    if (given != 0 && given != 4) {
        std::cerr
            << "scep-ra init: give all four of --ra-signing-cert, --ra-signing-key, --ra-encryption-cert and "
               "--ra-encryption-key, or none\n";
        return exit_usage;
    }
    const bool from_files = given == 4;
    // Read (and check) the operator's files before anything is written.
    std::optional<RaPair> signing, encryption;
    if (from_files) {
        try {
            signing = read_ra_pair("signing", vm["ra-signing-cert"].as<std::string>(),
                                   vm["ra-signing-key"].as<std::string>());
            encryption = read_ra_pair("encryption", vm["ra-encryption-cert"].as<std::string>(),
                                      vm["ra-encryption-key"].as<std::string>());
        } catch (const std::invalid_argument& e) {
            std::cerr << "scep-ra init: " << e.what() << "\n";
            return exit_usage;
        }
    }

    const fs::path conf_dir = fs::absolute(vm["dir"].as<std::string>());
    const fs::path conf = conf_dir / "scep-ra.conf";
    InstanceLayout layout;
    layout.backend = backend;
    if (vm.count("state-dir")) {
        layout.state_dir = fs::absolute(vm["state-dir"].as<std::string>()).lexically_normal();
        layout.pid_file = "/run/scep-ra/scep-ra.pid";
    }
    if (vm.count("pid-file")) {
        layout.pid_file = vm["pid-file"].as<std::string>();
    }
    const fs::path dir = layout.state_dir.empty() ? conf_dir : layout.state_dir;
    const bool force = vm["force"].as<bool>();
    for (const fs::path& existing : {conf, dir / "scep-ra.db"}) {
        if (fs::exists(existing) && !force) {
            std::cerr << "scep-ra init: " << existing.string()
                      << " already exists; use --force to replace the instance\n";
            return exit_refused;
        }
    }
    fs::create_directories(conf_dir);
    fs::create_directories(dir / "private");
    fs::permissions(dir / "private", fs::perms::owner_all, fs::perm_options::replace);
    if (force) {
        for (const char* stale :
             {"scep-ra.db", "scep-ra.db-wal", "scep-ra.db-shm", "private/challenge-hmac.key"}) {
            fs::remove(dir / stale);
        }
    }
    store::ChallengeStore::load_or_create_key(dir / "private/challenge-hmac.key");
    // The admin page's TLS certificate comes from the local CA, which a remote backend has none of.
    crypto::write_file(conf, default_config_text(vm["listen"].as<std::string>(), "", "", "", layout), 0640,
                       force);

    // The [ejbca]/[adcs] values are placeholders until edited: check the settings only.
    const AppConfig config = load_config(conf, FileCheck::skip);
    if (from_files) {
        save_ra_pair(config, *signing, *encryption, force);
    }
    auto db = store::Database::open(config.database, true);
    fs::permissions(config.database, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read,
                    fs::perm_options::replace);

    std::cout << "created scep-ra instance in " << dir.string() << " for the " << backend
              << " backend (no local CA)\n"
              << "  config:   " << conf.string() << "\n"
              << "  database: " << config.database.string() << "\n"
              << "next:\n"
              << "  1. fill in [" << backend << "] in " << conf.string()
              << " (URL, client certificate, CA)\n";
    if (from_files) {
        std::cout << "  2. run it with: scep-ra serve --config " << conf.string() << "\n";
    } else if (backend == "ejbca") {
        std::cout << "     and ra_certificate_profile / ra_end_entity_profile for the RA's own certificates\n"
                  << "  2. enrol the RA certificates at EJBCA: scep-ra ra enroll --config " << conf.string()
                  << "\n"
                  << "  3. run it with: scep-ra serve --config " << conf.string() << "\n";
    } else {
        std::cout
            << "     (ra_signing_template / ra_encryption_template: NDES's EnrollmentAgentOffline and "
               "CEPEncryption unless changed)\n"
            << "  2. enrol the RA certificates at the CA through the bridge: scep-ra ra enroll --config "
            << conf.string() << "\n"
            << "  3. run it with: scep-ra serve --config " << conf.string() << "\n";
    }
    if (!vm["admin-listen"].defaulted() && vm["admin-listen"].as<std::string>() != "none") {
        std::cout
            << "the admin page is off: give it a TLS certificate in [admin] tls_cert and tls_key, and set "
               "[admin] listen\n";
    }
    return exit_ok;
}

int ra_enroll_command(const Args& args) {
    const std::string host = local_host_name();
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(),
                       "instance configuration file ([ca] backend = ejbca or adcs)")(
        "key-type", po::value<std::string>()->default_value("rsa:2048"), "RA keys: rsa:2048|3072|4096")(
        "ra-signing-subject", po::value<std::string>()->default_value("CN=" + host + "-MSCEP-RA,O=scep-ra"),
        "RA signing certificate subject")(
        "ra-encryption-subject",
        po::value<std::string>()->default_value("CN=" + host + "-MSCEP-RA-ENC,O=scep-ra"),
        "RA encryption certificate subject")("force", po::bool_switch(),
                                             "replace RA certificates that exist already");
    po::variables_map vm;
    if (auto stop =
            parse_options("ra enroll",
                          "Makes new RA signing and encryption keys and enrols their certificates at EJBCA\n"
                          "with [ejbca] ra_certificate_profile and ra_end_entity_profile (usernames: the\n"
                          "subjects' CNs), or at AD CS through the bridge with [adcs] ra_signing_template\n"
                          "and ra_encryption_template, then writes them where [ra] names them. Nothing is\n"
                          "written unless both are issued at once.",
                          desc, args, vm)) {
        return *stop;
    }
    const fs::path file = vm["config"].as<std::string>();
    // The RA certificates are what this makes: they need not exist yet.
    const AppConfig config = load_config(file, FileCheck::skip);
    const bool at_adcs = config.backend == "adcs";
    const std::string where = file.string() + (at_adcs ? ": [adcs] " : ": [ejbca] ");
    if (config.backend != "ejbca" && !at_adcs) {
        std::cerr << "scep-ra ra enroll: " << file.string() << ": [ca] backend is " << config.backend
                  << "; ra enroll enrols at EJBCA (backend = ejbca) or AD CS (backend = adcs)\n";
        return exit_failure;
    }
    const auto names =
        at_adcs ? std::vector{std::pair{"ra_signing_template", config.adcs.ra_signing_template},
                              std::pair{"ra_encryption_template", config.adcs.ra_encryption_template}}
                : std::vector{std::pair{"ra_certificate_profile", config.ejbca.ra_certificate_profile},
                              std::pair{"ra_end_entity_profile", config.ejbca.ra_end_entity_profile}};
    for (const auto& [key, value] : names) {
        if (value.empty()) {
            std::cerr << "scep-ra ra enroll: " << where << key << " must name the "
                      << (at_adcs ? "AD CS template" : "EJBCA profile") << " for the RA certificates\n";
            return exit_failure;
        }
    }
    const std::string ca_name = at_adcs ? "the AD CS bridge" : "EJBCA";
    const bool force = vm["force"].as<bool>();
    for (const fs::path& existing : {config.signing_cert, config.encryption_cert}) {
        if (fs::exists(existing) && !force) {
            std::cerr << "scep-ra ra enroll: " << existing.string()
                      << " already exists; use --force to replace it\n";
            return exit_refused;
        }
    }
    const auto spec = crypto::KeySpec::parse(vm["key-type"].as<std::string>());
    if (spec.type != crypto::KeySpec::Type::rsa) {
        std::cerr << "scep-ra ra enroll: --key-type must be RSA: SCEP clients encrypt to the RA with RSA\n";
        return exit_usage;
    }

    try {
        const std::string signing_subject = vm["ra-signing-subject"].as<std::string>();
        const std::string encryption_subject = vm["ra-encryption-subject"].as<std::string>();
        const RaPairs pairs = at_adcs ? enrol_ra_pairs_at_adcs(config, spec, signing_subject,
                                                               encryption_subject, "scep-ra ra enroll")
                                      : enrol_ra_pairs_at_ejbca(config, spec, signing_subject,
                                                                encryption_subject, "scep-ra ra enroll");
        const RaPair& signing = pairs.signing;
        const RaPair& encryption = pairs.encryption;
        save_ra_pair(config, signing, encryption, force);
        for (const auto* pair : {&signing, &encryption}) {
            std::cout << "enrolled " << crypto::name_string(*X509_get_subject_name(pair->cert.get()))
                      << " (serial " << crypto::serial_hex(*pair->cert) << ", issuer "
                      << crypto::name_string(*X509_get_issuer_name(pair->cert.get())) << ")\n";
        }
    } catch (const backend::BackendUnavailable& e) {
        std::cerr << "scep-ra ra enroll: " << ca_name << " cannot be reached: " << e.what()
                  << "\nnothing was written\n";
        return exit_failure;
    } catch (const backend::OutcomeUnknown& e) {
        std::cerr << "scep-ra ra enroll: " << ca_name << "'s answer was lost (" << e.what()
                  << "); it may have issued: check the CA, then run this again\nnothing was written\n";
        return exit_failure;
    } catch (const std::invalid_argument& e) {  // a certificate that cannot serve as the RA's
        std::cerr << "scep-ra ra enroll: " << e.what() << "\nnothing was written\n";
        return exit_failure;
    } catch (const RaEnrolmentRefused& e) {
        std::cerr << "scep-ra ra enroll: " << e.what() << "\n";
        return exit_failure;
    }
    std::cout << "RA certificates written to " << config.signing_cert.string() << " and "
              << config.encryption_cert.string() << "\n"
              << "run it with: scep-ra serve --config " << file.string() << "\n";
    return exit_ok;
}

std::string local_host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
        return "scep-ra";
    }
    return buf;
}

}  // namespace scepra::cli
