// SPDX-License-Identifier: Apache-2.0
// Client-supplied text made safe for a log line: printable ASCII only, and bounded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace scepra::http {

/// Printable ASCII stays (a backslash is doubled); every other byte becomes
/// \xHH, so a log line can hold no control character and no terminal escape.
/// Past max_bytes of input the rest is replaced by "...(N bytes)".
std::string log_safe(std::string_view text, size_t max_bytes = 200);

}  // namespace scepra::http
