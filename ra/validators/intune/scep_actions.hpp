// SPDX-License-Identifier: Apache-2.0
// Calls of the Intune validation service: POST {endpoint}/ScepActions/{action}
// with a bearer token for Intune, api-version 2018-02-20 and a fresh
// client-request-id. Intune answers {"code": ..., "errorDescription": ...}.
// A call that gets no usable answer (timeout, 5xx, a refused token, a moved
// service) is tried again once, with the endpoint discovered anew; then the
// caller hears IntuneUnavailable: it must fail closed.
#pragma once

#include <string>

#include "validators/intune/intune_settings.hpp"
#include "validators/intune/service_discovery.hpp"
#include "validators/intune/token_client.hpp"

namespace scepra::validators::intune {

inline constexpr const char* api_version = "2018-02-20";

struct IntuneAnswer {
    std::string code;         ///< e.g. "Success", "ChallengeExpired"; only [A-Za-z0-9], at most 64
    std::string description;  ///< Intune's errorDescription, printable, at most 200 characters
    std::string request_id;   ///< the client-request-id of the call that got this answer
};

class ScepActions {
  public:
    ScepActions(const IntuneSettings& settings, TokenClient& tokens, ServiceDiscovery& discovery);

    /// action: "validateRequest", "successNotification" or "failureNotification".
    /// Throws IntuneUnavailable.
    IntuneAnswer post(const std::string& action, const std::string& json_body);

  private:
    IntuneSettings m_settings;
    TokenClient& m_tokens;
    ServiceDiscovery& m_discovery;
};

}  // namespace scepra::validators::intune
