// SPDX-License-Identifier: Apache-2.0
// [webhook] notify_url: every decision of the policy webhook and every final
// outcome of its templates' enrolments (issued with serial and not-after, or
// rejected) is queued in the database and delivered by a background worker,
// retried with backoff, so that a receiver that is down loses nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "core/enrolment_outcome.hpp"
#include "store/webhook_queue.hpp"
#include "validators/webhook/webhook_client.hpp"

namespace scepra::validators::webhook {

/// The longest wait between two attempts to deliver a notification.
inline constexpr std::chrono::seconds max_retry_delay{300};

/// The wait before attempt `attempts + 1`: 1 s, doubling, capped at max_retry_delay.
std::chrono::seconds retry_delay(int attempts);

class WebhookNotifier final : public core::EnrolmentOutcomeListener {
  public:
    /// Whether a template's outcomes are notified (its requests are the webhook's to decide).
    using Concerns = std::function<bool(const std::string& template_name)>;

    /// Starts the delivery worker; target may be null (queued, not sent, until retarget()).
    WebhookNotifier(store::Database& db, const Clock& clock, std::shared_ptr<const WebhookClient> target,
                    Concerns concerns, std::ostream& log);
    /// Stops the worker (a delivery in progress ends within its timeout).
    ~WebhookNotifier() override;
    WebhookNotifier(const WebhookNotifier&) = delete;
    WebhookNotifier& operator=(const WebhookNotifier&) = delete;

    /// An enrolment's final outcome (issued or rejected).
    void on_outcome(const core::EnrolmentOutcome& outcome) noexcept override;
    /// A decision of the policy webhook: allowed, denied, or refused because
    /// it could not be asked (reason says why; never a secret).
    void on_decision(const std::string& transaction_id, const std::string& template_name,
                     const std::string& decision, const std::string& reason) noexcept;
    /// Delivers to another receiver from now on (reload); queued rows follow.
    void retarget(std::shared_ptr<const WebhookClient> target);

  private:
    void enqueue(const std::string& body, store::NotificationKind kind) noexcept;
    void run();
    /// Delivers what is due; returns false when the receiver refused (wait for the backoff).
    bool deliver_due();
    std::shared_ptr<const WebhookClient> target();

    store::WebhookQueue m_queue;
    const Clock& m_clock;
    Concerns m_concerns;
    std::ostream& m_log;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    bool m_kicked = false;
    std::atomic<std::uint64_t> m_dropped{0};  ///< notifications the full queue refused, since start
    std::shared_ptr<const WebhookClient> m_target;
    std::thread m_thread;  ///< last: started once everything above is ready
};

}  // namespace scepra::validators::webhook
