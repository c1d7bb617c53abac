// SPDX-License-Identifier: Apache-2.0
// Append-only record of every decision the RA takes on a SCEP request.
#include "store/audit_log.hpp"

#include "store/field_caps.hpp"

namespace scepra::store {

namespace {

constexpr std::string_view kColumns =
    "SELECT id, at, peer, operation, message_type, transaction_id, subject, decision, fail_info, detail, "
    "serial, challenge_id, ca_detail FROM audit_events ";

std::vector<AuditRow> collect(Statement& st) {
    std::vector<AuditRow> rows;
    while (st.step()) {
        AuditRow row;
        row.id = st.column_int(0);
        row.at = st.column_text(1);
        row.peer = st.column_text(2);
        row.operation = st.column_text(3);
        row.message_type = st.column_optional_text(4);
        row.transaction_id = st.column_optional_text(5);
        row.subject = st.column_optional_text(6);
        row.decision = st.column_text(7);
        row.fail_info = st.column_optional_text(8);
        row.detail = st.column_optional_text(9);
        row.serial = st.column_optional_text(10);
        if (!st.is_null(11)) {
            row.challenge_id = st.column_int(11);
        }
        row.ca_detail = st.column_optional_text(12);
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace

AuditLog::AuditLog(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

std::int64_t AuditLog::record(const AuditEvent& event) {
    return m_db.write([&](Database& db) { return record_in(db, event); });
}

std::int64_t AuditLog::record_in(Database& db, const AuditEvent& event) {
    const std::string at = sql_time(m_clock.now());
    // Most of these fields come from the network: each is stored within its bound.
    auto cap = [](const std::optional<std::string>& field, std::size_t max) -> std::optional<std::string> {
        return field ? std::optional(capped(*field, max)) : std::nullopt;
    };
    auto st = db.prepare(
        "INSERT INTO audit_events (at, peer, operation, message_type, transaction_id, subject, decision, "
        "fail_info, detail, serial, challenge_id, ca_detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11, "
        "?12)");
    st.bind(1, at)
        .bind(2, capped(event.peer, kMaxStoredShort))
        .bind(3, capped(event.operation, kMaxStoredShort))
        .bind(4, cap(event.message_type, kMaxStoredShort))
        .bind(5, cap(event.transaction_id, kMaxStoredTransactionId))
        .bind(6, cap(event.subject, kMaxStoredText))
        .bind(7, event.decision)
        .bind(8, cap(event.fail_info, kMaxStoredShort))
        .bind(9, cap(event.detail, kMaxStoredText))
        .bind(10, cap(event.serial, kMaxStoredShort))
        .bind(11, event.challenge_id)
        .bind(12, cap(event.ca_detail, kMaxStoredText));
    st.run();
    return db.last_insert_rowid();
}

std::vector<AuditRow> AuditLog::recent(int limit) {
    if (limit <= 0) {
        return {};
    }
    return m_db.read([&](Database& db) {
        auto st = db.prepare(std::string(kColumns) + "ORDER BY id DESC LIMIT ?1");
        st.bind(1, limit);
        return collect(st);
    });
}

std::vector<AuditRow> AuditLog::by_transaction(const std::string& txid) {
    return m_db.read([&](Database& db) {
        auto st = db.prepare(std::string(kColumns) + "WHERE transaction_id = ?1 ORDER BY id ASC");
        st.bind(1, txid);
        return collect(st);
    });
}

std::vector<AuditRow> AuditLog::query(const AuditFilter& f) {
    return m_db.read([&](Database& db) {
        // Unset filters bind NULL and drop out of the WHERE clause.
        auto st =
            db.prepare("SELECT * FROM (" + std::string(kColumns) +
                       "WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) "
                       "AND (?3 IS NULL OR instr(subject, ?3) > 0) AND (?4 IS NULL OR transaction_id = ?4) "
                       "AND (?5 IS NULL OR decision = ?5) ORDER BY id DESC LIMIT ?6) ORDER BY id ASC");
        st.bind(1, f.since).bind(2, f.until).bind(3, f.subject).bind(4, f.transaction_id).bind(5, f.decision);
        st.bind(6, f.limit);
        return collect(st);
    });
}

}  // namespace scepra::store
