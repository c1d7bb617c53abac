// SPDX-License-Identifier: Apache-2.0
// The policy webhook's decision (see webhook_verifier.hpp).
#include "validators/webhook/webhook_verifier.hpp"

#include "validators/webhook/webhook_answer.hpp"
#include "validators/webhook/webhook_request.hpp"

namespace scepra::validators::webhook {

namespace {

core::ChallengeVerdict refused(const char* device_text, std::string audit) {
    core::ChallengeVerdict verdict;
    verdict.reason = device_text;
    verdict.note = std::move(audit);
    return verdict;
}

}  // namespace

WebhookVerifier::WebhookVerifier(std::shared_ptr<const WebhookClient> client,
                                 std::shared_ptr<WebhookNotifier> notifier)
    : m_client(std::move(client)), m_notifier(std::move(notifier)) {}

core::ChallengeVerdict WebhookVerifier::verify(const core::ChallengeRequest& request) {
    core::ChallengeVerdict verdict = decide(request);
    if (m_notifier) {
        const bool unavailable = !verdict.accepted && verdict.reason == unavailable_text;
        m_notifier->on_decision(request.transaction_id, request.template_name,
                                verdict.accepted ? "allowed"
                                : unavailable    ? "refused"
                                                 : "denied",
                                verdict.note);
    }
    return verdict;
}

core::ChallengeVerdict WebhookVerifier::decide(const core::ChallengeRequest& request) {
    std::string why;
    const auto body = webhook_request_body(request, std::chrono::system_clock::now(), &why);
    if (!body) {
        return refused(denied_text, "not sent to the webhook: " + why);
    }
    backend::http::HttpAnswer answer;
    try {
        answer = m_client->post(*body, max_answer_bytes);
    } catch (const std::exception& e) {
        return refused(unavailable_text, std::string("webhook not answered: ") + e.what());
    }
    if (answer.status < 200 || answer.status > 299) {
        return refused(unavailable_text, "webhook answered HTTP " + std::to_string(answer.status));
    }
    WebhookDecision decision;
    try {
        decision = read_webhook_answer(answer.body);
    } catch (const BadWebhookAnswer& e) {
        return refused(unavailable_text, std::string("webhook answer refused: ") + e.what());
    }
    if (!decision.allow) {
        return refused(denied_text,
                       "denied by the webhook" + (decision.reason.empty() ? "" : ": " + decision.reason));
    }
    core::ChallengeVerdict verdict;
    verdict.accepted = true;
    verdict.note = "allowed by the webhook" + (decision.reason.empty() ? "" : ": " + decision.reason);
    return verdict;
}

}  // namespace scepra::validators::webhook
