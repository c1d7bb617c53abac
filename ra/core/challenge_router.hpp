// SPDX-License-Identifier: Apache-2.0
// The challenge validator of each certificate template: [profile.NAME]
// validator, else [challenge] validator. A ChallengeVerifier that hands each
// request to the template's one; the routes are replaced whole at reload.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/challenge_verifier.hpp"

namespace scepra::core {

/// A validator by its configured name ("local", "webhook", ...).
struct NamedVerifier {
    std::string name;
    std::shared_ptr<ChallengeVerifier> verifier;
};

struct ChallengeRoutes {
    NamedVerifier fallback;  ///< [challenge] validator
    /// [profile.NAME] validator, by template name (matched case-insensitively).
    std::vector<std::pair<std::string, NamedVerifier>> by_template;
};

class ChallengeRouter final : public ChallengeVerifier {
  public:
    explicit ChallengeRouter(ChallengeRoutes routes);

    ChallengeVerdict verify(const ChallengeRequest& request) override;
    bool judges_renewals(const std::string& template_name) const override;

    /// The name of the validator that decides this template's requests.
    std::string validator_name(const std::string& template_name) const;
    /// Replaces every route (reload); requests being verified finish with the old ones.
    void apply(ChallengeRoutes routes);

  private:
    NamedVerifier route(const std::string& template_name) const;

    mutable std::mutex m_mutex;
    ChallengeRoutes m_routes;
};

}  // namespace scepra::core
