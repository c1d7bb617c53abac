// SPDX-License-Identifier: Apache-2.0
// NDES-style one-time challenge passwords, stored only as keyed hashes.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "store/database.hpp"

namespace scepra::store {

struct ChallengePolicy {
    int max_outstanding = 5;            // NDES PasswordMax
    int length_bytes = 8;               // NDES PasswordLength, shown as 2x uppercase hex
    std::chrono::minutes validity{60};  // NDES PasswordValidity
};

struct IssuedChallenge {
    std::int64_t id;
    std::string password;
    TimePoint expires_at;  // whole seconds, as stored
};

enum class ChallengeCheck { accepted, unknown, already_used, expired, revoked };

struct ChallengeOutcome {
    ChallengeCheck result;
    std::optional<std::int64_t> id;  // the matching row, when there is one
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
                          const std::optional<std::string>& issued_from);

    /// Uses up the password (hex, any case) for transaction_id; exactly one
    /// caller ever gets `accepted` for a given password.
    ChallengeOutcome consume(std::string_view password, const std::string& transaction_id);

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
