// SPDX-License-Identifier: Apache-2.0
// Runs tests/support/fake_ejbca/fake_ejbca.py as a subprocess on ephemeral
// loopback ports, and talks to its control endpoint.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ejbca/ejbca_config.hpp"
#include "support/child_process.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

class FakeEjbca {
  public:
    struct Options {
        bool client_cert_optional = false;      ///< TLS accepts a client without a certificate
        std::string server_name = "localhost";  ///< the name in the server certificate
    };
    FakeEjbca() : FakeEjbca(Options{}) {}
    explicit FakeEjbca(Options options);
    FakeEjbca(const FakeEjbca&) = delete;
    FakeEjbca& operator=(const FakeEjbca&) = delete;

    /// A file the fake wrote (tls-ca.pem, admin.pem, chain.pem, ...).
    std::string file(const std::string& name) const { return m_dir.file(name); }
    int port() const { return m_port; }
    /// Merges knobs into the fake's behaviour (see fake_ejbca.py).
    void control(const nlohmann::json& knobs) const;
    /// Enrolments, end entities, the last enrolment request.
    nlohmann::json state() const;
    /// A working backend configuration: admin client certificate, the fake's TLS CA, its CA and profiles.
    backend::ejbca::EjbcaConfig config() const;

  private:
    TempDir m_dir;
    ChildProcess m_process;
    int m_port = 0;
    int m_control_port = 0;
};

}  // namespace scepra::test
