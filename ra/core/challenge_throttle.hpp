// SPDX-License-Identifier: Apache-2.0
// Failed challenge passwords throttled per client address and per subject:
// a ChallengeVerifier in front of another that refuses locked-out requests
// before the (possibly slow) password check, and counts the failures.
#pragma once

#include "core/challenge_verifier.hpp"
#include "store/audit_log.hpp"
#include "store/throttle_store.hpp"

namespace scepra::core {

/// The failInfoText of a request refused because of a lockout.
inline constexpr const char* kLockedOutText = "too many failed attempts; try again later";

class ThrottledVerifier final : public ChallengeVerifier {
  public:
    ThrottledVerifier(ChallengeVerifier& inner, store::ThrottleStore& throttle, store::AuditLog& audit);

    /// Refused with kLockedOutText, without asking inner, while the request's
    /// address is locked out. Otherwise inner decides (a locked subject only
    /// changes a refusal's text: the right password passes); a refusal (other
    /// than retry_later) counts against both, and a lockout it causes leaves
    /// an audit row (operation 'lockout').
    ChallengeVerdict verify(const ChallengeRequest& request) override;

  private:
    ChallengeVerifier& m_inner;
    store::ThrottleStore& m_throttle;
    store::AuditLog& m_audit;
};

}  // namespace scepra::core
