// SPDX-License-Identifier: Apache-2.0
#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace scepra::test {

namespace {

constexpr size_t max_line = 4096;
constexpr auto poll_step = std::chrono::milliseconds(10);

/// The inherited environment with `overrides` set over it, as "NAME=VALUE" strings.
std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>>& overrides) {
    std::vector<std::string> entries;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry(*e);
        bool overridden = false;
        for (const auto& [name, value] : overrides) {
            overridden = overridden || entry.starts_with(name + "=");
        }
        if (!overridden) {
            entries.push_back(entry);
        }
    }
    for (const auto& [name, value] : overrides) {
        entries.push_back(name + "=" + value);
    }
    return entries;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (auto& s : strings) {
        result.push_back(s.data());
    }
    result.push_back(nullptr);
    return result;
}

void close_fd(int& fd) {
    if (fd >= 0) {
        close(fd);
        fd = -1;
    }
}

}  // namespace

ChildProcess::ChildProcess(Options options) : m_options(std::move(options)) {
    if (m_options.argv.empty()) {
        throw std::invalid_argument("ChildProcess: no program");
    }
    // Everything the child needs is made before fork: after it only async-signal-safe calls.
    std::vector<std::string> args = m_options.argv;
    std::vector<std::string> env = environment_with(m_options.environment);
    std::vector<char*> argv = pointers(args);
    std::vector<char*> envp = pointers(env);
    int err = -1;
    if (!m_options.stderr_file.empty()) {
        err = open(m_options.stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (err < 0) {
            throw std::runtime_error("cannot open " + m_options.stderr_file);
        }
    }
    int out[2] = {-1, -1};
    int in[2] = {-1, -1};
    if ((m_options.stdout_pipe && pipe2(out, O_CLOEXEC) != 0) ||
        (m_options.stdin_pipe && pipe2(in, O_CLOEXEC) != 0)) {
        for (int fd : {err, out[0], out[1], in[0], in[1]}) {
            close_fd(fd);
        }
        throw std::runtime_error("pipe for " + m_options.name);
    }
    m_pid = fork();
    if (m_pid == 0) {
        if (out[1] >= 0) dup2(out[1], STDOUT_FILENO);
        if (in[0] >= 0) dup2(in[0], STDIN_FILENO);
        if (err >= 0) dup2(err, STDERR_FILENO);
        for (int signal : m_options.ignored_signals) {
            ::signal(signal, SIG_IGN);
        }
        execvpe(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    close_fd(err);
    close_fd(out[1]);
    close_fd(in[0]);
    m_stdout = out[0];
    m_stdin = in[1];
    if (m_pid < 0) {
        close_pipes();
        throw std::runtime_error("fork for " + m_options.name);
    }
}

ChildProcess::~ChildProcess() {
    if (m_pid <= 0 || m_reaped) {
        close_pipes();
        return;
    }
    if (m_options.stop_signal != SIGKILL) {
        ::kill(m_pid, m_options.stop_signal);
        close_pipes();  // a child that exits when its standard input closes
        if (wait_exit(m_options.stop_grace)) {
            return;
        }
    }
    close_pipes();
    ::kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
}

void ChildProcess::close_pipes() {
    close_fd(m_stdout);
    close_fd(m_stdin);
}

std::string ChildProcess::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    char c = 0;
    while (line.size() < max_line) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{m_stdout, POLLIN, 0};
        if (m_stdout < 0 || left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1 ||
            read(m_stdout, &c, 1) != 1) {
            throw std::runtime_error(m_options.name + " did not start: got '" + line + "'; its stderr:\n" +
                                     stderr_text());
        }
        if (c == '\n') {
            return line;
        }
        line += c;
    }
    throw std::runtime_error(m_options.name + " wrote a line longer than " + std::to_string(max_line) +
                             " bytes");
}

bool ChildProcess::running() {
    if (m_pid <= 0 || m_reaped) {
        return false;
    }
    int status = 0;
    if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_reaped = true;
        m_exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return !m_reaped;
}

bool ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(poll_step);
    }
    return true;
}

bool ChildProcess::stop(int signal, std::chrono::milliseconds timeout) {
    if (running()) {
        ::kill(m_pid, signal);
    }
    return wait_exit(timeout);
}

std::string ChildProcess::stderr_text() const {
    if (m_options.stderr_file.empty()) {
        return "";
    }
    std::ifstream in(m_options.stderr_file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

ChildProcess::Options python_fake_options(const std::string& name, const std::string& script,
                                          const std::string& dir, const std::vector<std::string>& arguments) {
    ChildProcess::Options options;
    options.name = name;
    options.argv = {"/usr/bin/python3", std::string(SCEPRA_SOURCE_DIR) + "/" + script, "--dir", dir};
    options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
    options.stderr_file = dir + "/fake.log";
    options.stdout_pipe = true;
    return options;
}

ServicePorts read_service_ports(ChildProcess& child, std::chrono::milliseconds timeout) {
    const auto ports = nlohmann::json::parse(child.read_line(timeout));
    return {ports.at("port").get<int>(), ports.at("control_port").get<int>()};
}

}  // namespace scepra::test
