// SPDX-License-Identifier: Apache-2.0
// Refusing request bodies scep-ra cannot bound, from the headers alone.
#include "http/request_head.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>

namespace scepra::http {

namespace {

HeadVerdict refuse(int status, std::string reason) { return {std::nullopt, status, std::move(reason)}; }

/// Digits only (no sign, no spaces, no list): anything else is not a length we trust.
std::optional<size_t> parse_length(const std::string& text) {
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
        return std::nullopt;
    }
    return static_cast<size_t>(std::stoull(text));
}

}  // namespace

HeadVerdict judge_request_head(const httplib::Request& req, size_t max_body_bytes) {
    const bool is_post = req.method == "POST";
    if (!is_post && req.method != "GET" && req.method != "HEAD") {
        return refuse(405, "only GET and POST are served");
    }
    // SCEP messages are DER; a compressed body would be inflated by httplib
    // after its length check (a few MiB of gzip become GiB).
    if (req.has_header("Content-Encoding")) {
        return refuse(415,
                      "compressed request bodies are not accepted: send the body without Content-Encoding");
    }
    // Chunked bodies have no length httplib would check.
    if (req.has_header("Transfer-Encoding")) {
        return refuse(411, "send the body with a Content-Length; Transfer-Encoding is not accepted");
    }
    const size_t lengths = req.get_header_value_count("Content-Length");
    if (lengths > 1) {
        return refuse(400, "more than one Content-Length");
    }
    if (lengths == 0) {
        if (is_post) {
            return refuse(411, "a POST needs a Content-Length");
        }
        return {0, 0, {}};
    }
    const auto length = parse_length(req.get_header_value("Content-Length"));
    if (!length) {
        return refuse(400, "Content-Length is not a number");
    }
    if (!is_post && *length > 0) {
        return refuse(400, "a " + req.method + " request carries no body");
    }
    // A body somewhat over the cap is read and discarded by httplib (no memory
    // kept), which then answers 413: clients that send their whole body before
    // reading (httplib's own) would otherwise fail to write and never see the 413.
    if (*length > 4 * max_body_bytes) {
        return refuse(413, "request body larger than " + std::to_string(max_body_bytes) + " bytes");
    }
    return {*length, 0, {}};
}

}  // namespace scepra::http
