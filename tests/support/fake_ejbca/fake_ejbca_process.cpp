// SPDX-License-Identifier: Apache-2.0
#include "support/fake_ejbca/fake_ejbca_process.hpp"

#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace scepra::test {

namespace {

constexpr int startup_timeout_ms = 60000;

std::string read_line(int fd) {
    std::string line;
    char c = 0;
    while (line.size() < 4096) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, startup_timeout_ms) != 1 || read(fd, &c, 1) != 1) {
            throw std::runtime_error("fake EJBCA did not start: got '" + line + "'");
        }
        if (c == '\n') {
            return line;
        }
        line += c;
    }
    throw std::runtime_error("fake EJBCA start line too long");
}

}  // namespace

FakeEjbca::FakeEjbca(Options options) {
    const std::string script = SCEPRA_SOURCE_DIR "/tests/support/fake_ejbca/fake_ejbca.py";
    int fds[2];
    if (pipe(fds) != 0) {
        throw std::runtime_error("pipe");
    }
    std::vector<std::string> args = {"/usr/bin/python3", script,          "--dir",
                                     m_dir.path(),       "--server-name", options.server_name};
    if (options.client_cert_optional) {
        args.insert(args.end(), {"--client-cert", "optional"});
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    m_pid = fork();
    if (m_pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(fds[1]);
    if (m_pid < 0) {
        close(fds[0]);
        throw std::runtime_error("fork");
    }
    try {
        const auto ports = nlohmann::json::parse(read_line(fds[0]));
        m_port = ports.at("port").get<int>();
        m_control_port = ports.at("control_port").get<int>();
    } catch (...) {
        close(fds[0]);
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
        throw;
    }
    close(fds[0]);
}

FakeEjbca::~FakeEjbca() {
    if (m_pid > 0) {
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
    }
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

int closed_loopback_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("cannot bind a loopback port");
    }
    close(fd);
    return ntohs(address.sin_port);
}

}  // namespace scepra::test
