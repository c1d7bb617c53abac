// SPDX-License-Identifier: Apache-2.0
// Typed configuration of the AD CS backend ([adcs] in scep-ra.conf): where the
// bridge (backends/adcs/bridge) listens and how scep-ra authenticates to it.
#pragma once

#include <filesystem>
#include <string>

namespace scepra::backend::adcs {

struct AdcsConfig {
    /// Base URL of the bridge's API, e.g. https://127.0.0.1:8444
    std::string bridge_url;
    std::filesystem::path client_cert;  ///< the RA's TLS client certificate (PEM), on allow_client
    std::filesystem::path client_key;   ///< its unencrypted PEM key
    std::filesystem::path server_ca;    ///< the only CA(s) trusted for the bridge's TLS certificate
    /// Optional PEM chain, issuing CA first, read again at every reload. Empty:
    /// GET /v1/ca from the bridge at start and at every reload.
    std::filesystem::path chain_file;
    /// chain_file is the copy kept of what the bridge answered (the bridge was
    /// down at start): a reload asks the bridge again.
    bool chain_file_is_copy = false;
    int timeout_seconds = 60;  ///< connect, read and write timeouts, each; above the bridge's own
    /// The AD CS templates NDES enrols its own RA certificates with.
    std::string ra_signing_template = "EnrollmentAgentOffline";
    std::string ra_encryption_template = "CEPEncryption";
};

}  // namespace scepra::backend::adcs
