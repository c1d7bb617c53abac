// SPDX-License-Identifier: Apache-2.0
// The challenge validator of each certificate template (see challenge_router.hpp).
#include "core/challenge_router.hpp"

#include <strings.h>

#include <stdexcept>

namespace scepra::core {

ChallengeRouter::ChallengeRouter(ChallengeRoutes routes) { apply(std::move(routes)); }

void ChallengeRouter::apply(ChallengeRoutes routes) {
    if (!routes.fallback.verifier) {
        throw std::invalid_argument("the challenge router needs a validator for templates without their own");
    }
    for (const auto& entry : routes.by_template) {
        if (!entry.second.verifier) {
            throw std::invalid_argument("no challenge validator for template " + entry.first);
        }
    }
    std::lock_guard lock(m_mutex);
    m_routes = std::move(routes);
}

NamedVerifier ChallengeRouter::route(const std::string& template_name) const {
    std::lock_guard lock(m_mutex);
    for (const auto& entry : m_routes.by_template) {
        if (strcasecmp(entry.first.c_str(), template_name.c_str()) == 0) {
            return entry.second;
        }
    }
    return m_routes.fallback;
}

ChallengeVerdict ChallengeRouter::verify(const ChallengeRequest& request) {
    // A copy of the route keeps its verifier alive while it decides, across a reload.
    const NamedVerifier chosen = route(request.template_name);
    return chosen.verifier->verify(request);
}

bool ChallengeRouter::judges_renewals(const std::string& template_name) const {
    return route(template_name).verifier->judges_renewals(template_name);
}

std::string ChallengeRouter::validator_name(const std::string& template_name) const {
    return route(template_name).name;
}

}  // namespace scepra::core
