// SPDX-License-Identifier: Apache-2.0
#include "cli/doctor_checks.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/backend_checks.hpp"
#include "cli/backend_factory.hpp"
#include "crypto/asn1_time.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "store/backup.hpp"

namespace scepra::cli {

namespace fs = std::filesystem;

namespace {

// NDES's RA signing certificate carries the Certificate Request Agent EKU.
constexpr const char* certificate_request_agent = "1.3.6.1.4.1.311.20.2.1";
constexpr std::uintmax_t large_wal_bytes = 64u << 20;

class Report {
  public:
    void add(std::string check, Verdict verdict, std::string detail, std::string fix = {}) {
        m_findings.push_back({std::move(check), verdict, std::move(detail), std::move(fix)});
    }
    std::vector<DoctorFinding> take() { return std::move(m_findings); }

  private:
    std::vector<DoctorFinding> m_findings;
};

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

std::string days_text(std::chrono::seconds left) {
    return std::to_string(std::chrono::duration_cast<std::chrono::hours>(left).count() / 24) + " days";
}

/// notBefore <= now < notAfter, and not within the warning period.
void check_validity(Report& r, const std::string& what, X509& cert, TimePoint now, const std::string& fix) {
    const auto not_before = crypto::to_time_point(*X509_get0_notBefore(&cert));
    const auto not_after = crypto::to_time_point(*X509_get0_notAfter(&cert));
    const std::string check = what + ": validity";
    if (!not_before || !not_after) {
        r.add(check, Verdict::fail, "its validity dates cannot be read", fix);
    } else if (now < *not_before) {
        r.add(check, Verdict::fail, "not valid before " + sql_time(*not_before) + " UTC",
              "check the clock, or " + fix);
    } else if (now >= *not_after) {
        r.add(check, Verdict::fail, "expired " + sql_time(*not_after) + " UTC", fix);
    } else if (*not_after - now < std::chrono::hours(24) * expiry_warning_days) {
        r.add(check, Verdict::warn,
              "expires " + sql_time(*not_after) + " UTC, in " +
                  days_text(std::chrono::duration_cast<std::chrono::seconds>(*not_after - now)),
              fix);
    } else {
        r.add(check, Verdict::pass, "valid until " + sql_time(*not_after) + " UTC");
    }
}

void check_key_match(Report& r, const std::string& what, X509& cert, const fs::path& key_file) {
    crypto::EvpPkeyPtr key;
    try {
        key = crypto::load_key_file(key_file);
    } catch (const std::exception& e) {
        r.add(what + ": key", Verdict::fail, e.what(),
              "make " + key_file.string() + " readable by this user");
        return;
    }
    if (X509_check_private_key(&cert, key.get()) != 1) {
        r.add(what + ": key", Verdict::fail, key_file.string() + " is not the certificate's key",
              "put the certificate's own key there (from a backup), or issue new RA certificates with "
              "`scep-ra ra rollover` and `scep-ra ra activate`");
    } else {
        r.add(what + ": key", Verdict::pass, key_file.string() + " matches");
    }
}

/// The RA certificate chains to the CA (and the configured chain) at `now`.
void check_chain(Report& r, const std::string& what, X509& cert, const std::vector<crypto::X509Ptr>& cas,
                 TimePoint now) {
    crypto::X509StorePtr store(X509_STORE_new());
    crypto::check(store != nullptr, "X509_STORE_new");
    for (const auto& ca : cas) {
        X509_STORE_add_cert(store.get(), ca.get());
    }
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    crypto::check(ctx != nullptr && X509_STORE_CTX_init(ctx.get(), store.get(), &cert, nullptr) == 1,
                  "X509_STORE_CTX_init");
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(unix_seconds(now)));
    // Allow a chain that ends at an intermediate: the local CA may itself be one.
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
    if (X509_verify_cert(ctx.get()) == 1) {
        r.add(what + ": chain", Verdict::pass, "issued by the CA");
    } else {
        r.add(what + ": chain", Verdict::fail,
              std::string("does not chain to the CA: ") +
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())),
              "issue the RA certificates from the CA in [local_ca] cert (`scep-ra ra rollover`), or set "
              "[local_ca] chain");
    }
}

bool has_eku(X509& cert, const char* oid) {
    crypto::ExtendedKeyUsagePtr ekus(
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(&cert, NID_ext_key_usage, nullptr, nullptr)));
    if (!ekus) {
        ERR_clear_error();
        return false;
    }
    bool found = false;
    char text[80];
    for (int i = 0; i < sk_ASN1_OBJECT_num(ekus.get()); ++i) {
        OBJ_obj2txt(text, sizeof text, sk_ASN1_OBJECT_value(ekus.get(), i), 1);
        found = found || std::string_view(text) == oid || std::string_view(text) == "2.5.29.37.0";
    }
    return found;
}

void check_ra_certificate(Report& r, const std::string& what, const fs::path& cert_file,
                          const fs::path& key_file, bool signing, const std::vector<crypto::X509Ptr>& cas,
                          TimePoint now) {
    crypto::X509Ptr cert;
    try {
        cert = crypto::load_cert_file(cert_file);
    } catch (const std::exception& e) {
        r.add(what, Verdict::fail, e.what(), "restore " + cert_file.string() + " from a backup");
        return;
    }
    const std::string renew =
        "prepare new RA certificates with `scep-ra ra rollover`, then `scep-ra ra activate`";
    check_validity(r, what, *cert, now, renew);
    check_key_match(r, what, *cert, key_file);
    // X509_get_key_usage: all bits set when the certificate has no keyUsage extension (any use).
    const uint32_t usage = X509_get_key_usage(cert.get());
    const uint32_t needed = signing ? KU_DIGITAL_SIGNATURE : KU_KEY_ENCIPHERMENT;
    if ((usage & needed) == 0) {
        r.add(what + ": key usage", Verdict::fail,
              std::string("keyUsage lacks ") + (signing ? "digitalSignature (it signs every CertRep)"
                                                        : "keyEncipherment (clients encrypt requests to it)"),
              renew);
    } else {
        r.add(what + ": key usage", Verdict::pass, signing ? "digitalSignature" : "keyEncipherment");
    }
    if (!signing && EVP_PKEY_get_base_id(X509_get0_pubkey(cert.get())) != EVP_PKEY_RSA) {
        r.add(what + ": key type", Verdict::fail,
              "not RSA: SCEP clients encrypt to it with RSA key transport", renew);
    }
    if (signing) {
        if (has_eku(*cert, certificate_request_agent)) {
            r.add(what + ": extended key usage", Verdict::pass, "Certificate Request Agent");
        } else {
            r.add(
                what + ": extended key usage", Verdict::warn,
                "no Certificate Request Agent EKU (1.3.6.1.4.1.311.20.2.1), which NDES's RA certificate has",
                "clients that check it refuse the RA: " + renew);
        }
    }
    check_chain(r, what, *cert, cas, now);
}

/// Private files: no access for other users (fail), none for the group (warn),
/// owned by the user running this (warn: serve runs as that user).
void check_private_file(Report& r, const std::string& what, const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        r.add(what + ": permissions", Verdict::fail, file.string() + " cannot be examined", "restore it");
        return;
    }
    const std::string mode = mode_text(st.st_mode);
    if ((st.st_mode & S_IRWXO) != 0) {
        r.add(what + ": permissions", Verdict::fail,
              file.string() + " is accessible to every user (mode " + mode + ")",
              "chmod 600 " + file.string() + ", and replace the secret: it may have been read");
    } else if ((st.st_mode & S_IRWXG) != 0) {
        r.add(what + ": permissions", Verdict::warn,
              file.string() + " is accessible to its group (mode " + mode + ")",
              "chmod 600 " + file.string() + " unless the group is meant to read it");
    } else if (st.st_uid != ::geteuid()) {
        r.add(what + ": permissions", Verdict::warn,
              file.string() + " belongs to uid " + std::to_string(st.st_uid) + ", not to this user",
              "run doctor as the service user (sudo -u scep-ra), or chown the file to it");
    } else {
        r.add(what + ": permissions", Verdict::pass, file.string() + " mode " + mode);
    }
}

void check_private_dir(Report& r, const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        return;
    }
    if ((st.st_mode & S_IRWXO) != 0) {
        r.add("private directory: permissions", Verdict::warn,
              dir.string() + " is open to every user (mode " + mode_text(st.st_mode) + ")",
              "chmod 700 " + dir.string());
    } else {
        r.add("private directory: permissions", Verdict::pass,
              dir.string() + " mode " + mode_text(st.st_mode));
    }
}

/// Builds the configured backend as serve would, asks it whether the CA can be
/// used now, and whether it can enforce the configured policies.
void check_backend(Report& r, const AppConfig& c) {
    const std::string check = "CA backend: " + c.backend;
    SystemClock clock;
    std::unique_ptr<backend::CaBackend> ca;
    try {
        auto db = store::Database::open(c.database, false);
        ca = make_backend(c, *db, clock);
        const backend::Health health = ca->health();
        if (health.ok) {
            r.add(check, Verdict::pass, health.line);
        } else {
            r.add(check, Verdict::fail, health.line,
                  "fix the [" + (c.backend == "local" ? std::string("local_ca") : c.backend) +
                      "] section or the CA; serve starts anyway and answers requests 'CA unavailable'");
        }
        check_backend_supports_policies(c, *ca);
        r.add(check + " policies", Verdict::pass, "the backend can enforce the configured policies");
    } catch (const ConfigError& e) {
        r.add(check + " policies", Verdict::fail, e.what(), "change the policy, or the backend");
    } catch (const std::exception& e) {
        r.add(check, Verdict::fail, std::string("cannot be built: ") + e.what(),
              "fix the backend's section; a remote CA needs its chain file or must be reachable once");
    }
}

void check_database(Report& r, const fs::path& file) {
    std::string verdict;
    try {
        verdict = store::integrity_check(file);
    } catch (const std::exception& e) {
        verdict = e.what();
    }
    if (verdict == "ok") {
        r.add("database: integrity", Verdict::pass, file.string() + " passes PRAGMA integrity_check");
    } else {
        r.add("database: integrity", Verdict::fail, file.string() + ": " + verdict,
              "stop the server and restore the latest backup (README: Backup and restore)");
    }
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    const auto wal = fs::file_size(file.string() + "-wal", ec);
    const std::uintmax_t wal_bytes = ec ? 0 : wal;
    const std::string sizes =
        std::to_string(size) + " bytes, write-ahead log " + std::to_string(wal_bytes) + " bytes";
    if (wal_bytes > large_wal_bytes) {
        r.add("database: size", Verdict::warn, sizes,
              "a long-running reader keeps the log from being checkpointed: end it, or restart the server");
    } else {
        r.add("database: size", Verdict::pass, sizes);
    }
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & S_IRWXO) != 0) {
        r.add("database: permissions", Verdict::warn,
              file.string() + " is accessible to every user (mode " + mode_text(st.st_mode) + ")",
              "chmod 600 " + file.string() + " (it holds the audit trail and password hashes)");
    }
}

/// The admin listener's certificate: key, validity, and the name clients connect to.
void check_admin_tls(Report& r, const AdminConfig& admin, TimePoint now) {
    if (!admin.listen) {
        r.add("admin listener", Verdict::pass, "none configured");
        return;
    }
    if (admin.listen->tls_cert.empty()) {
        r.add("admin listener: TLS", Verdict::warn,
              "the admin page takes passwords over plain HTTP (allow_plaintext = 1)",
              "set [admin] tls_cert and tls_key unless TLS ends at a proxy on this host");
        return;
    }
    crypto::X509Ptr cert;
    try {
        cert = crypto::load_cert_file(admin.listen->tls_cert);
    } catch (const std::exception& e) {
        r.add("admin TLS certificate", Verdict::fail, e.what(), "restore [admin] tls_cert");
        return;
    }
    const std::string renew = "issue a new one for the admin host and set [admin] tls_cert / tls_key";
    check_validity(r, "admin TLS certificate", *cert, now, renew);
    check_key_match(r, "admin TLS certificate", *cert, admin.listen->tls_key);
    const std::string& host = admin.listen->host;
    in6_addr any6{};
    if (host == "0.0.0.0" || host == "::" || host.empty()) {
        r.add("admin TLS certificate: name", Verdict::pass, "listening on every address: name not checked");
        return;
    }
    const bool ip =
        inet_pton(AF_INET, host.c_str(), &any6) == 1 || inet_pton(AF_INET6, host.c_str(), &any6) == 1;
    const bool matches = ip ? X509_check_ip_asc(cert.get(), host.c_str(), 0) == 1 ||
                                  ((host == "127.0.0.1" || host == "::1") &&
                                   X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 1)
                            : X509_check_host(cert.get(), host.c_str(), 0, 0, nullptr) == 1;
    if (matches) {
        r.add("admin TLS certificate: name", Verdict::pass, "valid for " + host);
    } else {
        r.add("admin TLS certificate: name", Verdict::warn,
              "not valid for " + host + ", where the admin listener is", "browsers will refuse it: " + renew);
    }
}

/// The local CA's certificate, then [local_ca] chain.
std::vector<crypto::X509Ptr> local_ca_certificates(Report& r, const AppConfig& c) {
    std::vector<crypto::X509Ptr> cas;
    try {
        cas.push_back(crypto::load_cert_file(c.local_ca.cert_file));
        if (!c.local_ca.chain_file.empty()) {
            for (auto& cert : crypto::load_certs_file(c.local_ca.chain_file)) cas.push_back(std::move(cert));
        }
    } catch (const std::exception& e) {
        r.add("CA certificate", Verdict::fail, e.what(), "restore [local_ca] cert and chain");
        cas.clear();
    }
    return cas;
}

/// A remote CA (EJBCA, AD CS): its chain as the backend serves it, issuing CA first.
std::vector<crypto::X509Ptr> remote_ca_certificates(Report& r, const AppConfig& c) {
    try {
        SystemClock clock;
        auto db = store::Database::open(c.database, false);
        auto chain = make_backend(c, *db, clock)->ca_chain();
        if (chain.empty()) {
            r.add("CA certificate", Verdict::fail, "the " + c.backend + " backend has no CA chain",
                  "set [" + c.backend + "] chain to the CA's PEM chain, issuing CA first");
        }
        return chain;
    } catch (const std::exception& e) {
        r.add("CA certificate", Verdict::fail, "the " + c.backend + " backend's CA chain: " + e.what(),
              "set [" + c.backend + "] chain to the CA's PEM chain, or make the CA reachable");
        return {};
    }
}

}  // namespace

const char* verdict_name(Verdict verdict) {
    switch (verdict) {
        case Verdict::pass:
            return "pass";
        case Verdict::warn:
            return "warn";
        case Verdict::fail:
            return "fail";
        case Verdict::skip:
            return "skip";
    }
    return "?";
}

std::vector<DoctorFinding> run_doctor_checks(const AppConfig& c, TimePoint now) {
    Report r;
    const bool local_ca = c.backend == "local";
    std::vector<crypto::X509Ptr> cas = local_ca ? local_ca_certificates(r, c) : remote_ca_certificates(r, c);
    if (!cas.empty()) {
        check_validity(
            r, "CA certificate", *cas.front(), now,
            local_ca ? "prepare a new CA with `scep-ra ra rollover --new-ca`, then `scep-ra ra activate`"
                     : "the CA must be renewed at the CA, then its chain file replaced");
        if (local_ca) {
            check_key_match(r, "CA certificate", *cas.front(), c.local_ca.key_file);
        }
    }
    check_ra_certificate(r, "RA signing certificate", c.signing_cert, c.signing_key, true, cas, now);
    check_ra_certificate(r, "RA encryption certificate", c.encryption_cert, c.encryption_key, false, cas,
                         now);

    check_private_dir(r, c.signing_key.parent_path());
    check_private_file(r, "RA signing key", c.signing_key);
    check_private_file(r, "RA encryption key", c.encryption_key);
    if (local_ca) {
        check_private_file(r, "CA key", c.local_ca.key_file);
    }
    if (fs::exists(c.hmac_key_file)) {
        check_private_file(r, "password HMAC key", c.hmac_key_file);
    }
    if (c.admin.listen && !c.admin.listen->tls_key.empty()) {
        check_private_file(r, "admin TLS key", c.admin.listen->tls_key);
    }
    check_database(r, c.database);
    check_admin_tls(r, c.admin, now);
    check_backend(r, c);
    return r.take();
}

}  // namespace scepra::cli
