// SPDX-License-Identifier: Apache-2.0
// cpp-httplib servers whose connections scep-ra reads itself. httplib 0.11
// buffers a request line or header line of any length, accepts any number of
// headers, gives a slow client a fresh timeout on every read, and keeps a
// connection open after it has refused a request (so the rest of a refused
// body is read as the next request). Here every request gets a byte budget and
// a deadline, and a refused request ends its connection. httplib's own accept
// loop and thread pool are not used (see connection_hub.hpp): a worker runs
// httplib's parser and router on one request whose head has already arrived.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>

namespace httplib {
class Server;
}

namespace scepra::http {

class Connection;

struct ConnectionLimits {
    std::chrono::milliseconds read_timeout{
        30000};  ///< the longest wait for the next byte (and a new connection's first)
    std::chrono::milliseconds write_timeout{30000};  ///< the longest time to send one response
    std::chrono::milliseconds idle_timeout{5000};    ///< between requests on a kept-alive connection
    std::chrono::milliseconds request_deadline{
        60000};                         ///< from a request's first byte to its last (and the TLS handshake)
    size_t max_head_bytes = 32 * 1024;  ///< request line and headers together
    size_t max_requests = 1000;         ///< per connection, then it is closed
    size_t max_connections = 4096;      ///< open at once, all clients together; more get 503
    size_t max_connections_per_address = 256;  ///< open at once from one client address; more get 503
    size_t max_queued_requests = 1024;         ///< whole heads waiting for a worker; more get 503
    /// Requests from one client address waiting for or with a worker at once; more get 503.
    size_t max_active_per_address = 32;
};

/// The connection the calling thread is serving, for the pre-routing handler:
/// after it has read a request's head it admits a body of the declared length
/// (reading beyond it fails), or ends the connection after the response.
class ConnectionControl {
  public:
    virtual void admit_body(size_t length) = 0;
    virtual void close_after_response() = 0;
    /// Null outside a connection served by a server from make_guarded_server.
    static ConnectionControl* current();

  protected:
    ~ConnectionControl() = default;
};

/// What becomes of a connection once a request on it has been answered.
enum class AfterRequest {
    keep,    ///< park it for its next request
    linger,  ///< the client may still be sending: stop sending, discard for a while, close
    close,
};

/// Serves one request of a connection on the calling thread.
class RequestServer {
  public:
    virtual ~RequestServer() = default;
    /// The connection's pending bytes hold at least a whole request head.
    /// `last`: answer with Connection: close (the server is stopping).
    virtual AfterRequest serve_request(Connection& connection, bool last) = 0;
    /// Null for plain HTTP.
    virtual SSL_CTX* tls_context() = 0;
};

struct GuardedServer {
    std::unique_ptr<httplib::Server> http;  ///< where the routes and handlers are set
    RequestServer* requests = nullptr;      ///< the same object
};

/// A plain HTTP server, or HTTPS when tls_cert and tls_key are set (throws
/// std::runtime_error when they cannot be used).
GuardedServer make_guarded_server(const ConnectionLimits& limits, const std::filesystem::path& tls_cert,
                                  const std::filesystem::path& tls_key);

}  // namespace scepra::http
