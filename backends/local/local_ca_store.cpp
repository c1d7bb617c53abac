// SPDX-License-Identifier: Apache-2.0
// The SQL of the local CA: issued certificates, pending requests and the current CRL (schema 0001, 0003).
#include "local/local_ca_store.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "crypto/encoding.hpp"
#include "local/ca_setup.hpp"

namespace scepra::backend::local {

namespace {

std::optional<std::string> text_or_null(const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

constexpr const char* request_columns =
    "id, transaction_id, template, subject, requester, status, reason, created_at, decided_at, decided_by, "
    "cert_serial";

PendingRequest request_from(const store::Statement& row) {
    PendingRequest r;
    r.id = row.column_int(0);
    r.transaction_id = row.column_text(1);
    r.template_name = row.column_text(2);
    r.subject = row.column_text(3);
    r.requester = row.column_text(4);
    r.status = row.column_text(5);
    r.reason = row.column_text(6);
    r.created_at = parse_sql_time(row.column_text(7));
    if (auto decided = row.column_optional_text(8)) {
        r.decided_at = parse_sql_time(*decided);
    }
    r.decided_by = row.column_text(9);
    r.cert_serial = row.column_text(10);
    return r;
}

}  // namespace

bool LocalCaStore::serial_exists(store::Database& db, const std::string& serial) const {
    auto query = db.prepare("SELECT 1 FROM issued_certs WHERE issuer = ?1 AND serial = ?2");
    query.bind(1, m_issuer).bind(2, serial);
    return query.step();
}

void record_certificate(store::Database& db, const X509& cert, const std::string& role, TimePoint issued_at) {
    auto when = [](const ASN1_TIME& t) {
        return sql_time(std::chrono::system_clock::from_time_t(to_time_t(t)));
    };
    LocalCaStore(crypto::name_string(*X509_get_issuer_name(&cert)))
        .insert_certificate(db, {crypto::serial_hex(cert), crypto::name_string(*X509_get_subject_name(&cert)),
                                 when(*X509_get0_notBefore(&cert)), when(*X509_get0_notAfter(&cert)), "",
                                 role, sql_time(issued_at), crypto::cert_der(cert)});
}

std::int64_t LocalCaStore::insert_certificate(store::Database& db, const NewCertificate& cert) const {
    auto insert = db.prepare(
        "INSERT INTO issued_certs (issuer, serial, subject, not_before, not_after, transaction_id, template, "
        "issued_at, der) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    insert.bind(1, m_issuer)
        .bind(2, cert.serial)
        .bind(3, cert.subject)
        .bind(4, cert.not_before)
        .bind(5, cert.not_after)
        .bind(6, text_or_null(cert.transaction_id))
        .bind(7, text_or_null(cert.template_name))
        .bind(8, cert.issued_at)
        .bind(9, cert.der);
    insert.run();
    return db.last_insert_rowid();
}

std::vector<Bytes> LocalCaStore::certificates_of_transaction(store::Database& db,
                                                             const std::string& transaction_id) const {
    auto query =
        db.prepare("SELECT der FROM issued_certs WHERE issuer = ?1 AND transaction_id = ?2 ORDER BY id DESC");
    query.bind(1, m_issuer).bind(2, transaction_id);
    std::vector<Bytes> out;
    while (query.step()) {
        out.push_back(query.column_blob(0));
    }
    return out;
}

std::optional<Bytes> LocalCaStore::certificate_der(store::Database& db, const std::string& serial) const {
    auto query = db.prepare("SELECT der FROM issued_certs WHERE issuer = ?1 AND serial = ?2");
    query.bind(1, m_issuer).bind(2, serial);
    if (!query.step()) {
        return std::nullopt;
    }
    return query.column_blob(0);
}

std::optional<Bytes> LocalCaStore::certificate_der_by_id(store::Database& db, std::int64_t id) const {
    auto query = db.prepare("SELECT der FROM issued_certs WHERE id = ?1");
    query.bind(1, id);
    if (!query.step()) {
        return std::nullopt;
    }
    return query.column_blob(0);
}

std::optional<LocalCaStore::CertificateState> LocalCaStore::certificate_state(
    store::Database& db, const std::string& serial) const {
    auto query = db.prepare(
        "SELECT der, not_after, revoked_at, revocation_reason FROM issued_certs WHERE issuer = ?1 AND serial "
        "= ?2");
    query.bind(1, m_issuer).bind(2, serial);
    if (!query.step()) {
        return std::nullopt;
    }
    return CertificateState{query.column_blob(0), query.column_text(1), query.column_optional_text(2),
                            query.column_optional_text(3)};
}

void LocalCaStore::set_revoked(store::Database& db, const std::string& serial, const std::string& revoked_at,
                               const std::string& reason_name) const {
    auto update = db.prepare(
        "UPDATE issued_certs SET revoked_at = ?3, revocation_reason = ?4 WHERE issuer = ?1 AND serial = ?2");
    update.bind(1, m_issuer).bind(2, serial).bind(3, revoked_at).bind(4, reason_name);
    update.run();
}

std::vector<Bytes> LocalCaStore::valid_by_subject(store::Database& db, const std::string& subject,
                                                  const std::string& now) const {
    // Served by the partial index local_ca_valid_by_subject (schema 0003).
    auto query = db.prepare(
        "SELECT der FROM issued_certs WHERE subject = ?1 AND revoked_at IS NULL AND not_after > ?2 AND "
        "issuer = ?3 "
        "ORDER BY not_after DESC");
    query.bind(1, subject).bind(2, now).bind(3, m_issuer);
    std::vector<Bytes> out;
    while (query.step()) {
        out.push_back(query.column_blob(0));
    }
    return out;
}

std::vector<RevokedEntry> LocalCaStore::revoked_unexpired(store::Database& db, const std::string& now) const {
    // Served by the partial index local_ca_revoked (schema 0003).
    auto query = db.prepare(
        "SELECT serial, revoked_at, revocation_reason FROM issued_certs "
        "WHERE issuer = ?1 AND revoked_at IS NOT NULL AND not_after > ?2");
    query.bind(1, m_issuer).bind(2, now);
    std::vector<RevokedEntry> out;
    while (query.step()) {
        auto reason = crl_reason_code(query.column_text(2));
        out.push_back({query.column_text(0), parse_sql_time(query.column_text(1)),
                       reason.value_or(crl_reason_unspecified)});
    }
    return out;
}

std::int64_t LocalCaStore::insert_request(store::Database& db, const NewRequest& request) const {
    auto insert = db.prepare(
        "INSERT INTO local_ca_requests (transaction_id, template, subject, csr_der, requester, status, "
        "created_at) "
        "VALUES (?1, ?2, ?3, COALESCE(?4, x''), ?5, 'pending', ?6)");
    insert.bind(1, text_or_null(request.transaction_id))
        .bind(2, request.template_name)
        .bind(3, request.subject)
        .bind(4, request.csr_der)
        .bind(5, text_or_null(request.requester))
        .bind(6, request.created_at);
    insert.run();
    return db.last_insert_rowid();
}

void LocalCaStore::set_request_csr(store::Database& db, std::int64_t id, const Bytes& stored) const {
    auto update = db.prepare("UPDATE local_ca_requests SET csr_der = ?2 WHERE id = ?1");
    update.bind(1, id).bind(2, stored);
    update.run();
}

std::vector<std::pair<std::int64_t, Bytes>> LocalCaStore::plaintext_requests(store::Database& db) const {
    auto query = db.prepare(
        "SELECT id, csr_der FROM local_ca_requests WHERE status IN ('pending', 'approved') "
        "AND substr(csr_der, 1, 1) = x'30'");
    std::vector<std::pair<std::int64_t, Bytes>> out;
    while (query.step()) {
        out.emplace_back(query.column_int(0), query.column_blob(1));
    }
    return out;
}

std::vector<std::pair<std::int64_t, Bytes>> LocalCaStore::requests_of_transaction(
    store::Database& db, const std::string& transaction_id) const {
    auto query =
        db.prepare("SELECT id, csr_der FROM local_ca_requests WHERE transaction_id = ?1 ORDER BY id DESC");
    query.bind(1, transaction_id);
    std::vector<std::pair<std::int64_t, Bytes>> out;
    while (query.step()) {
        out.emplace_back(query.column_int(0), query.column_blob(1));
    }
    return out;
}

std::optional<LocalCaStore::RequestRow> LocalCaStore::request(store::Database& db, std::int64_t id) const {
    auto query = db.prepare(std::string("SELECT ") + request_columns +
                            ", csr_der, cert_id FROM local_ca_requests WHERE id = ?1");
    query.bind(1, id);
    if (!query.step()) {
        return std::nullopt;
    }
    RequestRow row{request_from(query), query.column_blob(11), std::nullopt};
    if (!query.is_null(12)) {
        row.cert_id = query.column_int(12);
    }
    return row;
}

std::vector<PendingRequest> LocalCaStore::requests(store::Database& db,
                                                   const std::optional<std::string>& status) const {
    // Two statements, so a status filter can use local_ca_requests_status.
    auto query = db.prepare(std::string("SELECT ") + request_columns + " FROM local_ca_requests" +
                            (status ? " WHERE status = ?1" : "") + " ORDER BY id");
    if (status) {
        query.bind(1, *status);
    }
    std::vector<PendingRequest> out;
    while (query.step()) {
        out.push_back(request_from(query));
    }
    return out;
}

bool LocalCaStore::decide(store::Database& db, std::int64_t id, const std::string& status,
                          const std::string& officer, const std::string& reason,
                          const std::string& now) const {
    auto update = db.prepare(
        "UPDATE local_ca_requests SET status = ?2, decided_by = ?3, reason = ?4, decided_at = ?5, "
        "csr_der = CASE WHEN ?2 = 'denied' THEN x'' ELSE csr_der END WHERE id = ?1 AND status = 'pending'");
    update.bind(1, id).bind(2, status).bind(3, officer).bind(4, text_or_null(reason)).bind(5, now);
    update.run();
    return db.changes() == 1;
}

void LocalCaStore::set_request_issued(store::Database& db, std::int64_t id, std::int64_t cert_id,
                                      const std::string& serial) const {
    auto update = db.prepare(
        "UPDATE local_ca_requests SET status = 'issued', cert_id = ?2, cert_serial = ?3, csr_der = x'' "
        "WHERE id = ?1");
    update.bind(1, id).bind(2, cert_id).bind(3, serial);
    update.run();
}

std::optional<LocalCaStore::CrlRow> LocalCaStore::crl(store::Database& db, bool with_der) const {
    auto query =
        db.prepare(with_der ? "SELECT crl_number, this_update, next_update, stale, der FROM local_ca_crls "
                              "WHERE issuer = ?1"
                            : "SELECT crl_number, this_update, next_update, stale FROM local_ca_crls "
                              "WHERE issuer = ?1");
    query.bind(1, m_issuer);
    if (!query.step()) {
        return std::nullopt;
    }
    CrlRow row{query.column_int(0), query.column_text(1), query.column_text(2), query.column_int(3) != 0, {}};
    if (with_der) {
        row.der = query.column_blob(4);
    }
    return row;
}

void LocalCaStore::save_crl(store::Database& db, const CrlRow& row) const {
    auto upsert = db.prepare(
        "INSERT INTO local_ca_crls (issuer, crl_number, this_update, next_update, stale, der) "
        "VALUES (?1, ?2, ?3, ?4, 0, ?5) "
        "ON CONFLICT (issuer) DO UPDATE SET crl_number = excluded.crl_number, this_update = "
        "excluded.this_update, "
        "next_update = excluded.next_update, stale = 0, der = excluded.der");
    upsert.bind(1, m_issuer)
        .bind(2, row.number)
        .bind(3, row.this_update)
        .bind(4, row.next_update)
        .bind(5, row.der);
    upsert.run();
}

void LocalCaStore::mark_crl_stale(store::Database& db) const {
    auto update = db.prepare("UPDATE local_ca_crls SET stale = 1 WHERE issuer = ?1");
    update.bind(1, m_issuer);
    update.run();
}

}  // namespace scepra::backend::local
