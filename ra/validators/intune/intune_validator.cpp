// SPDX-License-Identifier: Apache-2.0
#include "validators/intune/intune_validator.hpp"

#include <iostream>

#include "validators/intune/bounded_json.hpp"
#include "validators/intune/intune_errors.hpp"
#include "validators/intune/notification_body.hpp"
#include "validators/intune/result_codes.hpp"

namespace scepra::validators::intune {

namespace {

constexpr std::size_t max_queued_notifications = 1024;
/// Transactions validated and not yet finished; the oldest are forgotten
/// first (their notification is then not sent).
constexpr std::size_t max_awaited_outcomes = 10000;
constexpr std::size_t max_reason_length = 300;

/// The device is told `reason`; `detail` (Entra's and Intune's own words:
/// tenant and application hints, internal addresses) is for the audit trail only.
core::ChallengeVerdict refused(std::string reason, std::string detail = {}, bool retry_later = false) {
    core::ChallengeVerdict verdict;
    verdict.reason = printable(reason, max_reason_length);
    verdict.note = printable(detail, max_reason_length);
    verdict.retry_later = retry_later;
    return verdict;
}

constexpr const char* intune_unavailable_text = "Intune could not validate the request; try again later";

}  // namespace

IntuneValidator::IntuneValidator(IntuneSettings settings, const Clock& clock)
    : m_settings(std::move(settings)),
      m_clock(clock),
      m_tokens(m_settings, m_clock),
      m_discovery(m_settings, m_tokens),
      m_actions(m_settings, m_tokens, m_discovery),
      m_worker([this] { send_notifications(); }) {}

IntuneValidator::~IntuneValidator() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;  // what is still queued is given up: stopping must not wait on Intune
    }
    m_wake.notify_all();
    m_worker.join();
}

core::ChallengeVerdict IntuneValidator::verify(const core::ChallengeRequest& request) {
    if (!request.csr.challenge_password() || request.csr.challenge_password()->empty()) {
        return refused("the request carries no Intune challenge (ChallengePasswordMissing)");
    }
    IntuneAnswer answer;
    try {
        answer = m_actions.post(
            "validateRequest",
            validate_request_body(request.transaction_id, request.csr.der(), m_settings.caller_info));
    } catch (const std::exception& e) {
        // Fail closed: without Intune's word nothing is issued. Not the device's fault: no lockout count.
        return refused(intune_unavailable_text,
                       std::string("Intune could not validate the request: ") + e.what(), true);
    }
    if (answer.code != "Success") {
        return refused(
            "Intune refused the request: " + answer.code + " (" + std::string(code_meaning(answer.code)) +
                ")",
            answer.description.empty() ? std::string() : "Intune's description: " + answer.description);
    }
    remember_accepted(request.transaction_id);
    core::ChallengeVerdict verdict;
    verdict.accepted = true;
    verdict.note = "Intune validated the request (client-request-id " + answer.request_id + ")";
    return verdict;
}

void IntuneValidator::on_outcome(const core::EnrolmentOutcome& outcome) noexcept {
    try {
        if (!take_accepted(outcome.transaction_id)) {
            return;  // not a request Intune validated
        }
        Notification notification{outcome.kind == core::EnrolmentOutcome::Kind::issued
                                      ? "successNotification"
                                      : "failureNotification",
                                  outcome.kind == core::EnrolmentOutcome::Kind::issued
                                      ? success_notification_body(outcome, m_settings.caller_info)
                                      : failure_notification_body(outcome, m_settings.caller_info),
                                  outcome.transaction_id};
        {
            std::lock_guard lock(m_mutex);
            if (m_queue.size() >= max_queued_notifications) {
                ++m_counts.dropped;
                return;
            }
            m_queue.push_back(std::move(notification));
        }
        m_wake.notify_one();
    } catch (const std::exception& e) {
        std::cerr << "intune: cannot notify Intune of transaction " << printable(outcome.transaction_id, 128)
                  << ": " << e.what() << "\n";
    } catch (...) {
    }
}

void IntuneValidator::flush() {
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [&] { return m_stopping || (m_queue.empty() && !m_sending); });
}

NotificationCounts IntuneValidator::notification_counts() const {
    std::lock_guard lock(m_mutex);
    return m_counts;
}

void IntuneValidator::remember_accepted(const std::string& transaction_id) {
    std::lock_guard lock(m_mutex);
    if (!m_accepted.insert(transaction_id).second) {
        return;
    }
    m_accepted_order.push_back(transaction_id);
    if (m_accepted_order.size() > max_awaited_outcomes) {
        m_accepted.erase(m_accepted_order.front());
        m_accepted_order.pop_front();
    }
}

bool IntuneValidator::take_accepted(const std::string& transaction_id) {
    std::lock_guard lock(m_mutex);
    // m_accepted_order keeps the id until it ages out; erase() of the set is what counts.
    return m_accepted.erase(transaction_id) == 1;
}

void IntuneValidator::send_notifications() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
        if (m_stopping) {
            break;
        }
        Notification next = std::move(m_queue.front());
        m_queue.pop_front();
        m_sending = true;
        lock.unlock();
        bool sent = false;
        std::string why;
        try {
            const IntuneAnswer answer = m_actions.post(next.action, next.body);
            sent = answer.code == "Success";
            why = "Intune answered " + answer.code;
        } catch (const std::exception& e) {
            why = e.what();
        }
        if (!sent) {
            std::cerr << "intune: " << next.action << " for transaction "
                      << printable(next.transaction_id, 128) << " failed: " << why << "\n";
        }
        lock.lock();
        ++(sent ? m_counts.sent : m_counts.failed);
        m_sending = false;
        if (m_queue.empty()) {
            m_idle.notify_all();
        }
    }
    m_sending = false;
    m_idle.notify_all();
}

std::shared_ptr<IntuneValidator> make_intune_validator(const IntuneSettings& settings, const Clock& clock) {
    return std::make_shared<IntuneValidator>(settings, clock);
}

}  // namespace scepra::validators::intune
