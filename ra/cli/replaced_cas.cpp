// SPDX-License-Identifier: Apache-2.0
// CA certificates a remote CA replaced by a re-key (see replaced_cas.hpp).
#include "cli/replaced_cas.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "crypto/asn1_time.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::cli {

namespace fs = std::filesystem;

namespace {

bool expired(X509& cert, TimePoint now) {
    const auto not_after = crypto::to_time_point(*X509_get0_notAfter(&cert));
    return !not_after || *not_after < now;  // an unreadable date counts as expired: fail closed
}

std::string time_text(const ASN1_TIME& t) {
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || ASN1_TIME_print(bio.get(), &t) != 1) {
        ERR_clear_error();
        return "(unreadable)";
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
}

std::string describe(X509& cert) {
    return crypto::name_string(*X509_get_subject_name(&cert)) + " (serial " + crypto::serial_hex(cert) +
           ", valid until " + time_text(*X509_get0_notAfter(&cert)) + ")";
}

}  // namespace

fs::path replaced_cas_file(const fs::path& database) { return database.string() + ".replaced-cas.pem"; }

ReplacedCas::ReplacedCas(fs::path file, TimePoint now) : m_file(std::move(file)) {
    std::error_code ec;
    if (!fs::exists(m_file, ec)) {
        return;
    }
    try {
        m_kept = crypto::load_certs_file(m_file);
    } catch (const std::exception& e) {
        throw std::runtime_error("the CA certificates replaced by a re-key, " + m_file.string() +
                                 ", cannot be read: " + e.what() + " (remove the file to forget them)");
    }
    while (m_kept.size() > max_kept) {
        m_kept.erase(m_kept.begin());
    }
    drop_expired(now);
}

std::optional<std::string> ReplacedCas::note(X509& previous, X509& current, TimePoint now) {
    const bool same_subject =
        X509_NAME_cmp(X509_get_subject_name(&previous), X509_get_subject_name(&current)) == 0;
    const bool same_key = EVP_PKEY_eq(X509_get0_pubkey(&previous), X509_get0_pubkey(&current)) == 1;
    ERR_clear_error();
    if (!same_subject || same_key || expired(previous, now)) {
        return std::nullopt;
    }
    for (const auto& kept : m_kept) {
        if (X509_cmp(kept.get(), &previous) == 0) {
            return std::nullopt;
        }
    }
    m_kept.push_back(crypto::up_ref(previous));
    std::string dropped;
    while (m_kept.size() > max_kept) {
        dropped = "; the oldest kept, " + describe(*m_kept.front()) + ", is dropped (at most " +
                  std::to_string(max_kept) + " are kept)";
        m_kept.erase(m_kept.begin());
    }
    save();
    return "the CA re-keyed under the same name: certificates issued by the replaced CA certificate " +
           describe(previous) + " may still renew until it expires" + dropped + "; kept in " +
           m_file.string();
}

std::vector<std::string> ReplacedCas::drop_expired(TimePoint now) {
    std::vector<std::string> lines;
    for (auto it = m_kept.begin(); it != m_kept.end();) {
        if (expired(**it, now)) {
            lines.push_back("the replaced CA certificate " + describe(**it) +
                            " has expired: its certificates no longer renew");
            it = m_kept.erase(it);
        } else {
            ++it;
        }
    }
    if (!lines.empty()) {
        save();
    }
    return lines;
}

std::vector<crypto::X509Ptr> ReplacedCas::certificates() const {
    std::vector<crypto::X509Ptr> copy;
    for (const auto& cert : m_kept) {
        copy.push_back(crypto::up_ref(*cert));
    }
    return copy;
}

void ReplacedCas::save() const {
    if (m_kept.empty()) {
        fs::remove(m_file);
        return;
    }
    std::string pem;
    for (const auto& cert : m_kept) {
        pem += crypto::cert_pem(*cert);
    }
    const fs::path temporary = m_file.string() + ".tmp";
    crypto::write_file(temporary, pem, 0644, true);
    fs::rename(temporary, m_file);
}

}  // namespace scepra::cli
