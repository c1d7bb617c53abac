// SPDX-License-Identifier: Apache-2.0
// UTF-8 validation for printing client-supplied text, and terminal-safe escaping.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace scepra {

/// Length (1-4) of the well-formed UTF-8 character starting at s[i], or 0
/// when the bytes there are not one (stray continuation, overlong form,
/// surrogate, beyond U+10FFFF, or cut short).
inline std::size_t utf8_char_length(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
        return 1;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        lo = b0 == 0xE0 ? 0xA0 : 0x80;
        hi = b0 == 0xED ? 0x9F : 0xBF;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        lo = b0 == 0xF0 ? 0x90 : 0x80;
        hi = b0 == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (i + len > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) {
        return 0;
    }
    for (std::size_t k = 2; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            return 0;
        }
    }
    return len;
}

/// Text safe to print on a terminal: control characters (C0, DEL and C1),
/// backslashes and bytes that are not UTF-8 become \xNN (or \\); printable
/// UTF-8 stays as it is.
inline std::string escape_for_terminal(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    const auto hex = [&](unsigned char b) {
        char buf[5];
        std::snprintf(buf, sizeof buf, "\\x%02x", b);
        out += buf;
    };
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        const std::size_t len = utf8_char_length(s, i);
        if (len == 0 || b < 0x20 || b == 0x7f || (b == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0)) {
            // C1 controls are U+0080-U+009F, encoded C2 80-C2 9F.
            for (std::size_t k = 0; k < (len == 0 ? 1 : len); ++k) {
                hex(static_cast<unsigned char>(s[i + k]));
            }
            i += len == 0 ? 1 : len;
        } else if (b == '\\') {
            out += "\\\\";
            ++i;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

}  // namespace scepra
