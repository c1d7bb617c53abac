// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the libFuzzer targets: the input as the project's byte
// types, and the path of files committed next to the targets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.hpp"

namespace scepra::fuzz {

inline ByteView input_bytes(const std::uint8_t* data, std::size_t size) { return ByteView(data, size); }

inline std::string_view input_text(const std::uint8_t* data, std::size_t size) {
    return std::string_view(reinterpret_cast<const char*>(data), size);
}

/// A file under tests/fuzz/ of the source tree (the fixed RA test identity).
inline std::string fuzz_source_file(const std::string& name) {
    return std::string(SCEPRA_FUZZ_DIR) + "/" + name;
}

}  // namespace scepra::fuzz
