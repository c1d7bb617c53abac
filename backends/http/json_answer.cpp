// SPDX-License-Identifier: Apache-2.0
#include "http/json_answer.hpp"

namespace scepra::backend::http {

namespace {

/// Thrown from the parser's callback: stops the parse at the first value too deep.
struct NestedTooDeeply {};

/// At most max_length bytes of text, each outside printable ASCII replaced by '?'.
std::string printable_prefix(const std::string& text, std::size_t max_length) {
    std::string out;
    for (std::size_t i = 0; i < text.size() && i < max_length; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    }
    return text.size() > max_length ? out + "..." : out;
}

}  // namespace

std::optional<nlohmann::json> read_json_answer(const std::string& body, int max_depth, std::string& why) {
    if (body.find('\0') != std::string::npos) {
        why = "not JSON: a NUL byte in the answer";
        return std::nullopt;
    }
    try {
        return nlohmann::json::parse(body,
                                     [max_depth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                         if (depth > max_depth) {
                                             throw NestedTooDeeply{};
                                         }
                                         return true;
                                     });
    } catch (const NestedTooDeeply&) {
        why = "JSON nested too deeply (more than " + std::to_string(max_depth) + " levels)";
    } catch (const nlohmann::json::exception& e) {
        why = "not JSON: " + printable_prefix(e.what(), 120);
    }
    return std::nullopt;
}

}  // namespace scepra::backend::http
