// SPDX-License-Identifier: Apache-2.0
// The JSON reader the Intune validator's answers go through
// (ra/validators/intune/bounded_json.hpp): parse_bounded at the depth its
// callers use (8) and at 2, string_member and printable. parse_bounded throws
// nothing and answers nullopt exactly for what is not JSON or nests too
// deeply; nlohmann's own parser and a bracket count over the text are the
// reference (a JSON text with brackets nested B deep reaches the depth limit
// at B - 1 when its innermost container is empty, at B otherwise). A value it
// returns equals nlohmann's full parse. A broken promise aborts the run.
#include <algorithm>
#include <string>

#include "fuzz_input.hpp"
#include "validators/intune/bounded_json.hpp"

namespace {

using namespace scepra::validators::intune;

using scepra::fuzz::require;

/// How deep [ and { nest in JSON text (brackets inside strings not counted).
int bracket_depth(const std::string& text) {
    int depth = 0;
    int deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

void check_at(const std::string& body, int max_depth, bool is_json, int depth) {
    const auto parsed = parse_bounded(body, max_depth);
    if (parsed) {
        require(is_json && depth <= max_depth + 1);
        require(*parsed == nlohmann::json::parse(body));
        if (const auto code = string_member(*parsed, "code", 64)) {
            require(code->size() <= 64);
        }
    } else {
        require(!is_json || depth > max_depth);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(scepra::fuzz::input_text(data, size));
    // nlohmann takes a NUL byte for the end of the text; JSON has none (fixed in parse_bounded).
    const bool is_json = body.find('\0') == std::string::npos && nlohmann::json::accept(body);
    const int depth = is_json ? bracket_depth(body) : 0;
    check_at(body, 8, is_json, depth);
    check_at(body, 2, is_json, depth);
    const std::string shown = printable(body, 200);
    require(shown.size() == std::min<std::size_t>(body.size(), 200));
    require(scepra::fuzz::all_in(shown, 0x20, 0x7e));
    return 0;
}
