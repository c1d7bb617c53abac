// SPDX-License-Identifier: Apache-2.0
// [adcs]: a Microsoft Enterprise CA through scep-ra's AD CS bridge.
#include "cli/config_sections.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

void add_adcs_keys(po::options_description& keys) {
    keys.add_options()("adcs.bridge_url", po::value<std::string>()->default_value(""))(
        "adcs.client_cert", po::value<std::string>()->default_value(""))(
        "adcs.client_key", po::value<std::string>()->default_value(""))(
        "adcs.server_ca", po::value<std::string>()->default_value(""))("adcs.timeout_seconds",
                                                                       po::value<int>()->default_value(60))(
        "adcs.chain", po::value<std::string>()->default_value(""))(
        "adcs.ra_signing_template", po::value<std::string>()->default_value("EnrollmentAgentOffline"))(
        "adcs.ra_encryption_template", po::value<std::string>()->default_value("CEPEncryption"));
}

backend::adcs::AdcsConfig parse_adcs(Checker& check, bool selected) {
    backend::adcs::AdcsConfig c;
    c.bridge_url = check.text("adcs.bridge_url");
    if (selected) {
        // The bridge holds the CA account's credentials: only mutual TLS reaches it.
        if (c.bridge_url.rfind("https://", 0) != 0) {
            check.problem("adcs.bridge_url",
                          "must be the bridge's https:// URL (e.g. https://127.0.0.1:8444), not '" +
                              c.bridge_url + "'");
        }
        c.client_cert = check.required_path("adcs.client_cert");
        c.client_key = check.required_path("adcs.client_key");
        c.server_ca = check.required_path("adcs.server_ca");
    }
    c.timeout_seconds = check.number("adcs.timeout_seconds", 1, 180);
    c.chain_file = check.path("adcs.chain", selected);
    c.ra_signing_template = check.text("adcs.ra_signing_template");
    c.ra_encryption_template = check.text("adcs.ra_encryption_template");
    return c;
}

}  // namespace scepra::cli
