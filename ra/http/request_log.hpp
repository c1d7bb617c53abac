// SPDX-License-Identifier: Apache-2.0
// The request log: one line per HTTP request, as text (default) or as a JSON
// object per line ([log] format = json). Every field a client chose is
// escaped and bounded (log_safe); no field ever holds a secret.
#pragma once

#include <string>
#include <string_view>

namespace scepra::http {

enum class LogFormat { text, json };

/// What a site tells the log about a request it answered. Implicitly made
/// from the one-line summary, which is all most sites have to say.
struct Served {
    Served(std::string text = {}) : summary(std::move(text)) {}  // NOLINT: implicit by design
    Served(const char* text) : summary(text) {}                  // NOLINT: implicit by design
    std::string summary;                                         ///< free text, no secrets
    // Set by the SCEP site; empty when not known.
    std::string operation;       ///< as the client named it
    std::string message_type;    ///< PKIOperation: PKCSReq, CertPoll, ...
    std::string transaction_id;  ///< the client's transactionID
    std::string outcome;         ///< success | pending | failure | malformed | refused | error
    std::string fail_info;       ///< with failure
    std::string backend;         ///< the CA backend a PKIOperation went to
};

struct RequestLogLine {
    std::string time;  ///< UTC, ISO 8601 with milliseconds
    std::string peer, method, path;
    int status = 0;
    double duration_ms = 0;
    Served served;
};

/// info; warn for a request refused or failed (4xx, SCEP failure); error for 5xx.
std::string log_level(int status, std::string_view outcome);
/// The line, without its line feed.
std::string format_request_log(LogFormat format, const RequestLogLine& line);

}  // namespace scepra::http
