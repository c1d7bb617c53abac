// SPDX-License-Identifier: Apache-2.0
// Reading a remote system's JSON answer (EJBCA, the AD CS bridge, the policy
// webhook, Entra ID / Graph / Intune): one JSON text nested at most max_depth
// deep. nlohmann stops reading at a NUL byte and ignores the rest, so a body
// with one is refused: it is not one answer.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

namespace scepra::backend::http {

/// body as JSON, or nullopt with why set to the reason (printable ASCII, at
/// most about 150 characters: nlohmann's words quote the hostile bytes).
std::optional<nlohmann::json> read_json_answer(const std::string& body, int max_depth, std::string& why);

/// read_json_answer, throwing Error(why) when the body is not one bounded JSON text.
template <class Error>
nlohmann::json parse_json_answer(const std::string& body, int max_depth) {
    std::string why;
    std::optional<nlohmann::json> parsed = read_json_answer(body, max_depth, why);
    if (!parsed) {
        throw Error(why);
    }
    return std::move(*parsed);
}

}  // namespace scepra::backend::http
