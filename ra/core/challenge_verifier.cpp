// SPDX-License-Identifier: Apache-2.0
// Challenge password modes.
#include "core/challenge_verifier.hpp"

namespace scepra::core {

ChallengeVerdict NoChallengeVerifier::verify(const std::optional<std::string>&, const std::string&) {
    return {.accepted = true, .reason = {}, .challenge_id = std::nullopt, .unauthenticated = true};
}

ChallengeVerdict OneTimeChallengeVerifier::verify(const std::optional<std::string>& password,
                                                  const std::string& transaction_id) {
    if (!password || password->empty()) {
        return {.accepted = false, .reason = "a challenge password is required", .challenge_id = {}, .unauthenticated = false};
    }
    store::ChallengeOutcome outcome = m_store.consume(*password, transaction_id);
    ChallengeVerdict verdict{.accepted = false, .reason = {}, .challenge_id = {}, .unauthenticated = false};
    // The texts say which check failed without telling anything about other passwords.
    switch (outcome.result) {
        case store::ChallengeCheck::accepted:
            verdict.accepted = true;
            // Only a used password is linked from the audit trail: unused
            // ones may be purged once expired.
            verdict.challenge_id = outcome.id;
            break;
        case store::ChallengeCheck::unknown: verdict.reason = "the challenge password is not valid"; break;
        case store::ChallengeCheck::already_used: verdict.reason = "the challenge password was already used"; break;
        case store::ChallengeCheck::expired: verdict.reason = "the challenge password has expired"; break;
        case store::ChallengeCheck::revoked: verdict.reason = "the challenge password was revoked"; break;
    }
    return verdict;
}

}  // namespace scepra::core
