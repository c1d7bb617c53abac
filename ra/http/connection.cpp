// SPDX-License-Identifier: Apache-2.0
#include "http/connection.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace scepra::http {

namespace {

constexpr size_t chunk = 16 * 1024;

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
    explicit TlsChannel(SslPtr ssl) : m_ssl(std::move(ssl)) {}

    Io handshake() override {
        ERR_clear_error();
        return outcome(SSL_accept(m_ssl.get()));
    }
    Io receive(char* buffer, size_t size, size_t& got) override {
        ERR_clear_error();
        return outcome(SSL_read_ex(m_ssl.get(), buffer, size, &got));
    }
    Io send(const char* data, size_t size, size_t& sent) override {
        ERR_clear_error();
        return outcome(SSL_write_ex(m_ssl.get(), data, size, &sent));
    }
    bool has_buffered() const override { return SSL_pending(m_ssl.get()) > 0; }
    SSL* ssl() const override { return m_ssl.get(); }
    void farewell() override {
        ERR_clear_error();
        if (SSL_is_init_finished(m_ssl.get())) {
            SSL_shutdown(m_ssl.get());  // one close_notify, not waiting for the peer's
        }
        ERR_clear_error();
    }

  private:
    Io outcome(int ret) {
        if (ret == 1) {
            return Io::done;
        }
        const int error = SSL_get_error(m_ssl.get(), ret);
        // The thread goes on to OpenSSL work of its own: leave no errors behind.
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

    SslPtr m_ssl;
};

template <class Fn>
Endpoint endpoint_of(int fd, Fn name_of) {
    Endpoint out;
    sockaddr_storage addr{};
    socklen_t length = sizeof addr;
    if (name_of(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
        return out;
    }
    // An IPv4 client of a dual-stack listener ("[::]") is ::ffff:a.b.c.d:
    // known by its IPv4 address, so that it shares the caps, the throttles
    // and the log lines of the same client reaching an IPv4 listener.
    if (addr.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
        if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
            sockaddr_in v4{};
            v4.sin_family = AF_INET;
            v4.sin_port = v6.sin6_port;
            std::memcpy(&v4.sin_addr, &v6.sin6_addr.s6_addr[12], sizeof v4.sin_addr);
            std::memcpy(&addr, &v4, sizeof v4);
            length = sizeof v4;
        }
    }
    std::array<char, NI_MAXHOST> host{};
    std::array<char, NI_MAXSERV> service{};
    if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), length, host.data(), host.size(), service.data(),
                    service.size(), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        out.ip = host.data();
        out.port = std::atoi(service.data());
    }
    return out;
}

}  // namespace

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

Endpoint peer_of(int fd) { return endpoint_of(fd, ::getpeername); }

std::unique_ptr<Channel> plain_channel(int fd) { return std::make_unique<PlainChannel>(fd); }

std::unique_ptr<Channel> tls_channel(int fd, SSL_CTX& context) {
    SslPtr ssl(SSL_new(&context));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    return std::make_unique<TlsChannel>(std::move(ssl));
}

Connection::Connection(int fd, std::unique_ptr<Channel> channel)
    : m_fd(fd),
      m_channel(std::move(channel)),
      m_remote(endpoint_of(fd, ::getpeername)),
      m_local(endpoint_of(fd, ::getsockname)) {}

Connection::~Connection() {
    if (m_channel) {
        m_channel->farewell();
        m_channel.reset();
    }
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
}

Io Connection::receive_some() {
    if (m_begin == m_end) {
        m_begin = m_end = 0;
    } else if (m_begin > 0 && m_buffer.size() - m_end < chunk) {
        std::memmove(m_buffer.data(), m_buffer.data() + m_begin, m_end - m_begin);
        m_end -= m_begin;
        m_begin = 0;
    }
    if (m_buffer.size() - m_end < chunk) {
        m_buffer.resize(m_end + chunk);
    }
    size_t got = 0;
    const Io io = m_channel->receive(m_buffer.data() + m_end, chunk, got);
    if (io == Io::done) {
        m_end += got;
    } else if (m_begin == m_end) {
        // Nothing kept: an idle connection holds no buffer.
        std::vector<char>().swap(m_buffer);
        m_begin = m_end = 0;
    }
    return io;
}

}  // namespace scepra::http
