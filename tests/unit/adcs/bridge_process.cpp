// SPDX-License-Identifier: Apache-2.0
#include "bridge_process.hpp"

#include <httplib.h>

#include <cstdlib>
#include <stdexcept>

namespace scepra::test {

namespace {

constexpr auto startup_timeout = std::chrono::seconds(90);
/// The harness stops the bridge process on SIGTERM; this long, then SIGKILL.
constexpr auto stop_grace = std::chrono::seconds(10);

ChildProcess::Options harness_options(const TempDir& dir, const BridgeProcess::Options& bridge) {
    ChildProcess::Options options;
    options.name = "the AD CS bridge harness";
    options.argv = {
        "/usr/bin/python3", SCEPRA_SOURCE_DIR "/tests/unit/adcs/bridge_harness.py", "--dir", dir.path(),
        "--bridge-timeout", std::to_string(bridge.bridge_timeout_seconds)};
    if (bridge.crl_distribution_point) {
        options.argv.emplace_back("--crl");
    }
    options.environment = {{"PYTHONDONTWRITEBYTECODE", "1"}};
    options.stderr_file = dir.file("harness.log");
    options.stdout_pipe = true;
    options.stdin_pipe = true;  // the harness exits when it closes, even if this process dies
    options.stop_signal = SIGTERM;
    options.stop_grace = stop_grace;
    return options;
}

}  // namespace

std::string bridge_unavailable_reason() {
    static const std::string reason = [] {
        const int status = std::system(
            "/usr/bin/python3 -c 'import impacket.dcerpc.v5.rpcrt, cryptography' > /dev/null 2>&1");
        return status == 0 ? std::string()
                           : std::string(
                                 "/usr/bin/python3 lacks python3-impacket or python3-cryptography "
                                 "(tools/install-deps.sh --test installs them)");
    }();
    return reason;
}

BridgeProcess::BridgeProcess(Options options) : m_process(harness_options(m_dir, options)) {
    const ServicePorts ports = read_service_ports(m_process, startup_timeout);
    m_port = ports.port;
    m_control_port = ports.control_port;
}

void BridgeProcess::control(const nlohmann::json& knobs) const {
    httplib::Client client("127.0.0.1", m_control_port);
    client.set_read_timeout(60);
    auto result = client.Post("/control", knobs.dump(), "application/json");
    if (!result || result->status != 200) {
        throw std::runtime_error("AD CS bridge harness control failed: " + knobs.dump());
    }
}

nlohmann::json BridgeProcess::state() const {
    httplib::Client client("127.0.0.1", m_control_port);
    auto result = client.Get("/state");
    if (!result || result->status != 200) {
        throw std::runtime_error("AD CS bridge harness state failed");
    }
    return nlohmann::json::parse(result->body);
}

backend::adcs::AdcsConfig BridgeProcess::config() const {
    backend::adcs::AdcsConfig config;
    config.bridge_url = "https://localhost:" + std::to_string(m_port);
    config.client_cert = file("ra.pem");
    config.client_key = file("ra.key");
    config.server_ca = file("tls-ca.pem");
    config.timeout_seconds = 30;
    return config;
}

}  // namespace scepra::test
