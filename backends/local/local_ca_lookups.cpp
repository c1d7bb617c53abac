// SPDX-License-Identifier: Apache-2.0
// What the local CA finds in its records: certificates by issuer and
// serial, by subject, and requests by transactionID.
#include <openssl/err.h>

#include "crypto/encoding.hpp"
#include "local/ca_setup.hpp"
#include "local/local_ca_internal.hpp"

namespace scepra::backend::local {

using detail::canonical_serial;
using detail::sealed_row;

std::optional<crypto::X509Ptr> LocalCaBackend::find_issued(const std::string& issuer_dn,
                                                           const std::string& serial_hex) const {
    const auto serial = canonical_serial(serial_hex);
    if (!serial) {
        return std::nullopt;
    }
    // Looked up under the issuer asked for, which may be a CA this database served before.
    std::optional<Bytes> der =
        m_db.read([&](store::Database& db) { return LocalCaStore(issuer_dn).certificate_der(db, *serial); });
    if (!der) {
        return std::nullopt;
    }
    return crypto::cert_from_der(*der);
}

std::vector<crypto::X509Ptr> LocalCaBackend::find_valid_by_subject(const std::string& subject_dn) const {
    const std::string now = sql_time(m_clock.now());
    auto ders = m_db.read([&](store::Database& db) { return m_store.valid_by_subject(db, subject_dn, now); });
    std::vector<crypto::X509Ptr> certs;
    certs.reserve(ders.size());
    for (const auto& der : ders) {
        certs.push_back(crypto::cert_from_der(der));
    }
    return certs;
}

std::optional<IssuedCertificate> LocalCaBackend::find_certificate(const std::string& issuer_dn,
                                                                  const std::string& serial_hex) {
    if (issuer_dn != m_issuer_dn) {
        return std::nullopt;
    }
    auto status = status_of(serial_hex);
    if (!status) {
        return std::nullopt;
    }
    IssuedCertificate out;
    out.certificate = std::move(status->certificate);
    out.state = status->state == CertStatus::State::revoked   ? CertState::revoked
                : status->state == CertStatus::State::expired ? CertState::expired
                                                              : CertState::valid;
    return out;
}

std::optional<SubmitResult> LocalCaBackend::find_by_transaction(const TransactionQuery& query) {
    const std::string& transaction_id = query.transaction_id;
    const Bytes& key_hash = query.key_hash;
    std::vector<Bytes> certificates;
    std::vector<std::pair<std::int64_t, Bytes>> requests;
    try {
        m_db.read([&](store::Database& db) {
            certificates = m_store.certificates_of_transaction(db, transaction_id);
            requests = m_store.requests_of_transaction(db, transaction_id);
        });
    } catch (const store::DbError& e) {
        throw BackendUnavailable(std::string("cannot look up the transaction: ") + e.what());
    }
    // A transactionID is the client's choice: only the same key makes it the same request.
    for (auto& der : certificates) {
        auto cert = crypto::cert_from_der(der);
        if (crypto::spki_hash(*X509_get_X509_PUBKEY(cert.get())) == key_hash) {
            return issued(std::move(der));
        }
    }
    for (const auto& [id, stored] : requests) {
        if (stored.empty()) {
            continue;  // decided, CSR deleted: issued ones were found above
        }
        crypto::X509ReqPtr csr;
        try {
            csr = crypto::csr_from_der(m_seal.open(stored, sealed_row(id)));
        } catch (const std::exception&) {
            ERR_clear_error();
            continue;
        }
        if (crypto::spki_hash(*X509_REQ_get_X509_PUBKEY(csr.get())) == key_hash) {
            return poll(PollRequest{std::to_string(id), transaction_id, query.template_name, {}});
        }
    }
    return std::nullopt;
}

bool LocalCaBackend::subject_has_valid_certificate(const std::string& subject_dn) {
    return !find_valid_by_subject(subject_dn).empty();
}

}  // namespace scepra::backend::local
