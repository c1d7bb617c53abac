// SPDX-License-Identifier: Apache-2.0
#include "support/fake_intune/fake_intune_process.hpp"

#include <httplib.h>

#include <stdexcept>

namespace scepra::test {

namespace {

constexpr auto startup_timeout = std::chrono::seconds(60);

ChildProcess::Options fake_intune_options(const TempDir& dir) {
    return python_fake_options("fake Intune", "tests/support/fake_intune/fake_intune.py", dir.path(),
                               {"--tenant", FakeIntune::tenant, "--client-id", FakeIntune::client_id});
}

}  // namespace

FakeIntune::FakeIntune() : m_process(fake_intune_options(m_dir)) {
    const ServicePorts ports = read_service_ports(m_process, startup_timeout);
    m_port = ports.port;
    m_control_port = ports.control_port;
}

void FakeIntune::control(const nlohmann::json& knobs) const {
    httplib::Client client("127.0.0.1", m_control_port);
    auto result = client.Post("/control", knobs.dump(), "application/json");
    if (!result || result->status != 200) {
        throw std::runtime_error("fake Intune control failed");
    }
}

nlohmann::json FakeIntune::state() const {
    httplib::Client client("127.0.0.1", m_control_port);
    auto result = client.Get("/state");
    if (!result || result->status != 200) {
        throw std::runtime_error("fake Intune state failed");
    }
    return nlohmann::json::parse(result->body);
}

validators::intune::IntuneSettings FakeIntune::settings() const {
    validators::intune::IntuneSettings s;
    s.tenant_id = tenant;
    s.client_id = client_id;
    s.client_secret_file = file("app-secret.txt");
    s.login_url = "https://localhost:" + std::to_string(m_port) + "/login";
    s.graph_url = "https://localhost:" + std::to_string(m_port) + "/graph";
    s.server_ca = file("tls-ca.pem");
    s.timeout_seconds = 5;
    return s;
}

std::string FakeIntune::config_section() const {
    const auto s = settings();
    return "[intune]\ntenant_id = " + s.tenant_id + "\nclient_id = " + s.client_id +
           "\nclient_secret_file = " + s.client_secret_file.string() + "\nlogin_url = " + s.login_url +
           "\ngraph_url = " + s.graph_url + "\nserver_ca = " + s.server_ca.string() +
           "\ntimeout_seconds = 5\n";
}

}  // namespace scepra::test
