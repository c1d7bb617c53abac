// SPDX-License-Identifier: Apache-2.0
// The strict JSON object reader behind the admin page's POST: what it takes,
// and the hostile input it refuses.
#include "http/flat_json.hpp"

#include <doctest/doctest.h>

using scepra::http::FlatJsonLimits;
using scepra::http::parse_flat_json_object;

namespace {

bool refused(std::string_view text, const FlatJsonLimits& limits = {}) {
    std::string error;
    auto object = parse_flat_json_object(text, error, limits);
    if (!object) {
        CHECK_MESSAGE(!error.empty(), "a refusal says why");
    }
    return !object;
}

}  // namespace

TEST_SUITE("http.json") {
    TEST_CASE("a flat object of strings and numbers is read, escapes decoded") {
        std::string error;
        auto object = parse_flat_json_object(
            " {\"subject\" : \"router-*.example.com\",\n\t\"validity\":525600, \"x\":-1.5e+3,"
            " \"esc\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\", \"raw\":\"\xc3\xa9\"} ",
            error);
        REQUIRE_MESSAGE(object, error);
        CHECK(object->at("subject").text == "router-*.example.com");
        CHECK_FALSE(object->at("subject").is_number);
        CHECK(object->at("validity").is_number);
        CHECK(object->at("validity").text == "525600");
        CHECK(object->at("x").text == "-1.5e+3");
        CHECK(object->at("esc").text == "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
        CHECK(object->at("raw").text == "\xc3\xa9");
        CHECK(parse_flat_json_object("{}", error)->empty());
    }

    TEST_CASE("anything but one flat object is refused") {
        for (const char* text : {"",
                                 " ",
                                 "[]",
                                 "\"s\"",
                                 "42",
                                 "null",
                                 "{",
                                 "}",
                                 "{\"a\"}",
                                 "{\"a\":}",
                                 "{\"a\" 1}",
                                 "{\"a\":1,}",
                                 "{,\"a\":1}",
                                 "{\"a\":1}{}",
                                 "{\"a\":1} x",
                                 "{'a':1}",
                                 "{a:1}",
                                 "{\"a\":{\"b\":1}}",
                                 "{\"a\":[1]}",
                                 "{\"a\":true}",
                                 "{\"a\":null}",
                                 "{\"a\":1,\"a\":2}",
                                 "{\"a\":01}",
                                 "{\"a\":+1}",
                                 "{\"a\":1.}",
                                 "{\"a\":.5}",
                                 "{\"a\":1e}",
                                 "{\"a\":-}",
                                 "{\"a\":NaN}",
                                 "{\"a\":Infinity}",
                                 "{\"a\":0x10}"}) {
            CAPTURE(text);
            CHECK(refused(text));
        }
    }

    TEST_CASE("hostile strings are refused") {
        using namespace std::string_literals;
        for (const std::string& text :
             {"{\"a\":\"unterminated}"s, "{\"a\":\"tab\there\"}"s, "{\"a\":\"nl\nhere\"}"s,
              "{\"a\":\"nul\0\"}"s, "{\"a\":\"\\u0000\"}"s, "{\"a\":\"\\x41\"}"s, "{\"a\":\"\\u12\"}"s,
              "{\"a\":\"\\uZZZZ\"}"s, "{\"a\":\"\\ud800\"}"s, "{\"a\":\"\\udc00\"}"s,
              "{\"a\":\"\\ud800\\u0041\"}"s,
              "{\"a\":\"\xc0\xaf\"}"s,          // overlong '/'
              "{\"a\":\"\xed\xa0\x80\"}"s,      // a surrogate in UTF-8
              "{\"a\":\"\xf4\x90\x80\x80\"}"s,  // above U+10FFFF
              "{\"a\":\"\xc3\"}"s, "{\"a\":\"\xff\"}"s, "{\"a\":\"\\"s}) {
            CAPTURE(text);
            CHECK(refused(text));
        }
    }

    TEST_CASE("every size is bounded") {
        FlatJsonLimits limits;
        CHECK(refused("{\"a\":\"" + std::string(limits.max_bytes, 'x') + "\"}"));
        CHECK(refused("{\"a\":\"" + std::string(limits.max_string_bytes + 1, 'x') + "\"}"));
        CHECK(refused("{\"" + std::string(limits.max_string_bytes + 1, 'k') + "\":1}"));
        CHECK(refused("{\"a\":" + std::string(40, '9') + "}"));
        std::string many = "{";
        for (size_t i = 0; i <= limits.max_members; ++i) {
            many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
        }
        CHECK(refused(many + "}"));
        std::string deep(3000, '{');
        CHECK(refused(deep));
        std::string error;
        CHECK(parse_flat_json_object("{\"a\":\"" + std::string(limits.max_string_bytes, 'x') + "\"}", error));
    }
}
