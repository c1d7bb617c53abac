// SPDX-License-Identifier: Apache-2.0
#include "bench/server_probe.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>

namespace scepra::bench {

namespace {

/// A "Key:  value kB" line of /proc/PID/status; 0 when absent.
long status_value(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0) {
            return std::stol(line.substr(key.size() + 1));
        }
    }
    return 0;
}

}  // namespace

ServerProbe::ServerProbe(pid_t pid) : m_pid(pid) {
    if (!std::ifstream("/proc/" + std::to_string(pid) + "/stat")) {
        throw std::runtime_error("--server-pid " + std::to_string(pid) + ": no such process to measure");
    }
}

ServerProbe::~ServerProbe() {
    if (m_sampler.joinable()) {
        m_running = false;
        m_sampler.join();
    }
}

double ServerProbe::cpu_seconds() const {
    std::ifstream in("/proc/" + std::to_string(m_pid) + "/stat");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces and parentheses):
    // state is field 3, utime 14, stime 15.
    const auto paren = text.rfind(')');
    if (paren == std::string::npos) {
        throw std::runtime_error("the server (pid " + std::to_string(m_pid) + ") has gone");
    }
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    double ticks = 0;
    for (int n = 3; n <= 15 && fields >> field; ++n) {
        if (n == 14 || n == 15) {
            ticks += std::stod(field);
        }
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void ServerProbe::sample() {
    const long rss = status_value(m_pid, "VmRSS");
    const long threads = status_value(m_pid, "Threads");
    if (rss > m_rss_peak) m_rss_peak = rss;
    if (threads > m_threads_peak) m_threads_peak = threads;
}

void ServerProbe::start() {
    m_cpu_at_start = cpu_seconds();
    m_running = true;
    m_sampler = std::thread([this] {
        while (m_running) {
            sample();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
}

ServerUsage ServerProbe::finish() {
    m_running = false;
    if (m_sampler.joinable()) {
        m_sampler.join();
    }
    sample();
    ServerUsage usage;
    usage.cpu_seconds = cpu_seconds() - m_cpu_at_start;
    usage.rss_peak_kib = m_rss_peak;
    usage.rss_end_kib = status_value(m_pid, "VmRSS");
    usage.threads_peak = m_threads_peak;
    return usage;
}

}  // namespace scepra::bench
