// SPDX-License-Identifier: Apache-2.0
// The key a client address is counted under by per-address caps and throttles.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <string>

namespace scepra {

/// An IPv4 address as it is; an IPv6 address by its /64, the usual share of
/// one site or host, inside which it can use any address it likes (so one
/// host cannot pass a per-address cap by changing its address). Anything
/// else (empty, not an address) as it is.
inline std::string client_key(const std::string& ip) {
    in6_addr v6{};
    if (::inet_pton(AF_INET6, ip.c_str(), &v6) != 1) {
        return ip;
    }
    for (int i = 8; i < 16; ++i) {
        v6.s6_addr[i] = 0;
    }
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (::inet_ntop(AF_INET6, &v6, text.data(), text.size()) == nullptr) {
        return ip;
    }
    return std::string(text.data()) + "/64";
}

}  // namespace scepra
