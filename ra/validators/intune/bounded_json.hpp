// SPDX-License-Identifier: Apache-2.0
// Reading the JSON answers of Entra ID, Graph and Intune: nesting depth and
// string lengths bounded (the body size is bounded by the HTTP client), and
// text from the network made safe to show in a log or a failInfoText.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace scepra::validators::intune {

/// Parses body; nullopt when it is not JSON or nests deeper than max_depth.
std::optional<nlohmann::json> parse_bounded(const std::string& body, int max_depth = 8);

/// The string member key of an object, when it is a string of at most max_length bytes.
std::optional<std::string> string_member(const nlohmann::json& object, const char* key,
                                         std::size_t max_length);

/// At most max_length printable ASCII characters of text (others become '?'),
/// for a log line or a failInfoText.
std::string printable(std::string_view text, std::size_t max_length);

}  // namespace scepra::validators::intune
