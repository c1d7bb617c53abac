// SPDX-License-Identifier: Apache-2.0
#include "metrics/text_format.hpp"

#include <charconv>
#include <cmath>

namespace scepra::metrics {

namespace {
std::string escape(std::string_view text, bool quote) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
    return out;
}
}  // namespace

std::string escape_label_value(std::string_view value) { return escape(value, true); }

std::string escape_help(std::string_view text) { return escape(text, false); }

std::string format_value(double value) {
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    char buf[64];
    const auto result = std::to_chars(buf, buf + sizeof buf, value);
    return std::string(buf, result.ptr);
}

std::string format_labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                          std::string_view extra_name, std::string_view extra_value) {
    if (names.empty() && extra_name.empty()) {
        return {};
    }
    std::string out = "{";
    for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
        out += (i ? "," : "") + names[i] + "=\"" + escape_label_value(values[i]) + "\"";
    }
    if (!extra_name.empty()) {
        out += (names.empty() ? "" : ",") + std::string(extra_name) + "=\"" +
               escape_label_value(extra_value) + "\"";
    }
    return out + "}";
}

}  // namespace scepra::metrics
