// SPDX-License-Identifier: Apache-2.0
// Accounts of the admin page: scrypt-hashed passwords, login trail and per-peer throttling.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "crypto/password_hash.hpp"
#include "store/database.hpp"
#include "store/slow_check_gate.hpp"

namespace scepra::store {

/// What an account may do on the admin page.
enum class AdminRole {
    issue,  ///< gets a challenge password on each visit
    view,   ///< logs in, gets NDES's permission-denied page, no password
};

/// "issue" / "view", as stored and as `scep-ra admin` spells them.
const char* role_name(AdminRole role);
/// The role named so, nullopt for anything else.
std::optional<AdminRole> parse_role(std::string_view name);

struct AdminAccount {
    std::string name;
    std::string created_at;  // 'YYYY-MM-DD HH:MM:SS' UTC
    AdminRole role = AdminRole::issue;
};

/// How many password logins may run their scrypt (32 MiB, ~100 ms) at once,
/// and how many more may wait for a turn; the rest are answered busy unchecked.
struct LoginConcurrency {
    int running = 2;
    int waiting = 8;
};

/// A peer with max_failures failed logins within window is refused unchecked.
struct ThrottlePolicy {
    int max_failures = 5;
    std::chrono::seconds window = std::chrono::minutes(15);
};

class AdminStore final {
  public:
    static constexpr std::size_t kMaxNameLength = 64;
    static constexpr std::size_t kMinPasswordLength = 12;  // characters

    /// busy: too many password checks ran or waited already; nothing was checked or recorded.
    enum class LoginResult { ok, bad_credentials, throttled, busy };

    /// What login() found; role is meaningful when result is ok.
    struct Login {
        LoginResult result = LoginResult::bad_credentials;
        AdminRole role = AdminRole::issue;
    };

    /// Failed login attempts kept in admin_logins (the newest ones; see also [audit] retention_days).
    static constexpr std::int64_t kDefaultMaxLoginRows = 100000;

    /// Throws std::invalid_argument for scrypt params outside crypto::params_allowed,
    /// max_failures < 1, a window that is not positive, max_login_rows < 1,
    /// fewer than one scrypt allowed to run or a negative number waiting.
    AdminStore(Database& db, const Clock& clock, crypto::ScryptParams params = {},
               ThrottlePolicy throttle = {}, std::int64_t max_login_rows = kDefaultMaxLoginRows,
               LoginConcurrency concurrency = {});

    /// Creates an account. Names are 1-64 characters of [A-Za-z0-9._@-] (case
    /// sensitive); passwords at least kMinPasswordLength characters. Throws
    /// std::invalid_argument for an invalid name or password, or a name in use.
    /// nt_hash_sealed: the account's NT hash as http::ntlm::seal_nt_hash made
    /// it, for NTLM logins (none = Basic only).
    void add(const std::string& name, std::string_view password, AdminRole role = AdminRole::issue,
             const std::optional<Bytes>& nt_hash_sealed = std::nullopt);

    /// Deletes the account; false when there was none.
    bool remove(const std::string& name);

    /// Every account, by name; never the hash.
    std::vector<AdminAccount> list();

    /// Throttled (recorded as a failure, password not checked) when peer has
    /// max_failures failures within the window; otherwise checks name and
    /// password (an unknown name costs one scrypt too) and records the attempt
    /// in admin_logins (name and peer capped at 128 bytes; every successful
    /// login and the newest max_login_rows failed ones kept). The attempt row is written as a failure before
    /// the check and turned into a success after it, so concurrent guesses from one peer cannot overrun the
    /// limit. A successful login also says the account's role.
    /// At most concurrency.running scrypts run at once; a login past
    /// concurrency.waiting more is answered busy at once: no scrypt, and its
    /// trail row is taken back (it neither counts towards the throttle nor was checked).
    Login login(const std::string& peer, const std::string& name, std::string_view password);

    /// What a login by another scheme checks against.
    struct Credentials {
        std::string name;
        Bytes nt_hash_sealed;  ///< empty when the account has none
    };

    /// login() for other schemes (NTLM): the same throttle and trail, with
    /// check deciding instead of the scrypt hash. check is not called for an
    /// unknown name or a throttled peer.
    Login login_with(const std::string& peer, const std::string& name,
                     const std::function<bool(const Credentials&)>& check);

    /// How many scrypt checks login() has run (for tests and metrics).
    std::uint64_t slow_verifications() const { return m_slow.load(); }
    /// The most scrypt checks login() has run at once (for tests and metrics).
    int most_slow_at_once() const { return m_slow_gate.most_running(); }

    static bool valid_name(std::string_view name);

    /// An account as stored (for the implementation).
    struct StoredAccount {
        std::string hash;
        AdminRole role;
        Bytes nt_hash_sealed;
    };

  private:
    /// What a login's check found.
    enum class Verdict { matches, does_not_match, not_checked };

    /// The throttle, the trail row and the account lookup of every login;
    /// verify decides (given the account, or nullopt for an unknown name).
    /// A login verify did not check is busy, and its trail row is deleted.
    Login attempt(const std::string& peer, const std::string& name,
                  const std::function<Verdict(const std::optional<StoredAccount>&)>& verify);

    Database& m_db;
    const Clock& m_clock;
    crypto::ScryptParams m_params;
    ThrottlePolicy m_throttle;
    std::int64_t m_max_login_rows;
    std::string m_dummy_hash;  // same cost as a real hash, matches no password
    std::atomic<std::uint64_t> m_slow{0};
    SlowCheckGate m_slow_gate;  // bounds the scrypts of concurrent logins
};

}  // namespace scepra::store
