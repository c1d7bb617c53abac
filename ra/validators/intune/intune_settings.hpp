// SPDX-License-Identifier: Apache-2.0
// Typed settings of the Intune validator ([intune] in scep-ra.conf): the Entra
// ID application scep-ra signs in as, and where Entra ID and Graph answer.
#pragma once

#include <filesystem>
#include <string>

namespace scepra::validators::intune {

struct IntuneSettings {
    std::string tenant_id;                     ///< the Entra ID tenant (GUID or verified domain name)
    std::string client_id;                     ///< the application (client) id
    std::filesystem::path client_secret_file;  ///< a client secret, alone in a file; or:
    std::filesystem::path client_cert;         ///< a certificate registered on the application (PEM) ...
    std::filesystem::path client_key;          ///< ... and its RSA key (PEM), for a signed client assertion
    std::string login_url = "https://login.microsoftonline.com";
    std::string graph_url = "https://graph.microsoft.com";
    /// The CAs trusted for Entra ID's, Graph's and Intune's TLS certificates.
    std::filesystem::path server_ca = "/etc/ssl/certs/ca-certificates.crt";
    int timeout_seconds = 10;  ///< per HTTP call (connect, read, write each)
    /// Names this RA to Intune (the callerInfo field, Intune's log correlation).
    std::string caller_info = "scep-ra";
};

}  // namespace scepra::validators::intune
