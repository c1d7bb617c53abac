// SPDX-License-Identifier: Apache-2.0
// The NDES UseSinglePassword secret: one reusable password, stored as an scrypt hash.
#include "store/single_password_store.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <future>
#include <stdexcept>
#include <utility>

#include "crypto/digest.hpp"

namespace scepra::store {

namespace {

constexpr std::size_t kCacheKeySize = 32;

std::optional<std::string> stored_hash(Database& db) {
    auto st = db.prepare("SELECT hash FROM single_password WHERE id = 1");
    if (!st.step()) {
        return std::nullopt;
    }
    return st.column_text(0);
}

void wipe(Bytes& b) {
    OPENSSL_cleanse(b.data(), b.size());
    b.clear();
}

}  // namespace

SinglePasswordStore::SinglePasswordStore(Database& db, const Clock& clock, crypto::ScryptParams params,
                                         int max_waiting)
    : m_db(db),
      m_clock(clock),
      m_params(params),
      m_cache_key(crypto::random_bytes(kCacheKeySize)),
      m_max_waiting(max_waiting) {
    if (!crypto::params_allowed(m_params)) {
        throw std::invalid_argument("single password: scrypt parameters out of range");
    }
    if (m_max_waiting < 1) {
        throw std::invalid_argument("single password: max_waiting must be at least 1");
    }
}

SinglePasswordStore::~SinglePasswordStore() {
    wipe(m_cache_key);
    wipe(m_cached_fast);
}

Bytes SinglePasswordStore::fast_hash(std::string_view password) const {
    return crypto::hmac_sha256(m_cache_key, as_bytes(password));
}

void SinglePasswordStore::remember(const std::string& hash, Bytes fast) {
    std::lock_guard lock(m_mutex);
    wipe(m_cached_fast);
    m_cached_hash = hash;
    m_cached_fast = std::move(fast);
}

void SinglePasswordStore::set(std::string_view password, const std::string& set_by) {
    if (crypto::password_length(password) < kMinLength) {
        throw std::invalid_argument("the single password must be at least " + std::to_string(kMinLength) +
                                    " characters long");
    }
    const std::string hash = crypto::hash_password(password, m_params);
    const std::string now_text = sql_time(m_clock.now());
    m_db.write([&](Database& db) {
        auto upsert = db.prepare(
            "INSERT INTO single_password (id, hash, set_at, set_by) VALUES (1, ?1, ?2, ?3) "
            "ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at, "
            "set_by = excluded.set_by");
        upsert.bind(1, hash).bind(2, now_text).bind(3, set_by);
        upsert.run();
        auto event = db.prepare(
            "INSERT INTO password_events (at, challenge_id, event, actor) VALUES (?1, NULL, 'single-set', "
            "?2)");
        event.bind(1, now_text).bind(2, set_by);
        event.run();
    });
    remember(hash, fast_hash(password));
}

std::optional<std::string> SinglePasswordStore::set_at() {
    return m_db.read([](Database& db) -> std::optional<std::string> {
        auto st = db.prepare("SELECT set_at FROM single_password WHERE id = 1");
        if (!st.step()) {
            return std::nullopt;
        }
        return st.column_text(0);
    });
}

SinglePasswordCheck SinglePasswordStore::check(std::string_view password) {
    using enum SinglePasswordCheck;
    const auto hash = m_db.read([](Database& db) { return stored_hash(db); });
    if (!hash) {
        return refused;
    }
    Bytes fast = fast_hash(password);
    auto cached = [&] {
        std::lock_guard lock(m_mutex);
        return !m_cached_fast.empty() && *hash == m_cached_hash &&
               crypto::constant_time_equal(fast, m_cached_fast);
    };
    if (cached()) {
        wipe(fast);
        return accepted;
    }
    // The same password already being checked (a device burst after a
    // restart, before the cache is filled): wait for that answer. Otherwise a
    // seat in the queue for the scrypt, or busy at once: wrong guesses must not
    // hold every HTTP worker (GetCACert included) behind the mutex below.
    std::promise<bool> answer;
    std::shared_future<bool> pending;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& other : m_in_flight) {
            if (other.hash == *hash && crypto::constant_time_equal(fast, other.fast)) {
                pending = other.answer;
            }
        }
        if (!pending.valid()) {
            if (m_in_flight.size() >= static_cast<std::size_t>(m_max_waiting)) {
                wipe(fast);
                return busy;
            }
            m_in_flight.push_back({fast, *hash, answer.get_future().share()});
        }
    }
    if (pending.valid()) {
        const bool same_answer = pending.get();
        wipe(fast);
        return same_answer ? accepted : refused;
    }
    // Gives the seat back however this check ends.
    struct Seat {
        SinglePasswordStore& store;
        const Bytes& fast;
        const std::string& hash;
        ~Seat() {
            std::lock_guard lock(store.m_mutex);
            std::erase_if(store.m_in_flight, [&](InFlight& f) {
                if (f.hash != hash || !crypto::constant_time_equal(f.fast, fast)) {
                    return false;
                }
                wipe(f.fast);
                return true;
            });
        }
    };
    bool ok = false;
    {
        Seat seat{*this, fast, *hash};
        try {
            ok = verify_slowly(password, *hash, fast);
        } catch (...) {
            answer.set_exception(std::current_exception());
            throw;
        }
        answer.set_value(ok);
    }
    wipe(fast);
    return ok ? accepted : refused;
}

bool SinglePasswordStore::verify_slowly(std::string_view password, const std::string& hash,
                                        const Bytes& fast) {
    // One scrypt at a time: devices that arrive together before the first
    // success is cached would otherwise each run a 32 MiB scrypt at once
    // (measured: 493 MiB at 64 concurrent enrolments). The ones that wait
    // find the cache filled. It also serialises guessing.
    std::lock_guard slow_lock(m_slow_mutex);
    {
        std::lock_guard lock(m_mutex);
        if (!m_cached_fast.empty() && hash == m_cached_hash &&
            crypto::constant_time_equal(fast, m_cached_fast)) {
            return true;
        }
    }
    ++m_slow;
    const bool ok = crypto::verify_password(password, hash);
    // Cached before the slow mutex is released: a check that was waiting for
    // it must find the answer, not run the scrypt again.
    if (ok) {
        remember(hash, Bytes(fast));
    }
    return ok;
}

}  // namespace scepra::store
