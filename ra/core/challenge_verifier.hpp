// SPDX-License-Identifier: Apache-2.0
// Decides whether a PKCSReq's challengePassword authorises it. One
// implementation per NDES password mode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "store/challenge_store.hpp"

namespace scepra::core {

struct ChallengeVerdict {
    bool accepted = false;
    std::string reason;                         ///< for the client's failInfoText when refused; never a secret
    std::optional<std::int64_t> challenge_id;   ///< the one-time password used, for the audit trail
    bool unauthenticated = false;               ///< accepted without any password (EnforcePassword = 0)
};

class ChallengeVerifier {
public:
    virtual ~ChallengeVerifier() = default;
    /// Checks (and, for one-time passwords, uses up) the password.
    virtual ChallengeVerdict verify(const std::optional<std::string>& password, const std::string& transaction_id) = 0;
};

/// EnforcePassword = 0: every request passes and is marked unauthenticated.
class NoChallengeVerifier final : public ChallengeVerifier {
public:
    ChallengeVerdict verify(const std::optional<std::string>& password, const std::string& transaction_id) override;
};

/// NDES default: one-time passwords from the ChallengeStore.
class OneTimeChallengeVerifier final : public ChallengeVerifier {
public:
    explicit OneTimeChallengeVerifier(store::ChallengeStore& store) : m_store(store) {}
    ChallengeVerdict verify(const std::optional<std::string>& password, const std::string& transaction_id) override;

private:
    store::ChallengeStore& m_store;
};

}  // namespace scepra::core
