// SPDX-License-Identifier: Apache-2.0
// The policy webhook's answer, {"allow": true|false, "reason": "..."}, read
// as hostile input: anything else (not JSON, nested, allow missing or not a
// boolean) is a BadWebhookAnswer, and the request is refused.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace scepra::validators::webhook {

/// The largest answer read; a longer one is refused unread.
inline constexpr std::size_t max_answer_bytes = 16 * 1024;
/// The longest reason kept for the audit trail (longer ones are cut).
inline constexpr std::size_t max_reason_chars = 200;

struct WebhookDecision {
    bool allow = false;
    std::string reason;  ///< printable ASCII, at most max_reason_chars (plus "...")
};

class BadWebhookAnswer : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

WebhookDecision read_webhook_answer(const std::string& body);

/// Text from a receiver made safe for the audit trail and logs: control and
/// non-ASCII bytes replaced by '?', cut at max_chars.
std::string audit_text(const std::string& text, std::size_t max_chars = max_reason_chars);

}  // namespace scepra::validators::webhook
