// SPDX-License-Identifier: Apache-2.0
// Decoding the SCEP HTTP transport (RFC 8894 §4.1): query parameters taken
// from the raw request target, and the base64 `message` of GET PKIOperation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"

namespace scepra::http {

/// The value of `name` in the raw query of `target`, percent-decoded, with
/// '+' left as '+' (it is base64 data here, not a form-encoded space).
std::optional<std::string> raw_query_param(std::string_view target, std::string_view name);

/// Standard base64 (RFC 4648 §4), tolerant of missing padding, line breaks
/// and a '+' that an intermediary turned into a space. nullopt on bad input.
std::optional<Bytes> decode_base64(std::string_view text);

/// True when the path (any case) is one of the SCEP endpoints NDES and
/// RFC 8894 clients use.
bool is_scep_path(std::string_view path);

}  // namespace scepra::http
