// SPDX-License-Identifier: Apache-2.0
#include "validators/intune/bounded_json.hpp"

#include "http/json_answer.hpp"

namespace scepra::validators::intune {

std::optional<nlohmann::json> parse_bounded(const std::string& body, int max_depth) {
    std::string why;  // the callers say what they expected; nlohmann's words about hostile bytes add nothing
    return backend::http::read_json_answer(body, max_depth, why);
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
