// SPDX-License-Identifier: Apache-2.0
// The JSON body an MDM POSTs to the admin page for a bound password
// (ra/http/flat_json.hpp): parse_flat_json_object at its default limits and
// at small ones. nlohmann's parser is the reference: whatever the reader
// accepts is JSON, an object with the same members, every value the same
// string or a number, and within the limits it was given (body size, member
// count, decoded string size, 32-character numbers). A refusal says why. A
// broken promise aborts the run. One difference is allowed: RFC 8259 puts no
// bound on a number's magnitude, so the reader takes 1e999 as written, while
// nlohmann refuses a number a double cannot hold (its error 406).
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_input.hpp"
#include "http/flat_json.hpp"

namespace {

using namespace scepra::http;

using scepra::fuzz::require;

void check_with(const std::string& body, const FlatJsonLimits& limits) {
    std::string error;
    const auto object = parse_flat_json_object(body, error, limits);
    if (!object) {
        require(!error.empty());
        return;
    }
    require(body.size() <= limits.max_bytes && object->size() <= limits.max_members);
    require(body.find('\0') == std::string::npos);
    if (!nlohmann::json::accept(body)) {
        bool beyond_double = false;
        for (const auto& member : *object) {
            beyond_double |=
                member.second.is_number && std::isinf(std::strtod(member.second.text.c_str(), nullptr));
        }
        require(beyond_double);
        return;
    }
    const nlohmann::json reference = nlohmann::json::parse(body);
    require(reference.is_object() && reference.size() == object->size());
    for (const auto& [key, value] : *object) {
        require(key.size() <= limits.max_string_bytes && reference.contains(key));
        const nlohmann::json& expected = reference.at(key);
        if (value.is_number) {
            require(expected.is_number() && !value.text.empty() && value.text.size() <= 32);
        } else {
            require(expected.is_string() && expected.get<std::string>() == value.text);
            require(value.text.size() <= limits.max_string_bytes);
            require(value.text.find('\0') == std::string::npos);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(scepra::fuzz::input_text(data, size));
    check_with(body, FlatJsonLimits{});
    check_with(body, FlatJsonLimits{64, 2, 8});
    return 0;
}
