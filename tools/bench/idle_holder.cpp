// SPDX-License-Identifier: Apache-2.0
#include "bench/idle_holder.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>

namespace scepra::bench {

namespace {

using Clock = std::chrono::steady_clock;

enum class State { waiting, connecting, answering, idle };

struct Slot {
    int fd = -1;
    State state = State::waiting;
    std::string source;
    std::string received;
    Clock::time_point retry_at{};
    bool settled = false;  ///< counted once towards start()
};

void close_slot(Slot& s, Clock::time_point now) {
    if (s.fd >= 0) {
        ::close(s.fd);
    }
    s.fd = -1;
    s.state = State::waiting;
    s.received.clear();
    s.retry_at = now + std::chrono::milliseconds(100);
}

bool open_slot(Slot& s, const sockaddr_in& to) {
    s.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) {
        return false;
    }
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, s.source.c_str(), &from.sin_addr);
    if (::bind(s.fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0) {
        return false;
    }
    const int r = ::connect(s.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (r != 0 && errno != EINPROGRESS) {
        return false;
    }
    s.state = State::connecting;
    return true;
}

/// The status of a whole response in `text`, or 0 while it is incomplete.
int complete_status(const std::string& text) {
    const auto head_end = text.find("\r\n\r\n");
    if (head_end == std::string::npos || text.size() < 12) {
        return 0;
    }
    size_t length = 0;
    const auto at = text.find("Content-Length: ");
    if (at != std::string::npos && at < head_end) {
        length = std::stoul(text.substr(at + 16));
    }
    return text.size() >= head_end + 4 + length ? std::atoi(text.substr(9, 3).c_str()) : 0;
}

}  // namespace

std::vector<std::string> parse_source_range(const std::string& text) {
    const auto dash = text.find('-');
    const std::string first = text.substr(0, dash);
    in_addr a{};
    if (::inet_pton(AF_INET, first.c_str(), &a) != 1 || (ntohl(a.s_addr) >> 24) != 127) {
        throw std::invalid_argument("--idle-sources: '" + text + "' is not a 127.x.y.z address or range");
    }
    if (dash == std::string::npos) {
        return {first};
    }
    in_addr b{};
    const std::string last = text.substr(dash + 1);
    if (::inet_pton(AF_INET, last.c_str(), &b) != 1 || (ntohl(b.s_addr) >> 8) != (ntohl(a.s_addr) >> 8) ||
        ntohl(b.s_addr) < ntohl(a.s_addr)) {
        throw std::invalid_argument("--idle-sources: '" + text + "' must be A-B within one /24 of 127/8");
    }
    std::vector<std::string> out;
    for (uint32_t i = ntohl(a.s_addr); i <= ntohl(b.s_addr); ++i) {
        in_addr x{htonl(i)};
        char buffer[INET_ADDRSTRLEN];
        out.emplace_back(::inet_ntop(AF_INET, &x, buffer, sizeof buffer));
    }
    return out;
}

IdleHolder::IdleHolder(const TargetUrl& target, size_t connections, std::vector<std::string> sources)
    : m_host(target.host),
      m_port(target.port),
      m_path(target.path),
      m_count(connections),
      m_sources(std::move(sources)) {
    m_stats.connections = connections;
    if (m_sources.empty()) {
        throw std::invalid_argument("idle connections need at least one source address");
    }
}

IdleHolder::~IdleHolder() {
    if (m_thread.joinable()) {
        m_running = false;
        m_thread.join();
    }
}

void IdleHolder::start() {
    m_running = true;
    m_thread = std::thread([this] { loop(); });
    const auto until = Clock::now() + std::chrono::seconds(30);
    while (m_settled < m_count && Clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

IdleStats IdleHolder::stop() {
    m_running = false;
    if (m_thread.joinable()) {
        m_thread.join();
    }
    return m_stats;
}

void IdleHolder::loop() {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(m_port));
    ::inet_pton(AF_INET, m_host == "localhost" ? "127.0.0.1" : m_host.c_str(), &to.sin_addr);
    const std::string request =
        "GET " + m_path + "?operation=GetCACaps HTTP/1.1\r\nHost: " + m_host + "\r\n\r\n";

    std::vector<Slot> slots(m_count);
    for (size_t i = 0; i < slots.size(); ++i) {
        slots[i].source = m_sources[i % m_sources.size()];
    }
    std::vector<pollfd> polled;
    std::vector<size_t> which;
    char buffer[4096];
    while (m_running) {
        const auto now = Clock::now();
        polled.clear();
        which.clear();
        for (size_t i = 0; i < slots.size(); ++i) {
            Slot& s = slots[i];
            if (s.state == State::waiting && now >= s.retry_at) {
                if (open_slot(s, to)) {
                    ++m_stats.connects;
                } else {
                    close_slot(s, now);
                }
            }
            if (s.state != State::waiting) {
                polled.push_back(
                    {s.fd, static_cast<short>(s.state == State::connecting ? POLLOUT : POLLIN), 0});
                which.push_back(i);
            }
        }
        if (::poll(polled.data(), polled.size(), 50) <= 0) {
            continue;
        }
        for (size_t k = 0; k < polled.size(); ++k) {
            if (polled[k].revents == 0) {
                continue;
            }
            Slot& s = slots[which[k]];
            const auto settle = [&] {
                if (!s.settled) {
                    s.settled = true;
                    ++m_settled;
                }
            };
            if (s.state == State::connecting) {
                int error = 0;
                socklen_t length = sizeof error;
                ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &length);
                if (error != 0 || ::send(s.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
                                      static_cast<ssize_t>(request.size())) {
                    ++m_stats.refused;
                    settle();
                    close_slot(s, now);
                    continue;
                }
                s.state = State::answering;
                continue;
            }
            const ssize_t n = ::recv(s.fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                if (s.state == State::answering) {
                    ++m_stats.refused;
                    settle();
                }
                close_slot(s, now);
                continue;
            }
            if (s.state == State::answering) {
                s.received.append(buffer, static_cast<size_t>(n));
                if (const int status = complete_status(s.received); status != 0) {
                    settle();
                    if (status == 200) {
                        ++m_stats.answered;
                        s.state = State::idle;
                        s.received.clear();
                    } else {
                        ++m_stats.refused;
                        close_slot(s, now);
                    }
                }
            }
        }
    }
    for (Slot& s : slots) {
        m_stats.held_at_end += s.state == State::idle ? 1 : 0;
        if (s.fd >= 0) {
            ::close(s.fd);
        }
    }
}

}  // namespace scepra::bench
