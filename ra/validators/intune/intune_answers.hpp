// SPDX-License-Identifier: Apache-2.0
// The readers of the answers of Entra ID (token endpoint), Graph (Intune's
// endpoints) and Intune (ScepActions). TokenClient, ServiceDiscovery and
// ScepActions call them after each HTTP exchange; they are declared here, in
// detail, for their fuzz target (tests/fuzz/intune_answers_fuzzer.cpp). Every
// reader takes the body as hostile and throws IntuneUnavailable for anything
// but the documented shape.
#pragma once

#include <chrono>
#include <string>

#include "validators/intune/scep_actions.hpp"

namespace scepra::validators::intune::detail {

/// The parts of a usable token answer.
struct TokenAnswer {
    std::string access_token;          ///< 1 to 16 KiB of printable ASCII without spaces
    std::chrono::seconds lifetime{0};  ///< expires_in: 1 s to 24 h
};

/// Entra ID's answer (HTTP status and body) to a token request for scope.
TokenAnswer read_token_answer(int status, const std::string& body, const std::string& scope);

/// The validation service's base URL (https, no trailing slash) from Graph's
/// {"value": [{providerName|serviceName, uri}, ...]}.
std::string read_endpoints_answer(const std::string& body);

/// Intune's {"code", "errorDescription"} answer (HTTP 200) to action.
IntuneAnswer read_action_answer(const std::string& action, const std::string& body,
                                const std::string& request_id);

}  // namespace scepra::validators::intune::detail
