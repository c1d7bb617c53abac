// SPDX-License-Identifier: Apache-2.0
#include "validators/intune/bounded_json.hpp"

namespace scepra::validators::intune {

std::optional<nlohmann::json> parse_bounded(const std::string& body, int max_depth) {
    if (body.find('\0') != std::string::npos) {
        return std::nullopt;  // nlohmann stops at a NUL byte and would ignore whatever follows it
    }
    bool too_deep = false;
    auto limit = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        too_deep = too_deep || depth > max_depth;
        return !too_deep;  // false discards the value; the parse goes on shallowly
    };
    nlohmann::json parsed = nlohmann::json::parse(body, limit, false);
    if (parsed.is_discarded() || too_deep) {
        return std::nullopt;
    }
    return parsed;
}

std::optional<std::string> string_member(const nlohmann::json& object, const char* key,
                                         std::size_t max_length) {
    if (!object.is_object()) {
        return std::nullopt;
    }
    const auto found = object.find(key);
    if (found == object.end() || !found->is_string()) {
        return std::nullopt;
    }
    const auto& text = found->get_ref<const std::string&>();
    if (text.size() > max_length) {
        return std::nullopt;
    }
    return text;
}

std::string printable(std::string_view text, std::size_t max_length) {
    std::string out;
    for (char c : text.substr(0, max_length)) {
        out += c >= 0x20 && c < 0x7f ? c : '?';
    }
    return out;
}

}  // namespace scepra::validators::intune
