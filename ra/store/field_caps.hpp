// SPDX-License-Identifier: Apache-2.0
// Bounds on client-supplied text before it is stored: every such field is
// cut to a documented length and marked, so no request can grow a row beyond it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace scepra::store {

inline constexpr std::size_t kMaxStoredTransactionId = 128;
inline constexpr std::size_t kMaxStoredText = 1024;  ///< subject, detail
inline constexpr std::size_t kMaxStoredShort = 128;  ///< peer, message type, operation, admin name
inline constexpr std::string_view kTruncatedMarker = "...[truncated]";

/// text itself when it fits in max bytes; otherwise its start, cut at a UTF-8
/// character boundary, followed by kTruncatedMarker, max bytes at most.
inline std::string capped(std::string_view text, std::size_t max) {
    if (text.size() <= max) {
        return std::string(text);
    }
    std::size_t keep = max > kTruncatedMarker.size() ? max - kTruncatedMarker.size() : 0;
    // Do not leave half a multi-byte character before the marker.
    while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) {
        --keep;
    }
    return std::string(text.substr(0, keep)) + std::string(kTruncatedMarker.substr(0, max - keep));
}

}  // namespace scepra::store
