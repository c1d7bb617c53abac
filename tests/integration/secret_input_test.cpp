// SPDX-License-Identifier: Apache-2.0
// A secret typed at a terminal is not echoed, and the terminal gets its echo
// back afterwards, also when the user presses Ctrl-C. Runs read_secret in a
// child process on a real pseudo-terminal.
#include "cli/secret_input.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <string>

namespace {

/// Output of the terminal until `until` appears or 10 s of silence (at most 64 KiB).
std::string read_terminal(int master, const std::string& until, std::string so_far = {}) {
    char buffer[1024];
    while (so_far.find(until) == std::string::npos && so_far.size() < 65536) {
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, 10000) <= 0) {
            break;
        }
        const ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n <= 0) {
            break;
        }
        so_far.append(buffer, static_cast<size_t>(n));
    }
    return so_far;
}

bool echo_on(int master) {
    termios t{};
    return tcgetattr(master, &t) == 0 && (t.c_lflag & ECHO);
}

struct Child {
    pid_t pid = -1;
    int master = -1;
};

/// A child on a new pseudo-terminal that reads a secret and exits 0 when it
/// read "s3cret-value".
Child start_reader() {
    Child child;
    child.pid = forkpty(&child.master, nullptr, nullptr, nullptr);
    REQUIRE(child.pid >= 0);
    if (child.pid == 0) {
        int rc = 1;
        try {
            rc = scepra::cli::read_secret("", "password") == "s3cret-value" ? 0 : 1;
        } catch (...) {
        }
        _exit(rc);
    }
    return child;
}

int wait_for(pid_t pid) {
    int status = 0;
    for (int i = 0; i < 200; ++i) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return status;
        }
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return status;
}

}  // namespace

TEST_SUITE("cli.secret") {
    TEST_CASE("a secret typed at a terminal is not echoed and echo comes back") {
        Child child = start_reader();
        std::string screen = read_terminal(child.master, "(not shown): ");
        REQUIRE(screen.find("(not shown): ") != std::string::npos);
        CHECK_FALSE(echo_on(child.master));
        REQUIRE(::write(child.master, "s3cret-value\n", 13) == 13);
        const int status = wait_for(child.pid);
        screen = read_terminal(child.master, "\n", screen);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        CHECK(screen.find("s3cret") == std::string::npos);
        CHECK(echo_on(child.master));
        ::close(child.master);
    }

    TEST_CASE("Ctrl-C while a secret is typed gives the terminal its echo back") {
        Child child = start_reader();
        REQUIRE(read_terminal(child.master, "(not shown): ").find("(not shown): ") != std::string::npos);
        REQUIRE(::write(child.master, "half", 4) == 4);
        REQUIRE(::write(child.master, "\x03", 1) == 1);  // the terminal's INTR character
        const int status = wait_for(child.pid);
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == SIGINT);
        CHECK(echo_on(child.master));
        ::close(child.master);
    }
}
