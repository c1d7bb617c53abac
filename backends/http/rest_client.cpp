// SPDX-License-Identifier: Apache-2.0
// HTTPS client for a remote CA's REST API (see rest_client.hpp).
#include "http/rest_client.hpp"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "common/call_deadline.hpp"
#include "crypto/encoding.hpp"

namespace scepra::backend::http {

namespace {

/// The last TLS alert the server sent on this connection, seen through
/// OpenSSL's message callback. With TLS 1.3 a server checks the client
/// certificate after the client finished its handshake, so a refusal only
/// shows as this alert followed by a failed read.
struct AlertRecord {
    int description = -1;
};

void record_alert(int write_p, int /*version*/, int content_type, const void* buf, size_t len, SSL* /*ssl*/,
                  void* arg) {
    if (write_p == 0 && content_type == SSL3_RT_ALERT && len >= 2) {
        static_cast<AlertRecord*>(arg)->description = static_cast<const unsigned char*>(buf)[1];
    }
}

bool refuses_client_certificate(int alert) {
    switch (alert) {
        case SSL_AD_BAD_CERTIFICATE:
        case SSL_AD_UNSUPPORTED_CERTIFICATE:
        case SSL_AD_CERTIFICATE_REVOKED:
        case SSL_AD_CERTIFICATE_EXPIRED:
        case SSL_AD_CERTIFICATE_UNKNOWN:
        case SSL_AD_UNKNOWN_CA:
        case SSL_AD_ACCESS_DENIED:
        case SSL_AD_CERTIFICATE_REQUIRED:
            return true;
        default:
            return false;
    }
}

std::string alert_name(int alert) {
    return SSL_alert_desc_string_long(alert);  // the description byte is all it reads
}

TransportError classify(httplib::Error error, const httplib::SSLClient& client, const AlertRecord& alert,
                        bool body_too_large, std::size_t max_body, const std::string& peer,
                        const BaseUrl& base, bool timed_out) {
    const std::string where = base.host + ":" + std::to_string(base.port);
    if (body_too_large) {
        return {TransportFailure::answer_too_large,
                peer + "'s answer is larger than " + std::to_string(max_body) + " bytes"};
    }
    if (alert.description >= 0 && refuses_client_certificate(alert.description)) {
        return {TransportFailure::client_cert_refused,
                peer + " at " + where + " refused the RA's client certificate (TLS alert: " +
                    alert_name(alert.description) + ")"};
    }
    switch (error) {
        case httplib::Error::Connection:
        case httplib::Error::ConnectionTimeout:
        case httplib::Error::BindIPAddress:
            return {TransportFailure::connect_failed, "cannot connect to " + peer + " at " + where};
        case httplib::Error::SSLServerVerification: {
            const long result = client.get_openssl_verify_result();
            if (result != X509_V_OK) {
                return {TransportFailure::server_not_trusted,
                        peer + "'s server certificate at " + where + " is not trusted by server_ca (" +
                            X509_verify_cert_error_string(result) + ")"};
            }
            return {TransportFailure::server_name_mismatch,
                    peer + "'s server certificate at " + where + " does not name host '" + base.host + "'"};
        }
        case httplib::Error::SSLConnection:
        case httplib::Error::SSLLoadingCerts:
            return {TransportFailure::tls_failed,
                    "TLS handshake with " + peer + " at " + where + " failed" +
                        (alert.description >= 0 ? " (TLS alert: " + alert_name(alert.description) + ")"
                                                : std::string())};
        case httplib::Error::Write:
            // The peer acts on a request only once its whole body has arrived.
            return {TransportFailure::dropped_while_sending,
                    peer + " at " + where + " closed the connection before the request was sent"};
        default:
            if (timed_out) {
                return {TransportFailure::no_answer_after_send,
                        "no answer from " + peer + " at " + where + " in time"};
            }
            return {TransportFailure::dropped_after_send, peer + " at " + where +
                                                              " closed the connection without an answer (" +
                                                              httplib::to_string(error) + ")"};
    }
}

/// Blocks SIGPIPE in the calling thread for one call. OpenSSL writes to the
/// socket with write(2), without MSG_NOSIGNAL: a peer that closed the
/// connection (say, after refusing the RA's client certificate) would raise
/// SIGPIPE at the close_notify and kill the whole process. A SIGPIPE the call
/// raises is consumed before the old mask is restored.
class SigpipeBlocked {
  public:
    SigpipeBlocked() {
        sigemptyset(&m_pipe);
        sigaddset(&m_pipe, SIGPIPE);
        sigset_t pending;
        sigpending(&pending);
        m_was_pending = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &m_pipe, &m_old);
    }
    ~SigpipeBlocked() {
        sigset_t pending;
        sigpending(&pending);
        if (!m_was_pending && sigismember(&pending, SIGPIPE) == 1) {
            const timespec no_wait{0, 0};
            sigtimedwait(&m_pipe, nullptr, &no_wait);
        }
        pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }
    SigpipeBlocked(const SigpipeBlocked&) = delete;
    SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

  private:
    sigset_t m_pipe{};
    sigset_t m_old{};
    bool m_was_pending = false;
};

}  // namespace

BaseUrl parse_base_url(const std::string& url, const std::string& peer) {
    const std::string scheme = "https://";
    if (url.rfind(scheme, 0) != 0) {
        throw std::invalid_argument(peer + " url must start with https://: '" + url + "'");
    }
    std::string rest = url.substr(scheme.size());
    if (rest.find_first_of("?#@ \t\r\n") != std::string::npos) {
        throw std::invalid_argument(peer + " url must not carry user info, a query or a fragment: '" + url +
                                    "'");
    }
    const auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    BaseUrl base;
    base.path = slash == std::string::npos ? "" : rest.substr(slash);
    while (!base.path.empty() && base.path.back() == '/') {
        base.path.pop_back();
    }
    std::string port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) {
            throw std::invalid_argument(peer + " url has a bad IPv6 host: '" + url + "'");
        }
        base.host = authority.substr(1, close - 1);
        const std::string after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                throw std::invalid_argument(peer + " url has a bad host: '" + url + "'");
            }
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.find(':');
        base.host = authority.substr(0, colon);
        if (colon != std::string::npos) {
            port_text = authority.substr(colon + 1);
        }
    }
    if (base.host.empty()) {
        throw std::invalid_argument(peer + " url has no host: '" + url + "'");
    }
    if (!port_text.empty()) {
        int port = 0;
        const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
            throw std::invalid_argument(peer + " url has a bad port: '" + url + "'");
        }
        base.port = port;
    }
    return base;
}

std::string percent_encode(const std::string& text) {
    static const char* digits = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 0x0f];
        }
    }
    return out;
}

RestClient::RestClient(const ClientConfig& config)
    : m_peer(config.peer),
      m_base(parse_base_url(config.url, config.peer)),
      m_server_ca(config.server_ca.string()),
      m_timeout_seconds(config.timeout_seconds) {
    if (config.timeout_seconds < 1) {
        throw std::invalid_argument(m_peer + " timeout_seconds must be at least 1");
    }
    if (m_server_ca.empty() && !config.system_trust_without_server_ca) {
        throw std::invalid_argument(m_peer + " server_ca is required: the RA trusts no other CA for " +
                                    m_peer);
    }
    if (!m_server_ca.empty() && !std::ifstream(config.server_ca).good()) {
        throw std::runtime_error("cannot read " + m_peer + " server_ca file " + m_server_ca);
    }
    if (config.client_cert.empty() != config.client_key.empty()) {
        throw std::invalid_argument(m_peer + " client_cert and client_key go together");
    }
    if (!config.client_cert.empty()) {
        m_client_cert = crypto::load_cert_file(config.client_cert);
        m_client_key = crypto::load_key_file(config.client_key);
        if (X509_check_private_key(m_client_cert.get(), m_client_key.get()) != 1) {
            throw std::runtime_error(m_peer + " client_key " + config.client_key.string() +
                                     " does not belong to client_cert " + config.client_cert.string());
        }
    }
}

HttpAnswer RestClient::get(const std::string& path, std::size_t max_body, const char* accept) const {
    return send("GET", path, "", max_body, accept);
}

HttpAnswer RestClient::post_json(const std::string& path, const std::string& json, std::size_t max_body,
                                 const ExtraHeaders& headers) const {
    return send("POST", path, json, max_body, "application/json", &headers);
}

HttpAnswer RestClient::put(const std::string& path, std::size_t max_body) const {
    return send("PUT", path, "", max_body);
}

HttpAnswer RestClient::get_with(const std::string& path, const Headers& headers, std::size_t max_body) const {
    return send(path, Call{"GET", "", "", &headers}, max_body);
}

HttpAnswer RestClient::post(const std::string& path, const std::string& body, const std::string& content_type,
                            const Headers& headers, std::size_t max_body) const {
    return send(path, Call{"POST", body, content_type, &headers}, max_body);
}

HttpAnswer RestClient::send(const char* method, const std::string& path, const std::string& json,
                            std::size_t max_body, const char* accept, const Headers* headers) const {
    const bool has_body = !json.empty() || std::string(method) != "GET";
    return send(path, Call{method, json, has_body ? "application/json" : "", headers, accept}, max_body);
}

HttpAnswer RestClient::send(const std::string& path, Call call, std::size_t max_body) const {
    // Declared first so that it outlives the client, whose destructor may write too.
    const SigpipeBlocked no_sigpipe;
    // A fresh client per call: no state shared between threads, and the TLS
    // alert record belongs to this one connection (and outlives it).
    AlertRecord alert;
    auto client = m_client_cert ? std::make_unique<httplib::SSLClient>(
                                      m_base.host, m_base.port, m_client_cert.get(), m_client_key.get())
                                : std::make_unique<httplib::SSLClient>(m_base.host, m_base.port);
    SSL_CTX* ctx = client->ssl_context();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_msg_callback(ctx, record_alert);
    SSL_CTX_set_msg_callback_arg(ctx, &alert);
    // Only server_ca: set_ca_cert_path keeps httplib from adding the system store
    // (which it loads when no CA is set, for system_trust_without_server_ca).
    if (!m_server_ca.empty()) {
        client->set_ca_cert_path(m_server_ca);
    }
    client->enable_server_certificate_verification(true);  // also checks the host name
    client->set_connection_timeout(m_timeout_seconds);
    client->set_read_timeout(m_timeout_seconds);
    client->set_write_timeout(m_timeout_seconds);
    client->set_keep_alive(false);
    client->set_follow_location(false);
    client->set_url_encode(false);  // paths are percent-encoded by the caller

    httplib::Request request;
    request.method = call.method;
    // An empty path is the base URL itself (a webhook's url).
    request.path = path.empty() ? (m_base.path.empty() ? "/" : m_base.path) : m_base.path + "/" + path;
    request.set_header("Accept", call.accept);
    if (call.headers != nullptr) {
        for (const auto& [name, value] : *call.headers) {
            request.set_header(name.c_str(), value);
        }
    }
    if (!call.content_type.empty()) {
        request.set_header("Content-Type", call.content_type);
        request.body = std::move(call.body);
    }
    OPENSSL_cleanse(call.body.data(), call.body.size());
    std::string body;
    bool too_large = false;
    request.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
        if (body.size() + length > max_body) {
            too_large = true;
            return false;
        }
        body.append(data, length);
        return true;
    };
    const auto started = std::chrono::steady_clock::now();
    bool out_of_time = false;
    auto result = [&] {
        // Connect, send and read, each within the timeout: three of them in all.
        const CallDeadline deadline([&client] { client->stop(); },
                                    std::chrono::seconds(3 * m_timeout_seconds));
        auto sent = client->send(request);
        out_of_time = !sent && deadline.expired();
        return sent;
    }();
    OPENSSL_cleanse(request.body.data(), request.body.size());  // it may hold the end-entity password
    if (!result || too_large) {
        // A read that failed before the timeout is a dropped connection, not a silent server.
        const bool timed_out = out_of_time || std::chrono::steady_clock::now() - started >=
                                                  std::chrono::seconds(m_timeout_seconds);
        throw classify(result.error(), *client, alert, too_large, max_body, m_peer, m_base, timed_out);
    }
    return HttpAnswer{result->status, std::move(body), result->get_header_value("Content-Type")};
}

}  // namespace scepra::backend::http
