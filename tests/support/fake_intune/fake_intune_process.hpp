// SPDX-License-Identifier: Apache-2.0
// Runs tests/support/fake_intune/fake_intune.py (a fake Entra ID, Graph and
// Intune validation service on one loopback TLS port) as a subprocess.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "support/child_process.hpp"
#include "support/test_pki.hpp"
#include "validators/intune/intune_settings.hpp"

namespace scepra::test {

class FakeIntune {
  public:
    static constexpr const char* tenant = "contoso.example";
    static constexpr const char* client_id = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

    FakeIntune();
    FakeIntune(const FakeIntune&) = delete;
    FakeIntune& operator=(const FakeIntune&) = delete;

    /// A file the fake wrote (tls-ca.pem, app-secret.txt, app-cert.pem, app-key.pem, other-cert.pem, ...).
    std::string file(const std::string& name) const { return m_dir.file(name); }
    int port() const { return m_port; }
    /// Merges knobs into the fake's behaviour (see fake_intune.py).
    void control(const nlohmann::json& knobs) const;
    /// token_requests, discovery_requests, actions, violations.
    nlohmann::json state() const;
    /// Settings that sign in with the client secret.
    validators::intune::IntuneSettings settings() const;
    /// The [intune] section of a scep-ra.conf for these settings.
    std::string config_section() const;

  private:
    TempDir m_dir;
    ChildProcess m_process;
    int m_port = 0;
    int m_control_port = 0;
};

}  // namespace scepra::test
