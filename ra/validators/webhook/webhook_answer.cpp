// SPDX-License-Identifier: Apache-2.0
// The policy webhook's answer (see webhook_answer.hpp).
#include "validators/webhook/webhook_answer.hpp"

#include <nlohmann/json.hpp>

#include "http/json_answer.hpp"

namespace scepra::validators::webhook {

namespace {

using nlohmann::json;

// The answer is one flat object: anything nested deeper is hostile.
constexpr int max_depth = 2;

}  // namespace

std::string audit_text(const std::string& text, std::size_t max_chars) {
    std::string out;
    for (size_t i = 0; i < text.size() && out.size() < max_chars; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    }
    if (text.size() > max_chars) {
        out += "...";
    }
    return out;
}

WebhookDecision read_webhook_answer(const std::string& body) {
    if (body.size() > max_answer_bytes) {
        throw BadWebhookAnswer("the answer is larger than " + std::to_string(max_answer_bytes) + " bytes");
    }
    const json root = backend::http::parse_json_answer<BadWebhookAnswer>(body, max_depth);
    if (!root.is_object()) {
        throw BadWebhookAnswer("the answer is not a JSON object");
    }
    const auto allow = root.find("allow");
    if (allow == root.end() || !allow->is_boolean()) {
        throw BadWebhookAnswer("the answer has no boolean 'allow'");
    }
    WebhookDecision decision;
    decision.allow = allow->get<bool>();
    if (const auto reason = root.find("reason"); reason != root.end() && !reason->is_null()) {
        if (!reason->is_string()) {
            throw BadWebhookAnswer("the answer's 'reason' is not a string");
        }
        decision.reason = audit_text(reason->get<std::string>());
    }
    return decision;
}

}  // namespace scepra::validators::webhook
