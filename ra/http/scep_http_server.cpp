// SPDX-License-Identifier: Apache-2.0
// cpp-httplib wiring for the SCEP service.
#include "http/scep_http_server.hpp"

#include <httplib.h>

#include <chrono>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "http/transport.hpp"

namespace scepra::http {

namespace {

// What NDES shows when mscep.dll is browsed without an operation.
constexpr const char* info_page =
    "<html><head><title>Network Device Enrollment Service</title></head><body>"
    "<p>Network Device Enrollment Service allows you to obtain certificates for routers or other network "
    "devices using the Simple Certificate Enrollment Protocol (SCEP).</p>"
    "<p>This URL is used by network devices to submit certificate requests.</p>"
    "<p>To obtain an enrollment challenge password, go to the admin URL. By default, the admin URL is "
    "/certsrv/mscep_admin</p><p>This service is provided by scep-ra.</p></body></html>\n";

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

core::ScepRequest to_scep_request(const httplib::Request& req) {
    core::ScepRequest out;
    out.peer = req.remote_addr;
    // Many CAs ignore `operation` on POST (RFC 8894 §4.3); a POST body is always a pkiMessage.
    out.operation = raw_query_param(req.target, "operation").value_or("");
    if (req.method == "POST") {
        if (out.operation.empty()) {
            out.operation = "PKIOperation";
        }
        out.message = Bytes(req.body.begin(), req.body.end());
    } else if (out.operation == "PKIOperation") {
        // GET: standard base64, percent-escaped; decoded from the raw target
        // because the form decoder would turn '+' into ' '.
        if (auto text = raw_query_param(req.target, "message")) {
            out.message = decode_base64(*text);
        }
    }
    // GetCACert/GetCACaps `message` (a CA identifier) is accepted and ignored, as NDES does.
    return out;
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

ScepHttpServer::ScepHttpServer(core::ScepService& service, ListenOptions options, std::ostream& log)
    : m_service(service), m_options(std::move(options)), m_log(log), m_server(std::make_unique<httplib::Server>()) {
    auto& server = *m_server;
    const int threads = m_options.worker_threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    server.set_payload_max_length(m_options.max_body_bytes);
    server.set_read_timeout(30, 0);
    server.set_write_timeout(30, 0);
    server.set_keep_alive_max_count(1000);
    server.set_default_headers({{"Server", "scep-ra"}});

    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
        const auto started = std::chrono::steady_clock::now();
        std::string summary;
        if (!is_scep_path(req.path)) {
            res.status = 404;
            res.set_content("not found\n", "text/plain");
            summary = "not a SCEP path";
        } else if (req.method == "GET" && raw_query_param(req.target, "operation").value_or("").empty()) {
            res.status = 200;
            res.set_content(info_page, "text/html");
            summary = "info page";
        } else {
            core::ScepRequest scep = to_scep_request(req);
            core::ScepResponse out;
            try {
                out = m_service.handle(scep);
            } catch (const std::exception& e) {
                // Reached only when not even a FAILURE could be signed or
                // audited (store or keys broken).
                out = {500, "text/plain", "internal error\n", std::string("internal error: ") + e.what()};
            }
            res.status = out.status;
            res.set_content(out.body, out.content_type);
            summary = out.log;
        }
        auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
        std::ostringstream line;
        line << utc_now() << ' ' << req.remote_addr << ' ' << req.method << ' ' << req.path << ' ' << res.status << ' '
             << std::fixed << std::setprecision(1) << micros.count() / 1000.0 << "ms " << summary;
        log_line(line.str());
    };
    server.Get(".*", handler);
    server.Post(".*", handler);
    // Errors httplib raises itself (414 URI too long, 413 body too large, 400 bad request).
    // httplib also calls this for our own 4xx answers, which already have a body.
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
        log_line(utc_now() + ' ' + req.remote_addr + ' ' + req.method + ' ' + req.path + ' ' +
                 std::to_string(res.status) + " refused by the HTTP layer");
    });
}

ScepHttpServer::~ScepHttpServer() { stop(); }

int ScepHttpServer::bind() {
    int port = m_options.port;
    if (port == 0) {
        port = m_server->bind_to_any_port(m_options.host);
    } else if (!m_server->bind_to_port(m_options.host, port)) {
        port = -1;
    }
    if (port <= 0) {
        throw std::runtime_error("cannot listen on " + m_options.host + ":" + std::to_string(m_options.port));
    }
    return port;
}

bool ScepHttpServer::run() { return m_server->listen_after_bind(); }

void ScepHttpServer::stop() {
    if (m_server && m_server->is_running()) {
        m_server->stop();
    }
}

void ScepHttpServer::log_line(const std::string& line) {
    std::lock_guard lock(m_log_mutex);
    m_log << line << std::endl;
}

}  // namespace scepra::http
