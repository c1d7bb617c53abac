// SPDX-License-Identifier: Apache-2.0
// The NDES UseSinglePassword secret: one reusable password, stored as an scrypt hash.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/password_hash.hpp"
#include "store/database.hpp"

namespace scepra::store {

/// What check() found.
enum class SinglePasswordCheck {
    accepted,
    refused,  ///< not the password, or none was ever set
    busy,     ///< max_waiting checks were already running or waiting: not checked
};

class SinglePasswordStore final {
  public:
    static constexpr std::size_t kMinLength = 8;  // characters
    static constexpr int kDefaultMaxWaiting = 16;

    /// max_waiting bounds the checks that run or wait for the scrypt at once.
    /// Throws std::invalid_argument when !crypto::params_allowed(params) or max_waiting < 1.
    SinglePasswordStore(Database& db, const Clock& clock, crypto::ScryptParams params = {},
                        int max_waiting = kDefaultMaxWaiting);
    ~SinglePasswordStore();
    SinglePasswordStore(const SinglePasswordStore&) = delete;
    SinglePasswordStore& operator=(const SinglePasswordStore&) = delete;

    /// Replaces the password (row id = 1) with its scrypt hash and records a
    /// 'single-set' password event by set_by, in one transaction. Throws
    /// std::invalid_argument for passwords shorter than kMinLength characters.
    void set(std::string_view password, const std::string& set_by);

    /// When the password was last set ('YYYY-MM-DD HH:MM:SS' UTC), nullopt if never.
    std::optional<std::string> set_at();

    /// True when password is the one stored now. Reads the stored hash every
    /// time, so a change by another process applies at once; a password that
    /// already verified against that same hash is accepted without scrypt.
    /// False (without scrypt) when no password was ever set.
    /// Like check(), but busy counts as refused.
    bool verify(std::string_view password) { return check(password) == SinglePasswordCheck::accepted; }

    /// Checks the password as verify() describes. A password that is being
    /// checked already waits for that answer; another that needs the scrypt,
    /// while max_waiting others run or wait for it, is answered busy at once:
    /// a burst of distinct guesses holds at most max_waiting threads.
    SinglePasswordCheck check(std::string_view password);

    /// How many scrypt computations verify() has run (for tests and metrics).
    std::uint64_t slow_verifications() const { return m_slow.load(); }

  private:
    /// A password being checked, and the answer its checker will give.
    struct InFlight {
        Bytes fast;
        std::string hash;
        std::shared_future<bool> answer;
    };

    Bytes fast_hash(std::string_view password) const;
    /// The scrypt check, one at a time (unless the cache was filled meanwhile);
    /// a password that verifies is cached before the next check may start.
    bool verify_slowly(std::string_view password, const std::string& hash, const Bytes& fast);
    void remember(const std::string& stored_hash, Bytes fast);

    Database& m_db;
    const Clock& m_clock;
    crypto::ScryptParams m_params;
    Bytes m_cache_key;  // random per store object, never stored

    int m_max_waiting;
    std::mutex m_slow_mutex;            // one scrypt at a time
    std::mutex m_mutex;                 // guards the three members below
    std::vector<InFlight> m_in_flight;  // checks running or waiting for the scrypt, at most m_max_waiting
    std::string m_cached_hash;          // stored hash text the cached password verified against
    Bytes m_cached_fast;                // HMAC-SHA256(m_cache_key, that password); empty if none
    std::atomic<std::uint64_t> m_slow{0};
};

}  // namespace scepra::store
