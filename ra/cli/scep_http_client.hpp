// SPDX-License-Identifier: Apache-2.0
// A SCEP client's HTTP side, for `scep-ra doctor` asking the running server
// what devices would be told.
#pragma once

#include <cstddef>
#include <string>

#include "cli/app_config.hpp"

namespace scepra::cli {

/// Where the server answers SCEP: origin "http://host:port", path "/certsrv/mscep/mscep.dll".
struct ScepUrl {
    std::string origin;
    std::string path;
    std::string text() const { return origin + path; }
};

/// Parses http(s)://HOST[:PORT][/PATH] (an IPv6 HOST in brackets; PATH defaults
/// to NDES's). Throws std::invalid_argument naming what is wrong.
ScepUrl parse_scep_url(const std::string& url);

/// The configured SCEP listener as reached from this host: a wildcard address
/// becomes loopback.
ScepUrl configured_scep_url(const AppConfig& config);

struct HttpAnswer {
    int status = 0;
    std::string content_type;
    std::string body;
};

/// Replies larger than this are abandoned: a GetCACert or CertRep is a few KiB.
inline constexpr std::size_t max_scep_reply_bytes = 1 << 20;

class ScepHttpClient {
  public:
    explicit ScepHttpClient(ScepUrl url) : m_url(std::move(url)) {}
    /// GET ?operation=OP. Throws std::runtime_error when no HTTP answer came.
    HttpAnswer get(const std::string& operation) const;
    /// POST ?operation=PKIOperation with a pkiMessage. Throws like get().
    HttpAnswer post_pki_message(const std::string& body) const;
    const ScepUrl& url() const { return m_url; }

  private:
    ScepUrl m_url;
};

}  // namespace scepra::cli
