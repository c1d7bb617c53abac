// SPDX-License-Identifier: Apache-2.0
// The reader of the AD CS bridge's answers (backends/adcs/bridge_answers.hpp)
// on its own, without a bridge: numbers out of a DWORD's range.
#include "adcs/bridge_answers.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace scepra::backend::adcs;

namespace {

/// A pending answer with the given JSON number text as request_id and disposition.
std::string pending_answer(const std::string& request_id, const std::string& disposition) {
    return R"({"status": "pending", "request_id": )" + request_id + R"(, "disposition": )" + disposition +
           R"(, "message": "Taken Under Submission"})";
}

}  // namespace

TEST_SUITE("adcs bridge answers") {
    TEST_CASE("a request id and a disposition within a DWORD are read as they are") {
        const RequestAnswer answer = read_request_answer(pending_answer("4294967295", "5"));
        CHECK(answer.request_id == 4294967295U);
        REQUIRE(answer.disposition.has_value());
        CHECK(*answer.disposition == 5U);
        CHECK(read_request_answer(pending_answer("1", "0")).disposition == 0U);
        CHECK(read_request_answer(pending_answer("1", "4294967295")).disposition == 4294967295U);
    }

    TEST_CASE("a disposition outside a DWORD (2^63, 2^64 + 1, -1, 2^32) is a malformed answer") {
        for (const std::string disposition :
             {"9223372036854775808", "18446744073709551617", "-1", "4294967296", "5.0", "\"5\""}) {
            CAPTURE(disposition);
            CHECK_THROWS_WITH_AS(read_request_answer(pending_answer("41", disposition)),
                                 "'disposition' is not a disposition (0 to 4294967295)", BadAnswer);
        }
    }

    TEST_CASE("a request id outside 1 to 2^32 - 1 (2^63, 2^64 + 1, -1, 0) is a malformed answer") {
        for (const std::string request_id : {"9223372036854775808", "18446744073709551617", "-1", "0"}) {
            CAPTURE(request_id);
            CHECK_THROWS_WITH_AS(read_request_answer(pending_answer(request_id, "5")),
                                 "'request_id' is not a request id (1 to 4294967295)", BadAnswer);
        }
    }
}
