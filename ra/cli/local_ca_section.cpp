// SPDX-License-Identifier: Apache-2.0
// [local_ca] and [profile.NAME]: the embedded OpenSSL CA.
#include <sstream>

#include "cli/config_sections.hpp"
#include "local/profile.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

void add_local_ca_keys(po::options_description& keys) {
    keys.add_options()("local_ca.cert", po::value<std::string>()->default_value("ca.pem"))(
        "local_ca.key", po::value<std::string>()->default_value("private/ca.key"))(
        "local_ca.chain", po::value<std::string>()->default_value(""))(
        "local_ca.validity_days", po::value<int>()->default_value(365))("local_ca.backdate_minutes",
                                                                        po::value<int>()->default_value(10))(
        "local_ca.key_usage", po::value<std::string>()->default_value("digitalSignature,keyEncipherment"))(
        "local_ca.extended_key_usage", po::value<std::string>()->default_value("clientAuth"))(
        "local_ca.copy_san", po::value<int>()->default_value(1))(
        "local_ca.digest", po::value<std::string>()->default_value("SHA256"))(
        "local_ca.crl_validity_hours", po::value<int>()->default_value(168))(
        "local_ca.crl_distribution_point", po::value<std::string>()->default_value(""))(
        "local_ca.crl_path", po::value<std::string>()->default_value("/crl/scep-ra.crl"));
}

namespace {

backend::local::CertificateProfile parse_profile(const std::string& name,
                                                 const std::map<std::string, std::string>& keys,
                                                 Checker& check, core::TemplatePolicy& policy) {
    backend::local::CertificateProfile p;
    p.name = name;
    p.allowed_key_types.clear();
    const std::string section = "profile." + name + ".";
    for (const auto& entry : keys) {
        // Named references, not structured bindings: clang 14 (the fuzz build) cannot capture those.
        const std::string& key = entry.first;
        const std::string& value = entry.second;
        if (key == "validity_days") {
            p.validity_days = check.number_text(section + key, value, 1, 36500);
        } else if (key == "key_usage") {
            p.key_usage = value;
        } else if (key == "extended_key_usage") {
            p.extended_key_usage = value;
        } else if (key == "copy_san") {
            p.copy_san = check.number_text(section + key, value, 0, 1) == 1;
        } else if (key == "min_rsa_bits") {
            p.min_rsa_bits = check.number_text(section + key, value, 1024, 16384);
            policy.keys.min_rsa_bits = p.min_rsa_bits;
        } else if (key == "allowed_key_types") {
            std::stringstream list(value);
            for (std::string type; std::getline(list, type, ',');) {
                type.erase(0, type.find_first_not_of(' '));
                type.erase(type.find_last_not_of(' ') + 1);
                if (!type.empty()) p.allowed_key_types.push_back(type);
            }
            policy.keys.allowed_key_types = p.allowed_key_types;
        } else if (key == "validator") {
            policy.validator = value;  // checked against the validators by check_validators()
        } else if (key == "manual_approval") {
            policy.manual_approval =
                check.number_text(section + key, value, 0, 1) == 1;  // the RA holds it, not the CA
        } else {
            check.problem(section + key,
                          "is not a profile setting (validity_days, key_usage, extended_key_usage, "
                          "copy_san, min_rsa_bits, allowed_key_types, manual_approval, validator)");
        }
    }
    try {
        backend::local::check_profile(p);
    } catch (const std::invalid_argument& e) {
        check.problem(section + "name", e.what());
    }
    return p;
}

}  // namespace

backend::local::LocalCaConfig parse_local_ca(Checker& check, bool selected, const NamedSections& profiles,
                                             core::TemplatePolicies& policies) {
    backend::local::LocalCaConfig ca;
    ca.cert_file = check.path("local_ca.cert", selected);
    ca.key_file = check.path("local_ca.key", selected);
    ca.chain_file = check.path("local_ca.chain", selected);
    ca.validity_days = check.number("local_ca.validity_days", 1, 36500);
    ca.backdate_seconds = 60 * check.number("local_ca.backdate_minutes", 0, 1440);
    ca.key_usage = check.text("local_ca.key_usage");
    ca.extended_key_usage = check.text("local_ca.extended_key_usage");
    ca.copy_san = check.flag("local_ca.copy_san");
    ca.digest = check.text("local_ca.digest");
    if (auto why = backend::local::digest_refusal(ca.digest)) {
        check.problem("local_ca.digest", *why);
    }
    ca.crl_validity_hours = check.number("local_ca.crl_validity_hours", 1, 87600);
    ca.crl_distribution_point = check.text("local_ca.crl_distribution_point");
    for (const auto& [name, keys] : profiles) {
        core::TemplatePolicy policy;
        ca.profiles.push_back(parse_profile(name, keys, check, policy));
        policies.set(name, policy);
    }
    return ca;
}

}  // namespace scepra::cli
