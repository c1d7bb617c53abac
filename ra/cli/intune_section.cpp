// SPDX-License-Identifier: Apache-2.0
// [intune]: the Entra ID application scep-ra asks Intune with, when
// [challenge] validator = intune.
#include <algorithm>
#include <cctype>

#include "cli/config_sections.hpp"
#include "http/rest_client.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

bool is_guid(const std::string& text) {
    if (text.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : std::isxdigit(static_cast<unsigned char>(text[i])) == 0) {
            return false;
        }
    }
    return true;
}

/// A tenant is its GUID or one of its verified domain names.
bool is_tenant(const std::string& text) {
    return !text.empty() && text.size() <= 253 &&
           (is_guid(text) || std::all_of(text.begin(), text.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-';
            }));
}

void check_https_url(Checker& check, const std::string& key, const std::string& url) {
    try {
        backend::http::parse_base_url(url, key);
    } catch (const std::invalid_argument& e) {
        check.problem(key, e.what());
    }
}

}  // namespace

void add_intune_keys(po::options_description& keys) {
    keys.add_options()("intune.tenant_id", po::value<std::string>()->default_value(""))(
        "intune.client_id", po::value<std::string>()->default_value(""))(
        "intune.client_secret_file", po::value<std::string>()->default_value(""))(
        "intune.client_cert", po::value<std::string>()->default_value(""))(
        "intune.client_key", po::value<std::string>()->default_value(""))(
        "intune.login_url", po::value<std::string>()->default_value("https://login.microsoftonline.com"))(
        "intune.graph_url", po::value<std::string>()->default_value("https://graph.microsoft.com"))(
        "intune.server_ca", po::value<std::string>()->default_value("/etc/ssl/certs/ca-certificates.crt"))(
        "intune.timeout_seconds", po::value<int>()->default_value(10));
}

validators::intune::IntuneSettings parse_intune(Checker& check, bool selected) {
    validators::intune::IntuneSettings s;
    s.tenant_id = check.text("intune.tenant_id");
    s.client_id = check.text("intune.client_id");
    s.login_url = check.text("intune.login_url");
    s.graph_url = check.text("intune.graph_url");
    s.timeout_seconds = check.number("intune.timeout_seconds", 1, 120);
    if (!selected) {
        return s;
    }
    if (!is_tenant(s.tenant_id)) {
        check.problem(
            "intune.tenant_id",
            "must be the Entra ID tenant's id (a GUID) or a verified domain name, not '" + s.tenant_id + "'");
    }
    if (!is_guid(s.client_id)) {
        check.problem("intune.client_id",
                      "must be the Entra ID application (client) id, a GUID, not '" + s.client_id + "'");
    }
    check_https_url(check, "intune.login_url", s.login_url);
    check_https_url(check, "intune.graph_url", s.graph_url);
    s.server_ca = check.required_path("intune.server_ca");
    const bool secret = !check.text("intune.client_secret_file").empty();
    const bool cert = !check.text("intune.client_cert").empty() || !check.text("intune.client_key").empty();
    if (secret == cert) {
        check.problem("intune.client_secret_file",
                      secret
                          ? "and client_cert/client_key exclude each other: give one way to sign in"
                          : "or client_cert with client_key must be set: how scep-ra signs in to Entra ID");
    }
    if (secret) {
        s.client_secret_file = check.path("intune.client_secret_file");
    } else if (cert) {
        s.client_cert = check.required_path("intune.client_cert");
        s.client_key = check.required_path("intune.client_key");
    }
    return s;
}

}  // namespace scepra::cli
