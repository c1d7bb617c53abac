// SPDX-License-Identifier: Apache-2.0
// [ejbca] and [ejbca.template.NAME]: EJBCA over its REST API.
#include "cli/config_sections.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

void add_ejbca_keys(po::options_description& keys) {
    keys.add_options()("ejbca.url", po::value<std::string>()->default_value(""))(
        "ejbca.client_cert", po::value<std::string>()->default_value(""))(
        "ejbca.client_key", po::value<std::string>()->default_value(""))(
        "ejbca.server_ca", po::value<std::string>()->default_value(""))(
        "ejbca.ca_name", po::value<std::string>()->default_value(""))(
        "ejbca.certificate_profile", po::value<std::string>()->default_value("ENDUSER"))(
        "ejbca.end_entity_profile", po::value<std::string>()->default_value("EMPTY"))(
        "ejbca.username", po::value<std::string>()->default_value("cn"))(
        "ejbca.chain", po::value<std::string>()->default_value(""))("ejbca.timeout_seconds",
                                                                    po::value<int>()->default_value(30))(
        "ejbca.ra_certificate_profile", po::value<std::string>()->default_value(""))(
        "ejbca.ra_end_entity_profile", po::value<std::string>()->default_value(""));
}

backend::ejbca::EjbcaConfig parse_ejbca(Checker& check, bool selected, const NamedSections& templates) {
    backend::ejbca::EjbcaConfig c;
    c.url = check.text("ejbca.url");
    if (selected) {
        // The RA's client certificate authenticates it as an EJBCA administrator: never over plain HTTP.
        if (c.url.rfind("https://", 0) != 0) {
            check.problem("ejbca.url",
                          "must be an https:// URL of EJBCA's REST API (e.g. "
                          "https://ejbca.example:8443/ejbca/ejbca-rest-api), not '" +
                              c.url + "'");
        }
        if (check.text("ejbca.ca_name").empty()) {
            check.problem("ejbca.ca_name", "must name the issuing CA as EJBCA knows it");
        }
        c.client_cert = check.required_path("ejbca.client_cert");
        c.client_key = check.required_path("ejbca.client_key");
        c.server_ca = check.required_path("ejbca.server_ca");
    }
    c.ca_name = check.text("ejbca.ca_name");
    c.certificate_profile = check.text("ejbca.certificate_profile");
    c.end_entity_profile = check.text("ejbca.end_entity_profile");
    try {
        c.username_rule = backend::ejbca::parse_username_rule(check.text("ejbca.username"));
    } catch (const std::invalid_argument&) {
        check.problem("ejbca.username", "must be cn, cn+transaction, san-dns or san-email, not '" +
                                            check.text("ejbca.username") + "'");
    }
    c.chain_file = check.path("ejbca.chain", selected);
    c.timeout_seconds = check.number("ejbca.timeout_seconds", 1, 180);
    c.ra_certificate_profile = check.text("ejbca.ra_certificate_profile");
    c.ra_end_entity_profile = check.text("ejbca.ra_end_entity_profile");
    for (const auto& [name, keys] : templates) {
        backend::ejbca::EjbcaProfiles profiles;
        for (const auto& [key, value] : keys) {
            if (key == "certificate_profile") {
                profiles.certificate_profile = value;
            } else if (key == "end_entity_profile") {
                profiles.end_entity_profile = value;
            } else {
                check.problem("ejbca.template." + name + "." + key,
                              "is not an EJBCA template setting (certificate_profile, end_entity_profile)");
            }
        }
        c.template_profiles[name] = profiles;
    }
    return c;
}

}  // namespace scepra::cli
