// SPDX-License-Identifier: Apache-2.0
// Queued webhook notifications (see webhook_notifier.hpp).
#include "validators/webhook/webhook_notifier.hpp"

#include "common/json.hpp"
#include "crypto/asn1_time.hpp"
#include "crypto/encoding.hpp"
#include "validators/webhook/webhook_answer.hpp"
#include "validators/webhook/webhook_request.hpp"

namespace scepra::validators::webhook {

namespace {

/// A receiver's answer to a notification is not read beyond this.
constexpr std::size_t max_notify_answer = 4096;

}  // namespace

std::chrono::seconds retry_delay(int attempts) {
    std::int64_t delay = 1;
    for (int i = 0; i < attempts && delay < max_retry_delay.count(); ++i) {
        delay *= 2;
    }
    return std::chrono::seconds(std::min<std::int64_t>(delay, max_retry_delay.count()));
}

WebhookNotifier::WebhookNotifier(store::Database& db, const Clock& clock,
                                 std::shared_ptr<const WebhookClient> target, Concerns concerns,
                                 std::ostream& log)
    : m_queue(db, clock),
      m_clock(clock),
      m_concerns(std::move(concerns)),
      m_log(log),
      m_target(std::move(target)) {
    m_thread = std::thread([this] { run(); });
}

WebhookNotifier::~WebhookNotifier() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void WebhookNotifier::retarget(std::shared_ptr<const WebhookClient> target) {
    {
        std::lock_guard lock(m_mutex);
        m_target = std::move(target);
        m_kicked = true;
    }
    m_wake.notify_all();
}

std::shared_ptr<const WebhookClient> WebhookNotifier::target() {
    std::lock_guard lock(m_mutex);
    return m_target;
}

void WebhookNotifier::on_outcome(const core::EnrolmentOutcome& outcome) noexcept {
    try {
        if (m_concerns && !m_concerns(outcome.template_name)) {
            return;
        }
        JsonObject body;
        body.add("event", "outcome")
            .add("transaction_id", outcome.transaction_id)
            .add("template", outcome.template_name)
            .add("message_type", outcome.message_type)
            .add("outcome", outcome.kind == core::EnrolmentOutcome::Kind::issued ? "issued" : "rejected");
        if (outcome.kind == core::EnrolmentOutcome::Kind::issued && !outcome.certificate_der.empty()) {
            const crypto::X509Ptr cert = crypto::cert_from_der(outcome.certificate_der);
            body.add("serial", crypto::serial_hex(*cert));
            const auto not_after = crypto::to_time_point(*X509_get0_notAfter(cert.get()));
            body.add("not_after",
                     not_after ? std::optional<std::string>(iso_time(*not_after)) : std::nullopt);
            body.raw("reason", "null");
        } else {
            body.raw("serial", "null").raw("not_after", "null").add("reason", audit_text(outcome.reason));
        }
        body.add("at", iso_time(outcome.at));
        enqueue(body.str(), store::NotificationKind::outcome);
    } catch (const std::exception& e) {
        m_log << "scep-ra webhook notification for transaction " << audit_text(outcome.transaction_id, 64)
              << " not queued: " << e.what() << std::endl;
    }
}

void WebhookNotifier::on_decision(const std::string& transaction_id, const std::string& template_name,
                                  const std::string& decision, const std::string& reason) noexcept {
    try {
        JsonObject body;
        body.add("event", "decision")
            .add("transaction_id", transaction_id)
            .add("template", template_name)
            .add("outcome", decision)
            .add("reason", audit_text(reason))
            .add("at", iso_time(m_clock.now()));
        enqueue(body.str(), store::NotificationKind::decision);
    } catch (const std::exception& e) {
        m_log << "scep-ra webhook notification for transaction " << audit_text(transaction_id, 64)
              << " not queued: " << e.what() << std::endl;
    }
}

void WebhookNotifier::enqueue(const std::string& body, store::NotificationKind kind) noexcept {
    try {
        if (!m_queue.enqueue(body, kind)) {
            // A flood drops many: the 1st, 2nd, 4th, 8th, ... are logged, with the count.
            const std::uint64_t dropped = ++m_dropped;
            if ((dropped & (dropped - 1)) == 0) {
                m_log << "scep-ra webhook notification dropped: the queue is full ("
                      << store::WebhookQueue::max_rows << " waiting, the last "
                      << store::WebhookQueue::outcome_reserve
                      << " kept for outcomes) or the notification too "
                      << "large; " << dropped << " dropped since start" << std::endl;
            }
            return;
        }
    } catch (const std::exception& e) {
        m_log << "scep-ra webhook notification not queued: " << e.what() << std::endl;
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_kicked = true;
    }
    m_wake.notify_all();
}

bool WebhookNotifier::deliver_due() {
    const auto client = target();
    if (!client) {
        return false;
    }
    // Bounded per round, so that stop() is seen between deliveries.
    for (int i = 0; i < 100; ++i) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stop) {
                return true;
            }
        }
        const auto due = m_queue.next_due();
        if (!due) {
            return true;
        }
        std::string error;
        try {
            const auto answer = client->post(due->body, max_notify_answer);
            if (answer.status >= 200 && answer.status < 300) {
                m_queue.delivered(due->id);
                continue;
            }
            error = "HTTP " + std::to_string(answer.status);
        } catch (const std::exception& e) {
            error = e.what();
        }
        m_queue.failed(due->id, error, retry_delay(due->attempts));
        if (due->attempts == 0) {  // once per notification, not at every retry
            m_log << "scep-ra webhook notification " << due->id
                  << " not delivered (retried with backoff): " << error << std::endl;
        }
        return false;
    }
    return true;
}

void WebhookNotifier::run() {
    for (;;) {
        std::chrono::seconds wait = max_retry_delay;
        try {
            deliver_due();
            if (const auto next = m_queue.seconds_until_due()) {
                wait = std::min(max_retry_delay, std::chrono::seconds(std::max<std::int64_t>(*next, 1)));
            }
        } catch (const std::exception& e) {
            m_log << "scep-ra webhook notifications: " << e.what() << std::endl;
        }
        std::unique_lock lock(m_mutex);
        m_wake.wait_for(lock, wait, [this] { return m_stop || m_kicked; });
        if (m_stop) {
            return;
        }
        m_kicked = false;
    }
}

}  // namespace scepra::validators::webhook
