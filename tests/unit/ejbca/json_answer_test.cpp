// SPDX-License-Identifier: Apache-2.0
// The bounded JSON reader every remote answer goes through (backends/http/json_answer.hpp):
// EJBCA, the AD CS bridge, the policy webhook and Intune.
#include "http/json_answer.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using scepra::backend::http::parse_json_answer;
using scepra::backend::http::read_json_answer;

TEST_CASE("a JSON answer nested exactly max_depth deep is read; one level deeper is refused") {
    std::string why;
    const auto shallow = read_json_answer(R"({"a":[1]})", 2, why);
    REQUIRE(shallow.has_value());
    CHECK((*shallow)["a"][0] == 1);
    CHECK_FALSE(read_json_answer(R"({"a":[[1]]})", 2, why).has_value());
    CHECK(why == "JSON nested too deeply (more than 2 levels)");
    CHECK_FALSE(read_json_answer(std::string(5000, '[') + std::string(5000, ']'), 8, why).has_value());
}

TEST_CASE("a JSON answer with a NUL byte is refused, not read up to the NUL with the rest ignored") {
    std::string why;
    const std::string body = std::string(R"({"status":"OK"})") + '\0' + R"({"status":"evil"})";
    CHECK_FALSE(read_json_answer(body, 8, why).has_value());
    CHECK(why == "not JSON: a NUL byte in the answer");
}

TEST_CASE("why a body is not JSON is printable and bounded, whatever bytes the body held") {
    std::string why;
    const std::string body = "{\"a\":\"\x1b[31m" + std::string(1000, '\x7f') + "\n";
    CHECK_FALSE(read_json_answer(body, 8, why).has_value());
    CHECK(why.rfind("not JSON: ", 0) == 0);
    CHECK(why.size() <= 140);
    for (const char c : why) {
        CHECK((c >= 0x20 && c < 0x7f));
    }
}

TEST_CASE("parse_json_answer throws the caller's error with the reason") {
    CHECK_THROWS_WITH_AS(parse_json_answer<std::invalid_argument>("[[[]]]", 1),
                         "JSON nested too deeply (more than 1 levels)", std::invalid_argument);
    CHECK(parse_json_answer<std::invalid_argument>(R"(["x"])", 1)[0] == "x");
}
