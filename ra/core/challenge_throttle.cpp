// SPDX-License-Identifier: Apache-2.0
// Failed challenge passwords throttled per client address and per subject.
#include "core/challenge_throttle.hpp"

#include "common/client_key.hpp"

namespace scepra::core {

ThrottledVerifier::ThrottledVerifier(ChallengeVerifier& inner, store::ThrottleStore& throttle,
                                     store::AuditLog& audit)
    : m_inner(inner), m_throttle(throttle), m_audit(audit) {}

ChallengeVerdict ThrottledVerifier::verify(const ChallengeRequest& request) {
    const std::string peer(request.peer);
    const std::string address = client_key(peer);  // an IPv6 host by its /64
    const std::string& subject = request.csr.subject();
    const auto lock = m_throttle.locked(address, subject);  // the address's lock first
    if (lock && lock->kind == "address") {
        return {.accepted = false, .reason = kLockedOutText, .challenge_id = {}, .note = {}};
    }
    // A subject is locked by failures from anywhere, so anyone could lock a
    // device out by its name: the right password still passes; a wrong one is
    // refused as locked out, and counts against its address as ever.
    ChallengeVerdict verdict = m_inner.verify(request);
    if (verdict.accepted || verdict.retry_later) {
        return verdict;
    }
    if (lock) {
        verdict.reason = kLockedOutText;
    }
    const auto& settings = m_throttle.settings();
    for (const auto& locked : m_throttle.record_failure(address, subject)) {
        m_audit.record({.peer = peer,
                        .operation = "lockout",
                        .message_type = std::nullopt,
                        .transaction_id = request.transaction_id,
                        .subject = subject,
                        .decision = "rejected",
                        .fail_info = "badRequest",
                        .detail = locked.kind + " " + locked.key + " locked out until " +
                                  *locked.locked_until + " UTC after " + std::to_string(locked.failures) +
                                  " failed challenge passwords within " +
                                  std::to_string(settings.window.count()) + " minutes",
                        .serial = std::nullopt,
                        .challenge_id = std::nullopt});
    }
    return verdict;
}

}  // namespace scepra::core
