// SPDX-License-Identifier: Apache-2.0
// Shared setup for the local CA tests: a CA in PEM files, a real SQLite file, a FixedClock.
#pragma once

#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "crypto/encoding.hpp"
#include "local/local_ca_backend.hpp"
#include "store/database.hpp"
#include "support/test_pki.hpp"
#include "support/text.hpp"

namespace scepra::test {

inline constexpr std::time_t day = 86400;

inline TimePoint whole_seconds_now() {
    return TimePoint(std::chrono::seconds(unix_seconds(std::chrono::system_clock::now())));
}

/// A profile with the struct's defaults and this name.
inline backend::local::CertificateProfile profile_named(const std::string& name) {
    backend::local::CertificateProfile profile;
    profile.name = name;
    return profile;
}

/// A SubmitResult with its DER certificates parsed, for inspection.
struct ParsedResult {
    backend::Disposition disposition = backend::Disposition::rejected;
    crypto::X509Ptr certificate;  ///< null unless issued
    std::vector<crypto::X509Ptr> chain;
    std::string backend_ref;
    std::string reason;
};

inline ParsedResult parsed(const backend::SubmitResult& r) {
    ParsedResult out{r.disposition, nullptr, {}, r.backend_ref, r.reason};
    if (!r.certificate_der.empty()) {
        out.certificate = crypto::cert_from_der(r.certificate_der);
    }
    for (const auto& der : r.chain_der) {
        out.chain.push_back(crypto::cert_from_der(der));
    }
    return out;
}

/// A CA (shared test PKI by default) in PEM files, a fresh database file and a
/// backend built on first use from the current config.
struct LocalCaFixture {
    TempDir dir;
    FixedClock clock{whole_seconds_now()};
    std::unique_ptr<store::Database> db = store::Database::open(dir.file("ra.db"), true);
    backend::local::LocalCaConfig config;
    X509* ca_cert = nullptr;
    EVP_PKEY* ca_key = nullptr;
    std::unique_ptr<backend::local::LocalCaBackend> backend_ptr;

    LocalCaFixture() {
        const auto& pki = shared_test_pki();
        use_ca(*pki.ca_cert, *pki.ca_key);
    }

    void use_ca(X509& cert, EVP_PKEY& key) {
        crypto::save_cert_file(dir.file("ca.pem"), cert, true);
        crypto::save_key_file(dir.file("ca.key"), key, true);
        config.cert_file = dir.file("ca.pem");
        config.key_file = dir.file("ca.key");
        ca_cert = &cert;
        ca_key = &key;
        backend_ptr.reset();
    }

    backend::local::LocalCaBackend& backend() {
        if (!backend_ptr) {
            backend_ptr = std::make_unique<backend::local::LocalCaBackend>(config, *db, clock);
        }
        return *backend_ptr;
    }

    /// Drops the backend and the connection and reopens the same file, as a
    /// process restart would; the next backend() is built anew.
    void restart() {
        backend_ptr.reset();
        db.reset();
        db = store::Database::open(dir.file("ra.db"), false);
    }

    ParsedResult submit(const Bytes& csr_der, const std::string& transaction_id = "tx-1",
                        const std::string& template_name = "") {
        return parsed(
            backend().submit(backend::SubmitRequest{transaction_id, csr_der, template_name, "192.0.2.7"}));
    }

    ParsedResult submit(EVP_PKEY& key, const std::string& subject, const std::vector<Ext>& exts = {}) {
        return submit(crypto::csr_der(*make_csr(key, subject, "one-time-secret", exts)));
    }

    /// A request for subject with key under the named template.
    ParsedResult submit_as(const std::string& template_name, EVP_PKEY& key, const std::string& subject,
                           const std::vector<Ext>& exts = {}) {
        return submit(crypto::csr_der(*make_csr(key, subject, "", exts)), "tx-" + subject, template_name);
    }

    std::int64_t count(const std::string& sql) {
        return db->read([&](store::Database& d) {
            auto st = d.prepare(sql);
            st.step();
            return st.column_int(0);
        });
    }

    std::int64_t issued_rows() { return count("SELECT COUNT(*) FROM issued_certs"); }
};

inline X509_EXTENSION* extension(X509& cert, int nid) {
    int index = X509_get_ext_by_NID(&cert, nid, -1);
    return index < 0 ? nullptr : X509_get_ext(&cert, index);
}

inline bool is_critical(X509& cert, int nid) {
    X509_EXTENSION* ext = extension(cert, nid);
    REQUIRE(ext != nullptr);
    return X509_EXTENSION_get_critical(ext) == 1;
}

template <class E>
std::string thrown_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<nothing thrown>";
}

}  // namespace scepra::test
