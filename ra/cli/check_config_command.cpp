// SPDX-License-Identifier: Apache-2.0
// `scep-ra check-config`: loads and validates a configuration without
// starting anything, then checks the files it names the way `serve` will use them.
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app_config.hpp"
#include "cli/options.hpp"
#include "crypto/encoding.hpp"

namespace scepra::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

struct Findings {
    std::vector<std::string> errors, warnings;
};

/// Why a private key's file mode is unsafe, if it is: world access is an error,
/// group read a warning (some sites share keys with an admin group on purpose).
void check_key_mode(const std::string& what, const fs::path& file, Findings& out) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        return;  // reported by the read below
    }
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    if ((st.st_mode & S_IRWXO) != 0) {
        out.errors.push_back(what + " " + file.string() + " is accessible to every user (mode " + mode +
                             "): chmod 600 it and replace the key");
    } else if ((st.st_mode & S_IRWXG) != 0) {
        out.warnings.push_back(what + " " + file.string() + " is readable by its group (mode " + mode +
                               "): chmod 600 unless that is intended");
    }
}

/// A certificate and its private key: both readable by this user, the key
/// private, and the two matching.
void check_pair(const std::string& what, const fs::path& cert_file, const fs::path& key_file, Findings& out) {
    crypto::X509Ptr cert;
    crypto::EvpPkeyPtr key;
    try {
        cert = crypto::load_cert_file(cert_file);
    } catch (const std::exception& e) {
        out.errors.push_back(what + " certificate " + cert_file.string() + " cannot be read: " + e.what());
    }
    check_key_mode(what + " key", key_file, out);
    try {
        key = crypto::load_key_file(key_file);
    } catch (const std::exception& e) {
        out.errors.push_back(what + " key " + key_file.string() + " cannot be read: " + e.what());
    }
    if (cert && key && X509_check_private_key(cert.get(), key.get()) != 1) {
        out.errors.push_back(what + " key " + key_file.string() + " does not match its certificate " +
                             cert_file.string());
    }
}

Findings check_files(const AppConfig& c) {
    Findings out;
    check_pair("[ra] signing", c.signing_cert, c.signing_key, out);
    check_pair("[ra] encryption", c.encryption_cert, c.encryption_key, out);
    if (c.admin.listen && !c.admin.listen->tls_cert.empty()) {
        check_pair("[admin] tls", c.admin.listen->tls_cert, c.admin.listen->tls_key, out);
    }
    auto check_certs = [&out](const std::string& what, const fs::path& file) {
        try {
            crypto::load_certs_file(file);
        } catch (const std::exception& e) {
            out.errors.push_back(what + " " + file.string() + " cannot be read: " + e.what());
        }
    };
    // Only the selected backend's files are used.
    if (c.backend == "local") {
        check_pair("[local_ca]", c.local_ca.cert_file, c.local_ca.key_file, out);
        if (!c.local_ca.chain_file.empty()) {
            check_certs("[local_ca] chain", c.local_ca.chain_file);
        }
    } else if (c.backend == "ejbca") {
        check_pair("[ejbca] client", c.ejbca.client_cert, c.ejbca.client_key, out);
        check_certs("[ejbca] server_ca", c.ejbca.server_ca);
        if (!c.ejbca.chain_file.empty()) {
            check_certs("[ejbca] chain", c.ejbca.chain_file);
        }
    }
    if (fs::exists(c.hmac_key_file)) {
        check_key_mode("[password] hmac_key", c.hmac_key_file, out);
        try {
            crypto::read_file(c.hmac_key_file);
        } catch (const std::exception& e) {
            out.errors.push_back("[password] hmac_key " + c.hmac_key_file.string() +
                                 " cannot be read: " + e.what());
        }
    } else {
        out.warnings.push_back("[password] hmac_key " + c.hmac_key_file.string() +
                               " does not exist: the first command that needs it creates it");
    }
    if (!fs::exists(c.database)) {
        out.errors.push_back(
            "[database] path " + c.database.string() +
            " does not exist (serve does not create it): run `scep-ra init` or copy it there");
    }
    if (!fs::is_directory(c.pid_file.parent_path())) {
        out.warnings.push_back(
            "[server] pid_file " + c.pid_file.string() +
            ": its directory does not exist yet (the systemd unit's RuntimeDirectory creates "
            "/run/scep-ra when the service starts)");
    }
    return out;
}

}  // namespace

int check_config_command(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "configuration file to check")(
        "skip-files", po::bool_switch(),
        "check the settings only, not the files they name (a sample, or a config for another machine)");
    po::variables_map vm;
    if (auto stop =
            parse_options("check-config",
                          "Loads and validates the configuration without starting anything: every setting,\n"
                          "then every file it names (certificates and keys readable and matching, private\n"
                          "keys not readable by other users). Prints every problem; exit 1 on an error,\n"
                          "0 and \"ok\" otherwise (warnings do not fail).",
                          desc, args, vm)) {
        return *stop;
    }
    const bool skip_files = vm["skip-files"].as<bool>();
    AppConfig config;
    try {
        config =
            load_config(vm["config"].as<std::string>(), skip_files ? FileCheck::skip : FileCheck::require);
    } catch (const ConfigError& e) {
        std::istringstream problems(e.what());  // one problem a line
        for (std::string line; std::getline(problems, line);) {
            std::cerr << "error: " << line << "\n";
        }
        return exit_failure;
    }
    Findings found = skip_files ? Findings{} : check_files(config);
    for (const auto& w : found.warnings) {
        std::cerr << "warning: " << config.file.string() << ": " << w << "\n";
    }
    for (const auto& e : found.errors) {
        std::cerr << "error: " << config.file.string() << ": " << e << "\n";
    }
    if (!found.errors.empty()) {
        return exit_failure;
    }
    std::cout << "ok" << (skip_files ? " (settings only; files not checked)" : "") << "\n";
    return exit_ok;
}

}  // namespace scepra::cli
