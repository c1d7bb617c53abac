// SPDX-License-Identifier: Apache-2.0
// The accepted socket, read by us: budgets, deadlines, TLS, lingering close.
#include "http/guarded_server.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <functional>
#include <stdexcept>
#include <type_traits>

#include "crypto/handles.hpp"

namespace scepra::http {

namespace {

using SteadyClock = std::chrono::steady_clock;
using SslPtr = std::unique_ptr<SSL, crypto::CDeleter<&SSL_free>>;

thread_local ConnectionControl* t_current = nullptr;

/// Waits until fd is ready for `events` or the deadline passes.
bool wait_ready(int fd, short events, SteadyClock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
        if (r > 0) {
            return true;
        }
        if (r < 0 && errno != EINTR) {
            return false;
        }
    }
}

enum class Io { done, want_read, want_write, closed, failed };

/// The bytes of one connection: the socket itself, or a TLS session over it.
class Channel {
  public:
    virtual ~Channel() = default;
    virtual Io receive(char* buffer, size_t size, size_t& got) = 0;
    virtual Io send(const char* data, size_t size, size_t& sent) = 0;
    virtual bool has_buffered() const { return false; }
};

class PlainChannel final : public Channel {
  public:
    explicit PlainChannel(int fd) : m_fd(fd) {}

    Io receive(char* buffer, size_t size, size_t& got) override {
        for (;;) {
            const ssize_t n = ::recv(m_fd, buffer, size, 0);
            if (n > 0) {
                got = static_cast<size_t>(n);
                return Io::done;
            }
            if (n == 0) {
                return Io::closed;
            }
            if (errno != EINTR) {
                return errno == EAGAIN || errno == EWOULDBLOCK ? Io::want_read : Io::failed;
            }
        }
    }

    Io send(const char* data, size_t size, size_t& sent) override {
        for (;;) {
            const ssize_t n = ::send(m_fd, data, size, MSG_NOSIGNAL);
            if (n >= 0) {
                sent = static_cast<size_t>(n);
                return Io::done;
            }
            if (errno != EINTR) {
                return errno == EAGAIN || errno == EWOULDBLOCK ? Io::want_write : Io::failed;
            }
        }
    }

  private:
    int m_fd;
};

class TlsChannel final : public Channel {
  public:
    explicit TlsChannel(SSL& ssl) : m_ssl(ssl) {}

    Io receive(char* buffer, size_t size, size_t& got) override {
        ERR_clear_error();
        return outcome(SSL_read_ex(&m_ssl, buffer, size, &got));
    }
    Io send(const char* data, size_t size, size_t& sent) override {
        ERR_clear_error();
        return outcome(SSL_write_ex(&m_ssl, data, size, &sent));
    }
    bool has_buffered() const override { return SSL_pending(&m_ssl) > 0; }

  private:
    Io outcome(int ret) {
        if (ret == 1) {
            return Io::done;
        }
        const int error = SSL_get_error(&m_ssl, ret);
        // The worker thread goes on to OpenSSL work of its own: leave no errors behind.
        ERR_clear_error();
        switch (error) {
            case SSL_ERROR_WANT_READ:
                return Io::want_read;
            case SSL_ERROR_WANT_WRITE:
                return Io::want_write;
            case SSL_ERROR_ZERO_RETURN:
                return Io::closed;
            default:
                return Io::failed;
        }
    }

    SSL& m_ssl;
};

/// What httplib reads a connection's requests through.
class GuardedStream final : public httplib::Stream, public ConnectionControl {
  public:
    GuardedStream(int fd, Channel& channel, const ConnectionLimits& limits)
        : m_fd(fd), m_channel(channel), m_limits(limits) {
        peer_address(::getpeername, m_remote_ip, m_remote_port);
        peer_address(::getsockname, m_local_ip, m_local_port);
    }

    /// True when the next request has begun to arrive within `patience`;
    /// gives up early when `running` turns false (the server stops).
    bool wait_for_request(std::chrono::milliseconds patience, const std::function<bool()>& running) {
        const auto until = SteadyClock::now() + patience;
        while (running()) {
            if (m_begin < m_end || m_channel.has_buffered()) {
                return true;
            }
            const auto slice = std::min(until, SteadyClock::now() + std::chrono::milliseconds(200));
            if (wait_ready(m_fd, POLLIN, slice)) {
                return true;
            }
            if (SteadyClock::now() >= until) {
                return false;
            }
        }
        return false;
    }

    void start_request() {
        m_allowance = m_limits.max_head_bytes;
        m_deadline = SteadyClock::now() + m_limits.request_deadline;
        m_admitted = false;
    }

    /// The request was refused (by us or by httplib), its budget or deadline
    /// ran out, or the connection broke: what is still coming is not a request.
    bool must_close() const { return m_close || m_broken || !m_admitted; }
    /// The client may still be sending (a refused or over-long request).
    bool peer_may_be_sending() const { return m_close || m_over_budget || !m_admitted; }

    void admit_body(size_t length) override {
        m_allowance = length;
        m_admitted = true;
    }
    void close_after_response() override { m_close = true; }

    bool is_readable() const override {
        return m_begin < m_end || m_channel.has_buffered() || wait_ready(m_fd, POLLIN, read_until());
    }
    bool is_writable() const override {
        return wait_ready(m_fd, POLLOUT, SteadyClock::now() + m_limits.write_timeout);
    }

    ssize_t read(char* ptr, size_t size) override {
        if (m_broken) {
            return -1;
        }
        if (m_allowance == 0) {
            m_over_budget = m_broken = true;
            return -1;
        }
        if (m_begin == m_end) {
            const Io filled = fill();
            if (filled != Io::done) {
                m_broken = true;
                return filled == Io::closed ? 0 : -1;
            }
        }
        const size_t n = std::min({size, m_end - m_begin, m_allowance});
        std::copy_n(m_buffer.data() + m_begin, n, ptr);
        m_begin += n;
        m_allowance -= n;
        return static_cast<ssize_t>(n);
    }

    ssize_t write(const char* ptr, size_t size) override {
        size_t done = 0;
        while (done < size) {
            size_t sent = 0;
            const Io io = m_channel.send(ptr + done, size - done, sent);
            if (io == Io::done) {
                done += sent;
                continue;
            }
            const auto until = SteadyClock::now() + m_limits.write_timeout;
            if ((io != Io::want_read && io != Io::want_write) ||
                !wait_ready(m_fd, io == Io::want_read ? POLLIN : POLLOUT, until)) {
                m_broken = true;
                return -1;
            }
        }
        return static_cast<ssize_t>(size);
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip = m_remote_ip;
        port = m_remote_port;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ip = m_local_ip;
        port = m_local_port;
    }
    socket_t socket() const override { return m_fd; }

  private:
    SteadyClock::time_point read_until() const {
        return std::min(m_deadline, SteadyClock::now() + m_limits.read_timeout);
    }

    Io fill() {
        for (;;) {
            size_t got = 0;
            const Io io = m_channel.receive(m_buffer.data(), m_buffer.size(), got);
            if (io == Io::done) {
                m_begin = 0;
                m_end = got;
                return Io::done;
            }
            if (io != Io::want_read && io != Io::want_write) {
                return io;
            }
            if (!wait_ready(m_fd, io == Io::want_read ? POLLIN : POLLOUT, read_until())) {
                return Io::failed;
            }
        }
    }

    template <class Fn>
    void peer_address(Fn name_of, std::string& ip, int& port) const {
        sockaddr_storage addr{};
        socklen_t length = sizeof addr;
        if (name_of(m_fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
            return;
        }
        std::array<char, NI_MAXHOST> host{};
        std::array<char, NI_MAXSERV> service{};
        if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), length, host.data(), host.size(), service.data(),
                        service.size(), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
            ip = host.data();
            port = std::atoi(service.data());
        }
    }

    int m_fd;
    Channel& m_channel;
    const ConnectionLimits& m_limits;
    std::array<char, 16 * 1024> m_buffer{};
    size_t m_begin = 0, m_end = 0;
    size_t m_allowance = 0;
    SteadyClock::time_point m_deadline{};
    bool m_admitted = false, m_close = false, m_broken = false, m_over_budget = false;
    std::string m_remote_ip, m_local_ip;
    int m_remote_port = 0, m_local_port = 0;
};

class CurrentConnection {
  public:
    explicit CurrentConnection(ConnectionControl& connection) { t_current = &connection; }
    ~CurrentConnection() { t_current = nullptr; }
    CurrentConnection(const CurrentConnection&) = delete;
    CurrentConnection& operator=(const CurrentConnection&) = delete;
};

/// After a refusal the client may still be sending its body: closing at once
/// would reset the connection and destroy our answer before a client that
/// sends its whole body first (most do) reads it. Stop sending, then discard
/// input for a bounded time and amount (no memory is kept).
void linger_and_discard(int fd) {
    ::shutdown(fd, SHUT_WR);
    // At most 8 MiB and 10 s in all, and 2 s of silence.
    const auto last_chance = SteadyClock::now() + std::chrono::seconds(10);
    std::array<char, 16 * 1024> sink{};
    for (size_t discarded = 0; discarded < (8u << 20);) {
        const auto silence = std::min(last_chance, SteadyClock::now() + std::chrono::seconds(2));
        if (!wait_ready(fd, POLLIN, silence)) {
            break;
        }
        const ssize_t n = ::recv(fd, sink.data(), sink.size(), 0);
        if (n <= 0) {
            break;
        }
        discarded += static_cast<size_t>(n);
    }
}

bool tls_handshake(SSL& ssl, int fd, SteadyClock::time_point deadline) {
    for (;;) {
        ERR_clear_error();
        const int r = SSL_accept(&ssl);
        if (r == 1) {
            return true;
        }
        const int error = SSL_get_error(&ssl, r);
        ERR_clear_error();
        if ((error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) ||
            !wait_ready(fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
            return false;
        }
    }
}

template <class Base>
class GuardedServer final : public Base {
  public:
    template <class... Args>
    explicit GuardedServer(const ConnectionLimits& limits, Args&&... args)
        : Base(std::forward<Args>(args)...), m_limits(limits) {}

  private:
    // httplib 0.11 offers no other way at the accepted socket than to take
    // over this (private) virtual; process_request, its request parser and
    // router, stays httplib's.
    bool process_and_close_socket(socket_t sock) override {
        ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
        if constexpr (std::is_same_v<Base, httplib::SSLServer>) {
            SslPtr ssl(SSL_new(this->ssl_context()));
            if (ssl && SSL_set_fd(ssl.get(), sock) == 1 &&
                tls_handshake(*ssl, sock, SteadyClock::now() + m_limits.request_deadline)) {
                TlsChannel channel(*ssl);
                serve(sock, channel, ssl.get());
                ERR_clear_error();
                SSL_shutdown(ssl.get());  // one close_notify, not waiting for the peer's
            }
            ERR_clear_error();
        } else {
            PlainChannel channel(sock);
            serve(sock, channel, nullptr);
        }
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
        return true;
    }

    void serve(int fd, Channel& channel, SSL* ssl) {
        GuardedStream stream(fd, channel, m_limits);
        CurrentConnection current(stream);
        const auto running = [this] { return this->svr_sock_ != INVALID_SOCKET; };
        const auto note_tls = [ssl](httplib::Request& req) { req.ssl = ssl; };
        for (size_t served = 0; served < m_limits.max_requests; ++served) {
            if (!stream.wait_for_request(served == 0 ? m_limits.read_timeout : m_limits.idle_timeout,
                                         running)) {
                return;
            }
            stream.start_request();
            bool client_closes = false;
            const bool last = served + 1 == m_limits.max_requests;
            if (!this->process_request(stream, last, client_closes, note_tls) || client_closes) {
                return;
            }
            if (stream.must_close()) {
                if (stream.peer_may_be_sending()) {
                    linger_and_discard(fd);
                }
                return;
            }
        }
    }

    ConnectionLimits m_limits;
};

}  // namespace

ConnectionControl* ConnectionControl::current() { return t_current; }

std::unique_ptr<httplib::Server> make_guarded_server(const ConnectionLimits& limits,
                                                     const std::filesystem::path& tls_cert,
                                                     const std::filesystem::path& tls_key) {
    if (tls_cert.empty() != tls_key.empty()) {
        throw std::runtime_error("TLS needs both a certificate and a key");
    }
    if (tls_cert.empty()) {
        return std::make_unique<GuardedServer<httplib::Server>>(limits);
    }
    auto server =
        std::make_unique<GuardedServer<httplib::SSLServer>>(limits, tls_cert.c_str(), tls_key.c_str());
    if (!server->is_valid()) {
        throw std::runtime_error("cannot use TLS certificate " + tls_cert.string() + " with key " +
                                 tls_key.string());
    }
    return server;
}

}  // namespace scepra::http
