// SPDX-License-Identifier: Apache-2.0
// The GET PKIOperation decoder: the raw request target (path and query, as
// cpp-httplib hands it over, up to its 8 KiB line limit) through
// raw_query_param and decode_base64, as ScepSite does. Neither may throw.
#include <string>

#include "fuzz_input.hpp"
#include "http/transport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 8192) {
        return 0;  // cpp-httplib answers 414 before any handler sees a longer request line
    }
    const std::string target(scepra::fuzz::input_text(data, size));
    std::size_t found = scepra::http::is_scep_path(target) ? 1 : 0;
    if (auto operation = scepra::http::raw_query_param(target, "operation")) {
        found += operation->size();
    }
    if (auto message = scepra::http::raw_query_param(target, "message")) {
        if (auto der = scepra::http::decode_base64(*message)) {
            found += der->size();
        }
    }
    // The decoder on its own, for bytes no percent-decoding would produce.
    if (auto der = scepra::http::decode_base64(target)) {
        found += der->size();
    }
    volatile std::size_t sink = found;
    (void)sink;
    return 0;
}
