// SPDX-License-Identifier: Apache-2.0
// scep-ra.conf: the INI file read by every subcommand, as plain structs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/scep_service.hpp"
#include "http/scep_http_server.hpp"
#include "local/local_ca_backend.hpp"
#include "store/challenge_store.hpp"

namespace scepra::cli {

/// The NDES password settings, under their NDES registry names.
struct PasswordConfig {
    bool enforce_password = true;      ///< EnforcePassword
    bool use_single_password = false;  ///< UseSinglePassword
    store::ChallengePolicy one_time;   ///< PasswordMax, PasswordLength, PasswordValidity
    std::filesystem::path hmac_key_file;
};

struct TemplateConfig {
    std::string signature = "IPSECIntermediateOffline";        ///< SignatureTemplate
    std::string encryption = "IPSECIntermediateOffline";       ///< EncryptionTemplate
    std::string general_purpose = "IPSECIntermediateOffline";  ///< GeneralPurposeTemplate
};

struct AppConfig {
    std::filesystem::path file;  ///< where it was read from
    http::ListenOptions listen;
    std::filesystem::path signing_cert, signing_key, encryption_cert, encryption_key;
    bool allow_single_des = false;
    int max_clock_skew_minutes = 0;
    std::filesystem::path database;
    std::string backend = "local";
    backend::local::LocalCaConfig local_ca;
    PasswordConfig password;
    TemplateConfig templates;
};

/// Thrown for any problem with the configuration; the message names the file
/// and the key.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Reads and validates the file. Relative paths are resolved against the
/// file's directory. Throws ConfigError listing every problem found.
AppConfig load_config(const std::filesystem::path& file);

/// The commented configuration `scep-ra init` writes, with every key at its default.
std::string default_config_text(const std::string& listen);

}  // namespace scepra::cli
