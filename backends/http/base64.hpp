// SPDX-License-Identifier: Apache-2.0
// Strict standard base64 (RFC 4648 section 4), as Jackson (EJBCA) and Python write byte arrays.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"

namespace scepra::backend::http {

std::string base64_encode(ByteView data);
/// Padded, no whitespace, no stray characters, zero trailing bits; nullopt otherwise.
std::optional<Bytes> base64_decode(std::string_view text);

}  // namespace scepra::backend::http
