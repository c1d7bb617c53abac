// SPDX-License-Identifier: Apache-2.0
#include "cli/scep_http_client.hpp"

#include <httplib.h>

#include <stdexcept>

namespace scepra::cli {

namespace {

constexpr const char* ndes_path = "/certsrv/mscep/mscep.dll";
constexpr int timeout_seconds = 30;

HttpAnswer send(const ScepUrl& url, httplib::Request request) {
    httplib::Client client(url.origin);
    client.set_connection_timeout(timeout_seconds);
    client.set_read_timeout(timeout_seconds);
    client.set_write_timeout(timeout_seconds);
    std::string body;
    bool too_large = false;
    request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
        if (body.size() + size > max_scep_reply_bytes) {
            too_large = true;
            return false;
        }
        body.append(data, size);
        return true;
    };
    httplib::Result result = client.send(request);
    if (too_large) {
        throw std::runtime_error("the reply is larger than " + std::to_string(max_scep_reply_bytes) +
                                 " bytes");
    }
    if (!result) {
        throw std::runtime_error("no answer from " + url.text() + " (" + httplib::to_string(result.error()) +
                                 ")");
    }
    return {result->status, result->get_header_value("Content-Type"), std::move(body)};
}

}  // namespace

ScepUrl parse_scep_url(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos ||
        (url.compare(0, scheme_end, "http") != 0 && url.compare(0, scheme_end, "https") != 0)) {
        throw std::invalid_argument("'" + url + "' is not an http:// or https:// URL");
    }
    const auto path_start = url.find('/', scheme_end + 3);
    ScepUrl out{url.substr(0, path_start),
                path_start == std::string::npos ? ndes_path : url.substr(path_start)};
    const std::string authority = out.origin.substr(scheme_end + 3);
    const auto port_start = authority.rfind(':');
    const bool bad_port = port_start != std::string::npos &&
                          authority.find(']', port_start) == std::string::npos &&
                          (port_start + 1 == authority.size() || port_start + 6 < authority.size() ||
                           authority.find_first_not_of("0123456789", port_start + 1) != std::string::npos);
    if (authority.empty() || authority.front() == ':' || bad_port ||
        out.path.find_first_of("?#") != std::string::npos) {
        throw std::invalid_argument("'" + url + "' needs a host, an optional numeric port, and no query");
    }
    return out;
}

ScepUrl configured_scep_url(const AppConfig& config) {
    std::string host = config.listen.host;
    if (host.empty() || host == "0.0.0.0") {
        host = "127.0.0.1";
    } else if (host == "::") {
        host = "::1";
    }
    if (host.find(':') != std::string::npos) {
        host = "[" + host + "]";
    }
    const bool tls = !config.listen.tls_cert.empty();
    return {std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(config.listen.port),
            ndes_path};
}

HttpAnswer ScepHttpClient::get(const std::string& operation) const {
    httplib::Request request;
    request.method = "GET";
    request.path = m_url.path + "?operation=" + operation;
    return send(m_url, std::move(request));
}

HttpAnswer ScepHttpClient::post_pki_message(const std::string& body) const {
    httplib::Request request;
    request.method = "POST";
    request.path = m_url.path + "?operation=PKIOperation";
    request.body = body;
    request.set_header("Content-Type", "application/x-pki-message");
    return send(m_url, std::move(request));
}

}  // namespace scepra::cli
