// SPDX-License-Identifier: Apache-2.0
#include "http/ntlm_challenges.hpp"

#include <algorithm>

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
    std::erase_if(m_pending, [&](const auto& entry) { return now - entry.second.issued > kLifetime; });
    if (m_pending.size() >= kMaxPending) {
        auto oldest = std::min_element(m_pending.begin(), m_pending.end(), [](const auto& a, const auto& b) {
            return a.second.order < b.second.order;
        });
        m_pending.erase(oldest);
    }
    m_pending[connection_key(address, port)] = Pending{challenge, now, m_next++};
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
