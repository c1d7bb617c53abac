// SPDX-License-Identifier: Apache-2.0
#include "support/scep_ra_process.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "crypto/encoding.hpp"

namespace scepra::test {

namespace {

constexpr auto poll_step = std::chrono::milliseconds(25);
constexpr auto exit_timeout = std::chrono::seconds(20);
constexpr auto log_timeout = std::chrono::seconds(20);

/// Whether the configuration's [admin] section has a listen address.
bool has_admin_listener(const std::string& conf) {
    std::istringstream lines(crypto::read_file(conf));
    std::string section;
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("[")) {
            section = line.substr(0, line.find(']') + 1);
        } else if (section == "[admin]" && line.starts_with("listen")) {
            const auto equals = line.find('=');
            return equals != std::string::npos &&
                   line.find_first_not_of(" \t", equals + 1) != std::string::npos;
        }
    }
    return false;
}

/// The number a port file holds once it is written whole (newline-terminated), else 0.
int port_in(const std::string& file) {
    if (!std::filesystem::exists(file)) {
        return 0;
    }
    const std::string text = crypto::read_file(file);
    return text.ends_with("\n") ? std::stoi(text) : 0;
}

}  // namespace

int run_scep_ra(const TempDir& dir, const std::string& args, std::string* out, std::string* err) {
    const std::string out_file = dir.file("cli.out");
    const std::string err_file = dir.file("cli.err");
    const int rc =
        std::system((std::string(SCEPRA_BINARY) + " " + args + " >" + out_file + " 2>" + err_file).c_str());
    if (out) *out = crypto::read_file(out_file);
    if (err) *err = crypto::read_file(err_file);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

CliRun run_cli(const TempDir& dir, const std::string& args, const std::string& input) {
    const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt"), in = dir.file("stdin.txt");
    crypto::write_file(in, input, 0600, true);
    const int rc =
        std::system((std::string(SCEPRA_BINARY) + " " + args + " >" + out + " 2>" + err + " <" + in).c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, crypto::read_file(out), crypto::read_file(err)};
}

unsigned file_mode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 0777;
}

std::string init_instance(const TempDir& dir) {
    REQUIRE(run_scep_ra(dir, "init --dir " + dir.file("instance") + " --admin-listen none") == 0);
    return dir.file("instance/scep-ra.conf");
}

ServeProcess::ServeProcess(const TempDir& dir, const std::string& conf, ServeOptions options)
    : m_dir(dir), m_options(std::move(options)) {
    for (const char* suffix : {".port", ".metrics-port", ".admin-port"}) {
        std::filesystem::remove(file(suffix));  // a server started before in this directory left them
    }
    ChildProcess::Options child;
    child.name = "scep-ra serve";
    child.argv = m_options.wrapper;
    child.argv.insert(child.argv.end(), {SCEPRA_BINARY, "serve", "--config", conf, "--listen",
                                         ephemeral_loopback, "--port-file", file(".port")});
    if (!m_options.metrics_listen.empty()) {
        child.argv.insert(child.argv.end(), {"--metrics-listen", m_options.metrics_listen});
    }
    child.argv.insert(child.argv.end(), {"--metrics-port-file", file(".metrics-port")});
    const bool admin = has_admin_listener(conf);
    if (admin && !m_options.admin_listen.empty()) {
        child.argv.insert(child.argv.end(), {"--admin-listen", m_options.admin_listen});
    }
    child.argv.insert(child.argv.end(), {"--admin-port-file", file(".admin-port")});
    child.argv.insert(child.argv.end(), m_options.extra_args.begin(), m_options.extra_args.end());
    child.environment = m_options.environment;
    child.stderr_file = file(".log");
    child.ignored_signals = m_options.ignored_signals;
    m_process = std::make_unique<ChildProcess>(std::move(child));

    // serve writes the metrics port file, then the SCEP one, then the admin one.
    const auto started = [&] {
        return port_in(file(".port")) > 0 && (!admin || port_in(file(".admin-port")) > 0);
    };
    const auto deadline = std::chrono::steady_clock::now() + m_options.start_timeout;
    while (!started() && m_process->running() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(poll_step);
    }
    INFO(log());
    REQUIRE(started());
    m_port = port_in(file(".port"));
    m_metrics_port = port_in(file(".metrics-port"));
    m_admin_port = port_in(file(".admin-port"));
}

std::string ServeProcess::file(const std::string& suffix) const {
    return m_dir.file(m_options.name + suffix);
}

std::string ServeProcess::log() const {
    return std::filesystem::exists(file(".log")) ? crypto::read_file(file(".log")) : "";
}

bool ServeProcess::logged(const std::string& text) const {
    const auto deadline = std::chrono::steady_clock::now() + log_timeout;
    while (log().find(text) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(poll_step);
    }
    return true;
}

void ServeProcess::stop() {
    INFO(log());
    REQUIRE(m_process->stop(SIGTERM, exit_timeout));
}

void ServeProcess::kill9() { REQUIRE(m_process->stop(SIGKILL, exit_timeout)); }

std::optional<int> ServeProcess::wait_exit() {
    return m_process->wait_exit(exit_timeout) ? m_process->exit_status() : std::nullopt;
}

}  // namespace scepra::test
