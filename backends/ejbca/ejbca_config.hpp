// SPDX-License-Identifier: Apache-2.0
// Typed configuration of the EJBCA REST backend.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace scepra::backend::ejbca {

/// How the end-entity username EJBCA files the certificate under is built.
/// pkcs10enroll creates the end entity or edits the one with that name.
enum class UsernameRule {
    cn,              ///< the CSR subject's commonName
    cn_transaction,  ///< commonName + "-" + the SCEP transactionID
    san_dns,         ///< the first dNSName of the requested subjectAltName
    san_email,       ///< the first rfc822Name of the requested subjectAltName
};

/// Parses "cn", "cn+transaction", "san-dns", "san-email"; throws std::invalid_argument otherwise.
UsernameRule parse_username_rule(const std::string& text);
std::string to_string(UsernameRule rule);

/// Profiles used for one SCEP template (NDES certificate template name).
struct EjbcaProfiles {
    std::string certificate_profile;
    std::string end_entity_profile;
};

struct EjbcaConfig {
    /// Base URL of the REST API, e.g. https://ejbca.example.net:8443/ejbca/ejbca-rest-api
    std::string url;
    std::filesystem::path client_cert;  ///< the RA's TLS client certificate (PEM)
    std::filesystem::path client_key;   ///< its unencrypted PEM key
    std::filesystem::path server_ca;    ///< the only CA(s) trusted for EJBCA's server certificate (PEM)
    std::string ca_name;                ///< certificate_authority_name (the CA's name, not its DN)
    std::string certificate_profile;    ///< default certificate_profile_name
    std::string end_entity_profile;     ///< default end_entity_profile_name
    UsernameRule username_rule = UsernameRule::cn;
    /// Per-template profiles, by template name (compared case-insensitively);
    /// an empty field falls back to the default above.
    std::map<std::string, EjbcaProfiles> template_profiles;
    /// Optional PEM chain (issuing CA first, up to the root). When set, it is
    /// ca_chain() and EJBCA is not asked for it.
    std::filesystem::path chain_file;
    /// chain_file is scep-ra's copy of the chain EJBCA served (it was down at
    /// start): refresh_ca_chain() asks EJBCA again.
    bool chain_file_is_copy = false;
    int timeout_seconds = 30;  ///< connect, read and write timeouts, each
    /// Profiles `scep-ra init --backend ejbca` enrols the RA's own certificates with.
    std::string ra_certificate_profile;
    std::string ra_end_entity_profile;
};

}  // namespace scepra::backend::ejbca
