// SPDX-License-Identifier: Apache-2.0
// HTTPS with the RA's client certificate to a remote CA's REST API (EJBCA,
// the AD CS bridge): one fresh connection per call, server certificate checked
// against server_ca and the URL's host name, every answer size-capped.
// Failures are classified by whether the request can have reached the peer's
// application.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "crypto/handles.hpp"

namespace scepra::backend::http {

/// Where and how to reach the peer.
struct ClientConfig {
    std::string peer;                   ///< its name in messages ("EJBCA", "the AD CS bridge")
    std::string url;                    ///< https://host[:port][/path]
    std::filesystem::path client_cert;  ///< the RA's TLS client certificate (PEM); empty = none
    std::filesystem::path client_key;   ///< its unencrypted PEM key
    std::filesystem::path server_ca;    ///< the only CA(s) trusted for the peer's server certificate
    int timeout_seconds = 30;           ///< connect, read and write timeouts, each; a whole call gets three
    /// With no server_ca: trust the system's CA store (a policy webhook at a
    /// public host) instead of refusing. The CA backends never set it.
    bool system_trust_without_server_ca = false;
};

/// Extra request headers (name, value), e.g. a bearer token or a signature
/// over the body: values may be secret, so they are never put into messages.
using Headers = std::vector<std::pair<std::string, std::string>>;
using ExtraHeaders = Headers;

/// An HTTP answer, whatever its status.
struct HttpAnswer {
    int status = 0;
    std::string body;
    std::string content_type;
};

/// Why a call got no HTTP answer.
enum class TransportFailure {
    connect_failed,         ///< no TCP connection (refused, unreachable, name unknown, connect timeout)
    server_not_trusted,     ///< the server's certificate does not chain to server_ca
    server_name_mismatch,   ///< the server's certificate does not name the URL's host
    client_cert_refused,    ///< the server refused the RA's client certificate (TLS alert)
    tls_failed,             ///< another TLS handshake failure
    dropped_while_sending,  ///< the connection broke before the whole request was written
    dropped_after_send,     ///< the connection broke, before the timeout, once the request was sent
    no_answer_after_send,   ///< no answer within the timeout once the request was sent
    answer_too_large,       ///< the answer exceeded the size cap
};

class TransportError : public std::runtime_error {
  public:
    TransportError(TransportFailure failure, const std::string& what)
        : std::runtime_error(what), m_failure(failure) {}
    TransportFailure failure() const { return m_failure; }
    /// True when the peer's application may have received (and acted on) the request.
    bool may_have_reached() const {
        return m_failure == TransportFailure::no_answer_after_send ||
               m_failure == TransportFailure::dropped_after_send ||
               m_failure == TransportFailure::answer_too_large;
    }

  private:
    TransportFailure m_failure;
};

/// The parts of the configured base URL.
struct BaseUrl {
    std::string host;  ///< without brackets for IPv6
    int port = 443;
    std::string path;  ///< e.g. "/ejbca/ejbca-rest-api", no trailing slash
};
/// Parses "https://host[:port][/path]"; throws std::invalid_argument for
/// anything else (other schemes, user info, query, fragment, bad port),
/// naming peer in the message.
BaseUrl parse_base_url(const std::string& url, const std::string& peer);

/// Percent-encodes one path segment or query value (RFC 3986 unreserved kept).
std::string percent_encode(const std::string& text);

class RestClient {
  public:
    /// Loads the client certificate and key; throws std::runtime_error naming
    /// the file when one cannot be read, std::invalid_argument for a bad URL.
    explicit RestClient(const ClientConfig& config);

    /// path is relative to the base URL ("v1/ca"); empty: the base URL itself.
    /// Throws TransportError.
    HttpAnswer get(const std::string& path, std::size_t max_body,
                   const char* accept = "application/json") const;
    HttpAnswer post_json(const std::string& path, const std::string& json, std::size_t max_body,
                         const ExtraHeaders& headers = {}) const;
    HttpAnswer put(const std::string& path, std::size_t max_body) const;
    /// GET with extra headers (Accept: application/json).
    HttpAnswer get_with(const std::string& path, const Headers& headers, std::size_t max_body) const;
    /// POST of any body type with extra headers; the body is wiped from memory
    /// once sent (it may hold a client secret).
    HttpAnswer post(const std::string& path, const std::string& body, const std::string& content_type,
                    const Headers& headers, std::size_t max_body) const;

    const BaseUrl& base() const { return m_base; }

  private:
    struct Call {
        const char* method;
        std::string body;
        std::string content_type;  ///< empty: none (a GET without a body)
        const Headers* headers = nullptr;
        const char* accept = "application/json";
    };
    HttpAnswer send(const char* method, const std::string& path, const std::string& json,
                    std::size_t max_body, const char* accept = "application/json",
                    const Headers* headers = nullptr) const;
    HttpAnswer send(const std::string& path, Call call, std::size_t max_body) const;

    std::string m_peer;
    BaseUrl m_base;
    std::string m_server_ca;
    int m_timeout_seconds;
    crypto::X509Ptr m_client_cert;
    crypto::EvpPkeyPtr m_client_key;
};

}  // namespace scepra::backend::http
