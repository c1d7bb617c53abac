// SPDX-License-Identifier: Apache-2.0
#include "http/ntlm_challenges.hpp"

#include <algorithm>

#include "common/client_key.hpp"
#include "crypto/digest.hpp"

namespace scepra::http {

namespace {

std::string connection_key(const std::string& address, int port) {
    return address + "|" + std::to_string(port);
}

}  // namespace

Bytes NtlmChallenges::issue(const std::string& address, int port) {
    Bytes challenge = crypto::random_bytes(8);
    std::lock_guard lock(m_mutex);
    const auto now = std::chrono::steady_clock::now();
    const std::string key = connection_key(address, port);
    const std::string client = client_key(address);
    std::erase_if(m_pending, [&](const auto& entry) {
        return now - entry.second.issued > kLifetime || entry.first == key;
    });
    const auto older = [](const auto& a, const auto& b) { return a.second.order < b.second.order; };
    auto oldest_of_client = m_pending.end();
    std::size_t of_client = 0;
    for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
        if (it->second.client == client) {
            ++of_client;
            if (oldest_of_client == m_pending.end() || older(*it, *oldest_of_client)) {
                oldest_of_client = it;
            }
        }
    }
    if (of_client >= kMaxPendingPerAddress) {
        m_pending.erase(oldest_of_client);
    } else if (m_pending.size() >= kMaxPending) {
        m_pending.erase(std::min_element(m_pending.begin(), m_pending.end(), older));
    }
    m_pending[key] = Pending{client, challenge, now, m_next++};
    return challenge;
}

std::optional<Bytes> NtlmChallenges::take(const std::string& address, int port) {
    std::lock_guard lock(m_mutex);
    auto it = m_pending.find(connection_key(address, port));
    if (it == m_pending.end()) {
        return std::nullopt;
    }
    Pending pending = std::move(it->second);
    m_pending.erase(it);
    if (std::chrono::steady_clock::now() - pending.issued > kLifetime) {
        return std::nullopt;
    }
    return pending.challenge;
}

}  // namespace scepra::http
