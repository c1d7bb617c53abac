// SPDX-License-Identifier: Apache-2.0
// cpp-httplib wiring shared by the SCEP and admin listeners.
#include "http/listener.hpp"

#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "http/log_text.hpp"
#include "http/request_head.hpp"

namespace scepra::http {

namespace {
std::string utc_now() {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::ostringstream out;
    out << std::put_time(&tm, "%Y-%m-%dT%H:%M:%S") << '.' << std::setw(3) << std::setfill('0') << ms << 'Z';
    return out.str();
}

/// A listening TCP socket on host:port. Only SO_REUSEADDR (restart while old
/// connections are in TIME_WAIT): httplib's default also sets SO_REUSEPORT,
/// which lets a second `serve` bind the same port and take half the clients.
int open_listening_socket(const std::string& host, int port) {
    const std::string where = host + ":" + std::to_string(port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
        throw std::runtime_error("cannot listen on " + where + ": " + gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
    int error = 0;
    for (const addrinfo* a = found; a; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            error = errno;
            continue;
        }
        const int on = 1, off = 0;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (a->ai_family == AF_INET6) {
            ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        }
        // A backlog of 1024: many devices connecting at once must not have
        // their SYNs dropped (httplib's is 5).
        if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) {
            return fd;
        }
        error = errno;
        ::close(fd);
    }
    if (error == EADDRINUSE) {
        throw std::runtime_error("cannot listen on " + where +
                                 ": the address is already in use (another scep-ra, or another program, "
                                 "listens there)");
    }
    throw std::runtime_error("cannot listen on " + where + ": " + std::strerror(error));
}

}  // namespace

ListenOptions admin_listen_options(ListenOptions address) {
    address.worker_threads = 4;
    address.max_body_bytes = 64 * 1024;
    address.limits.max_connections = 256;
    address.limits.max_connections_per_address = 32;
    address.limits.max_queued_requests = 64;
    address.limits.max_active_per_address = 2;
    return address;
}

ListenOptions parse_listen(const std::string& text) {
    ListenOptions options;
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
        throw std::invalid_argument("listen address '" + text + "' must be HOST:PORT");
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    options.host = host.empty() ? "0.0.0.0" : host;
    try {
        size_t used = 0;
        options.port = std::stoi(text.substr(colon + 1), &used);
        if (used != text.size() - colon - 1 || options.port < 0 || options.port > 65535) {
            throw std::invalid_argument("port");
        }
    } catch (const std::exception&) {
        throw std::invalid_argument("listen address '" + text + "' has no valid port");
    }
    return options;
}

Listener::Listener(ListenOptions options, std::vector<Site*> sites, std::ostream& log)
    : m_options(std::move(options)),
      m_sites(std::move(sites)),
      m_log(log),
      m_guarded(make_guarded_server(m_options.limits, m_options.tls_cert, m_options.tls_key)),
      m_hub(*m_guarded.requests, m_options.limits, static_cast<size_t>(m_options.worker_threads),
            [this](const std::string& peer, const std::string& why) { log_refusal(peer, why); }) {
    auto& server = *m_guarded.http;
    // Timeouts, keep-alive and the workers are the connection hub's (ConnectionLimits).
    server.set_payload_max_length(m_options.max_body_bytes);
    server.set_default_headers({{"Server", "scep-ra"}});
    // Only what httplib's Keep-Alive header tells the client; the hub enforces them.
    server.set_keep_alive_max_count(m_options.limits.max_requests);
    server.set_keep_alive_timeout(std::max<time_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(m_options.limits.idle_timeout).count()));

    // Both run after the head is read and before any of the body is: a client
    // that waits for 100 Continue is refused before it sends its body.
    server.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
        return refuse_by_head(req, res) ? res.status : 100;
    });
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        return refuse_by_head(req, res) ? httplib::Server::HandlerResponse::Handled
                                        : httplib::Server::HandlerResponse::Unhandled;
    });

    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
        const auto started = std::chrono::steady_clock::now();
        Served served("no such path");
        Site* site = nullptr;
        for (Site* candidate : m_sites) {
            if (candidate->handles(req.path)) {
                site = candidate;
                break;
            }
        }
        if (!site) {
            res.status = 404;
            res.set_content("not found\n", "text/plain");
        } else {
            try {
                served = site->serve(req, res);
            } catch (const std::exception& e) {
                // Reached only when not even a signed FAILURE or an error page
                // could be produced (store or keys broken).
                res.status = 500;
                res.set_content("internal error\n", "text/plain");
                served = Served(std::string("internal error: ") + e.what());
                served.outcome = "error";
            }
        }
        const auto took =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
        log_request(req, res.status, std::move(served), took.count());
    };
    server.Get(".*", handler);
    server.Post(".*", handler);
    // httplib calls this for every 4xx/5xx, ours included (they have a body already);
    // the others are its own refusals: 414 URI too long, 413 body too large, 400.
    server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) {
            return;
        }
        if (res.status == 414) {
            res.set_content(
                "request URI too long: send PKIOperation by POST (see GetCACaps POSTPKIOperation)\n",
                "text/plain");
        } else {
            res.set_content(std::to_string(res.status) + "\n", "text/plain");
        }
        log_request(req, res.status, "refused by the HTTP layer");
    });
}

bool Listener::refuse_by_head(const httplib::Request& req, httplib::Response& res) {
    const HeadVerdict verdict = judge_request_head(req, m_options.max_body_bytes);
    ConnectionControl* connection = ConnectionControl::current();
    if (verdict.body_length) {
        if (connection) {
            connection->admit_body(*verdict.body_length);
        }
        return false;
    }
    // What may follow the head is not a request: end the connection.
    if (connection) {
        connection->close_after_response();
    }
    res.status = verdict.status;
    res.set_header("Connection", "close");
    if (verdict.status == 405) {
        res.set_header("Allow", "GET, HEAD, POST");
    }
    res.set_content(verdict.reason + "\n", "text/plain");
    log_request(req, verdict.status, "refused: " + verdict.reason);
    return true;
}

Listener::~Listener() {
    if (m_listen_fd >= 0) {
        ::close(m_listen_fd);
    }
}

int Listener::bind() {
    if (m_listen_fd >= 0) {
        throw std::logic_error("the listener is bound already");
    }
    m_listen_fd = open_listening_socket(m_options.host, m_options.port);
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&bound), &length);
    return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

bool Listener::run() {
    if (m_listen_fd < 0) {
        return false;
    }
    const int fd = std::exchange(m_listen_fd, -1);
    return m_hub.run(fd);  // closes fd
}

void Listener::stop() { m_hub.stop(); }

void Listener::log_refusal(const std::string& peer, const std::string& why) {
    // A flood of refused connections must not flood the log: at most a few
    // lines a second, and a count of the ones left out.
    const auto now = std::chrono::steady_clock::now();
    std::string detail = "refused: " + why;
    {
        std::lock_guard lock(m_log_mutex);
        if (now - m_refusal_second >= std::chrono::seconds(1)) {
            if (m_refusals_unlogged > 0) {
                detail +=
                    " (" + std::to_string(m_refusals_unlogged) + " more refusals not logged before this)";
            }
            m_refusal_second = now;
            m_refusals_logged = 0;
            m_refusals_unlogged = 0;
        }
        if (m_refusals_logged >= 5) {
            ++m_refusals_unlogged;
            return;
        }
        ++m_refusals_logged;
    }
    Served served(detail);
    served.outcome = "refused";
    const std::string line =
        format_request_log(m_options.log_format, {utc_now(), peer, "-", "-", 503, 0, std::move(served)});
    std::lock_guard lock(m_log_mutex);
    m_log << line << std::endl;
}

void Listener::log_request(const httplib::Request& req, int status, Served served, double duration_ms) {
    const std::string line = format_request_log(
        m_options.log_format,
        {utc_now(), req.remote_addr, req.method, req.path, status, duration_ms, std::move(served)});
    std::lock_guard lock(m_log_mutex);
    m_log << line << std::endl;
}

}  // namespace scepra::http
