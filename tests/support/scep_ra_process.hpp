// SPDX-License-Identifier: Apache-2.0
// The scep-ra binary as the tests run it: one command, or `scep-ra serve` in
// the background on ephemeral loopback ports. Every serve a test starts goes
// through ServeProcess, so no two tests (or two engineers) share a fixed port:
// SCEP, metrics and, when the instance has one, the admin listener all bind
// 127.0.0.1:0 and report the port they got.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

/// Where every serve in the tests listens: a free loopback port.
inline constexpr const char* ephemeral_loopback = "127.0.0.1:0";

/// Runs the scep-ra binary with these arguments (a shell command line); returns
/// its exit status, its stdout in *out and its stderr in *err.
int run_scep_ra(const TempDir& dir, const std::string& args, std::string* out = nullptr,
                std::string* err = nullptr);

/// Runs the scep-ra binary with these arguments (a shell command line); returns its exit status, and
/// its stdout and stderr together in *out.
int scep_ra(const TempDir& dir, const std::string& args, std::string* out = nullptr);

/// What one run of the scep-ra binary did.
struct CliRun {
    int status;
    std::string out;
    std::string err;
};

/// Runs the scep-ra binary with these arguments (a shell command line) and
/// input on its standard input.
CliRun run_cli(const TempDir& dir, const std::string& args, const std::string& input = "");

/// A file's permission bits (0 when it cannot be read).
unsigned file_mode(const std::string& path);

/// What `scep-ra init --dir INSTANCE_DIR INIT_ARGS` makes, as a copy of a template instance made once per
/// build folder (tests/CMakeLists.txt: SCEPRA_INSTANCE_TEMPLATES_DIR) for these INIT_ARGS: init generates
/// four RSA-2048 keys (1.6 s of CPU), and ctest runs every test case in a process of its own. The first
/// process to need a template makes it under an exclusive flock, with the scep-ra binary of this build, and
/// renames it into place whole; a rebuilt binary gets new templates. init writes paths relative to the
/// instance, so the copy (modes kept: private/ 0700, keys 0600) is an instance of its own, with the
/// template's keys. Not for arguments naming a test's own files or ports, nor for tests of init itself.
/// Returns the path of its scep-ra.conf.
std::string init_from_template(const std::string& instance_dir, const std::string& init_args);

/// `scep-ra init` of an instance in DIR/instance without an admin listener (init_from_template);
/// returns the path of its scep-ra.conf.
std::string init_instance(const TempDir& dir);

struct ServeOptions {
    /// Its files in the test's directory: NAME.log (stderr, appended), NAME.port, NAME.metrics-port,
    /// NAME.admin-port.
    std::string name = "serve";
    std::vector<std::string> extra_args{};
    /// --metrics-listen; "" leaves the file's [metrics] listen.
    std::string metrics_listen = ephemeral_loopback;
    /// --admin-listen, when the configuration has an admin listener; "" leaves the file's.
    std::string admin_listen = ephemeral_loopback;
    /// Set in serve's environment over the test's own.
    std::vector<std::pair<std::string, std::string>> environment{};
    /// A program that runs serve, e.g. {"prlimit", "--fsize=N:"}.
    std::vector<std::string> wrapper{};
    /// Ignored in serve (SIGXFSZ: a write past RLIMIT_FSIZE fails with EFBIG instead of killing it).
    std::vector<int> ignored_signals{};
    /// How long serve may take until its SCEP port file is written.
    std::chrono::seconds start_timeout{30};
};

/// `scep-ra serve --config CONF` as a child process; the constructor returns once
/// the SCEP port is bound (REQUIRE), the destructor kills it with SIGKILL.
class ServeProcess {
  public:
    ServeProcess(const TempDir& dir, const std::string& conf, ServeOptions options = {});
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;

    int port() const { return m_port; }
    /// 0 when the metrics listener is off.
    int metrics_port() const { return m_metrics_port; }
    /// 0 when there is no admin listener.
    int admin_port() const { return m_admin_port; }
    pid_t pid() const { return m_process->pid(); }
    /// What the server wrote to stderr so far (its log).
    std::string log() const;
    /// Waits (bounded) until its log holds text; whether it does.
    bool logged(const std::string& text) const;
    /// SIGTERM, then waits (bounded) until it has exited.
    void stop();
    /// SIGKILL, then waits (bounded) until it has exited.
    void kill9();
    /// Waits (bounded) until it exits by itself: its exit status, or nothing when it still runs.
    std::optional<int> wait_exit();

  private:
    std::string file(const std::string& suffix) const;

    const TempDir& m_dir;
    ServeOptions m_options;
    std::unique_ptr<ChildProcess> m_process;
    int m_port = 0;
    int m_metrics_port = 0;
    int m_admin_port = 0;
};

}  // namespace scepra::test
