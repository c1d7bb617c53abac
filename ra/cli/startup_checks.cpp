// SPDX-License-Identifier: Apache-2.0
// Start-up refusals (see startup_checks.hpp).
#include "cli/startup_checks.hpp"

#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "crypto/asn1_time.hpp"
#include "crypto/encoding.hpp"

namespace scepra::cli {

namespace {

namespace fs = std::filesystem;

/// A secret file must not be open to every user.
void check_secret_mode(const std::string& key, const fs::path& file, std::vector<std::string>& problems) {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & S_IRWXO) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        problems.push_back(key + " " + file.string() + " is accessible to every user (mode " + mode +
                           "): chmod 600 it and replace the key");
    }
}

/// A private key: readable by this process, and not by every user.
void check_private_key(const std::string& key, const fs::path& file, std::vector<std::string>& problems) {
    check_secret_mode(key, file, problems);
    try {
        crypto::load_key_file(file);
    } catch (const std::exception& e) {
        problems.push_back(key + " " + file.string() + " cannot be read: " + e.what());
    }
}

/// An RA certificate must be valid now: devices refuse a CertRep signed by an
/// expired one, and encrypt nothing to it.
void check_ra_certificate(const std::string& key, const fs::path& file, TimePoint now,
                          std::vector<std::string>& problems) {
    crypto::X509Ptr cert;
    try {
        cert = crypto::load_cert_file(file);
    } catch (const std::exception& e) {
        problems.push_back(key + " " + file.string() + " cannot be read: " + e.what());
        return;
    }
    const auto not_before = crypto::to_time_point(*X509_get0_notBefore(cert.get()));
    const auto not_after = crypto::to_time_point(*X509_get0_notAfter(cert.get()));
    if (not_after && now >= *not_after) {
        problems.push_back(key + " " + file.string() + " expired " + sql_time(*not_after) +
                           " UTC: renew the RA certificates (scep-ra ra rollover)");
    } else if (not_before && now < *not_before) {
        problems.push_back(key + " " + file.string() + " is not valid before " + sql_time(*not_before) +
                           " UTC");
    }
}

}  // namespace

void refuse_unsafe_start(const AppConfig& c, TimePoint now) {
    std::vector<std::string> problems;
    check_ra_certificate("[ra] signing_cert", c.signing_cert, now, problems);
    check_ra_certificate("[ra] encryption_cert", c.encryption_cert, now, problems);
    check_private_key("[ra] signing_key", c.signing_key, problems);
    check_private_key("[ra] encryption_key", c.encryption_key, problems);
    if (c.backend == "local") {
        check_private_key("[local_ca] key", c.local_ca.key_file, problems);
    } else if (c.backend == "ejbca") {
        check_private_key("[ejbca] client_key", c.ejbca.client_key, problems);
    } else if (c.backend == "adcs") {
        check_private_key("[adcs] client_key", c.adcs.client_key, problems);
    }
    if (c.admin.listen && !c.admin.listen->tls_key.empty()) {
        check_private_key("[admin] tls_key", c.admin.listen->tls_key, problems);
    }
    check_secret_mode("[password] hmac_key", c.hmac_key_file, problems);  // created at start when missing
    // What the validators sign or authenticate with: whoever reads them can forge a webhook's
    // notifications or act as the Intune application.
    if (!c.webhook.secret_file.empty()) {
        check_secret_mode("[webhook] secret_file", c.webhook.secret_file, problems);
    }
    if (!c.webhook.client_key.empty()) {
        check_private_key("[webhook] client_key", c.webhook.client_key, problems);
    }
    if (!c.intune.client_secret_file.empty()) {
        check_secret_mode("[intune] client_secret_file", c.intune.client_secret_file, problems);
    }
    if (!c.intune.client_key.empty()) {
        check_private_key("[intune] client_key", c.intune.client_key, problems);
    }
    if (problems.empty()) {
        return;
    }
    std::string text = c.file.string() + ": refusing to start:";
    for (const auto& p : problems) {
        text += "\n  " + p;
    }
    throw ConfigError(text);
}

}  // namespace scepra::cli
