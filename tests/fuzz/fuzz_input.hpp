// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the libFuzzer targets: the input as the project's byte
// types, the path of files committed next to the targets, and the checks of
// the targets that hold a reader to what its header promises.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
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

/// A promise of the code under test: a broken one aborts the run, which
/// libFuzzer reports as a crash (a reader returned what its header says it
/// never does).
inline void require(bool promise) {
    if (!promise) {
        std::abort();
    }
}

/// Every character of text lies between low and high (inclusive).
inline bool all_in(std::string_view text, unsigned char low, unsigned char high) {
    for (const unsigned char c : text) {
        if (c < low || c > high) {
            return false;
        }
    }
    return true;
}

}  // namespace scepra::fuzz
