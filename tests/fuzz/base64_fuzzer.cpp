// SPDX-License-Identifier: Apache-2.0
// The strict base64 decoder both backends apply to the byte arrays of EJBCA's
// and the AD CS bridge's answers (backends/http/base64.hpp). It throws
// nothing; what it accepts is canonical (encoding the result gives the input
// back, so no two texts decode to the same bytes), and every encoding
// decodes to its bytes. A broken promise aborts the run as a finding.
#include <string>

#include "fuzz_input.hpp"
#include "http/base64.hpp"

namespace {

using scepra::fuzz::require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using scepra::backend::http::base64_decode;
    using scepra::backend::http::base64_encode;
    const std::string_view text = scepra::fuzz::input_text(data, size);
    if (const auto decoded = base64_decode(text)) {
        require(decoded->size() <= text.size() / 4 * 3);
        require(base64_encode(*decoded) == text);
    }
    const scepra::ByteView bytes = scepra::fuzz::input_bytes(data, size);
    const std::string encoded = base64_encode(bytes);
    const auto round_trip = base64_decode(encoded);
    require(round_trip && scepra::Bytes(bytes.begin(), bytes.end()) == *round_trip);
    return 0;
}
