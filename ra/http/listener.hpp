// SPDX-License-Identifier: Apache-2.0
// One HTTP(S) listener (cpp-httplib) serving one or more sites, with request
// limits and the one-line-per-request log.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "http/connection_hub.hpp"
#include "http/guarded_server.hpp"
#include "http/request_log.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace scepra::http {

struct ListenOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                  ///< 0 = any free port
    size_t max_body_bytes = 2 << 20;  ///< POST cap, as micromdm and step-ca use
    /// Requests answered at the same time (a kept-alive connection between
    /// requests holds none: the connection hub parks it).
    int worker_threads = 64;
    std::filesystem::path tls_cert;  ///< both set = HTTPS
    std::filesystem::path tls_key;
    ConnectionLimits limits;                 ///< per connection: budgets, deadlines, keep-alive
    LogFormat log_format = LogFormat::text;  ///< [log] format of the request log
};

/// A set of paths served on a listener (the SCEP endpoints, the admin page).
class Site {
  public:
    virtual ~Site() = default;
    virtual bool handles(std::string_view path) const = 0;
    /// Answers the request; returns what the request log says of it (no secrets).
    virtual Served serve(const httplib::Request& request, httplib::Response& response) = 0;
};

class Listener {
  public:
    /// Sites are tried in order; the first that handles the path answers. Throws
    /// std::runtime_error when the TLS certificate or key cannot be used.
    Listener(ListenOptions options, std::vector<Site*> sites, std::ostream& log);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    /// Binds the socket; returns the port (useful with port 0). Throws on failure.
    int bind();
    /// Serves until stop(); returns false if the server failed.
    bool run();
    /// Stops accepting (new connections are refused), closes connections
    /// waiting for a request, lets run() return once the requests already
    /// read are answered. From any thread, before or during run().
    void stop();
    bool tls() const { return !m_options.tls_cert.empty(); }

  private:
    /// One line per request; everything the client chose is escaped and bounded.
    void log_request(const httplib::Request& request, int status, Served served, double duration_ms = 0);
    /// Answers a request whose head already rules it out; false when it may go on.
    bool refuse_by_head(const httplib::Request& request, httplib::Response& response);

    ListenOptions m_options;
    std::vector<Site*> m_sites;
    std::ostream& m_log;
    std::mutex m_log_mutex;
    void log_refusal(const std::string& peer, const std::string& why);

    GuardedServer m_guarded;
    ConnectionHub m_hub;
    int m_listen_fd = -1;
    std::chrono::steady_clock::time_point m_refusal_second{};
    size_t m_refusals_logged = 0, m_refusals_unlogged = 0;
};

/// Parses "HOST:PORT", "[v6]:PORT" or ":PORT". Throws std::invalid_argument.
ListenOptions parse_listen(const std::string& text);

/// The admin page's listener at address: a few workers, small bodies, and
/// caps small enough that it cannot take SCEP's file descriptors.
ListenOptions admin_listen_options(ListenOptions address);

}  // namespace scepra::http
