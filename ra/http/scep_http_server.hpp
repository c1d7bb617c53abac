// SPDX-License-Identifier: Apache-2.0
// The SCEP listener: cpp-httplib routes for the NDES and RFC 8894 paths,
// request limits, and the one-line-per-request log.
#pragma once

#include <memory>
#include <mutex>
#include <ostream>
#include <string>

#include "core/scep_service.hpp"

namespace httplib {
class Server;
}

namespace scepra::http {

struct ListenOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                     ///< 0 = any free port
    size_t max_body_bytes = 2 << 20;     ///< POST cap, as micromdm and step-ca use
    int worker_threads = 16;
};

class ScepHttpServer {
public:
    ScepHttpServer(core::ScepService& service, ListenOptions options, std::ostream& log);
    ~ScepHttpServer();
    ScepHttpServer(const ScepHttpServer&) = delete;
    ScepHttpServer& operator=(const ScepHttpServer&) = delete;

    /// Binds the socket; returns the port (useful with port 0). Throws on failure.
    int bind();
    /// Serves until stop(); returns false if the server failed.
    bool run();
    void stop();

private:
    void log_line(const std::string& line);

    core::ScepService& m_service;
    ListenOptions m_options;
    std::ostream& m_log;
    std::mutex m_log_mutex;
    std::unique_ptr<httplib::Server> m_server;
};

/// Parses "HOST:PORT", "[v6]:PORT" or ":PORT". Throws std::invalid_argument.
ListenOptions parse_listen(const std::string& text);

}  // namespace scepra::http
