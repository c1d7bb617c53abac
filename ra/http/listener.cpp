// SPDX-License-Identifier: Apache-2.0
// cpp-httplib wiring shared by the SCEP and admin listeners.
#include "http/listener.hpp"

#include <httplib.h>

#include <chrono>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <sys/socket.h>

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

}  // namespace

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
      m_server(make_guarded_server(m_options.limits, m_options.tls_cert, m_options.tls_key)) {
    auto& server = *m_server;
    const int threads = m_options.worker_threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    // Timeouts and keep-alive are ConnectionLimits, applied by the guarded server.
    server.set_payload_max_length(m_options.max_body_bytes);
    server.set_default_headers({{"Server", "scep-ra"}});
    // httplib writes headers and body in two send()s: with Nagle on, the body
    // waits for the client's delayed ACK, 40 ms on every keep-alive request.
    server.set_tcp_nodelay(true);
    // Remember the listening socket: bind() raises httplib's compiled-in backlog of 5.
    server.set_socket_options([this](socket_t sock) {
        httplib::default_socket_options(sock);
        m_listen_fd = sock;
    });

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
        const auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
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
            res.set_content("request URI too long: send PKIOperation by POST (see GetCACaps POSTPKIOperation)\n",
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

Listener::~Listener() { stop(); }

int Listener::bind() {
    int port = m_options.port;
    if (port == 0) {
        port = m_server->bind_to_any_port(m_options.host);
    } else if (!m_server->bind_to_port(m_options.host, port)) {
        port = -1;
    }
    if (port <= 0) {
        throw std::runtime_error("cannot listen on " + m_options.host + ":" + std::to_string(m_options.port));
    }
    // Many devices connecting at once would overflow a backlog of 5: the
    // kernel drops their SYNs and they retry a second later. listen() again
    // on a listening socket only changes the backlog.
    if (m_listen_fd >= 0) {
        ::listen(m_listen_fd, 1024);
    }
    return port;
}

bool Listener::run() {
    m_run_started = true;
    bool served = true;
    if (!m_stop_requested) {
        served = m_server->listen_after_bind();
    }
    m_run_finished = true;
    return served;
}

void Listener::stop() {
    m_stop_requested = true;
    if (!m_server || !m_run_started) {
        return;  // run() has not begun: it sees the request and returns at once
    }
    // httplib ignores a stop() that comes before its accept loop is running,
    // and the loop would then never end: wait for it to run (or to fail).
    while (!m_server->is_running() && !m_run_finished) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    m_server->stop();
}

void Listener::log_request(const httplib::Request& req, int status, Served served, double duration_ms) {
    const std::string line = format_request_log(
        m_options.log_format, {utc_now(), req.remote_addr, req.method, req.path, status, duration_ms, std::move(served)});
    std::lock_guard lock(m_log_mutex);
    m_log << line << std::endl;
}

}  // namespace scepra::http
