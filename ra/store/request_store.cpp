// SPDX-License-Identifier: Apache-2.0
// SQL for the requests table.
#include "store/request_store.hpp"

#include "store/server_run.hpp"

namespace scepra::store {

namespace {

constexpr const char* columns =
    "SELECT id, transaction_id, kind, key_hash, subject, template, status, backend, backend_ref, cert_der, "
    "chain_der, fail_info, fail_text, challenge_id, requester, updated_at, csr_info_hash, signer_hash, "
    "serial, csr_sealed, run_id, created_at FROM requests ";

RequestRecord read_row(Statement& st) {
    RequestRecord r;
    r.id = st.column_int(0);
    r.transaction_id = st.column_text(1);
    r.kind = st.column_text(2);
    r.key_hash = st.column_blob(3);
    r.subject = st.column_text(4);
    r.template_name = st.column_text(5);
    r.status = st.column_text(6);
    r.backend = st.column_text(7);
    r.backend_ref = st.column_optional_text(8);
    r.cert_der = st.column_blob(9);
    r.chain_der = st.column_blob(10);
    r.fail_info = st.column_optional_text(11);
    r.fail_text = st.column_optional_text(12);
    if (!st.is_null(13)) {
        r.challenge_id = st.column_int(13);
    }
    r.requester = st.column_optional_text(14);
    r.updated_at = st.column_text(15);
    r.csr_info_hash = st.column_blob(16);
    r.signer_hash = st.column_blob(17);
    r.serial = st.column_optional_text(18);
    r.csr_sealed = st.column_blob(19);
    r.run_id = st.is_null(20) ? std::string() : st.column_text(20);
    r.created_at = st.column_text(21);
    return r;
}

std::optional<Bytes> optional_blob(const Bytes& b) {
    return b.empty() ? std::nullopt : std::optional<Bytes>(b);
}

}  // namespace

std::string sealed_csr_row(const std::string& transaction_id, const std::string& kind) {
    // Both are unique together (and known before the row exists); the length
    // keeps "a:b" + "c" apart from "a" + "b:c".
    return "requests.csr_sealed:" + std::to_string(transaction_id.size()) + ":" + transaction_id + ":" + kind;
}

std::optional<RequestRecord> RequestStore::find(const std::string& transaction_id, const std::string& kind) {
    return m_db.read([&](Database& db) -> std::optional<RequestRecord> {
        auto st = db.prepare(std::string(columns) + "WHERE transaction_id = ?1 AND kind = ?2");
        st.bind(1, transaction_id).bind(2, kind);
        if (!st.step()) {
            return std::nullopt;
        }
        return read_row(st);
    });
}

std::optional<RequestRecord> RequestStore::find_latest(const std::string& transaction_id) {
    auto rows = find_all(transaction_id, 1);
    if (rows.empty()) {
        return std::nullopt;
    }
    return std::move(rows.front());
}

std::vector<RequestRecord> RequestStore::find_all(const std::string& transaction_id, std::size_t limit) {
    return m_db.read([&](Database& db) {
        auto st = db.prepare(std::string(columns) + "WHERE transaction_id = ?1 ORDER BY id DESC LIMIT ?2");
        st.bind(1, transaction_id).bind(2, static_cast<std::int64_t>(limit));
        std::vector<RequestRecord> rows;
        while (st.step()) {
            rows.push_back(read_row(st));
        }
        return rows;
    });
}

std::optional<RequestRecord> RequestStore::find_issued(const std::string& serial) {
    return m_db.read([&](Database& db) -> std::optional<RequestRecord> {
        auto st = db.prepare(std::string(columns) +
                             "WHERE serial = ?1 AND status = 'issued' ORDER BY id DESC LIMIT 1");
        st.bind(1, serial);
        if (!st.step()) {
            return std::nullopt;
        }
        return read_row(st);
    });
}

std::optional<std::int64_t> RequestStore::insert(const RequestRecord& r,
                                                 std::optional<std::int64_t> retiring) {
    return m_db.write([&](Database& db) { return insert_in(db, r, retiring); });
}

std::optional<std::int64_t> RequestStore::insert_in(Database& db, const RequestRecord& r,
                                                    std::optional<std::int64_t> retiring) {
    const std::string now = sql_time(m_clock.now());
    if (retiring) {
        // Renamed only while it is still the decided request of this
        // transactionID: a concurrent replacement finds it renamed, and its
        // insert below meets this one's row (a duplicate).
        auto retire = db.prepare(
            "UPDATE requests SET transaction_id = transaction_id || '#' || id, updated_at = ?4 WHERE id = ?1 "
            "AND transaction_id = ?2 AND kind = ?3 AND status IN ('issued', 'rejected')");
        retire.bind(1, *retiring).bind(2, r.transaction_id).bind(3, r.kind).bind(4, now);
        retire.run();
    }
    auto st = db.prepare(
        "INSERT OR IGNORE INTO requests (transaction_id, kind, key_hash, subject, template, status, backend, "
        "backend_ref, cert_der, chain_der, fail_info, fail_text, challenge_id, requester, created_at, "
        "updated_at, "
        "csr_info_hash, signer_hash, csr_sealed, run_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?17, ?18, ?19)");
    st.bind(1, r.transaction_id)
        .bind(2, r.kind)
        .bind(3, r.key_hash)
        .bind(4, r.subject)
        .bind(5, r.template_name);
    st.bind(6, r.status).bind(7, r.backend).bind(8, r.backend_ref).bind(9, optional_blob(r.cert_der));
    st.bind(10, optional_blob(r.chain_der)).bind(11, r.fail_info).bind(12, r.fail_text);
    st.bind(13, r.challenge_id).bind(14, r.requester).bind(15, now);
    st.bind(16, optional_blob(r.csr_info_hash)).bind(17, optional_blob(r.signer_hash));
    st.bind(18, optional_blob(r.csr_sealed)).bind(19, this_run());
    st.run();
    if (db.changes() != 1) {
        return std::nullopt;
    }
    return db.last_insert_rowid();
}

std::optional<std::string> RequestStore::take_over(const RequestRecord& r) {
    std::string now = sql_time(m_clock.now());
    const bool taken = m_db.write([&](Database& db) {
        auto st = db.prepare(
            "UPDATE requests SET updated_at = ?2, fail_text = NULL, run_id = ?5 WHERE id = ?1 AND status = "
            "'pending' "
            "AND backend_ref IS NULL AND updated_at = ?3 AND fail_text IS ?4");
        st.bind(1, r.id).bind(2, now).bind(3, r.updated_at).bind(4, r.fail_text).bind(5, this_run());
        st.run();
        return db.changes() == 1;
    });
    if (!taken) {
        return std::nullopt;
    }
    return now;
}

bool RequestStore::renew_claim(RequestRecord& r) {
    const std::string now = sql_time(m_clock.now());
    const bool renewed = m_db.write([&](Database& db) {
        auto st = db.prepare(
            "UPDATE requests SET updated_at = ?2 WHERE id = ?1 AND status = 'pending' AND backend_ref IS "
            "NULL "
            "AND fail_text IS NULL AND updated_at = ?3");
        st.bind(1, r.id).bind(2, now).bind(3, r.updated_at);
        st.run();
        return db.changes() == 1;
    });
    if (renewed) {
        r.updated_at = now;
    }
    return renewed;
}

void RequestStore::hold_for_retry(std::int64_t id, const std::string& why) {
    const std::string now = sql_time(m_clock.now());
    m_db.write([&](Database& db) {
        auto st = db.prepare(
            "UPDATE requests SET fail_text = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'pending' "
            "AND backend_ref IS NULL");
        st.bind(1, id).bind(2, why).bind(3, now);
        st.run();
    });
}

void RequestStore::update(const RequestRecord& r) {
    m_db.write([&](Database& db) { update_in(db, r); });
}

void RequestStore::update_in(Database& db, const RequestRecord& r) {
    const std::string now = sql_time(m_clock.now());
    auto st = db.prepare(
        "UPDATE requests SET status = ?2, backend_ref = ?3, cert_der = ?4, chain_der = ?5, fail_info = "
        "?6, "
        "fail_text = ?7, updated_at = ?8, serial = ?9, "
        "csr_sealed = CASE WHEN ?2 = 'pending' THEN csr_sealed ELSE NULL END WHERE id = ?1");
    st.bind(1, r.id).bind(2, r.status).bind(3, r.backend_ref).bind(4, optional_blob(r.cert_der));
    st.bind(5, optional_blob(r.chain_der)).bind(6, r.fail_info).bind(7, r.fail_text).bind(8, now);
    st.bind(9, r.serial);
    st.run();
}

std::vector<RequestRecord> RequestStore::list_unknown_outcome(int limit) {
    return m_db.read([&](Database& db) {
        auto st =
            db.prepare(std::string(columns) +
                       "WHERE status = 'pending' AND backend_ref IS NULL AND substr(fail_text, 1, ?1) = ?2 "
                       "ORDER BY id LIMIT ?3");
        st.bind(1, static_cast<std::int64_t>(outcome_unknown_note.size()))
            .bind(2, std::string(outcome_unknown_note))
            .bind(3, static_cast<std::int64_t>(limit));
        std::vector<RequestRecord> out;
        while (st.step()) {
            out.push_back(read_row(st));
        }
        return out;
    });
}

bool RequestStore::release_unknown_outcome(std::int64_t id, const std::string& by) {
    const std::string now = sql_time(m_clock.now());
    return m_db.write([&](Database& db) {
        auto st = db.prepare(
            "UPDATE requests SET fail_text = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'pending' "
            "AND backend_ref IS NULL AND substr(fail_text, 1, ?4) = ?5");
        st.bind(1, id).bind(2, "released for resubmission by " + by).bind(3, now);
        st.bind(4, static_cast<std::int64_t>(outcome_unknown_note.size()))
            .bind(5, std::string(outcome_unknown_note));
        st.run();
        return db.changes() == 1;
    });
}

std::vector<RequestRecord> RequestStore::list_awaiting_approval(int limit) {
    return m_db.read([&](Database& db) {
        auto st = db.prepare(
            std::string(columns) +
            "WHERE status = 'pending' AND backend_ref IS NULL AND fail_text = ?1 ORDER BY id LIMIT ?2");
        st.bind(1, std::string(awaiting_approval_note)).bind(2, static_cast<std::int64_t>(limit));
        std::vector<RequestRecord> out;
        while (st.step()) {
            out.push_back(read_row(st));
        }
        return out;
    });
}

bool RequestStore::approve(std::int64_t id, const std::string& by) {
    const std::string now = sql_time(m_clock.now());
    return m_db.write([&](Database& db) {
        auto st = db.prepare(
            "UPDATE requests SET fail_text = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'pending' "
            "AND backend_ref IS NULL AND fail_text = ?4");
        st.bind(1, id).bind(2, "approved by " + by).bind(3, now).bind(4, std::string(awaiting_approval_note));
        st.run();
        return db.changes() == 1;
    });
}

bool RequestStore::deny(std::int64_t id, const std::string& reason) {
    const std::string now = sql_time(m_clock.now());
    return m_db.write([&](Database& db) {
        auto st = db.prepare(
            "UPDATE requests SET status = 'rejected', fail_info = 'badRequest', fail_text = ?2, updated_at = "
            "?3, "
            "csr_sealed = NULL WHERE id = ?1 AND status = 'pending' AND backend_ref IS NULL AND fail_text = "
            "?4");
        st.bind(1, id).bind(2, "denied: " + reason).bind(3, now);
        st.bind(4, std::string(awaiting_approval_note));
        st.run();
        return db.changes() == 1;
    });
}

bool RequestStore::mark_outcome_told(std::int64_t id) {
    const std::string now = sql_time(m_clock.now());
    return m_db.write([&](Database& db) {
        auto st = db.prepare(
            "UPDATE requests SET outcome_told_at = ?2 WHERE id = ?1 AND outcome_told_at IS NULL "
            "AND status IN ('issued', 'rejected')");
        st.bind(1, id).bind(2, now);
        st.run();
        return db.changes() == 1;
    });
}

void RequestStore::remove(std::int64_t id) {
    m_db.write([&](Database& db) {
        auto st = db.prepare("DELETE FROM requests WHERE id = ?1");
        st.bind(1, id);
        st.run();
    });
}

}  // namespace scepra::store
