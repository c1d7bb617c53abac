// SPDX-License-Identifier: Apache-2.0
#include "support/scep_ra_process.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "common/unique_fd.hpp"
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

namespace fs = std::filesystem;

/// The template's folder name: the init arguments (letters and digits kept, the rest '_'), the scep-ra
/// binary's modification time (a rebuilt binary makes new templates) and today's UTC day number (the
/// certificates in a template are never a day older than the test run).
std::string template_name(const std::string& init_args) {
    std::string name = "init";
    for (const char c : init_args) {
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    struct stat binary {};
    REQUIRE(::stat(SCEPRA_BINARY, &binary) == 0);
    const auto day = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    return name + "-binary-" + std::to_string(binary.st_mtim.tv_sec) + "." +
           std::to_string(binary.st_mtim.tv_nsec) + "-day-" + std::to_string(day.time_since_epoch().count());
}

/// Copies the folder `from` to `to` (which must not hold its files), each file and folder with the
/// permission bits it has in `from`.
void copy_with_modes(const fs::path& from, const fs::path& to) {
    fs::create_directory(to);
    fs::permissions(to, fs::status(from).permissions(), fs::perm_options::replace);
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(from)) {
        const fs::path target = to / fs::relative(entry.path(), from);
        if (entry.is_directory()) {
            fs::create_directory(target);
        } else {
            fs::copy_file(entry.path(), target);
        }
        fs::permissions(target, entry.status().permissions(), fs::perm_options::replace);
    }
}

/// The template instance for init_args, made when it is not there yet (by one process at a time: an
/// exclusive flock on NAME.lock; init runs into NAME.partial, which is renamed to NAME whole).
fs::path instance_template(const std::string& init_args) {
    const fs::path templates = SCEPRA_INSTANCE_TEMPLATES_DIR;
    const std::string name = template_name(init_args);
    const fs::path made = templates / name;
    if (fs::exists(made)) {
        return made;
    }
    fs::create_directories(templates);
    const fs::path lock_file = templates / (name + ".lock");
    const UniqueFd lock(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    REQUIRE(lock.get() >= 0);
    REQUIRE(::flock(lock.get(), LOCK_EX) == 0);  // released when lock closes
    if (!fs::exists(made)) {
        const fs::path partial = templates / (name + ".partial");
        fs::remove_all(partial);  // left by a process killed while it made the template
        const fs::path output = templates / (name + ".out");
        const int rc =
            std::system((std::string(SCEPRA_BINARY) + " init --dir " + (partial / "instance").string() + " " +
                         init_args + " >" + output.string() + " 2>&1")
                            .c_str());
        INFO("scep-ra init " << init_args << ": " << crypto::read_file(output));
        REQUIRE(WIFEXITED(rc));
        REQUIRE(WEXITSTATUS(rc) == 0);
        fs::rename(partial / "instance", made);
        fs::remove_all(partial);
    }
    return made;
}

}  // namespace

std::string init_from_template(const std::string& instance_dir, const std::string& init_args) {
    copy_with_modes(instance_template(init_args), instance_dir);
    return instance_dir + "/scep-ra.conf";
}

int run_scep_ra(const TempDir& dir, const std::string& args, std::string* out, std::string* err) {
    const std::string out_file = dir.file("cli.out");
    const std::string err_file = dir.file("cli.err");
    const int rc =
        std::system((std::string(SCEPRA_BINARY) + " " + args + " >" + out_file + " 2>" + err_file).c_str());
    if (out) *out = crypto::read_file(out_file);
    if (err) *err = crypto::read_file(err_file);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int scep_ra(const TempDir& dir, const std::string& args, std::string* out) {
    const std::string file = dir.file("cli.out");
    const int rc = std::system((std::string(SCEPRA_BINARY) + " " + args + " >" + file + " 2>&1").c_str());
    if (out) *out = crypto::read_file(file);
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
    return init_from_template(dir.file("instance"), "--admin-listen none");
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
