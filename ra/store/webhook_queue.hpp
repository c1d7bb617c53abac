// SPDX-License-Identifier: Apache-2.0
// The queue of webhook notifications waiting for their receiver
// (webhook_notifications): each row is retried with backoff until the
// receiver takes it. Bounded in rows and in body size.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "store/database.hpp"

namespace scepra::store {

struct QueuedNotification {
    std::int64_t id = 0;
    std::string body;
    int attempts = 0;
};

/// What a notification tells: a decision (any request, an unauthenticated
/// one too, can cause one) or an enrolment's outcome.
enum class NotificationKind { decision, outcome };

class WebhookQueue final {
  public:
    static constexpr std::int64_t max_rows = 10000;
    /// The last rows are kept for outcomes: a flood of refused requests fills
    /// the queue with decisions only up to max_rows - outcome_reserve.
    static constexpr std::int64_t outcome_reserve = 1000;
    static constexpr std::size_t max_body_bytes = 8 * 1024;

    WebhookQueue(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

    /// Queues a body, due at once. False (nothing written) when the body is
    /// larger than max_body_bytes or the queue is full for its kind (max_rows,
    /// or max_rows - outcome_reserve for a decision): old notifications are
    /// never pushed out by new ones.
    bool enqueue(const std::string& body, NotificationKind kind = NotificationKind::outcome);
    /// The oldest notification, if it is due now. None while the oldest waits
    /// out its backoff, even when newer ones were never tried: delivery is in order.
    std::optional<QueuedNotification> next_due();
    /// Seconds until the oldest notification is due (0: now); nothing when the queue is empty.
    std::optional<std::int64_t> seconds_until_due();
    /// The receiver took it: deleted.
    void delivered(std::int64_t id);
    /// The receiver did not take it: tried again after `retry_in`, with the error kept for operators.
    void failed(std::int64_t id, const std::string& error, std::chrono::seconds retry_in);
    std::int64_t size();

  private:
    Database& m_db;
    const Clock& m_clock;
};

}  // namespace scepra::store
