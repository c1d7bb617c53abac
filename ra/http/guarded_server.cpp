// SPDX-License-Identifier: Apache-2.0
// One request of a parked connection, read by us: budgets, deadlines, TLS.
#include "http/guarded_server.hpp"

#include <httplib.h>
#include <poll.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <type_traits>

#include "http/connection.hpp"

namespace scepra::http {

namespace {

thread_local ConnectionControl* t_current = nullptr;

/// What httplib reads one request through, and writes its answer to.
class GuardedStream final : public httplib::Stream, public ConnectionControl {
  public:
    GuardedStream(Connection& connection, const ConnectionLimits& limits)
        : m_connection(connection),
          m_channel(connection.channel()),
          m_limits(limits),
          m_allowance(limits.max_head_bytes),
          m_deadline(connection.request_started + limits.request_deadline) {}

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
        return !m_connection.pending().empty() || m_channel.has_buffered() ||
               wait_ready(m_connection.fd(), POLLIN, read_until());
    }
    bool is_writable() const override { return wait_ready(m_connection.fd(), POLLOUT, write_until()); }

    ssize_t read(char* ptr, size_t size) override {
        if (m_broken) {
            return -1;
        }
        if (m_allowance == 0) {
            m_over_budget = m_broken = true;
            return -1;
        }
        if (m_connection.pending().empty()) {
            const Io filled = fill();
            if (filled != Io::done) {
                m_broken = true;
                return filled == Io::closed ? 0 : -1;
            }
        }
        const std::string_view pending = m_connection.pending();
        const size_t n = std::min({size, pending.size(), m_allowance});
        std::copy_n(pending.data(), n, ptr);
        m_connection.consume(n);
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
            if ((io != Io::want_read && io != Io::want_write) ||
                !wait_ready(m_connection.fd(), io == Io::want_read ? POLLIN : POLLOUT, write_until())) {
                m_broken = true;
                return -1;
            }
        }
        return static_cast<ssize_t>(size);
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip = m_connection.remote().ip;
        port = m_connection.remote().port;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ip = m_connection.local().ip;
        port = m_connection.local().port;
    }
    socket_t socket() const override { return m_connection.fd(); }

  private:
    SteadyClock::time_point read_until() const {
        return std::min(m_deadline, SteadyClock::now() + m_limits.read_timeout);
    }
    /// A client that does not read its answer holds the worker this long at most.
    SteadyClock::time_point write_until() const {
        if (m_write_deadline == SteadyClock::time_point{}) {
            m_write_deadline = SteadyClock::now() + m_limits.write_timeout;
        }
        return m_write_deadline;
    }

    Io fill() {
        for (;;) {
            const Io io = m_connection.receive_some();
            if (io != Io::want_read && io != Io::want_write) {
                return io;
            }
            if (!wait_ready(m_connection.fd(), io == Io::want_read ? POLLIN : POLLOUT, read_until())) {
                return Io::failed;
            }
        }
    }

    Connection& m_connection;
    Channel& m_channel;
    const ConnectionLimits& m_limits;
    size_t m_allowance;
    SteadyClock::time_point m_deadline;
    mutable SteadyClock::time_point m_write_deadline{};
    bool m_admitted = false, m_close = false, m_broken = false, m_over_budget = false;
};

class CurrentConnection {
  public:
    explicit CurrentConnection(ConnectionControl& connection) { t_current = &connection; }
    ~CurrentConnection() { t_current = nullptr; }
    CurrentConnection(const CurrentConnection&) = delete;
    CurrentConnection& operator=(const CurrentConnection&) = delete;
};

template <class Base>
class Guarded final : public Base, public RequestServer {
  public:
    template <class... Args>
    explicit Guarded(const ConnectionLimits& limits, Args&&... args)
        : Base(std::forward<Args>(args)...), m_limits(limits) {}

    AfterRequest serve_request(Connection& connection, bool last) override {
        GuardedStream stream(connection, m_limits);
        CurrentConnection current(stream);
        SSL* ssl = connection.channel().ssl();
        const auto note_tls = [ssl](httplib::Request& req) { req.ssl = ssl; };
        ++connection.requests_served;
        last = last || connection.requests_served >= m_limits.max_requests;
        bool client_closes = false;
        if (!this->process_request(stream, last, client_closes, note_tls) || client_closes) {
            return AfterRequest::close;
        }
        if (stream.must_close()) {
            return stream.peer_may_be_sending() ? AfterRequest::linger : AfterRequest::close;
        }
        return last ? AfterRequest::close : AfterRequest::keep;
    }

    SSL_CTX* tls_context() override {
        if constexpr (std::is_same_v<Base, httplib::SSLServer>) {
            return this->ssl_context();
        } else {
            return nullptr;
        }
    }

  private:
    // Connections come from the connection hub, never from httplib's own
    // accept loop (not run); this is here only to override httplib's.
    bool process_and_close_socket(socket_t) override { return false; }

    ConnectionLimits m_limits;
};

}  // namespace

ConnectionControl* ConnectionControl::current() { return t_current; }

GuardedServer make_guarded_server(const ConnectionLimits& limits, const std::filesystem::path& tls_cert,
                                  const std::filesystem::path& tls_key) {
    if (tls_cert.empty() != tls_key.empty()) {
        throw std::runtime_error("TLS needs both a certificate and a key");
    }
    if (tls_cert.empty()) {
        auto server = std::make_unique<Guarded<httplib::Server>>(limits);
        RequestServer* requests = server.get();
        return {std::move(server), requests};
    }
    auto server = std::make_unique<Guarded<httplib::SSLServer>>(limits, tls_cert.c_str(), tls_key.c_str());
    if (!server->is_valid()) {
        throw std::runtime_error("cannot use TLS certificate " + tls_cert.string() + " with key " +
                                 tls_key.string());
    }
    RequestServer* requests = server.get();
    return {std::move(server), requests};
}

}  // namespace scepra::http
