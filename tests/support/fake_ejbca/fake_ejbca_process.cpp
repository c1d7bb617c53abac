// SPDX-License-Identifier: Apache-2.0
#include "support/fake_ejbca/fake_ejbca_process.hpp"

#include <httplib.h>

#include <stdexcept>

namespace scepra::test {

namespace {

constexpr auto startup_timeout = std::chrono::seconds(60);

ChildProcess::Options fake_ejbca_options(const TempDir& dir, const FakeEjbca::Options& fake) {
    std::vector<std::string> arguments{"--server-name", fake.server_name};
    if (fake.client_cert_optional) {
        arguments.insert(arguments.end(), {"--client-cert", "optional"});
    }
    return python_fake_options("fake EJBCA", "tests/support/fake_ejbca/fake_ejbca.py", dir.path(), arguments);
}

}  // namespace

FakeEjbca::FakeEjbca(Options options) : m_process(fake_ejbca_options(m_dir, options)) {
    const ServicePorts ports = read_service_ports(m_process, startup_timeout);
    m_port = ports.port;
    m_control_port = ports.control_port;
}

void FakeEjbca::control(const nlohmann::json& knobs) const {
    httplib::Client client("127.0.0.1", m_control_port);
    auto result = client.Post("/control", knobs.dump(), "application/json");
    if (!result || result->status != 200) {
        throw std::runtime_error("fake EJBCA control failed");
    }
}

nlohmann::json FakeEjbca::state() const {
    httplib::Client client("127.0.0.1", m_control_port);
    auto result = client.Get("/state");
    if (!result || result->status != 200) {
        throw std::runtime_error("fake EJBCA state failed");
    }
    return nlohmann::json::parse(result->body);
}

backend::ejbca::EjbcaConfig FakeEjbca::config() const {
    backend::ejbca::EjbcaConfig config;
    config.url = "https://localhost:" + std::to_string(m_port) + "/ejbca/ejbca-rest-api";
    config.client_cert = file("admin.pem");
    config.client_key = file("admin.key");
    config.server_ca = file("tls-ca.pem");
    config.ca_name = "IssuingCA";
    config.certificate_profile = "SCEP_DEVICE";
    config.end_entity_profile = "SCEP_EEP";
    config.timeout_seconds = 10;
    return config;
}

}  // namespace scepra::test
