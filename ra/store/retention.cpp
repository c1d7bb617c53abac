// SPDX-License-Identifier: Apache-2.0
// Batched deletion of records older than the retention period.
#include "store/retention.hpp"

#include <stdexcept>

namespace scepra::store {

Retention::Retention(Database& db, int batch) : m_db(db), m_batch(batch) {
    if (m_batch < 1) {
        throw std::invalid_argument("retention: batch size must be at least 1");
    }
}

std::int64_t Retention::in_batches(const std::string& sql, const std::string& before,
                                   const std::function<bool()>& keep_going) {
    std::int64_t total = 0;
    for (;;) {
        if (keep_going && !keep_going()) {
            return total;
        }
        const int deleted = m_db.write([&](Database& db) {
            auto st = db.prepare(sql);
            st.bind(1, before).bind(2, m_batch);
            st.run();
            return db.changes();
        });
        total += deleted;
        if (deleted < m_batch) {
            return total;
        }
    }
}

PurgeCounts Retention::purge_before(const std::string& before, const std::function<bool()>& keep_going) {
    PurgeCounts n;
    // Oldest rows first (ids grow with time), so each batch finds its rows at the start of the table.
    n.audit_events = in_batches(
        "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ?1 ORDER BY id LIMIT "
        "?2)",
        before, keep_going);
    n.admin_logins = in_batches(
        "DELETE FROM admin_logins WHERE id IN (SELECT id FROM admin_logins WHERE at < ?1 ORDER BY id LIMIT "
        "?2)",
        before, keep_going);
    n.password_events = in_batches(
        "DELETE FROM password_events WHERE id IN "
        "(SELECT id FROM password_events WHERE at < ?1 ORDER BY id LIMIT ?2)",
        before, keep_going);
    // audit_events.challenge_id is a foreign key and requests.challenge_id
    // names the password an enrolment used: a password either still refers to stays.
    n.challenges = in_batches(
        "DELETE FROM challenges WHERE id IN (SELECT c.id FROM challenges c "
        "WHERE coalesce(c.used_at, c.revoked_at) < ?1 "
        "AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.challenge_id = c.id) "
        "AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.challenge_id = c.id) ORDER BY c.id LIMIT ?2)",
        before, keep_going);
    // Entries still locked out stay whatever their age.
    n.challenge_failures = in_batches(
        "DELETE FROM challenge_failures WHERE id IN (SELECT id FROM challenge_failures "
        "WHERE last_failure < ?1 AND (locked_until IS NULL OR locked_until < ?1) ORDER BY id LIMIT ?2)",
        before, keep_going);
    return n;
}

}  // namespace scepra::store
