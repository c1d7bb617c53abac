// SPDX-License-Identifier: Apache-2.0
// The policy webhook's answer (see webhook_answer.hpp).
#include "validators/webhook/webhook_answer.hpp"

#include <nlohmann/json.hpp>

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
    // nlohmann stops at a NUL byte and ignores the rest: a body with one is not one answer.
    if (body.find('\0') != std::string::npos) {
        throw BadWebhookAnswer("the answer is not JSON: a NUL byte in it");
    }
    json root;
    try {
        root = json::parse(body, [](int depth, json::parse_event_t, json&) {
            if (depth > max_depth) {
                throw BadWebhookAnswer("the answer is nested too deeply");
            }
            return true;
        });
    } catch (const json::exception& e) {
        throw BadWebhookAnswer(std::string("the answer is not JSON: ") + audit_text(e.what(), 120));
    }
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
