// SPDX-License-Identifier: Apache-2.0
// What a request's head allows before any of its body is read: httplib 0.11
// caps a body only when it has a Content-Length, reads chunked bodies to the
// end, and inflates Content-Encoding bodies after its length check.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace httplib {
struct Request;
}

namespace scepra::http {

struct HeadVerdict {
    std::optional<size_t> body_length;  ///< set: accepted, with a body of this many bytes
    int status = 0;                     ///< otherwise the refusal
    std::string reason;                 ///< for the client, one line
};

/// GET and HEAD without a body; POST with a single, plain Content-Length of at
/// most max_body_bytes; no Transfer-Encoding, no Content-Encoding, no other method.
HeadVerdict judge_request_head(const httplib::Request& request, size_t max_body_bytes);

}  // namespace scepra::http
