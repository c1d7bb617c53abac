// SPDX-License-Identifier: Apache-2.0
// Where the tenant's Intune SCEP validation service answers: Graph lists the
// endpoints of Intune's service principal (appId 0000000a-0000-0000-c000-000000000000);
// the entry named ScepRequestValidationFEService is the one. Cached until a
// call to it fails (the service may have moved), then asked again.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "common/single_flight.hpp"
#include "http/rest_client.hpp"
#include "validators/intune/intune_settings.hpp"
#include "validators/intune/token_client.hpp"

namespace scepra::validators::intune {

inline constexpr const char* validation_service_name = "ScepRequestValidationFEService";

class ServiceDiscovery {
  public:
    ServiceDiscovery(const IntuneSettings& settings, TokenClient& tokens);

    /// The validation service's base URL (https). Throws IntuneUnavailable.
    std::string endpoint();
    /// Forgets the cached endpoint: the next call asks Graph again.
    void forget();

  private:
    std::string discover();

    TokenClient& m_tokens;
    std::string m_graph_scope;
    backend::http::RestClient m_graph;
    std::mutex m_mutex;  ///< guards m_endpoint (never held while Graph is asked)
    std::optional<std::string> m_endpoint;
    SingleFlight<std::string> m_discoveries;  ///< one discovery at a time, its outcome shared
};

}  // namespace scepra::validators::intune
