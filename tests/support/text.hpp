// SPDX-License-Identifier: Apache-2.0
// Small checks on text that many tests share.
#pragma once

#include <string_view>

namespace scepra::test {

/// True when part occurs in text.
inline bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

}  // namespace scepra::test
