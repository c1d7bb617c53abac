// SPDX-License-Identifier: Apache-2.0
#include "bridge_process.hpp"

#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

namespace scepra::test {

namespace {

constexpr int startup_timeout_ms = 90000;
constexpr int stop_wait_steps = 200;  // x 50 ms

std::string read_line(int fd) {
    std::string line;
    char c = 0;
    while (line.size() < 4096) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, startup_timeout_ms) != 1 || read(fd, &c, 1) != 1) {
            throw std::runtime_error("the AD CS bridge harness did not start: got '" + line + "'");
        }
        if (c == '\n') {
            return line;
        }
        line += c;
    }
    throw std::runtime_error("the AD CS bridge harness's start line is too long");
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

BridgeProcess::BridgeProcess(Options options) {
    const std::string script = SCEPRA_SOURCE_DIR "/tests/unit/adcs/bridge_harness.py";
    int out[2];
    int in[2];
    if (pipe(out) != 0) {
        throw std::runtime_error("pipe");
    }
    if (pipe(in) != 0) {
        close(out[0]);
        close(out[1]);
        throw std::runtime_error("pipe");
    }
    std::vector<std::string> args = {"/usr/bin/python3",
                                     script,
                                     "--dir",
                                     m_dir.path(),
                                     "--bridge-timeout",
                                     std::to_string(options.bridge_timeout_seconds)};
    if (options.crl_distribution_point) {
        args.emplace_back("--crl");
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    m_pid = fork();
    if (m_pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(in[0], STDIN_FILENO);
        close(out[0]);
        close(out[1]);
        close(in[0]);
        close(in[1]);
        setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    m_stdin = in[1];
    if (m_pid < 0) {
        close(out[0]);
        close(m_stdin);
        throw std::runtime_error("fork");
    }
    try {
        const auto ports = nlohmann::json::parse(read_line(out[0]));
        m_port = ports.at("port").get<int>();
        m_control_port = ports.at("control_port").get<int>();
    } catch (...) {
        close(out[0]);
        close(m_stdin);
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
        throw;
    }
    close(out[0]);
}

BridgeProcess::~BridgeProcess() {
    if (m_pid <= 0) {
        return;
    }
    // SIGTERM lets the harness stop the bridge process; then wait, bounded.
    kill(m_pid, SIGTERM);
    close(m_stdin);
    for (int i = 0; i < stop_wait_steps; ++i) {
        if (waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
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

int closed_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        throw std::runtime_error("cannot bind a loopback port");
    }
    close(fd);
    return ntohs(address.sin_port);
}

}  // namespace scepra::test
