// SPDX-License-Identifier: Apache-2.0
// validator = webhook: every request of the template (renewals too, with
// "renewal": true) is POSTed to [webhook] url, and its answer
// {"allow": ..., "reason": ...} decides. Fail closed: a timeout, a non-2xx
// status, an oversized or malformed answer refuses the request. The device
// gets a short fixed text; the webhook's words go to the audit trail.
#pragma once

#include <memory>

#include "core/challenge_verifier.hpp"
#include "validators/webhook/webhook_client.hpp"
#include "validators/webhook/webhook_notifier.hpp"

namespace scepra::validators::webhook {

/// The device's failInfoText when the webhook denies the request.
inline constexpr const char* denied_text = "the request was refused by the enrolment policy";
/// The device's failInfoText when the webhook cannot be asked or answers nonsense.
inline constexpr const char* unavailable_text = "the enrolment policy could not be checked; try again later";

class WebhookVerifier final : public core::ChallengeVerifier {
  public:
    /// notifier: told every decision; may be null (no notify_url).
    WebhookVerifier(std::shared_ptr<const WebhookClient> client, std::shared_ptr<WebhookNotifier> notifier);

    core::ChallengeVerdict verify(const core::ChallengeRequest& request) override;
    bool judges_renewals(const std::string&) const override { return true; }

  private:
    core::ChallengeVerdict decide(const core::ChallengeRequest& request);

    std::shared_ptr<const WebhookClient> m_client;
    std::shared_ptr<WebhookNotifier> m_notifier;
};

}  // namespace scepra::validators::webhook
