// SPDX-License-Identifier: Apache-2.0
// One accepted client connection: its socket (or TLS session over it), the
// bytes received and not yet consumed, and what it has been served so far.
// The connection hub parks it while it waits for a request; a worker reads
// and answers one request from it at a time.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/handles.hpp"

namespace scepra::http {

using SteadyClock = std::chrono::steady_clock;
using SslPtr = std::unique_ptr<SSL, crypto::CDeleter<&SSL_free>>;

/// Waits until fd is ready for `events` or the deadline passes.
bool wait_ready(int fd, short events, SteadyClock::time_point deadline);

enum class Io { done, want_read, want_write, closed, failed };

/// The bytes of one connection: the socket itself, or a TLS session over it.
/// The socket is non-blocking: every call returns at once.
class Channel {
  public:
    virtual ~Channel() = default;
    /// Completes the TLS handshake (plain: done at once).
    virtual Io handshake() { return Io::done; }
    virtual Io receive(char* buffer, size_t size, size_t& got) = 0;
    virtual Io send(const char* data, size_t size, size_t& sent) = 0;
    /// Decrypted bytes held inside the TLS session, invisible to poll().
    virtual bool has_buffered() const { return false; }
    virtual SSL* ssl() const { return nullptr; }
    /// Says goodbye (TLS close_notify) without waiting for the peer.
    virtual void farewell() {}
};

std::unique_ptr<Channel> plain_channel(int fd);
/// Null when OpenSSL cannot make a session.
std::unique_ptr<Channel> tls_channel(int fd, SSL_CTX& context);

struct Endpoint {
    std::string ip;
    int port = 0;
};

/// The address and port of the peer of a connected socket (empty ip when unknown).
Endpoint peer_of(int fd);

class Connection {
  public:
    /// Takes ownership of fd (closed by the destructor).
    Connection(int fd, std::unique_ptr<Channel> channel);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    int fd() const { return m_fd; }
    Channel& channel() { return *m_channel; }
    const Endpoint& remote() const { return m_remote; }
    const Endpoint& local() const { return m_local; }

    /// Received, not yet consumed.
    std::string_view pending() const { return {m_buffer.data() + m_begin, m_end - m_begin}; }
    void consume(size_t n) { m_begin += n; }
    /// Receives one chunk into the buffer (without waiting).
    Io receive_some();
    /// The pending bytes hold a whole request head (up to the empty line).
    bool head_complete() const { return pending().find("\r\n\r\n") != std::string_view::npos; }

    size_t requests_served = 0;
    /// When the first byte of the current request arrived.
    SteadyClock::time_point request_started{};

  private:
    int m_fd;
    std::unique_ptr<Channel> m_channel;
    Endpoint m_remote, m_local;
    std::vector<char> m_buffer;
    size_t m_begin = 0, m_end = 0;
};

}  // namespace scepra::http
