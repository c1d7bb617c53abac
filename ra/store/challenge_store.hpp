// SPDX-License-Identifier: Apache-2.0
// NDES-style one-time challenge passwords, stored only as keyed hashes.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "store/database.hpp"

namespace scepra::store {

struct ChallengePolicy {
    int max_outstanding = 5;            // NDES PasswordMax
    int length_bytes = 8;               // NDES PasswordLength, shown as 2x uppercase hex
    std::chrono::minutes validity{60};  // NDES PasswordValidity
};

/// Optional conditions fixed when a password is issued (beyond NDES).
struct ChallengeBinding {
    std::optional<std::string> expected_subject{};   ///< glob on the CN or a DNS/email SAN, e.g. "router-*"
    std::optional<std::string> template_name{};      ///< the template the request must select
    std::optional<std::chrono::minutes> validity{};  ///< instead of the policy's PasswordValidity
};

struct IssuedChallenge {
    std::int64_t id;
    std::string password;
    TimePoint expires_at;  // whole seconds, as stored
};

enum class ChallengeCheck { accepted, unknown, already_used, expired, revoked, binding_mismatch };

struct ChallengeOutcome {
    ChallengeCheck result;
    std::optional<std::int64_t> id;  // the matching row, when there is one
    std::string mismatch;            // why the binding refused the request
};

/// Checks a request against a password's binding; returns why it does not
/// match, or nullopt when it does.
using BindingCheck = std::function<std::optional<std::string>(const ChallengeBinding&)>;

/// Runs inside the transaction that uses up a password, with the password's
/// id: what it writes is committed together with the use, and an exception
/// from it undoes both (the password stays usable) and propagates.
using OnConsumed = std::function<void(Database&, std::int64_t challenge_id)>;

/// A challenge password as `password list` shows it: never the secret.
struct ChallengeInfo {
    std::int64_t id = 0;
    std::string state;  ///< outstanding | used | expired | revoked
    std::string created_at, expires_at, issued_by;
    std::optional<std::string> issued_from, used_at, used_by_transaction, revoked_at, expected_subject,
        template_name;
};

/// Thrown by issue() when PasswordMax passwords are already outstanding.
class ChallengeCacheFull : public std::runtime_error {
  public:
    ChallengeCacheFull() : std::runtime_error("The password cache is full.") {}
};

class ChallengeStore final {
  public:
    /// hmac_key must be at least 16 bytes (load_or_create_key gives 32).
    ChallengeStore(Database& db, Bytes hmac_key, const Clock& clock);
    ~ChallengeStore();
    ChallengeStore(const ChallengeStore&) = delete;
    ChallengeStore& operator=(const ChallengeStore&) = delete;

    /// Purges expired unused passwords, then issues a new one unless
    /// policy.max_outstanding are still outstanding (ChallengeCacheFull).
    IssuedChallenge issue(const ChallengePolicy& policy, const std::string& issued_by,
                          const std::optional<std::string>& issued_from,
                          const ChallengeBinding& binding = {});

    /// Uses up the password (hex, any case) for transaction_id; exactly one
    /// caller ever gets `accepted` for a given password.
    /// With a binding check, a bound password that does not match is left
    /// unused and reported as binding_mismatch. on_consumed, when given, runs
    /// in the same transaction once the password is used (see OnConsumed).
    ChallengeOutcome consume(std::string_view password, const std::string& transaction_id,
                             const BindingCheck& check = {}, const OnConsumed& on_consumed = {});

    /// All passwords still in the store (expired unused ones until purged), newest first.
    std::vector<ChallengeInfo> list();

    /// Revokes an unused password; false when there is no such unused, unrevoked password.
    bool revoke(std::int64_t id, const std::string& actor);

    /// Revokes every unused, unrevoked, unexpired password issued_by issued
    /// (an admin account being removed); returns how many.
    int revoke_issued_by(const std::string& issued_by, const std::string& actor);

    /// Unused, unrevoked, unexpired passwords.
    int outstanding();

    /// Deletes expired unused passwords; returns how many.
    int purge_expired();

    /// Reads the 32-byte key file, or creates it (mode 0600) from the CSPRNG.
    /// Throws naming the file when it cannot be read/created or has another size.
    static Bytes load_or_create_key(const std::filesystem::path& file);

  private:
    Bytes hash_password(std::string_view normalised) const;

    Database& m_db;
    Bytes m_key;
    const Clock& m_clock;
};

}  // namespace scepra::store
