// SPDX-License-Identifier: Apache-2.0
#include "support/fake_intune/fake_intune_process.hpp"

#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace scepra::test {

namespace {

constexpr int startup_timeout_ms = 60000;

std::string read_line(int fd) {
    std::string line;
    char c = 0;
    while (line.size() < 4096) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, startup_timeout_ms) != 1 || read(fd, &c, 1) != 1) {
            throw std::runtime_error("fake Intune did not start: got '" + line + "'");
        }
        if (c == '\n') {
            return line;
        }
        line += c;
    }
    throw std::runtime_error("fake Intune start line too long");
}

}  // namespace

FakeIntune::FakeIntune() {
    std::vector<std::string> args = {"/usr/bin/python3",
                                     SCEPRA_SOURCE_DIR "/tests/support/fake_intune/fake_intune.py",
                                     "--dir",
                                     m_dir.path(),
                                     "--tenant",
                                     tenant,
                                     "--client-id",
                                     client_id};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) {
        throw std::runtime_error("pipe");
    }
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

FakeIntune::~FakeIntune() {
    if (m_pid > 0) {
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
    }
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
