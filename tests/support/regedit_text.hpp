// SPDX-License-Identifier: Apache-2.0
// Registry exports as regedit writes them, for the NDES import tests.
#pragma once

#include <string>

namespace scepra::test {

/// text (ASCII) as UTF-16LE with CRLF line ends, after a byte order mark
/// unless bom is false: how regedit writes an export.
inline std::string regedit_utf16le(const std::string& text, bool bom = true) {
    std::string out = bom ? std::string("\xFF\xFE", 2) : std::string();
    for (char c : text) {
        if (c == '\n') {
            out += std::string("\r\0", 2);
        }
        out += c;
        out += '\0';
    }
    return out;
}

}  // namespace scepra::test
