// SPDX-License-Identifier: Apache-2.0
#include "validators/intune/scep_actions.hpp"

#include <algorithm>
#include <cctype>

#include "validators/intune/bounded_json.hpp"
#include "validators/intune/intune_answers.hpp"
#include "validators/intune/intune_errors.hpp"
#include "validators/intune/request_id.hpp"

namespace scepra::validators::intune {

namespace {

constexpr std::size_t max_answer = 64 * 1024;
constexpr int max_attempts = 2;

bool code_text_ok(const std::string& code) {
    return !code.empty() && code.size() <= 64 && std::all_of(code.begin(), code.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c));
    });
}

}  // namespace

ScepActions::ScepActions(const IntuneSettings& settings, TokenClient& tokens, ServiceDiscovery& discovery)
    : m_settings(settings), m_tokens(tokens), m_discovery(discovery) {}

IntuneAnswer ScepActions::post(const std::string& action, const std::string& json_body) {
    std::string last_failure;
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        const std::string base = m_discovery.endpoint();
        const backend::http::RestClient service(
            {"Intune", base, {}, {}, m_settings.server_ca, m_settings.timeout_seconds});
        const std::string request_id = new_request_id();
        const backend::http::Headers headers{{"Authorization", "Bearer " + m_tokens.token(intune_scope)},
                                             {"api-version", api_version},
                                             {"client-request-id", request_id}};
        backend::http::HttpAnswer answer;
        try {
            answer =
                service.post("ScepActions/" + action, json_body, "application/json", headers, max_answer);
        } catch (const backend::http::TransportError& e) {
            // As the library does after any failed call: the service may have moved.
            last_failure = e.what();
            m_discovery.forget();
            continue;
        }
        if (answer.status == 200) {
            return detail::read_action_answer(action, answer.body, request_id);
        }
        last_failure = "Intune answered " + action + " with HTTP " + std::to_string(answer.status) +
                       " (client-request-id " + request_id + ")";
        if (answer.status == 401) {
            m_tokens.forget(intune_scope);
        } else {
            m_discovery.forget();
        }
    }
    throw IntuneUnavailable(last_failure);
}

IntuneAnswer detail::read_action_answer(const std::string& action, const std::string& body,
                                        const std::string& request_id) {
    const auto parsed = parse_bounded(body);
    const auto code = parsed ? string_member(*parsed, "code", 64) : std::nullopt;
    if (!code || !code_text_ok(*code)) {
        throw IntuneUnavailable("Intune's answer to " + action + " has no readable code (client-request-id " +
                                request_id + ")");
    }
    const auto description = string_member(*parsed, "errorDescription", 64 * 1024);
    return {*code, description ? printable(*description, 200) : std::string(), request_id};
}

}  // namespace scepra::validators::intune
