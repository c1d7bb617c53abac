// SPDX-License-Identifier: Apache-2.0
// Splits an http:// URL into host, port and path and recognises loopback hosts.
#include "bench/target_url.hpp"

#include <arpa/inet.h>

#include <stdexcept>

namespace scepra::bench {

TargetUrl parse_target_url(const std::string& url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) {
        throw std::invalid_argument("URL must start with http:// (SCEP runs over plain HTTP): '" + url + "'");
    }
    std::string rest = url.substr(scheme.size());
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    TargetUrl target;
    target.path = slash == std::string::npos ? "/" : rest.substr(slash);
    if (target.path.find_first_of("?#") != std::string::npos) {
        throw std::invalid_argument("URL must not carry a query or fragment: '" + url + "'");
    }
    std::string port_text;
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string::npos)
            throw std::invalid_argument("unterminated IPv6 address in '" + url + "'");
        target.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') throw std::invalid_argument("bad authority in '" + url + "'");
            port_text = authority.substr(close + 2);
        }
    } else {
        size_t colon = authority.find(':');
        target.host = authority.substr(0, colon);
        if (colon != std::string::npos) port_text = authority.substr(colon + 1);
    }
    if (target.host.empty()) throw std::invalid_argument("URL has no host: '" + url + "'");
    if (!port_text.empty()) {
        size_t used = 0;
        int port = -1;
        try {
            port = std::stoi(port_text, &used);
        } catch (const std::exception&) {
        }
        if (used != port_text.size() || port < 1 || port > 65535) {
            throw std::invalid_argument("bad port in '" + url + "'");
        }
        target.port = port;
    }
    return target;
}

bool is_loopback_host(const std::string& host) {
    if (host == "localhost" || host == "::1") return true;
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        return IN6_IS_ADDR_LOOPBACK(&v6);
    }
    return false;
}

}  // namespace scepra::bench
