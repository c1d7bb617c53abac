// SPDX-License-Identifier: Apache-2.0
// Failed challenge passwords per client address and per subject, and the lockouts they cause.
#include "store/throttle_store.hpp"

#include <stdexcept>

#include "store/field_caps.hpp"

namespace scepra::store {

namespace {

constexpr const char* kAddress = "address";
constexpr const char* kSubject = "subject";
// Stale entries deleted per recorded failure: enough to keep up with any
// rate of new entries, small enough to keep the write short.
constexpr int kPruneBatch = 64;

constexpr std::string_view kColumns =
    "SELECT kind, key, failures, window_start, last_failure, locked_until FROM challenge_failures ";

ThrottleEntry entry_from(Statement& st) {
    return {st.column_text(0), st.column_text(1), static_cast<int>(st.column_int(2)),
            st.column_text(3), st.column_text(4), st.column_optional_text(5)};
}

std::string stored_key(const std::string& kind, const std::string& key) {
    return capped(key, kind == kAddress ? kMaxStoredShort : kMaxStoredText);
}

int prune_stale(Database& db, const std::string& now_text, const std::string& window_start, int limit) {
    auto st = db.prepare(
        "DELETE FROM challenge_failures WHERE id IN (SELECT id FROM challenge_failures "
        "WHERE last_failure <= ?1 AND (locked_until IS NULL OR locked_until <= ?2) ORDER BY last_failure "
        "LIMIT ?3)");
    st.bind(1, window_start).bind(2, now_text).bind(3, limit);
    st.run();
    return db.changes();
}

}  // namespace

ThrottleStore::ThrottleStore(Database& db, const Clock& clock, ThrottleSettings settings,
                             std::size_t max_entries)
    : m_db(db), m_clock(clock), m_settings(settings), m_max_entries(max_entries) {
    if (m_settings.max_failures < 1) {
        throw std::invalid_argument("challenge throttle: max_failures must be at least 1");
    }
    if (m_settings.window.count() <= 0 || m_settings.lockout.count() <= 0) {
        throw std::invalid_argument("challenge throttle: window and lockout must be positive");
    }
    if (m_max_entries < 1) {
        throw std::invalid_argument("challenge throttle: max_entries must be at least 1");
    }
}

std::optional<ThrottleEntry> ThrottleStore::locked(const std::string& address, const std::string& subject) {
    const std::string now_text = sql_time(m_clock.now());
    return m_db.read([&](Database& db) -> std::optional<ThrottleEntry> {
        auto st = db.prepare(std::string(kColumns) +
                             "WHERE ((kind = 'address' AND key = ?1) OR (kind = 'subject' AND key = ?2)) "
                             "AND locked_until > ?3 ORDER BY kind LIMIT 1");
        st.bind(1, stored_key(kAddress, address)).bind(2, stored_key(kSubject, subject)).bind(3, now_text);
        if (!st.step()) {
            return std::nullopt;
        }
        return entry_from(st);
    });
}

std::vector<ThrottleEntry> ThrottleStore::record_failure(const std::string& address,
                                                         const std::string& subject) {
    const TimePoint now = m_clock.now();
    const std::string now_text = sql_time(now);
    const std::string window_start = sql_time(now - m_settings.window);
    const std::string locked_until = sql_time(now + m_settings.lockout);
    return m_db.write([&](Database& db) {
        std::vector<ThrottleEntry> locked_now;
        bool added = false;
        for (const char* kind : {kAddress, kSubject}) {
            const std::string key = stored_key(kind, kind == kAddress ? address : subject);
            int failures = 1;
            {
                auto find = db.prepare(
                    "SELECT failures, window_start FROM challenge_failures WHERE kind = ?1 AND key = ?2");
                find.bind(1, kind).bind(2, key);
                if (find.step()) {
                    // A window that has passed starts again with this failure.
                    failures =
                        find.column_text(1) > window_start ? static_cast<int>(find.column_int(0)) + 1 : 1;
                } else {
                    added = true;
                }
            }
            const bool lock = failures >= m_settings.max_failures;
            // A lockout starts a fresh count: after it, max_failures more attempts.
            auto upsert = db.prepare(
                "INSERT INTO challenge_failures (kind, key, failures, window_start, last_failure, "
                "locked_until) "
                "VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (kind, key) DO UPDATE SET failures = "
                "excluded.failures, "
                "window_start = CASE WHEN excluded.failures = 1 OR ?6 THEN excluded.window_start "
                "ELSE challenge_failures.window_start END, last_failure = excluded.last_failure, "
                "locked_until = coalesce(excluded.locked_until, challenge_failures.locked_until)");
            upsert.bind(1, kind)
                .bind(2, key)
                .bind(3, lock ? 0 : failures)
                .bind(4, now_text)
                .bind(5, lock ? std::optional(locked_until) : std::nullopt)
                .bind(6, lock ? 1 : 0);
            upsert.run();
            if (lock) {
                locked_now.push_back({kind, key, failures, now_text, now_text, locked_until});
            }
        }
        if (added) {
            prune_stale(db, now_text, window_start, kPruneBatch);
            auto count = db.prepare("SELECT count(*) FROM challenge_failures");
            count.step();
            const auto rows = static_cast<std::size_t>(count.column_int(0));
            if (rows > m_max_entries) {
                auto evict = db.prepare(
                    "DELETE FROM challenge_failures WHERE id IN (SELECT id FROM challenge_failures "
                    "ORDER BY coalesce(locked_until > ?1, 0), last_failure LIMIT ?2)");
                evict.bind(1, now_text).bind(2, static_cast<std::int64_t>(rows - m_max_entries));
                evict.run();
            }
        }
        return locked_now;
    });
}

std::vector<ThrottleEntry> ThrottleStore::list() {
    const std::string now_text = sql_time(m_clock.now());
    return m_db.read([&](Database& db) {
        auto st = db.prepare(std::string(kColumns) +
                             "ORDER BY coalesce(locked_until > ?1, 0) DESC, last_failure DESC");
        st.bind(1, now_text);
        std::vector<ThrottleEntry> out;
        while (st.step()) {
            out.push_back(entry_from(st));
        }
        return out;
    });
}

ThrottleStore::LockedCounts ThrottleStore::locked_counts() {
    const std::string now_text = sql_time(m_clock.now());
    return m_db.read([&](Database& db) {
        auto st =
            db.prepare("SELECT kind, count(*) FROM challenge_failures WHERE locked_until > ?1 GROUP BY kind");
        st.bind(1, now_text);
        LockedCounts counts;
        while (st.step()) {
            (st.column_text(0) == kAddress ? counts.addresses : counts.subjects) =
                static_cast<int>(st.column_int(1));
        }
        return counts;
    });
}

bool ThrottleStore::clear(const std::string& kind, const std::string& key) {
    return m_db.write([&](Database& db) {
        auto st = db.prepare("DELETE FROM challenge_failures WHERE kind = ?1 AND key = ?2");
        st.bind(1, kind).bind(2, stored_key(kind, key));
        st.run();
        return db.changes() > 0;
    });
}

int ThrottleStore::clear_all() {
    return m_db.write([](Database& db) {
        db.prepare("DELETE FROM challenge_failures").run();
        return db.changes();
    });
}

int ThrottleStore::prune() {
    const TimePoint now = m_clock.now();
    const std::string now_text = sql_time(now);
    const std::string window_start = sql_time(now - m_settings.window);
    int total = 0;
    for (;;) {
        const int deleted =
            m_db.write([&](Database& db) { return prune_stale(db, now_text, window_start, 1000); });
        total += deleted;
        if (deleted < 1000) {
            return total;
        }
    }
}

}  // namespace scepra::store
