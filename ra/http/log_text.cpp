// SPDX-License-Identifier: Apache-2.0
#include "http/log_text.hpp"

namespace scepra::http {

std::string log_safe(std::string_view text, size_t max_bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    const std::string_view shown = text.substr(0, max_bytes);
    std::string out;
    out.reserve(shown.size() + 16);
    for (const char c : shown) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\\') {
            out += "\\\\";
        } else if (byte >= 0x20 && byte < 0x7f) {
            out += c;
        } else {
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    if (shown.size() < text.size()) {
        out += "...(" + std::to_string(text.size()) + " bytes)";
    }
    return out;
}

}  // namespace scepra::http
