// SPDX-License-Identifier: Apache-2.0
// The challenge validators by name (see validator_registry.hpp).
#include "cli/validator_registry.hpp"

#include <algorithm>
#include <map>

#include "validators/intune/intune_validator.hpp"
#include "validators/webhook/webhook_client.hpp"
#include "validators/webhook/webhook_notifier.hpp"
#include "validators/webhook/webhook_verifier.hpp"

namespace scepra::cli {

namespace {

using validators::webhook::WebhookClient;
using validators::webhook::WebhookNotifier;
using validators::webhook::WebhookVerifier;

/// Every validator key in use, as (config key, name).
std::vector<std::pair<std::string, std::string>> validators_in_use(const AppConfig& c) {
    std::vector<std::pair<std::string, std::string>> used{{"challenge.validator", c.challenge_validator}};
    for (const auto& [name, policy] : c.template_policies.all()) {
        if (!policy.validator.empty()) {
            used.emplace_back("profile." + name + ".validator", policy.validator);
        }
    }
    return used;
}

bool uses(const AppConfig& c, const std::string& validator) {
    for (const auto& entry : validators_in_use(c)) {
        if (entry.second == validator) {
            return true;
        }
    }
    return false;
}

std::string validator_of(const AppConfig& c, const std::string& template_name) {
    const std::string own = c.template_policies.of(template_name).validator;
    return own.empty() ? c.challenge_validator : own;
}

std::shared_ptr<const WebhookClient> webhook_client(const AppConfig& c, const std::string& url,
                                                    const std::string& key) {
    try {
        return std::make_shared<const WebhookClient>(c.webhook, url, "the webhook at " + key);
    } catch (const std::exception& e) {
        throw ConfigError(c.file.string() + ": [webhook] " + e.what());
    }
}

}  // namespace

bool validator_in_use(const AppConfig& config, const std::string& name) { return uses(config, name); }

const std::vector<std::string>& validator_names() {
    static const std::vector<std::string> names{"local", "intune", "webhook"};
    return names;
}

void check_validators(Checker& check, const AppConfig& c) {
    std::string webhook_user;
    for (const auto& [key, name] : validators_in_use(c)) {
        const auto& known = validator_names();
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            if (key != "challenge.validator") {  // [challenge] validator is checked by choice()
                check.problem(key, "must be local, intune or webhook, not '" + name + "'");
            }
            continue;
        }
        if (name == "webhook" && webhook_user.empty()) {
            webhook_user = key;
        }
    }
    if (!webhook_user.empty()) {
        const std::string section = webhook_user.substr(0, webhook_user.rfind('.'));
        if (c.webhook.url.empty()) {
            check.problem("webhook.url", "must be set: [" + section + "] validator = webhook asks it");
        }
        check.path("webhook.secret_file");
        check.path("webhook.client_cert");
        check.path("webhook.client_key");
        check.path("webhook.server_ca");
    }
}

ValidatorRegistry::ValidatorRegistry(const AppConfig& config, store::Database& db, const Clock& clock,
                                     std::shared_ptr<core::ChallengeVerifier> local, std::ostream& log)
    : m_local(std::move(local)), m_log(log) {
    if (uses(config, "webhook") && !config.webhook.notify_url.empty()) {
        // Only the webhook's templates: their decisions and outcomes are the receiver's business.
        m_webhook_notifier = std::make_shared<WebhookNotifier>(
            db, clock, webhook_client(config, config.webhook.notify_url, "notify_url"),
            [this](const std::string& template_name) {
                return m_router->validator_name(template_name) == "webhook";
            },
            log);
    }
    if (uses(config, "intune")) {
        try {
            m_intune = validators::intune::make_intune_validator(config.intune, clock);
        } catch (const std::exception& e) {
            throw ConfigError(config.file.string() + ": [intune] " + e.what());
        }
    }
    m_router = std::make_unique<core::ChallengeRouter>(routes(config));
}

ValidatorRegistry::~ValidatorRegistry() {
    m_webhook_notifier.reset();  // stops its worker before the router it asks goes
}

std::vector<std::shared_ptr<core::EnrolmentOutcomeListener>> ValidatorRegistry::outcome_listeners() const {
    std::vector<std::shared_ptr<core::EnrolmentOutcomeListener>> listeners;
    if (m_webhook_notifier) {
        listeners.push_back(m_webhook_notifier);
    }
    if (m_intune) {
        listeners.push_back(m_intune);
    }
    return listeners;
}

void ValidatorRegistry::reload(const AppConfig& fresh) {
    core::ChallengeRoutes next = routes(fresh);
    std::shared_ptr<const WebhookClient> notify_target;
    if (m_webhook_notifier && !fresh.webhook.notify_url.empty()) {
        notify_target = webhook_client(fresh, fresh.webhook.notify_url, "notify_url");
    }
    if (!m_webhook_notifier && uses(fresh, "webhook") && !fresh.webhook.notify_url.empty()) {
        m_log << "scep-ra reload: [webhook] notify_url takes effect at the next restart" << std::endl;
    }
    m_router->apply(std::move(next));
    if (m_webhook_notifier) {
        m_webhook_notifier->retarget(std::move(notify_target));  // none: queued until a notify_url is back
    }
}

core::ChallengeRoutes ValidatorRegistry::routes(const AppConfig& config) {
    std::map<std::string, std::shared_ptr<core::ChallengeVerifier>> built;
    auto named = [&](const std::string& name) {
        auto& verifier = built[name];
        if (!verifier) {
            verifier = make(name, config);
        }
        return core::NamedVerifier{name, verifier};
    };
    core::ChallengeRoutes routes;
    routes.fallback = named(config.challenge_validator);
    for (const auto& [template_name, policy] : config.template_policies.all()) {
        if (!policy.validator.empty()) {
            routes.by_template.emplace_back(template_name, named(validator_of(config, template_name)));
        }
    }
    return routes;
}

std::shared_ptr<core::ChallengeVerifier> ValidatorRegistry::make(const std::string& name,
                                                                 const AppConfig& config) {
    if (name == "local") {
        return m_local;
    }
    if (name == "webhook") {
        return std::make_shared<WebhookVerifier>(webhook_client(config, config.webhook.url, "url"),
                                                 m_webhook_notifier);
    }
    if (name == "intune") {
        if (!m_intune) {  // a reload that names intune for the first time
            throw ConfigError(config.file.string() +
                              ": [challenge] validator = intune takes effect at the next restart");
        }
        return m_intune;
    }
    throw ConfigError(config.file.string() + ": the challenge validator '" + name +
                      "' is not available in this build of scep-ra");
}

}  // namespace scepra::cli
