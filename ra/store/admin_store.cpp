// SPDX-License-Identifier: Apache-2.0
// Accounts of the admin page: scrypt-hashed passwords, login trail and per-peer throttling.
#include "store/admin_store.hpp"

#include <optional>
#include <stdexcept>

#include "store/field_caps.hpp"

namespace scepra::store {

namespace {

bool name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '@' || c == '-';
}

std::optional<AdminStore::StoredAccount> account_of(Database& db, const std::string& name) {
    auto st = db.prepare("SELECT hash, role, nt_hash_sealed FROM admins WHERE name = ?1");
    st.bind(1, name);
    if (!st.step()) {
        return std::nullopt;
    }
    // The schema's CHECK admits only the two names; anything else can do least.
    return AdminStore::StoredAccount{
        st.column_text(0), parse_role(st.column_text(1)).value_or(AdminRole::view), st.column_blob(2)};
}

// scrypt with params over an all-zero salt, compared with an all-zero output:
// costs what a real check costs and never matches.
std::string dummy_hash(const crypto::ScryptParams& params) {
    return "$scrypt$" + std::to_string(params.n) + "$" + std::to_string(params.r) + "$" +
           std::to_string(params.p) + "$" + std::string(32, '0') + "$" + std::string(64, '0');
}

}  // namespace

const char* role_name(AdminRole role) { return role == AdminRole::view ? "view" : "issue"; }

std::optional<AdminRole> parse_role(std::string_view name) {
    if (name == "issue") return AdminRole::issue;
    if (name == "view") return AdminRole::view;
    return std::nullopt;
}

AdminStore::AdminStore(Database& db, const Clock& clock, crypto::ScryptParams params, ThrottlePolicy throttle,
                       std::int64_t max_login_rows, LoginConcurrency concurrency)
    : m_db(db),
      m_clock(clock),
      m_params(params),
      m_throttle(throttle),
      m_max_login_rows(max_login_rows),
      m_dummy_hash(dummy_hash(params)),
      m_slow_gate(concurrency.running, concurrency.waiting) {
    if (m_max_login_rows < 1) {
        throw std::invalid_argument("admin login trail: max_login_rows must be at least 1");
    }
    if (!crypto::params_allowed(m_params)) {
        throw std::invalid_argument("admin accounts: scrypt parameters out of range");
    }
    if (m_throttle.max_failures < 1) {
        throw std::invalid_argument("admin login throttle: max_failures must be at least 1");
    }
    if (m_throttle.window <= std::chrono::seconds::zero()) {
        throw std::invalid_argument("admin login throttle: window must be positive");
    }
}

bool AdminStore::valid_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameLength) {
        return false;
    }
    for (char c : name) {
        if (!name_char(c)) {
            return false;
        }
    }
    return true;
}

void AdminStore::add(const std::string& name, std::string_view password, AdminRole role,
                     const std::optional<Bytes>& nt_hash_sealed) {
    if (!valid_name(name)) {
        throw std::invalid_argument("admin name must be 1-" + std::to_string(kMaxNameLength) +
                                    " characters of A-Z a-z 0-9 . _ @ -");
    }
    if (crypto::password_length(password) < kMinPasswordLength) {
        throw std::invalid_argument("admin password must be at least " + std::to_string(kMinPasswordLength) +
                                    " characters long");
    }
    const std::string hash = crypto::hash_password(password, m_params);
    const std::string now_text = sql_time(m_clock.now());
    m_db.write([&](Database& db) {
        if (account_of(db, name)) {
            throw std::invalid_argument("admin account '" + name + "' already exists");
        }
        auto st = db.prepare(
            "INSERT INTO admins (name, hash, created_at, role, nt_hash_sealed) VALUES (?1, ?2, ?3, ?4, ?5)");
        st.bind(1, name)
            .bind(2, hash)
            .bind(3, now_text)
            .bind(4, std::string(role_name(role)))
            .bind(5, nt_hash_sealed);
        st.run();
    });
}

bool AdminStore::remove(const std::string& name) {
    return m_db.write([&](Database& db) {
        auto st = db.prepare("DELETE FROM admins WHERE name = ?1");
        st.bind(1, name);
        st.run();
        return db.changes() == 1;
    });
}

std::vector<AdminAccount> AdminStore::list() {
    return m_db.read([](Database& db) {
        std::vector<AdminAccount> out;
        auto st = db.prepare("SELECT name, created_at, role FROM admins ORDER BY name");
        while (st.step()) {
            out.push_back(AdminAccount{st.column_text(0), st.column_text(1),
                                       parse_role(st.column_text(2)).value_or(AdminRole::view)});
        }
        return out;
    });
}

AdminStore::Login AdminStore::login(const std::string& peer, const std::string& name,
                                    std::string_view password) {
    return attempt(peer, name, [&](const std::optional<StoredAccount>& account) {
        // Each scrypt holds 32 MiB and a core for ~100 ms: guesses from many
        // addresses at once (each under its own throttle) take turns, and
        // those past the queue are turned away before any scrypt.
        const auto turn = m_slow_gate.enter();
        if (!turn) {
            return Verdict::not_checked;
        }
        ++m_slow;
        // An unknown name costs one scrypt too.
        return crypto::verify_password(password, account ? account->hash : m_dummy_hash) &&
                       account.has_value()
                   ? Verdict::matches
                   : Verdict::does_not_match;
    });
}

AdminStore::Login AdminStore::login_with(const std::string& peer, const std::string& name,
                                         const std::function<bool(const Credentials&)>& check) {
    return attempt(peer, name, [&](const std::optional<StoredAccount>& account) {
        return account.has_value() && check(Credentials{name, account->nt_hash_sealed})
                   ? Verdict::matches
                   : Verdict::does_not_match;
    });
}

AdminStore::Login AdminStore::attempt(
    const std::string& peer, const std::string& name,
    const std::function<Verdict(const std::optional<StoredAccount>&)>& verify) {
    const TimePoint now = m_clock.now();
    const std::string now_text = sql_time(now);
    const std::string window_start = sql_time(now - m_throttle.window);

    struct Attempt {
        bool throttled;
        std::int64_t row;
        std::optional<StoredAccount> account;
    };
    // Count recent failures and write this attempt as a failure in one
    // transaction: concurrent attempts each see the ones before them.
    const Attempt attempt = m_db.write([&](Database& db) {
        // Counted up to the limit only: a flood's rows cost no more than that.
        auto count = db.prepare(
            "SELECT COUNT(*) FROM (SELECT 1 FROM admin_logins WHERE peer = ?1 AND at > ?2 AND success = 0 "
            "LIMIT ?3)");
        count.bind(1, capped(peer, kMaxStoredShort)).bind(2, window_start).bind(3, m_throttle.max_failures);
        count.step();
        const bool throttled = count.column_int(0) >= m_throttle.max_failures;
        auto insert = db.prepare("INSERT INTO admin_logins (at, peer, name, success) VALUES (?1, ?2, ?3, 0)");
        // Both come from the network: stored within their bounds.
        insert.bind(1, now_text)
            .bind(2, capped(peer, kMaxStoredShort))
            .bind(3, capped(name, kMaxStoredShort));
        insert.run();
        const std::int64_t row = db.last_insert_rowid();
        // Only the newest max_login_rows failures are kept (ids grow with
        // every attempt): a flood of attempts cannot grow the trail beyond
        // that, nor push successful logins out of it (only retention does).
        auto trim = db.prepare("DELETE FROM admin_logins WHERE id <= ?1 AND success = 0");
        trim.bind(1, row - m_max_login_rows);
        trim.run();
        return Attempt{throttled, row, throttled ? std::nullopt : account_of(db, name)};
    });
    if (attempt.throttled) {
        return {LoginResult::throttled};
    }
    const Verdict verdict = verify(attempt.account);
    if (verdict == Verdict::not_checked) {
        m_db.write([&](Database& db) {
            auto st = db.prepare("DELETE FROM admin_logins WHERE id = ?1");
            st.bind(1, attempt.row);
            st.run();
        });
        return {LoginResult::busy};
    }
    if (verdict == Verdict::does_not_match) {
        return {LoginResult::bad_credentials};
    }
    m_db.write([&](Database& db) {
        auto st = db.prepare("UPDATE admin_logins SET success = 1 WHERE id = ?1");
        st.bind(1, attempt.row);
        st.run();
    });
    return {LoginResult::ok, attempt.account->role};
}

}  // namespace scepra::store
