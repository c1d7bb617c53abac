// SPDX-License-Identifier: Apache-2.0
// The webhook notification queue (see webhook_queue.hpp).
#include "store/webhook_queue.hpp"

namespace scepra::store {

bool WebhookQueue::enqueue(const std::string& body, NotificationKind kind) {
    if (body.size() > max_body_bytes) {
        return false;
    }
    const TimePoint now = m_clock.now();
    return m_db.write([&](Database& db) {
        auto count = db.prepare("SELECT count(*) FROM webhook_notifications");
        count.step();
        const std::int64_t room = kind == NotificationKind::outcome ? max_rows : max_rows - outcome_reserve;
        if (count.column_int(0) >= room) {
            return false;
        }
        auto st = db.prepare(
            "INSERT INTO webhook_notifications (body, attempts, next_attempt_at, created_at) VALUES (?1, 0, "
            "?2, ?3)");
        st.bind(1, body).bind(2, unix_seconds(now)).bind(3, sql_time(now));
        st.run();
        return true;
    });
}

// Strictly oldest first: a notification waiting out its backoff holds back
// the newer ones, so that a receiver never hears of an enrolment's outcome
// before the decision that allowed it.
std::optional<QueuedNotification> WebhookQueue::next_due() {
    const std::int64_t now = unix_seconds(m_clock.now());
    return m_db.read([&](Database& db) -> std::optional<QueuedNotification> {
        auto st = db.prepare(
            "SELECT id, body, attempts, next_attempt_at FROM webhook_notifications ORDER BY id LIMIT 1");
        if (!st.step() || st.column_int(3) > now) {
            return std::nullopt;
        }
        return QueuedNotification{st.column_int(0), st.column_text(1), static_cast<int>(st.column_int(2))};
    });
}

std::optional<std::int64_t> WebhookQueue::seconds_until_due() {
    const std::int64_t now = unix_seconds(m_clock.now());
    return m_db.read([&](Database& db) -> std::optional<std::int64_t> {
        auto st = db.prepare("SELECT next_attempt_at FROM webhook_notifications ORDER BY id LIMIT 1");
        if (!st.step()) {
            return std::nullopt;
        }
        return std::max<std::int64_t>(0, st.column_int(0) - now);
    });
}

void WebhookQueue::delivered(std::int64_t id) {
    m_db.write([&](Database& db) {
        auto st = db.prepare("DELETE FROM webhook_notifications WHERE id = ?1");
        st.bind(1, id);
        st.run();
    });
}

void WebhookQueue::failed(std::int64_t id, const std::string& error, std::chrono::seconds retry_in) {
    const std::int64_t due = unix_seconds(m_clock.now()) + retry_in.count();
    m_db.write([&](Database& db) {
        auto st = db.prepare(
            "UPDATE webhook_notifications SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 "
            "WHERE id = ?1");
        st.bind(1, id).bind(2, due).bind(3, error.substr(0, 500));
        st.run();
    });
}

std::int64_t WebhookQueue::size() {
    return m_db.read([&](Database& db) {
        auto st = db.prepare("SELECT count(*) FROM webhook_notifications");
        st.step();
        return st.column_int(0);
    });
}

}  // namespace scepra::store
