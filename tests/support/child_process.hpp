// SPDX-License-Identifier: Apache-2.0
// A program the tests start as a child process (a Python fake, the AD CS
// bridge harness, `scep-ra serve`): every wait bounded, its standard error kept
// in a file for failure messages, and the destructor kills and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace scepra::test {

class ChildProcess {
  public:
    struct Options {
        std::string name;               ///< what failure messages call it ("fake EJBCA")
        std::vector<std::string> argv;  ///< argv[0] a path, or a name looked up on PATH
        std::vector<std::pair<std::string, std::string>> environment;  ///< set over the inherited one
        std::string stderr_file;           ///< its standard error is appended here; "" leaves it the test's
        bool stdout_pipe = false;          ///< read_line() reads its standard output; else it is the test's
        bool stdin_pipe = false;           ///< its standard input a pipe that stays open until it is stopped
        std::vector<int> ignored_signals;  ///< ignored in the child (and kept so across exec)
        int stop_signal = SIGKILL;         ///< the destructor's first signal
        std::chrono::milliseconds stop_grace{0};  ///< how long the destructor waits after it, then SIGKILL
    };

    explicit ChildProcess(Options options);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return m_pid; }
    /// One line of its standard output (without the newline); throws, with its standard error, when
    /// none comes within timeout or the line is longer than 4096 bytes.
    std::string read_line(std::chrono::milliseconds timeout);
    /// Still running (an exited child is reaped here).
    bool running();
    /// Sends the signal; whether it has exited (and been reaped) within timeout.
    bool stop(int signal, std::chrono::milliseconds timeout);
    /// Whether it exits by itself within timeout.
    bool wait_exit(std::chrono::milliseconds timeout);
    /// Once it has exited and been reaped: its exit code, or 128 + the signal that ended it.
    std::optional<int> exit_status() const { return m_exit_status; }
    /// What it wrote to its standard error so far ("" when it was not kept).
    std::string stderr_text() const;

  private:
    void close_pipes();

    Options m_options;
    pid_t m_pid = -1;
    bool m_reaped = false;
    std::optional<int> m_exit_status;
    int m_stdout = -1;
    int m_stdin = -1;
};

/// How a Python fake of a remote system (tests/support/fake_*) starts:
/// `/usr/bin/python3 SOURCE_DIR/script --dir dir arguments...`, its standard
/// error appended to dir/fake.log, its standard output read for the line
/// read_service_ports() reads. script is relative to the source tree.
ChildProcess::Options python_fake_options(const std::string& name, const std::string& script,
                                          const std::string& dir, const std::vector<std::string>& arguments);

/// The line a fake prints once it listens: {"port": N, "control_port": M}.
struct ServicePorts {
    int port = 0;
    int control_port = 0;
};
ServicePorts read_service_ports(ChildProcess& child, std::chrono::milliseconds timeout);

}  // namespace scepra::test
