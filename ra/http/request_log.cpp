// SPDX-License-Identifier: Apache-2.0
#include "http/request_log.hpp"

#include <cstdio>

#include "common/json.hpp"
#include "http/log_text.hpp"

namespace scepra::http {

namespace {

std::string milliseconds(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", ms);
    return buf;
}

/// A JSON string of escaped client text, or null when there is none.
std::optional<std::string> optional_safe(const std::string& text, size_t max_bytes = 200) {
    return text.empty() ? std::nullopt : std::optional<std::string>(log_safe(text, max_bytes));
}

std::string text_line(const RequestLogLine& l) {
    std::string out = l.time + ' ' + log_level(l.status, l.served.outcome) + ' ' + log_safe(l.peer, 64) +
                      ' ' + log_safe(l.method, 16) + ' ' + log_safe(l.path, 200) + ' ' +
                      std::to_string(l.status) + ' ' + milliseconds(l.duration_ms) + "ms " +
                      log_safe(l.served.summary, 400);
    if (!l.served.backend.empty()) {
        out += " backend=" + log_safe(l.served.backend, 32);
    }
    return out;
}

std::string json_line(const RequestLogLine& l) {
    // log_safe first: the line stays printable ASCII whatever bytes a client sent.
    return JsonObject()
        .add("time", l.time)
        .add("level", log_level(l.status, l.served.outcome))
        .add("peer", log_safe(l.peer, 64))
        .add("method", log_safe(l.method, 16))
        .add("path", log_safe(l.path, 200))
        .add("status", l.status)
        .raw("duration_ms", milliseconds(l.duration_ms))
        .add("operation", optional_safe(l.served.operation, 64))
        .add("message_type", optional_safe(l.served.message_type, 32))
        .add("transaction_id", optional_safe(l.served.transaction_id, 128))
        .add("outcome", optional_safe(l.served.outcome, 32))
        .add("fail_info", optional_safe(l.served.fail_info, 32))
        .add("backend", optional_safe(l.served.backend, 32))
        .add("detail", log_safe(l.served.summary, 400))
        .str();
}

}  // namespace

std::string log_level(int status, std::string_view outcome) {
    if (status >= 500 || outcome == "error") {
        return "error";
    }
    if (status >= 400 || outcome == "failure" || outcome == "malformed" || outcome == "refused") {
        return "warn";
    }
    return "info";
}

std::string format_request_log(LogFormat format, const RequestLogLine& line) {
    return format == LogFormat::json ? json_line(line) : text_line(line);
}

}  // namespace scepra::http
