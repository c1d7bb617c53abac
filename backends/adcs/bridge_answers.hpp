// SPDX-License-Identifier: Apache-2.0
// Strict readers for the AD CS bridge's JSON answers (backends/adcs/bridge/README.md,
// "API"). Every reader throws BadAnswer for anything but the documented shape.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/bytes.hpp"

namespace scepra::backend::adcs {

class BadAnswer : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The body of an answer about one request (POST /v1/requests, GET /v1/requests/{id}).
struct RequestAnswer {
    std::string status;  ///< "issued", "pending", "denied", "unknown" or "error"
    std::uint32_t request_id =
        0;  ///< the CA's id; 0 when absent (unknown, error, a call denied before it made a request)
    Bytes certificate_der;                     ///< issued: one DER certificate, nothing after it
    std::vector<Bytes> chain_der;              ///< issued: the CA chain without the leaf, issuing CA first
    std::string serial;                        ///< issued: upper-case hex, as the bridge writes it
    std::optional<std::uint32_t> disposition;  ///< the CA's DWORD: 0 to 6, or a failure HRESULT
    std::string hresult;                       ///< "0x..." when present
    std::string message;  ///< the CA's or the bridge's words, unbounded here (see audit_text)
};

/// Reads an answer about one request. The fields its status needs must be
/// there and well formed; the others are read only when present.
RequestAnswer read_request_answer(const std::string& body);

/// GET /v1/ca: the DER certificates of "chain" (1 to 10, issuing CA first).
std::vector<Bytes> read_chain_answer(const std::string& body);

/// The message of any answer, for the logs; empty when there is none.
std::string read_message(const std::string& body);

/// text made safe to store and show to an operator: control characters
/// replaced, cut to at most max_bytes on a UTF-8 boundary.
std::string audit_text(const std::string& text, std::size_t max_bytes = 300);

}  // namespace scepra::backend::adcs
