// SPDX-License-Identifier: Apache-2.0
#include "http/connection_hub.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <stdexcept>

#include "common/client_key.hpp"

namespace scepra::http {

namespace {

constexpr auto sweep_interval = std::chrono::milliseconds(100);
// After a refusal: discard what the client still sends, so that closing does
// not reset the connection and destroy the answer before the client reads it.
constexpr auto linger_total = std::chrono::seconds(10);
constexpr auto linger_silence = std::chrono::seconds(2);
constexpr size_t linger_max_bytes = 8u << 20;
// A whole request from an address already at its share of the workers waits
// this long for one of its requests to be answered, then gets a 503. Without
// it, a client's next request could be refused for the one just answered: its
// worker counts it done a moment after the last byte has gone.
constexpr auto held_grace = std::chrono::seconds(2);

std::string plain_answer(const std::string& status, const std::string& why) {
    const std::string body = why + "\n";
    return "HTTP/1.1 " + status +
           "\r\nServer: scep-ra\r\nRetry-After: 10\r\nContent-Type: text/plain\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

/// Best effort and without waiting: the socket buffer of a fresh connection
/// takes a few hundred bytes.
void send_now(Channel& channel, const std::string& bytes) {
    size_t sent = 0;
    channel.send(bytes.data(), bytes.size(), sent);
}

}  // namespace

ConnectionHub::ConnectionHub(RequestServer& server, const ConnectionLimits& limits, size_t workers,
                             RefusalLog refused)
    : m_server(server), m_limits(limits), m_refused(std::move(refused)) {
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    m_wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_epoll < 0 || m_wake < 0) {
        if (m_epoll >= 0) ::close(m_epoll);
        if (m_wake >= 0) ::close(m_wake);
        throw std::runtime_error("cannot create the connection hub's epoll set");
    }
    for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i) {
        m_workers.emplace_back([this] { work(); });
    }
}

ConnectionHub::~ConnectionHub() {
    {
        std::lock_guard lock(m_mutex);
        m_workers_quit = true;
    }
    m_work_ready.notify_all();
    for (auto& worker : m_workers) {
        worker.join();
    }
    m_parked.clear();
    ::close(m_epoll);
    ::close(m_wake);
}

void ConnectionHub::stop() {
    m_stopping = true;
    wake();
}

void ConnectionHub::wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(m_wake, &one, sizeof one);
}

bool ConnectionHub::run(int listen_fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = m_wake;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &event);
    event.data.fd = listen_fd;
    bool listening = ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, listen_fd, &event) == 0;
    bool ok = listening;
    bool accept_paused = false;
    auto next_sweep = SteadyClock::now() + sweep_interval;
    std::array<epoll_event, 256> events{};
    for (;;) {
        if (m_stopping && listening) {
            // New connections are refused from here on; a connection that has
            // not delivered a whole request head has nothing in flight.
            ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, listen_fd, nullptr);
            ::close(listen_fd);
            listening = false;
            for (auto& [fd, parked] : m_parked) {
                ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
                forget(parked);
            }
            m_parked.clear();
        }
        if (!listening && m_with_workers == 0) {
            break;
        }
        const int n = ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()),
                                   static_cast<int>(sweep_interval.count()));
        if (n < 0 && errno != EINTR) {
            ok = false;
            m_stopping = true;
            continue;
        }
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<size_t>(i)].data.fd;
            if (fd == m_wake) {
                uint64_t count = 0;
                [[maybe_unused]] const ssize_t r = ::read(m_wake, &count, sizeof count);
                collect_answered();
            } else if (fd == listen_fd && listening) {
                if (!accept_all(listen_fd)) {
                    // Out of file descriptors: stop watching the listener for a
                    // moment rather than spin on it.
                    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, listen_fd, nullptr);
                    accept_paused = true;
                }
            } else {
                progress(fd);
            }
        }
        const auto now = SteadyClock::now();
        if (now >= next_sweep) {
            expire(now);
            next_sweep = now + sweep_interval;
            if (accept_paused && listening) {
                event.data.fd = listen_fd;
                ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, listen_fd, &event);
                accept_paused = false;
            }
        }
    }
    return ok;
}

bool ConnectionHub::accept_all(int listen_fd) {
    for (int i = 0; i < 256; ++i) {
        const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            admit(fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    return true;
}

void ConnectionHub::admit(int fd) {
    const std::string address = peer_of(fd).ip;
    if (m_open >= m_limits.max_connections) {
        refuse_connection(fd, address, "too many connections");
        return;
    }
    const std::string key = client_key(address);
    size_t& from_address = m_per_address[key];
    if (from_address >= m_limits.max_connections_per_address) {
        refuse_connection(fd, address, "too many connections from this address");
        return;
    }
    // httplib writes headers and body in two send()s: with Nagle on, the body
    // would wait for the client's delayed ACK, 40 ms on every keep-alive request.
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    SSL_CTX* tls = m_server.tls_context();
    std::unique_ptr<Channel> channel = tls ? tls_channel(fd, *tls) : plain_channel(fd);
    if (!channel) {
        ::close(fd);
        return;
    }
    ++from_address;
    ++m_open;
    Parked p;
    p.connection = std::make_unique<Connection>(fd, std::move(channel));
    p.address = address;
    p.key = key;
    const auto now = SteadyClock::now();
    p.phase = tls ? Phase::handshake : Phase::idle;
    p.deadline = now + (tls ? m_limits.request_deadline : m_limits.read_timeout);
    add(std::move(p));
}

void ConnectionHub::refuse_connection(int fd, const std::string& address, const std::string& why) {
    m_refused(address, why);
    auto connection = std::make_unique<Connection>(fd, plain_channel(fd));
    // Over TLS a plain answer would be noise: just close.
    if (m_server.tls_context() || m_lingering >= m_limits.max_connections) {
        return;
    }
    send_now(connection->channel(),
             plain_answer("503 Service Unavailable", "busy: " + why + "; try again later"));
    Parked p;
    p.connection = std::move(connection);
    p.address = address;
    p.counted = false;
    ++m_lingering;
    const int added = p.connection->fd();
    add(std::move(p));
    start_linger(m_parked.at(added));
}

void ConnectionHub::add(Parked p) {
    const int fd = p.connection->fd();
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
    m_parked.insert_or_assign(fd, std::move(p));
}

void ConnectionHub::watch(int fd, unsigned events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event);
}

void ConnectionHub::close(int fd) {
    const auto found = m_parked.find(fd);
    if (found == m_parked.end()) {
        return;
    }
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
    forget(found->second);
    m_parked.erase(found);  // the Connection closes the socket
}

void ConnectionHub::forget(const Parked& p) {
    if (!p.counted) {
        --m_lingering;
        return;
    }
    --m_open;
    const auto found = m_per_address.find(p.key);
    if (found != m_per_address.end() && --found->second == 0) {
        m_per_address.erase(found);
    }
}

void ConnectionHub::progress(int fd) {
    const auto found = m_parked.find(fd);
    if (found == m_parked.end()) {
        return;
    }
    Parked& p = found->second;
    switch (p.phase) {
        case Phase::handshake: {
            const Io io = p.connection->channel().handshake();
            if (io == Io::want_read || io == Io::want_write) {
                watch(fd, io == Io::want_read ? EPOLLIN : EPOLLOUT);
                return;
            }
            if (io != Io::done) {
                close(fd);
                return;
            }
            p.phase = Phase::idle;
            p.deadline = SteadyClock::now() + m_limits.read_timeout;
            watch(fd, EPOLLIN);
            read_head(p);
            return;
        }
        case Phase::idle:
        case Phase::head:
            read_head(p);
            return;
        case Phase::linger:
            discard(p);
            return;
        case Phase::held:  // watched for nothing: the client hung up, or the socket failed
            close(fd);
            return;
    }
}

void ConnectionHub::read_head(Parked& p) {
    Connection& c = *p.connection;
    const int fd = c.fd();
    for (;;) {
        if (c.head_complete()) {
            dispatch(p);
            return;
        }
        if (c.pending().size() > m_limits.max_head_bytes) {
            m_refused(p.address, "request head over " + std::to_string(m_limits.max_head_bytes) + " bytes");
            send_now(c.channel(),
                     plain_answer("431 Request Header Fields Too Large", "request head too large"));
            start_linger(p);
            return;
        }
        const Io io = c.receive_some();
        if (io == Io::done) {
            if (p.phase == Phase::idle) {
                p.phase = Phase::head;
                c.request_started = SteadyClock::now();
                p.deadline = c.request_started + m_limits.request_deadline;
            }
            continue;
        }
        if (io == Io::want_read || io == Io::want_write) {
            watch(fd, io == Io::want_read ? EPOLLIN : EPOLLOUT);
            return;
        }
        close(fd);
        return;
    }
}

void ConnectionHub::dispatch(Parked& p) {
    const int fd = p.connection->fd();
    // A body still arriving holds its worker: one address gets a few workers
    // at once, never all of them (slow bodies, or answers never read).
    bool at_address_limit = false;
    bool queue_full = false;
    {
        std::lock_guard lock(m_mutex);
        const auto active = m_active_per_address.find(p.key);
        at_address_limit =
            active != m_active_per_address.end() && active->second >= m_limits.max_active_per_address;
        queue_full = !at_address_limit && m_queue.size() >= m_limits.max_queued_requests;
        if (!at_address_limit && !queue_full) {
            ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
            ++m_active_per_address[p.key];
            const auto found = m_parked.find(fd);
            m_queue.push_back(std::move(found->second));
            m_parked.erase(found);
            ++m_with_workers;
        }
    }
    if (at_address_limit) {
        hold(p);
        return;
    }
    if (queue_full) {
        m_refused(p.address, "request queue full");
        send_now(p.connection->channel(),
                 plain_answer("503 Service Unavailable", "busy: too many requests waiting; try again later"));
        start_linger(p);
        return;
    }
    m_work_ready.notify_one();
}

void ConnectionHub::hold(Parked& p) {
    if (p.phase == Phase::held) {
        return;  // still waiting for its turn
    }
    p.phase = Phase::held;
    p.deadline = std::min(p.deadline, SteadyClock::now() + held_grace);
    // Nothing is read meanwhile; a hang-up or an error still wakes progress().
    watch(p.connection->fd(), 0);
}

void ConnectionHub::dispatch_held() {
    std::vector<int> held;
    for (const auto& [fd, parked] : m_parked) {
        if (parked.phase == Phase::held) {
            held.push_back(fd);
        }
    }
    for (const int fd : held) {
        dispatch(m_parked.at(fd));
    }
}

void ConnectionHub::refuse_held(Parked& p) {
    m_refused(p.address, "too many requests from this address at once");
    send_now(p.connection->channel(),
             plain_answer("503 Service Unavailable",
                          "busy: too many requests from this address at once; try again later"));
    start_linger(p);
}

void ConnectionHub::start_linger(Parked& p) {
    p.connection->channel().farewell();
    ::shutdown(p.connection->fd(), SHUT_WR);
    const auto now = SteadyClock::now();
    p.phase = Phase::linger;
    p.linger_end = now + linger_total;
    p.deadline = std::min(p.linger_end, now + linger_silence);
    p.discarded = 0;
    watch(p.connection->fd(), EPOLLIN);
}

void ConnectionHub::discard(Parked& p) {
    const int fd = p.connection->fd();
    std::array<char, 16 * 1024> sink{};
    for (int i = 0; i < 16; ++i) {
        const ssize_t n = ::recv(fd, sink.data(), sink.size(), 0);
        if (n > 0) {
            p.discarded += static_cast<size_t>(n);
            p.deadline = std::min(p.linger_end, SteadyClock::now() + linger_silence);
            if (p.discarded >= linger_max_bytes) {
                close(fd);
                return;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return;
        }
        close(fd);
        return;
    }
}

void ConnectionHub::collect_answered() {
    std::vector<Answered> answered;
    {
        std::lock_guard lock(m_mutex);
        answered.swap(m_answered);
    }
    for (Answered& a : answered) {
        --m_with_workers;
        const int fd = a.parked.connection->fd();
        if (a.next == AfterRequest::close || (a.next == AfterRequest::keep && m_stopping)) {
            forget(a.parked);
            continue;  // the Connection closes the socket
        }
        if (a.next == AfterRequest::linger) {
            add(std::move(a.parked));
            start_linger(m_parked.at(fd));
            continue;
        }
        Parked& p = a.parked;
        Connection& c = *p.connection;
        const auto now = SteadyClock::now();
        if (c.pending().empty()) {
            p.phase = Phase::idle;
            p.deadline = now + m_limits.idle_timeout;
        } else {  // pipelined: the next request has begun
            p.phase = Phase::head;
            c.request_started = now;
            p.deadline = now + m_limits.request_deadline;
        }
        add(std::move(p));
        // Bytes already received (or held inside TLS) raise no epoll event.
        progress(fd);
    }
    if (!answered.empty()) {
        dispatch_held();
    }
}

void ConnectionHub::expire(SteadyClock::time_point now) {
    std::vector<int> expired;
    for (const auto& [fd, parked] : m_parked) {
        if (parked.deadline <= now) {
            expired.push_back(fd);
        }
    }
    for (int fd : expired) {
        Parked& p = m_parked.at(fd);
        if (p.phase == Phase::held) {
            refuse_held(p);
        } else {
            close(fd);
        }
    }
}

void ConnectionHub::work() {
    for (;;) {
        Parked p;
        {
            std::unique_lock lock(m_mutex);
            m_work_ready.wait(lock, [this] { return m_workers_quit || !m_queue.empty(); });
            if (m_queue.empty()) {
                return;
            }
            p = std::move(m_queue.front());
            m_queue.pop_front();
        }
        AfterRequest next = AfterRequest::close;
        try {
            next = m_server.serve_request(*p.connection, m_stopping);
        } catch (const std::exception&) {
            next = AfterRequest::close;
        }
        {
            std::lock_guard lock(m_mutex);
            // Counted down here, not when the hub collects the answer: the
            // client may send its next request before the hub gets to it.
            if (const auto active = m_active_per_address.find(p.key);
                active != m_active_per_address.end() && --active->second == 0) {
                m_active_per_address.erase(active);
            }
            m_answered.push_back({std::move(p), next});
        }
        wake();
    }
}

}  // namespace scepra::http
