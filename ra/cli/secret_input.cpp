// SPDX-License-Identifier: Apache-2.0
// Secrets come from a file or stdin so they never show in `ps` or shell history.
#include "cli/secret_input.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace scepra::cli {

namespace {

// The terminal state to put back if a signal ends the process while echo is off.
termios g_saved_terminal{};
volatile sig_atomic_t g_echo_off = 0;

constexpr std::array<int, 4> restoring_signals = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};

extern "C" void restore_terminal_and_reraise(int sig) {
    if (g_echo_off) {
        tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_terminal);  // async-signal-safe
        g_echo_off = 0;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/// Turns off echo on the terminal on stdin for its lifetime: on return, on an
/// exception, and (through a signal handler) on Ctrl-C. Does nothing when
/// stdin is not a terminal.
class EchoOff {
  public:
    EchoOff() {
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved_terminal) != 0) {
            return;
        }
        struct sigaction action {};
        action.sa_handler = restore_terminal_and_reraise;
        sigemptyset(&action.sa_mask);
        for (size_t i = 0; i < restoring_signals.size(); ++i) {
            sigaction(restoring_signals[i], &action, &m_previous[i]);
        }
        termios quiet = g_saved_terminal;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        g_echo_off = 1;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
            g_echo_off = 0;
        }
        m_active = true;
    }
    ~EchoOff() {
        if (!m_active) {
            return;
        }
        if (g_echo_off) {
            tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_terminal);
            g_echo_off = 0;
        }
        for (size_t i = 0; i < restoring_signals.size(); ++i) {
            sigaction(restoring_signals[i], &m_previous[i], nullptr);
        }
        std::cerr << std::endl;  // the Enter the user typed was not echoed
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

    bool active() const { return m_active; }

  private:
    bool m_active = false;
    std::array<struct sigaction, restoring_signals.size()> m_previous{};
};

}  // namespace

std::string read_secret(const std::string& file, const std::string& what) {
    std::string line;
    if (file.empty() || file == "-") {
        EchoOff echo_off;
        if (echo_off.active()) {
            std::cerr << "Enter the " << what << " (not shown): " << std::flush;
        }
        std::getline(std::cin, line);
    } else {
        std::ifstream in(file);
        if (!in) {
            throw std::runtime_error("cannot read " + what + " from " + file);
        }
        std::getline(in, line);
    }
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    if (line.empty()) {
        throw std::runtime_error("no " + what + " given (expected on the first line of " +
                                 (file.empty() || file == "-" ? std::string("standard input") : file) + ")");
    }
    return line;
}

}  // namespace scepra::cli
