// SPDX-License-Identifier: Apache-2.0
// A strict, bounded reader for the one JSON shape scep-ra accepts from the
// network: a flat object of string and number members.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace scepra::http {

struct JsonScalar {
    bool is_number = false;
    std::string text;  ///< the decoded string (UTF-8), or the number as written
};

using FlatJsonObject = std::map<std::string, JsonScalar>;

struct FlatJsonLimits {
    size_t max_bytes = 4096;
    size_t max_members = 16;
    size_t max_string_bytes = 1024;  ///< per key or value, decoded
};

/// Reads `{"key": "text" | number, ...}` (RFC 8259 syntax) and nothing else:
/// no nesting, arrays, true/false/null, duplicate keys, NUL characters,
/// invalid UTF-8 or trailing text. On failure returns nullopt and says why in `error`.
std::optional<FlatJsonObject> parse_flat_json_object(std::string_view text, std::string& error,
                                                     const FlatJsonLimits& limits = {});

}  // namespace scepra::http
