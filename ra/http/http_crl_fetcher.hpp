// SPDX-License-Identifier: Apache-2.0
// Fetching a CRL over plain HTTP (CRLs are signed; RFC 5280 §4.2.1.13
// distribution points are http:// in practice, and AD CS publishes there).
#pragma once

#include <chrono>

#include "core/revocation_check.hpp"

namespace scepra::http {

class HttpCrlFetcher final : public core::CrlFetcher {
  public:
    /// CRLs larger than max_bytes are refused; every phase of the request times out after timeout,
    /// and the whole request after three times that.
    explicit HttpCrlFetcher(std::chrono::seconds timeout = std::chrono::seconds(10),
                            std::size_t max_bytes = 32u << 20)
        : m_timeout(timeout), m_max_bytes(max_bytes) {}
    Bytes fetch(const std::string& url) override;

  private:
    std::chrono::seconds m_timeout;
    std::size_t m_max_bytes;
};

}  // namespace scepra::http
