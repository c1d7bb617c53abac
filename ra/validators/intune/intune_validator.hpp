// SPDX-License-Identifier: Apache-2.0
// [challenge] validator = intune: Intune decides whether a request may be
// issued (ScepActions/validateRequest, the challenge travels inside the CSR),
// and hears how it ended (successNotification / failureNotification), as
// NDES's Intune policy module does. Refusals name Intune's code; when Intune
// cannot be asked the request is refused (fail closed), never issued.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "core/challenge_verifier.hpp"
#include "core/enrolment_outcome.hpp"
#include "validators/intune/intune_settings.hpp"
#include "validators/intune/scep_actions.hpp"
#include "validators/intune/service_discovery.hpp"
#include "validators/intune/token_client.hpp"

namespace scepra::validators::intune {

/// What became of the notifications so far (for tests and diagnostics).
struct NotificationCounts {
    std::size_t sent = 0;     ///< Intune answered Success
    std::size_t failed = 0;   ///< Intune could not be reached or answered another code
    std::size_t dropped = 0;  ///< the queue was full
};

class IntuneValidator final : public core::ChallengeVerifier, public core::EnrolmentOutcomeListener {
  public:
    /// Throws std::runtime_error naming a credential file that cannot be used,
    /// std::invalid_argument for a bad URL.
    IntuneValidator(IntuneSettings settings, const Clock& clock);
    ~IntuneValidator() override;
    IntuneValidator(const IntuneValidator&) = delete;
    IntuneValidator& operator=(const IntuneValidator&) = delete;

    /// Asks Intune (blocking, at most two calls of timeout_seconds after the
    /// token and the endpoint are known).
    core::ChallengeVerdict verify(const core::ChallengeRequest& request) override;

    /// Queues Intune's notification for a transaction this validator accepted
    /// (others are not Intune's) and returns at once; a background thread sends it.
    void on_outcome(const core::EnrolmentOutcome& outcome) noexcept override;

    /// Waits until every queued notification was sent or given up.
    void flush();
    NotificationCounts notification_counts() const;

  private:
    struct Notification {
        std::string action;
        std::string body;
        std::string transaction_id;
    };
    void remember_accepted(const std::string& transaction_id);
    bool take_accepted(const std::string& transaction_id);
    void send_notifications();

    IntuneSettings m_settings;
    const Clock& m_clock;
    TokenClient m_tokens;
    ServiceDiscovery m_discovery;
    ScepActions m_actions;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_idle;
    std::deque<Notification> m_queue;
    bool m_sending = false;
    bool m_stopping = false;
    NotificationCounts m_counts;
    std::set<std::string> m_accepted;          ///< transactions Intune validated, awaiting their outcome
    std::deque<std::string> m_accepted_order;  ///< oldest first, to bound m_accepted
    std::thread m_worker;                      ///< last: starts once everything above exists
};

/// The validator the lead registers both as the challenge verifier of the
/// Intune templates and as an enrolment outcome listener.
std::shared_ptr<IntuneValidator> make_intune_validator(const IntuneSettings& settings, const Clock& clock);

}  // namespace scepra::validators::intune
