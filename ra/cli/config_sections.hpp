// SPDX-License-Identifier: Apache-2.0
// The CA backends' sections of scep-ra.conf: each backend registers its keys
// and parses its section into its own typed configuration. Only the backend
// [ca] backend selects must name files that exist.
#pragma once

#include <boost/program_options.hpp>
#include <map>
#include <string>

#include "adcs/adcs_config.hpp"
#include "cli/config_checker.hpp"
#include "core/template_policy.hpp"
#include "ejbca/ejbca_config.hpp"
#include "local/local_ca_backend.hpp"
#include "validators/intune/intune_settings.hpp"
#include "validators/webhook/webhook_config.hpp"

namespace scepra::cli {

/// Sections named by the operator ([profile.NAME], [ejbca.template.NAME]): NAME -> key -> value.
using NamedSections = std::map<std::string, std::map<std::string, std::string>>;

/// Every key of scep-ra.conf with its default: the backends' sections and the rest.
boost::program_options::options_description config_keys();

void add_local_ca_keys(boost::program_options::options_description& keys);
/// [local_ca] and the [profile.NAME] sections: the local CA's templates, and
/// the RA's policy of each template (manual_approval, min_rsa_bits,
/// allowed_key_types), which applies in front of every backend.
backend::local::LocalCaConfig parse_local_ca(Checker& check, bool selected, const NamedSections& profiles,
                                             core::TemplatePolicies& policies);

void add_ejbca_keys(boost::program_options::options_description& keys);
/// [ejbca] and the [ejbca.template.NAME] sections.
backend::ejbca::EjbcaConfig parse_ejbca(Checker& check, bool selected, const NamedSections& templates);

/// [challenge] validator and the validators' own sections ([webhook]).
void add_validator_keys(boost::program_options::options_description& keys);
validators::webhook::WebhookConfig parse_webhook(Checker& check);

void add_adcs_keys(boost::program_options::options_description& keys);
backend::adcs::AdcsConfig parse_adcs(Checker& check, bool selected);

void add_intune_keys(boost::program_options::options_description& keys);
/// [intune]: checked in full only when selected ([challenge] validator = intune).
validators::intune::IntuneSettings parse_intune(Checker& check, bool selected);

}  // namespace scepra::cli
