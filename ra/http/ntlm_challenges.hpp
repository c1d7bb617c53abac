// SPDX-License-Identifier: Apache-2.0
// NTLM server challenges waiting for their AUTHENTICATE, each bound to the
// keep-alive connection (peer address and port) its CHALLENGE went out on.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/bytes.hpp"

namespace scepra::http {

class NtlmChallenges final {
  public:
    static constexpr std::size_t kMaxPending = 1024;
    /// A browser opens a few connections; a flood of NEGOTIATEs from one
    /// client (an IPv6 host by its /64, as client_key counts it) drops its
    /// own oldest challenges, not other clients'.
    static constexpr std::size_t kMaxPendingPerAddress = 8;
    static constexpr std::chrono::seconds kLifetime{120};

    /// A fresh 8-byte challenge for this connection (replacing its previous
    /// one). Past kMaxPendingPerAddress for the client (client_key), its oldest is
    /// dropped; past kMaxPending, the oldest of all: a flood of NEGOTIATEs
    /// holds bounded memory.
    Bytes issue(const std::string& address, int port);

    /// The challenge issued on this connection, once; nullopt when none was,
    /// or it is older than kLifetime.
    std::optional<Bytes> take(const std::string& address, int port);

  private:
    struct Pending {
        std::string client;  ///< client_key of the address
        Bytes challenge;
        std::chrono::steady_clock::time_point issued;
        std::uint64_t order;
    };
    std::mutex m_mutex;
    std::map<std::string, Pending> m_pending;
    std::uint64_t m_next = 0;
};

}  // namespace scepra::http
