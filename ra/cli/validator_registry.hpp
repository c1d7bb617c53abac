// SPDX-License-Identifier: Apache-2.0
// The challenge validators by name, in one place: which names [challenge]
// validator and [profile.NAME] validator accept, the configuration each needs,
// and how each is built. local: the NDES password modes; webhook: the policy
// webhook ([webhook]); intune: Microsoft Intune's SCEP validation service ([intune]).
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/app_config.hpp"
#include "cli/config_checker.hpp"
#include "core/challenge_router.hpp"
#include "core/enrolment_outcome.hpp"
#include "store/database.hpp"

namespace scepra::validators::webhook {
class WebhookNotifier;
}
namespace scepra::validators::intune {
class IntuneValidator;
}

namespace scepra::cli {

/// The names a validator key accepts, in the order the documentation lists them.
const std::vector<std::string>& validator_names();

/// Whether [challenge] or some [profile.NAME] names this validator.
bool validator_in_use(const AppConfig& config, const std::string& name);

/// At load_config: every validator named ([challenge] and each [profile.NAME])
/// is available in this build and its section is there, with files that exist.
void check_validators(Checker& check, const AppConfig& config);

/// The running validators of an instance: the router the enrolment asks, and
/// the listeners told each outcome.
class ValidatorRegistry {
  public:
    /// local: the password modes (throttled) for validator = local.
    /// Throws ConfigError when a validator cannot be built (a secret or
    /// certificate file that cannot be read).
    ValidatorRegistry(const AppConfig& config, store::Database& db, const Clock& clock,
                      std::shared_ptr<core::ChallengeVerifier> local, std::ostream& log);
    ~ValidatorRegistry();
    ValidatorRegistry(const ValidatorRegistry&) = delete;
    ValidatorRegistry& operator=(const ValidatorRegistry&) = delete;

    core::ChallengeRouter& router() { return *m_router; }
    /// For EnrolmentOptions::outcome_listeners (made at start; a listener
    /// added to the configuration later takes a restart).
    std::vector<std::shared_ptr<core::EnrolmentOutcomeListener>> outcome_listeners() const;
    /// Applies a fresh configuration's validators (reload): all of them or,
    /// when one cannot be built (throws ConfigError), none.
    void reload(const AppConfig& fresh);

  private:
    core::ChallengeRoutes routes(const AppConfig& config);
    /// The validator of this name (built once per routes()).
    std::shared_ptr<core::ChallengeVerifier> make(const std::string& name, const AppConfig& config);

    std::shared_ptr<core::ChallengeVerifier> m_local;
    std::shared_ptr<validators::webhook::WebhookNotifier> m_webhook_notifier;  ///< with [webhook] notify_url
    /// With an intune validator: built once at start ([intune] changes take a
    /// restart), it validates and also sends Intune's notifications.
    std::shared_ptr<validators::intune::IntuneValidator> m_intune;
    std::unique_ptr<core::ChallengeRouter> m_router;
    std::ostream& m_log;
};

}  // namespace scepra::cli
