// SPDX-License-Identifier: Apache-2.0
// [challenge] validator and [webhook]: the policy webhook and its notifications.
#include "cli/config_sections.hpp"
#include "http/rest_client.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

void add_validator_keys(po::options_description& keys) {
    keys.add_options()("challenge.validator", po::value<std::string>()->default_value("local"))(
        "webhook.url", po::value<std::string>()->default_value(""))(
        "webhook.secret_file", po::value<std::string>()->default_value(""))(
        "webhook.client_cert", po::value<std::string>()->default_value(""))(
        "webhook.client_key", po::value<std::string>()->default_value(""))(
        "webhook.server_ca", po::value<std::string>()->default_value(""))(
        "webhook.timeout_seconds", po::value<int>()->default_value(10))(
        "webhook.notify_url", po::value<std::string>()->default_value(""));
}

namespace {

/// An https:// URL the shared client can reach, or a problem naming the key.
std::string https_url(Checker& check, const std::string& key) {
    const std::string url = check.text(key);
    if (url.empty()) {
        return url;
    }
    try {
        backend::http::parse_base_url(url, "the webhook");
    } catch (const std::invalid_argument& e) {
        check.problem(key, std::string("is not usable: ") + e.what());
    }
    return url;
}

}  // namespace

validators::webhook::WebhookConfig parse_webhook(Checker& check) {
    validators::webhook::WebhookConfig c;
    c.url = https_url(check, "webhook.url");
    c.notify_url = https_url(check, "webhook.notify_url");
    // Whether the files must exist depends on whether a template uses the
    // webhook: check_validators() looks again.
    c.secret_file = check.path("webhook.secret_file", false);
    c.client_cert = check.path("webhook.client_cert", false);
    c.client_key = check.path("webhook.client_key", false);
    c.server_ca = check.path("webhook.server_ca", false);
    if (c.client_cert.empty() != c.client_key.empty()) {
        check.problem("webhook.client_cert", "and client_key must be set together");
    }
    c.timeout_seconds = check.number("webhook.timeout_seconds", 1, 120);
    return c;
}

}  // namespace scepra::cli
