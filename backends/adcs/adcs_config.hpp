// SPDX-License-Identifier: Apache-2.0
// Typed configuration of the AD CS backend: scep-ra talks to the bridge
// (backends/adcs/bridge), which speaks MS-ICPR / MS-WCCE to the CA.
#pragma once

#include <filesystem>
#include <string>

namespace scepra::backend::adcs {

struct AdcsConfig {
    std::string bridge_url;              ///< e.g. https://127.0.0.1:8444
    std::filesystem::path client_cert;   ///< the RA's TLS client certificate for the bridge (PEM)
    std::filesystem::path client_key;    ///< its unencrypted PEM key
    std::filesystem::path server_ca;     ///< verifies the bridge's TLS certificate (PEM)
    /// Optional PEM chain (issuing CA first). Empty: GET /v1/ca at start.
    std::filesystem::path chain_file;
    int timeout_seconds = 60;
    /// The templates NDES enrols its RA certificates with (scep-ra init --backend adcs).
    std::string ra_signing_template = "EnrollmentAgentOffline";
    std::string ra_encryption_template = "CEPEncryption";
};

}  // namespace scepra::backend::adcs
