// SPDX-License-Identifier: Apache-2.0
// Byte buffers and views used across the project, plus hex helpers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scepra {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string to_string(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

/// Hex encoding, uppercase by default (NDES shows passwords and thumbprints in uppercase).
inline std::string to_hex(ByteView b, bool upper = true) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(b.size() * 2);
    for (auto c : b) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0x0f]);
    }
    return out;
}

}  // namespace scepra
