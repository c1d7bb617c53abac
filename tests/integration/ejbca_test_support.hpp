// SPDX-License-Identifier: Apache-2.0
// Shared by the EJBCA integration tests: [ejbca] sections that reach the fake
// EJBCA, and the scep-ra binary run as the operator would.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <map>
#include <string>

#include "crypto/encoding.hpp"
#include "support/fake_ejbca/fake_ejbca_process.hpp"
#include "support/scep_ra_process.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

using Settings = std::map<std::string, std::string>;

/// The [ejbca] keys that reach the fake: URL, client credentials, CA and device profiles.
inline Settings ejbca_settings(const FakeEjbca& fake) {
    return {
        {"url", "https://localhost:" + std::to_string(fake.port()) + "/ejbca/ejbca-rest-api"},
        {"client_cert", fake.file("admin.pem")},
        {"client_key", fake.file("admin.key")},
        {"server_ca", fake.file("tls-ca.pem")},
        {"ca_name", "IssuingCA"},
        {"certificate_profile", "SCEP_DEVICE"},
        {"end_entity_profile", "SCEP_EEP"},
    };
}

/// An [ejbca] section that reaches the fake, with `changes` to its keys.
inline std::string ejbca_section(const FakeEjbca& fake, const Settings& changes = {}) {
    Settings keys = ejbca_settings(fake);
    keys["timeout_seconds"] = "10";
    for (const auto& [key, value] : changes) keys[key] = value;
    std::string text = "\n[ejbca]\n";
    for (const auto& [key, value] : keys) text += key + " = " + value + "\n";
    return text;
}

/// `scep-ra serve --config conf` on free loopback ports: its log (once stopped)
/// and GetCACert's answer.
struct ServeResult {
    std::string log;
    bool answers = false;
    std::string ca_certs;  ///< the GetCACert body
};

inline ServeResult serve_instance(const std::string& conf) {
    TempDir dir;
    ServeProcess server(dir, conf);  // the health check may wait out EJBCA's timeout (a few seconds here)
    ServeResult result;
    httplib::Client client("127.0.0.1", server.port());
    auto res = client.Get("/certsrv/mscep/mscep.dll?operation=GetCACert");
    result.answers = res && res->status == 200;
    if (result.answers) result.ca_certs = res->body;
    server.stop();
    result.log = server.log();
    return result;
}

}  // namespace scepra::test
