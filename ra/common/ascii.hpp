// SPDX-License-Identifier: Apache-2.0
// Comparing text but for the case of ASCII letters (scheme names, service
// classes, registry keys, curve names, DNS names): other bytes compare as they are.
#pragma once

#include <cstddef>
#include <string_view>

namespace scepra {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// a and b are the same text but for the case of ASCII letters, over their
/// whole length (a C-string compare would stop at a NUL byte inside either).
inline bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

/// text begins with prefix, but for the case of ASCII letters.
inline bool starts_with_ignoring_ascii_case(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && equal_ignoring_ascii_case(text.substr(0, prefix.size()), prefix);
}

}  // namespace scepra
